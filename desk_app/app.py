"""The composition root: builds paths, logging, settings, storage, services, devices, sync and
the main window, in that order, and passes each in through constructors. Nothing else in the
house looks anything up from globals. Only this module and ``desk_app.cli`` import every layer.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass, field

from desk_app import __version__
from desk_app.errors import DeskError
from desk_app.logs import setup_logging
from desk_app.paths import AppPaths
from desk_app.settings import Settings, load_settings

log = logging.getLogger(__name__)


@dataclass
class Core:
    """What the desk is made of, without any Qt: usable by the GUI, the CLI and tests."""

    paths: AppPaths
    settings: Settings
    problems: list[DeskError] = field(default_factory=list)


def build_core(data_dir: str | None, *, console_log: bool = False) -> Core:
    paths = AppPaths.resolve(data_dir).ensure()
    setup_logging(paths.log_dir, console=console_log)
    loaded = load_settings(paths.settings_file, paths.site_config)
    log.info("desk-app %s starting; data in %s", __version__, paths.data_dir)
    return Core(paths=paths, settings=loaded.settings, problems=list(loaded.problems))


def _qt_app(offscreen: bool):
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") \
            and sys.platform.startswith("linux") and "QT_QPA_PLATFORM" not in os.environ:
        print("desk-app: no display found; running offscreen (use Xvfb for a real window)",
              file=sys.stderr)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("desk-app")
    app.setApplicationVersion(__version__)
    return app


def build_window(core: Core, app):
    """The main window with every screen, wired from the core."""
    from ui.about.screen import AboutScreen
    from ui.errors import ExceptionHook, show_error
    from ui.i18n import Translations
    from ui.shell.main_window import MainWindow

    translations = Translations(app)
    translations.set_language(core.settings.desk.language)
    hook = ExceptionHook(core.settings.desk.language, parent=app).install()
    window = MainWindow()
    window.add_screen(AboutScreen(__version__, str(core.paths.data_dir)))
    hook.parent_widget = window
    for problem in core.problems:
        show_error(window, problem, core.settings.desk.language)
    return window, translations, hook


def run_main(args: argparse.Namespace) -> int:
    core = build_core(getattr(args, "data_dir", None))
    app = _qt_app(getattr(args, "offscreen", False))
    window, _translations, hook = build_window(core, app)
    window.show()
    if getattr(args, "offscreen", False):
        app.processEvents()
        print(f"desk-app {__version__}: window built offscreen ({window.tabs.count()} screens)")
        hook.uninstall()
        return 0
    code = app.exec()
    hook.uninstall()
    return code


def demo_main(args: argparse.Namespace) -> int:
    return run_main(args)
