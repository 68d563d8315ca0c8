"""``desk-app settings show|set|path``."""

from __future__ import annotations

import argparse
import json

import tomli_w

from desk_app.errors import ConfigError, Text
from desk_app.paths import AppPaths
from desk_app.settings import load_settings, save_settings, update_settings


def _load(args: argparse.Namespace):
    paths = AppPaths.resolve(args.data_dir)
    loaded = load_settings(paths.settings_file, paths.site_config)
    lang = getattr(args, "lang", None) or loaded.settings.desk.language
    for problem in loaded.problems:
        print(f"{problem.title(lang)}: {problem.message(lang)}")
    return paths, loaded.settings


def show(args: argparse.Namespace) -> int:
    _, settings = _load(args)
    print(tomli_w.dumps(settings.model_dump(mode="json")), end="")
    return 0


def set_value(args: argparse.Namespace) -> int:
    paths, settings = _load(args)
    section, _, name = args.key.partition(".")
    if not name:
        raise ConfigError(Text("键应写作 节.名称, 例如 faces.best_k", "Write the key as section.name, e.g. faces.best_k"))
    try:
        value = json.loads(args.value)
    except json.JSONDecodeError:
        value = args.value
    new = update_settings(settings, {section: {name: value}})
    paths.ensure()
    save_settings(new, paths.settings_file, paths.site_config)
    print(f"{args.key} = {getattr(getattr(new, section), name)!r}")
    return 0


def paths(args: argparse.Namespace) -> int:
    p = AppPaths.resolve(args.data_dir)
    for label, value in [("settings", p.settings_file), ("site", p.site_config),
                         ("database", p.database_file), ("logs", p.log_dir)]:
        print(f"{label:9} {value}")
    return 0
