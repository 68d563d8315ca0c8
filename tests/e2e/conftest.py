"""The demo desk the whole-application tests drive: the real platform process on loopback, the
desk built by the composition root, playing the photos the demo ships (not ../shared)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtWidgets import QApplication, QMessageBox

from desk_app import app as composition
from ui.demo.desk import DemoDesk
from ui.demo.environment import DemoEnvironment
from ui.demo.scenarios import SHIPPED_PHOTOS


@contextmanager
def demo_desk(tmp_path_factory, name: str) -> Iterator[DemoDesk]:  # noqa: ANN001
    env = DemoEnvironment.create(tmp_path_factory.mktemp(name))
    try:
        d = DemoDesk.start(env, env.desk_dir, SHIPPED_PHOTOS, offscreen=True, lang="zh_CN",
                           build_core=composition.build_core, build_desk=composition.build_desk,
                           build_devices=composition.build_devices,
                           build_window=composition.build_window, qt_app=composition._qt_app)
        try:
            yield d
        finally:
            d.close()
    finally:
        env.close()


def message_boxes() -> list[str]:
    """The texts of the message boxes on screen."""
    return [w.text() for w in QApplication.allWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()]


def play(qtbot, demo: DemoDesk, *names: str) -> dict:  # noqa: ANN001
    """Play the named scenarios on the demo's director; their outcomes by name."""
    director = demo.director
    start = len(director.outcomes)
    director.run(list(names))
    qtbot.waitUntil(lambda: not director.busy, timeout=240_000)
    return {o.name: o for o in director.outcomes[start:]}
