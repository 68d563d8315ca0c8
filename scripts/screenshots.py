"""`make screenshots`: render every screen offscreen with realistic states to PNGs.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py docs/screenshots [--lang zh_CN|en]

The states are the view values of ``ui.samples`` (drawn silhouettes, never real faces); the
screens are the real widgets, grabbed with ``QWidget.grab()`` at 1280x800.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication  # noqa: E402
from PySide6.QtGui import QFont, QImage  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

SIZE = (1280, 800)


class _SampleSecurity:
    """Hands the sample alerts and silhouettes to the security screen (for pictures only)."""

    def alerts(self, include_handled=False):
        from ui import samples

        return [a for a in samples.alerts() if include_handled or a.status == "open"]

    def alert_photos(self, alert_id):
        from ui import samples

        return samples.silhouette_png(), samples.silhouette_png("#f6dede", "#a35d5d")

    def mark_handled(self, alert_id, note):
        raise NotImplementedError

    def report_suspect(self, alert_id, note):
        raise NotImplementedError


class _SampleReports:
    """Hands the sample statistics and audit lines to their screens (for pictures only)."""

    def __init__(self, entries=(), verify=None):
        self._entries = list(entries)
        self._verify = verify

    def stats(self, start, end):
        from ui import samples

        return samples.stats()

    def export(self, start, end, path, fmt):
        raise NotImplementedError

    def entries(self, limit, offset):
        return self._entries[offset:offset + limit]

    def count(self):
        return 120

    def verify(self):
        return self._verify


def _shrink(path: Path) -> None:
    """256 colours (median cut, no dither) are plenty for flat UI pictures: about half the size."""
    from PIL import Image

    with Image.open(path) as im:
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                       dither=Image.Dither.NONE)
    q.save(path, "PNG", optimize=True)


def _settle(app: QApplication, widget: QWidget, runner=None) -> None:
    for _ in range(20):
        app.processEvents()
        if runner is not None and runner.pending():
            runner._pool.waitForDone(2000)
            runner._serial.waitForDone(2000)
    app.processEvents()


def _frame(w: int = 1280, h: int = 720):
    """A plain synthetic camera picture (flat areas: a wall, a counter, a person), BGR."""
    import numpy as np

    img = np.empty((h, w, 3), np.uint8)
    img[:, :] = (96, 104, 110)
    img[int(h * 0.75):, :] = (60, 78, 92)
    img[140:420, 440:600] = (150, 170, 190)
    img[420:720, 380:660] = (120, 90, 70)
    return img


def render(outdir: Path, lang: str) -> list[Path]:
    from desk_app.settings import Settings
    from ui import samples
    from ui.admin.audit_screen import AuditScreen
    from ui.admin.settings_screen import SettingsScreen
    from ui.checkin.screen import CheckinScreen
    from ui.i18n import Translations
    from ui.operations import Operations
    from ui.security.screen import SecurityScreen
    from ui.shell.main_window import MainWindow
    from ui.shell.status import SyncStatusWidget
    from ui.stats.screen import StatsScreen

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setFont(QFont("WenQuanYi Micro Hei", 10))
    tr = Translations(app)
    tr.set_language(lang)
    settings = Settings()
    settings.ui.sounds = False  # pictures only
    runner = Operations()
    outdir.mkdir(parents=True, exist_ok=True)
    written = []

    def shot(widget: QWidget, name: str) -> None:
        widget.resize(*SIZE)
        widget.show()
        _settle(app, widget, runner)
        path = outdir / f"{name}.png"
        widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888).save(str(path), "PNG")
        _shrink(path)
        written.append(path)

    window = MainWindow()
    status = SyncStatusWidget(None, settings, lang, runner=runner, now=lambda: samples.NOW)
    status.set_status(samples.sync_status(online=True))
    for d in samples.devices():
        status.set_device(d)
    window.statusBar().addPermanentWidget(status)
    checkin = CheckinScreen(None, settings, lang, runner=runner, cameras=1)  # type: ignore[arg-type]
    window.add_screen(checkin)
    frame = _frame()
    for name, state in (("checkin_waiting", samples.state_waiting()),
                        ("checkin_admit", samples.state_admit()),
                        ("checkin_review", samples.state_review()),
                        ("checkin_reject", samples.state_reject())):
        checkin.presenter.show_state(state)
        checkin.previews[0].show_frame(frame)
        if name == "checkin_reject":
            checkin.set_alert_count(2)
            status.set_status(samples.sync_status(online=False))
        shot(window, name)

    security = SecurityScreen(_SampleSecurity(), settings, lang, runner=runner)
    security.show_handled.setChecked(True)
    _settle(app, security, runner)
    security.select("al-1")
    shot(security, "security")

    stats = StatsScreen(_SampleReports(), settings, lang, runner=runner)
    stats.period = "week"
    stats.period_buttons["week"].setChecked(True)
    stats.set_stats(samples.stats())
    shot(stats, "stats")

    admin = SettingsScreen(settings, lang, save=lambda s: None, runner=runner)
    admin.tabs.setCurrentIndex(4)  # the decision policy
    shot(admin, "settings")

    from datetime import timedelta

    from desk_app.errors import Text
    from desk_app.services.model import AuditEntryView, AuditVerifyView

    actions = [("login", "clerk1", ""), ("checkin", "clerk1", "v-1 verdict=admit"),
               ("override", "clerk1", "v-2 review->admit: 证件照较旧, 已人工核对"),
               ("view_alert_photos", "security1", "al-1 photos=2"),
               ("mark_handled", "security1", "al-3 note=已交保卫科处理"),
               ("settings_changed", "admin", "faces match_distance=0.50"),
               ("export_stats", "admin", "2026-11-17..2026-11-24 format=xlsx")]
    entries = [AuditEntryView(120 - i, samples.NOW - timedelta(minutes=7 * i), actor, action,
                              *(detail.split(" ", 1) if detail else ("", "")))
               for i, (action, actor, detail) in enumerate(actions * 3)]
    audit = AuditScreen(_SampleReports(entries, AuditVerifyView(True, 120, None, Text("完整", "Intact"))),
                        settings, lang, runner=runner)
    audit.set_entries(entries, 0, 120)
    audit.set_verify_result(AuditVerifyView(True, 120, None, Text("完整", "Intact")))
    shot(audit, "audit")

    runner.shutdown()
    QCoreApplication.processEvents()
    return written


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--lang", default="zh_CN", choices=["zh_CN", "en"])
    args = ap.parse_args(argv)
    for p in render(args.outdir, args.lang):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
