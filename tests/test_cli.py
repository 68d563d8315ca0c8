from __future__ import annotations

import subprocess
import sys

import pytest

from desk_app import __version__
from desk_app.cli import build_parser, main


def test_help_and_version_run_as_console_script():
    out = subprocess.run([sys.executable, "-m", "desk_app.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for cmd in ("run", "demo", "eval", "calibrate", "audit", "settings", "bench"):
        assert cmd in out
    v = subprocess.run([sys.executable, "-m", "desk_app.cli", "--version"], capture_output=True,
                       text=True, check=True).stdout
    assert __version__ in v


def test_every_command_names_an_existing_function():
    import argparse
    import importlib

    def walk(parser: argparse.ArgumentParser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from walk(sub)
        target = getattr(parser.get_default("func"), "target", None)
        if target:
            yield target

    targets = set(walk(build_parser()))
    assert len(targets) >= 10
    missing = []
    for t in sorted(targets):
        mod, func = t.split(":")
        try:
            if not callable(getattr(importlib.import_module(mod), func, None)):
                missing.append(t)
        except ModuleNotFoundError:
            missing.append(t)
    assert not missing, f"commands without an implementation: {missing}"


def test_settings_set_and_show(data_dir, capsys):
    assert main(["settings", "set", "--data-dir", str(data_dir), "faces.best_k", "4"]) == 0
    assert main(["settings", "show", "--data-dir", str(data_dir)]) == 0
    assert "best_k = 4" in capsys.readouterr().out
    assert main(["settings", "set", "--data-dir", str(data_dir), "faces.best_k", "0"]) == 1
    assert "faces.best_k" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["--data-dir", "D", "--lang", "en", "eval", "faces", "p.csv"],
    ["eval", "faces", "p.csv", "--data-dir", "D", "--lang", "en"],
    ["--data-dir", "X", "eval", "faces", "p.csv", "--data-dir", "D", "--lang", "en"],
])
def test_common_options_hold_before_and_after_the_command(argv):
    """``desk-app --data-dir D eval ...`` once evaluated in the user's folders: the
    subcommand's default overwrote the option given before it."""
    args = build_parser().parse_args(argv)
    assert args.data_dir == "D" and args.lang == "en"


def test_common_options_default_to_none():
    args = build_parser().parse_args(["eval", "faces", "p.csv"])
    assert args.data_dir is None and args.lang is None
