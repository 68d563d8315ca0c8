"""The settings examples of README.md and docs/installing.md load as written: each ```toml block
and each inline `section.key = value`, saved as a site.toml, is in force with no problem."""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

from desk_app.settings import SCHEMA_VERSION, load_settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/installing.md")


def _examples() -> list[tuple[str, str]]:
    out = []
    for name in DOCS:
        text = (ROOT / name).read_text(encoding="utf-8")
        for n, block in enumerate(re.findall(r"```toml\n(.*?)```", text, re.S)):
            out.append((f"{name} block {n + 1}", textwrap.dedent(block)))
        for span in re.findall(r"`([a-z_]+\.[a-z_]+ = [^`\n]+)`", text):
            out.append((f"{name} `{span}`", span + "\n"))
    return out


def _leaves(doc: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    out: dict[tuple[str, ...], Any] = {}
    for k, v in doc.items():
        if isinstance(v, dict):
            out.update(_leaves(v, (*prefix, k)))
        else:
            out[(*prefix, k)] = v
    return out


def test_the_docs_hold_settings_examples():
    names = [name for name, _ in _examples()]
    assert any("installing.md block" in n for n in names)
    assert any("require_chip_for_admit" in n for n in names)


@pytest.mark.parametrize("example", _examples(), ids=lambda e: e[0])
def test_a_settings_example_of_the_docs_loads_as_written(app_paths, example):
    _, text = example
    app_paths.site_config.write_text(text, encoding="utf-8")
    loaded = load_settings(app_paths.settings_file, app_paths.site_config)
    assert loaded.problems == []
    in_force = _leaves(loaded.settings.model_dump(mode="json"))
    written = _leaves(tomllib.loads(text))
    # an example names today's format: a file copied from it must not be migrated as an old one
    assert written.pop(("schema_version",), SCHEMA_VERSION) == SCHEMA_VERSION
    for key, value in written.items():
        assert in_force[key] == value, key
