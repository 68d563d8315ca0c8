# Two commands for a new machine: `make demo` and `make test`. Both install what is missing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SHARED ?= $(abspath ../shared)
PHOTOS ?= $(SHARED)/data/faces
export QT_QPA_FONTDIR ?= /usr/share/fonts/truetype

.PHONY: bootstrap demo test lint bench fuzz soak translations screenshots installer installer-test clean

bootstrap:
	@bash scripts/bootstrap.sh

translations: bootstrap
	@$(PY) scripts/translations.py build

# The demo's face photos ship in resources/demo/faces; `make demo DEMO_PHOTOS=DIR` uses others.
demo: bootstrap translations
	@photos="$(if $(DEMO_PHOTOS),--photos $(DEMO_PHOTOS))"; \
	if [ -z "$$DISPLAY" ] && command -v xvfb-run >/dev/null; then \
	  echo "demo: no display; running offscreen (set DISPLAY for a window)"; \
	  $(VENV)/bin/desk-app demo --offscreen --json $$photos; \
	else $(VENV)/bin/desk-app demo $$photos; fi

lint: bootstrap
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/lint-imports

test: bootstrap translations
	@$(VENV)/bin/lint-imports
	@QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

# Longer atheris runs of every parser that reads outside input (FUZZ_SECONDS per target).
fuzz: bootstrap
	@PY=$(PY) bash fuzz/run_all.sh

# A desk's 8-hour day at full speed through the real screens, with device and network faults
# (SOAK_PATIENTS to change). pytest keeps no log records (no:logging): the memory figure is the
# desk's; the desk writes its own log file.
soak: bootstrap
	@set -o pipefail; DESK_SOAK=1 QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q -s -p no:cacheprovider \
	  -p no:logging tests/hardening/test_soak.py 2>&1 | grep -E "^soak:|passed|failed|Error"

bench: bootstrap translations
	@QT_QPA_PLATFORM=offscreen $(PY) -m benchmarks $(BENCH_ARGS)

screenshots: bootstrap translations
	@QT_QPA_PLATFORM=offscreen $(PY) scripts/screenshots.py docs/screenshots

# The one-folder build for front-desk PCs (docs/installing.md). Not part of `make test`: minutes.
INSTALLER_INPUTS := desk_app ui devices sync resources build_installer.spec scripts/desk_app_entry.py \
	scripts/pyi_rth_desk_app.py scripts/installer_rules.py pyproject.toml

installer: bootstrap translations
	@bash scripts/bootstrap.sh installer
	@start=$$(date +%s); \
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN build_installer.spec || exit 1; \
	echo "installer: dist/desk-app built in $$(( $$(date +%s) - start )) s;" \
	  "$$(du -sh dist/desk-app | cut -f1) (docs/installing.md)"

# Reuses dist/desk-app when nothing it is built from changed since; otherwise builds it first.
installer-test: bootstrap translations
	@if [ -x dist/desk-app/desk-app ] && [ -z "$$(find $(INSTALLER_INPUTS) -newer dist/desk-app/desk-app \
	    -type f ! -path '*/__pycache__/*' -print -quit)" ]; then \
	  echo "installer-test: dist/desk-app is up to date"; else $(MAKE) --no-print-directory installer; fi
	@$(PY) scripts/installer_smoke.py dist/desk-app --photos "$(PHOTOS)" --qr "$(SHARED)/data/qr"

clean:
	rm -rf $(VENV) .stamps build dist .pytest_cache
