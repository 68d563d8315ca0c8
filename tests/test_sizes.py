"""House rule (STYLE.md, "Stores per aggregate"): a class with more than about 30 methods is two
classes, and a module over 600 lines is two modules. Migration version files are excluded (they
are written once and never grow)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("desk_app", "sync", "desk_platform", "devices", "ui")
MAX_METHODS = 30
MAX_LINES = 600


def _modules(root: Path, package: str) -> list[Path]:
    """The package's modules, without Alembic's migration version files."""
    return sorted(p for p in (root / package).rglob("*.py")
                  if p.relative_to(root).parts[-3:-1] != ("migrations", "versions"))


def offenders(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Every class with more than MAX_METHODS methods and every module with more than
    MAX_LINES lines under ``root``'s ``packages``, named."""
    found: list[str] = []
    for package in packages:
        for path in _modules(root, package):
            name = path.relative_to(root).as_posix()
            text = path.read_text(encoding="utf-8")
            lines = len(text.splitlines())
            if lines > MAX_LINES:
                found.append(f"{name}: {lines} lines (at most {MAX_LINES})")
            for node in ast.walk(ast.parse(text, filename=name)):
                if isinstance(node, ast.ClassDef):
                    methods = sum(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                                  for n in node.body)
                    if methods > MAX_METHODS:
                        found.append(f"{name}: class {node.name} has {methods} methods "
                                     f"(at most {MAX_METHODS})")
    return found


def test_packages_exist():
    for package in PACKAGES:
        assert _modules(ROOT, package), f"no modules found under {package}/"


def test_no_class_over_30_methods_and_no_module_over_600_lines():
    found = offenders(ROOT)
    assert not found, "too big, split by responsibility:\n" + "\n".join(found)


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_check_names_each_offender(tmp_path):
    big_class = "class Big:\n" + "".join(f"    def m{i}(self):\n        pass\n"
                                         for i in range(MAX_METHODS + 1))
    ok_class = "class Fine:\n" + "".join(f"    def m{i}(self):\n        pass\n"
                                         for i in range(MAX_METHODS))
    long_module = "x = 1\n" * (MAX_LINES + 1)
    _write(tmp_path, "pkg/big.py", big_class)
    _write(tmp_path, "pkg/fine.py", ok_class + "y = 2\n" * (MAX_LINES - MAX_METHODS * 2 - 1))
    _write(tmp_path, "pkg/sub/long.py", long_module)
    _write(tmp_path, "pkg/migrations/versions/0001_first.py", long_module + big_class)
    assert offenders(tmp_path, ("pkg",)) == [
        f"pkg/big.py: class Big has {MAX_METHODS + 1} methods (at most {MAX_METHODS})",
        f"pkg/sub/long.py: {MAX_LINES + 1} lines (at most {MAX_LINES})",
    ]
