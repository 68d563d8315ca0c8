"""Screenshots of the real demo desk after chosen scenarios (docs/screenshots/demo_*.png),
as a viewer with a display sees it: the caption bar above the desk, the shipped photos.

    python scripts/demo_screenshot.py OUTDIR [SCENARIO ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desk_app import app as composition  # noqa: E402
from ui.demo.desk import DemoDesk  # noqa: E402
from ui.demo.environment import DemoEnvironment  # noqa: E402
from ui.demo.panel import add_demo_controls  # noqa: E402
from ui.demo.scenarios import SHIPPED_PHOTOS  # noqa: E402


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/screenshots")
    names = argv[1:] or ["genuine", "impostor"]
    out.mkdir(parents=True, exist_ok=True)
    qt = QApplication.instance() or QApplication([])
    env = DemoEnvironment.create(Path(tempfile.mkdtemp(prefix="demo-shot-")))
    demo = DemoDesk.start(env, env.desk_dir, SHIPPED_PHOTOS, offscreen=True, lang="zh_CN",
                          build_core=composition.build_core, build_desk=composition.build_desk,
                          build_devices=composition.build_devices,
                          build_window=composition.build_window, qt_app=composition._qt_app)
    try:
        add_demo_controls(demo)
        demo.window.main.resize(1280, 800)
        demo.window.main.show()
        remaining = list(names)

        def shoot(caption) -> None:  # noqa: ANN001 (after the caption bar has shown it)
            if caption.key != "verdict":
                return
            path = out / f"demo_{caption.scenario.name}.png"
            demo.window.main.grab().save(str(path))
            print(f"{path}: {caption.verdict}")

        demo.director.caption.connect(shoot)
        demo.director.pause_ms = 1500  # let the last frames paint before the next patient
        demo.director.finished.connect(lambda _o: qt.quit())
        QTimer.singleShot(0, lambda: demo.director.run(remaining, autoplay=True))
        qt.exec()
    finally:
        demo.close()
        env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
