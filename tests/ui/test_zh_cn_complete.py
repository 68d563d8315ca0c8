"""No English is left on any screen in zh_CN: every screen is built with realistic values, the
language is Simplified Chinese, and every visible text is scanned for English words."""

from __future__ import annotations

import re

from PySide6.QtCharts import QChartView
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QTableWidget, QTabWidget, QWidget

from desk_app.services.model import Decision
from tests.ui.helpers import RecordingCheckinOps, RecordingSecurityOps
from ui import samples
from ui.admin.audit_screen import AuditScreen
from ui.admin.settings_screen import SettingsScreen
from ui.checkin.screen import CheckinScreen
from ui.dialogs import NoteDialog
from ui.security.screen import SecurityScreen
from ui.shell.login import LoginDialog
from ui.shell.main_window import MainWindow
from ui.shell.status import SyncStatusWidget
from ui.sounds import SoundCues
from ui.stats.screen import StatsScreen

# Words that are the same in Chinese UIs: key names, file formats, protocols, the language's own
# name, and data (desk ids, booking references) that are not UI text.
ALLOWED = {"Enter", "Esc", "Ctrl", "CSV", "Excel", "TLS", "English", "xlsx", "csv", "desk"}
WORD = re.compile(r"[A-Za-z]{3,}")


def visible_texts(root: QWidget) -> list[str]:
    out = [root.windowTitle()]
    for w in [root, *root.findChildren(QWidget)]:
        if isinstance(w, QLabel | QAbstractButton):
            out.append(w.text())
        if isinstance(w, QTabWidget):
            out += [w.tabText(i) for i in range(w.count())]
        if isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())]
        if isinstance(w, QTableWidget):
            out += [w.horizontalHeaderItem(i).text() for i in range(w.columnCount())
                    if w.horizontalHeaderItem(i)]
        if isinstance(w, QChartView) and w.chart() is not None:
            out.append(w.chart().title())
            out += [a.titleText() for a in w.chart().axes()]
            for ax in w.chart().axes():
                if hasattr(ax, "categories"):
                    out += ax.categories()
    banner = getattr(root, "verdict", None)
    if banner is not None:
        out += [banner.banner.words, banner.banner.detail]
    return [t for t in out if t]


def english_words(texts: list[str]) -> list[str]:
    return sorted({m for t in texts for m in WORD.findall(t) if m not in ALLOWED})


def test_every_screen_is_chinese(qtbot, settings, runner, _english_then_reset):
    _english_then_reset.set_language("zh_CN")
    window = MainWindow()
    qtbot.addWidget(window)
    status = SyncStatusWidget(None, settings, "zh_CN", runner=runner, now=lambda: samples.NOW)
    status.set_status(samples.sync_status(online=False))
    for d in samples.devices():
        status.set_device(d)
    window.statusBar().addPermanentWidget(status)
    checkin = CheckinScreen(RecordingCheckinOps(), settings, "zh_CN", runner=runner,
                            sounds=SoundCues(False))
    window.add_screen(checkin)
    security = SecurityScreen(RecordingSecurityOps(), settings, "zh_CN", runner=runner,
                              sounds=SoundCues(False))
    stats = StatsScreen(None, settings, "zh_CN", runner=runner)  # type: ignore[arg-type]
    settings_screen = SettingsScreen(settings, "zh_CN", save=lambda s: None, sync_ops=None,
                                     device_test=lambda k, v: None, runner=runner)
    audit = AuditScreen(None, settings, "zh_CN", runner=runner)  # type: ignore[arg-type]
    login = LoginDialog(None, settings, "zh_CN", runner=runner)  # type: ignore[arg-type]
    for w in (security, stats, settings_screen, audit, login):
        qtbot.addWidget(w)
    stats.set_stats(samples.stats())
    security.set_alerts(samples.alerts())
    audit.set_entries([], 0, 0)

    found: dict[str, list[str]] = {}
    for state in (samples.state_admit(), samples.state_review(), samples.state_reject()):
        checkin.presenter.show_state(state)
        found[f"checkin {state.verdict.decision}"] = english_words(visible_texts(window))
    for name, w in (("security", security), ("stats", stats), ("settings", settings_screen),
                    ("audit", audit), ("login", login)):
        found[name] = english_words(visible_texts(w))
    for kind in NoteDialog.KINDS:
        dlg = NoteDialog(kind, window, decisions=(Decision.ADMIT, Decision.REJECT))
        found[f"dialog {kind}"] = english_words(visible_texts(dlg))
        dlg.deleteLater()
    assert {k: v for k, v in found.items() if v} == {}


def test_switching_back_to_english_changes_every_screen(qtbot, settings, runner, _english_then_reset):
    stats = StatsScreen(None, settings, "zh_CN", runner=runner)  # type: ignore[arg-type]
    qtbot.addWidget(stats)
    stats.set_stats(samples.stats())
    _english_then_reset.set_language("zh_CN")
    assert stats.windowTitle() == "统计报表"
    assert stats.charts["hours"].chart().title() == "高峰时段"
    _english_then_reset.set_language("en")
    assert stats.windowTitle() == "Statistics"
    assert stats.charts["hours"].chart().title() == "Peak hours"
