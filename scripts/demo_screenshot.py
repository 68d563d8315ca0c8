"""Screenshots of the real demo desk after chosen scenarios (docs/screenshots/demo_*.png).

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
from ui.demo.environment import DemoEnvironment  # noqa: E402
from ui.demo.runner import DemoDesk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/screenshots")
    names = argv[1:] or ["genuine", "impostor"]
    out.mkdir(parents=True, exist_ok=True)
    photos = ROOT.parent / "shared" / "data" / "faces"
    qt = QApplication.instance() or QApplication([])
    env = DemoEnvironment.create(Path(tempfile.mkdtemp(prefix="demo-shot-")))
    demo = DemoDesk.start(env, env.desk_dir, photos, offscreen=True, lang="zh_CN",
                          build_core=composition.build_core, build_desk=composition.build_desk,
                          build_devices=composition.build_devices,
                          build_window=composition.build_window, qt_app=composition._qt_app)
    try:
        demo.window.main.resize(1280, 800)
        demo.window.main.show()
        remaining = list(names)

        def shoot(outcome) -> None:  # noqa: ANN001
            path = out / f"demo_{outcome.name}.png"
            demo.window.main.grab().save(str(path))
            print(f"{path}: {outcome.verdict}")

        demo.director.outcome.connect(shoot)
        demo.director.pause_ms = 1500  # let the last frames paint before the next patient
        demo.director.finished.connect(lambda _o: qt.quit())
        QTimer.singleShot(0, lambda: demo.director.run(remaining))
        qt.exec()
    finally:
        demo.close()
        env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
