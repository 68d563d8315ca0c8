# Two commands for a new machine: `make demo` and `make test`. Both install what is missing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SHARED ?= $(abspath ../shared)
PHOTOS ?= $(SHARED)/data/faces
export QT_QPA_FONTDIR ?= /usr/share/fonts/truetype

.PHONY: bootstrap demo test lint bench translations screenshots installer installer-test clean

bootstrap:
	@bash scripts/bootstrap.sh

translations: bootstrap
	@$(PY) scripts/translations.py build

demo: bootstrap translations
	@if [ -d "$(PHOTOS)" ]; then photos="--photos $(PHOTOS)"; else \
	  echo "demo: no face photos at $(PHOTOS); scenarios that need a face are skipped"; photos=""; fi; \
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

bench: bootstrap translations
	@QT_QPA_PLATFORM=offscreen $(PY) -m benchmarks $(BENCH_ARGS)

screenshots: bootstrap translations
	@QT_QPA_PLATFORM=offscreen $(PY) scripts/screenshots.py docs/screenshots

clean:
	rm -rf $(VENV) .stamps build dist .pytest_cache
