"""The demo's desk: the desk application wired as ``desk-app`` wires it, on the demo's loopback
platform (:class:`DemoDesk`), and ``desk-app demo`` itself (:func:`run_demo`): offscreen, the
scenarios run once and a summary is printed; with a display, the demo plays by itself with its
controls (:mod:`ui.demo.panel`). The director that plays the scenarios is in
:mod:`ui.demo.runner`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

from desk_app.services.model import Role, UserView
from devices.camera.scene import SceneStep
from sync.loopback import PlatformProgram
from ui.demo.environment import DESK, HOSPITAL, DemoEnvironment
from ui.demo.panel import add_demo_controls
from ui.demo.runner import DEMO_USERS, DemoDirector
from ui.demo.scenarios import BY_NAME, SCENARIOS, SHIPPED_PHOTOS


def resolve_names(arg: str) -> list[str]:
    if arg in ("", "all"):
        return [s.name for s in SCENARIOS]
    names = [n.strip() for n in arg.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"desk-app demo: unknown scenario {', '.join(unknown)}; "
                         f"choose from {', '.join(BY_NAME)} or all")
    return names


def prepare_desk(desk: Any, env: DemoEnvironment) -> None:
    """Demo accounts, the clerk at the desk, enrollment and a first complete sync."""
    store = desk.store
    existing = {u.username for u in store.users.all()}
    for username, display, role, password in DEMO_USERS:
        if username not in existing:
            store.users.create(username, display, role, password, actor="demo")
    desk.session.act_as(UserView("clerk", "挂号员 (演示)", Role.CLERK))
    desk.sync.enroll(env.platform_url, env.enrollment_code)
    desk.sync.run_once()


@dataclass
class DemoDesk:
    """The desk application, wired as ``desk-app`` wires it, on the demo's platform."""

    env: DemoEnvironment
    desk: Any
    devices: Any
    window: Any
    director: DemoDirector

    @classmethod
    def start(cls, env: DemoEnvironment, data_dir: Path, photos: Path | None, *, offscreen: bool,
              lang: str | None, build_core: Callable[..., Any], build_desk: Callable[..., Any],
              build_devices: Callable[..., Any], build_window: Callable[..., Any],
              qt_app: Callable[..., Any]) -> DemoDesk:
        core = build_core(data_dir)
        s = core.settings
        s.desk.desk_id, s.desk.hospital_id = DESK, HOSPITAL
        s.platform.url = env.platform_url
        s.sync.interval_s = 2.0
        s.devices.patient_camera, s.devices.counter_camera = "sim", ""
        s.devices.id_reader_port = ""
        s.devices.id_by_camera = False  # the director puts each card "on the reader" itself
        if lang:
            s.desk.language = lang
        app = qt_app(offscreen)
        desk = build_desk(core)
        devices = window = None
        try:
            desk.settings.save(s)
            prepare_desk(desk, env)
            desk.start()
            devices = build_devices(s, scene=[SceneStep("empty desk", 5.0, (), noise=2.0)])
            window = build_window(desk, devices, app)
            devices.start()
        except BaseException:
            if window is not None:
                window.close()
            if devices is not None:
                devices.stop()
            desk.close()
            raise
        director = DemoDirector(window, devices, desk, env, photos,
                                pause_ms=200 if offscreen else 1500, parent=window.main)
        director.builders = (build_core, build_desk)
        return cls(env, desk, devices, window, director)

    def close(self) -> None:
        if self.director._second is not None:
            self.director._second.close()
        self.window.close()
        self.devices.stop()
        self.desk.close()


def run_demo(args: argparse.Namespace, *, build_core: Callable[..., Any],
             build_desk: Callable[..., Any], build_devices: Callable[..., Any],
             build_window: Callable[..., Any], qt_app: Callable[..., Any]) -> int:
    names = resolve_names(getattr(args, "scenario", "all") or "all")
    given = getattr(args, "photos", None)
    photos: Path | None = Path(given).expanduser() if given else SHIPPED_PHOTOS
    if photos is not None and not photos.is_dir():
        print(f"desk-app demo: photo folder {photos} not found; running the scenarios that need "
              "no face", file=sys.stderr)
        photos = None
    skipped = [n for n in names if BY_NAME[n].missing_photos(photos)]
    if skipped:
        print(f"desk-app demo: photos missing for {', '.join(skipped)}; those scenarios are "
              "skipped", file=sys.stderr)
    offscreen = bool(getattr(args, "offscreen", False))
    env = DemoEnvironment.create(
        program=PlatformProgram.find(getattr(args, "platform_command", None)))
    demo = None
    try:
        demo = DemoDesk.start(env, Path(getattr(args, "data_dir", None) or env.desk_dir), photos,
                              offscreen=offscreen, lang=getattr(args, "lang", None),
                              build_core=build_core, build_desk=build_desk,
                              build_devices=build_devices, build_window=build_window,
                              qt_app=qt_app)
        app = qt_app(offscreen)
        director, window = demo.director, demo.window
        director.progress.connect(lambda line: print(f"demo: {line}", file=sys.stderr, flush=True))
        if offscreen:
            director.finished.connect(lambda _o: app.quit())
            QTimer.singleShot(0, lambda: director.run(names))
            guard = QTimer(window.main)
            guard.setSingleShot(True)
            guard.timeout.connect(app.quit)
            guard.start(15 * 60 * 1000)
            window.main.show()
            app.exec()
            outcomes = director.outcomes
            as_json = getattr(args, "json", False)
            for o in outcomes:  # with --json the table goes to stderr: stdout is the JSON alone
                mark = "ok" if o.as_expected else "NOT AS EXPECTED"
                print(f"{o.name:14} expected {o.expected:6} got {o.verdict:6} {mark}  "
                      f"({', '.join(o.reasons)})", file=sys.stderr if as_json else sys.stdout)
            if as_json:
                print(json.dumps({"scenarios": [o.as_json() for o in outcomes]},
                                 ensure_ascii=False))
            ran = {o.name for o in outcomes}
            wanted = {n for n in names if director.runnable(BY_NAME[n])}
            return 0 if ran == wanted and all(o.as_expected for o in outcomes) else 1
        add_demo_controls(demo)
        window.main.show()
        QTimer.singleShot(0, lambda: director.run(
            [n for n in names if director.runnable(BY_NAME[n])], autoplay=True))
        return app.exec()
    finally:
        if demo is not None:
            demo.close()
        env.close()


__all__ = ["DemoDesk", "prepare_desk", "resolve_names", "run_demo"]
