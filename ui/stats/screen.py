"""Statistics: today / week / month — check-ins per day, verdicts, verdicts by reason,
blacklist hits, peak hours, each clerk's calls on undecided faces — and export to CSV or XLSX
through ``StatsOps.export``.

Wiring::

    stats = StatsScreen(stats_ops, settings, lang, runner=runner)
    # refreshes itself each time it is shown
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QEvent, QMargins, Qt
from PySide6.QtGui import QColor, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.api import StatsOps
from desk_app.services.model import StatsView
from desk_app.settings import Settings
from ui.errors import show_error
from ui.operations import Operations, current_lang
from ui.stats.judgements import ClerkJudgementsTable

PERIODS = ("today", "week", "month")


def period_range(period: str, today: date) -> tuple[date, date]:
    """[start, end) of the period that contains ``today``."""
    if period == "today":
        return today, today + timedelta(days=1)
    if period == "week":
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=7)
    start = today.replace(day=1)
    nxt = (start + timedelta(days=32)).replace(day=1)
    return start, nxt


class StatsScreen(QWidget):
    def __init__(self, ops: StatsOps, settings: Settings, lang: str = "zh_CN", *,
                 runner: Operations | None = None,
                 choose_path: Callable[[str, str], Path | None] | None = None,
                 today: Callable[[], date] = date.today, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatsScreen")
        self.ops = ops
        self.settings = settings
        self.lang = lang
        self.runner = runner or Operations(self, parent=self)
        self._choose_path = choose_path or self._ask_path
        self._today = today
        self.period = "today"
        self.view: StatsView | None = None
        self.last_export: Path | None = None
        self.period_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        top = QHBoxLayout()
        for p in PERIODS:
            b = QPushButton(self)
            b.setCheckable(True)
            b.clicked.connect(lambda _=False, pp=p: self.set_period(pp))
            group.addButton(b)
            top.addWidget(b)
            self.period_buttons[p] = b
        self.period_buttons["today"].setChecked(True)
        top.addStretch(1)
        self.summary = QLabel(self)
        self.summary.setObjectName("StatsSummary")
        f = self.summary.font()
        f.setPixelSize(16)
        f.setBold(True)
        self.summary.setFont(f)
        self.export_csv = QPushButton(self)
        self.export_csv.clicked.connect(lambda: self.export("csv"))
        self.export_xlsx = QPushButton(self)
        self.export_xlsx.clicked.connect(lambda: self.export("xlsx"))
        top.addWidget(self.export_csv)
        top.addWidget(self.export_xlsx)
        self.charts: dict[str, QChartView] = {}
        grid = QGridLayout()
        for i, key in enumerate(("days", "decisions", "reasons", "hours")):
            view = QChartView(self)
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumHeight(220)
            self.charts[key] = view
            grid.addWidget(view, i // 2, i % 2)
        self.judgements = ClerkJudgementsTable(self)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addLayout(grid, 1)
        lay.addWidget(self.judgements)
        self.retranslate()

    # --- commands -----------------------------------------------------------------------------

    def dates(self) -> tuple[date, date]:
        return period_range(self.period, self._today())

    def set_period(self, period: str) -> None:
        self.period = period
        self.period_buttons[period].setChecked(True)
        self.refresh()

    def refresh(self) -> None:
        start, end = self.dates()
        self.runner.run(self.ops.stats, start, end, group="stats",
                        on_success=lambda view: self._stats_loaded(view, start, end))

    def _stats_loaded(self, view: StatsView, start: date, end: date) -> None:
        """The figures, then each clerk's calls on undecided faces (a separate, audited query)."""
        self.set_stats(view)
        self.runner.run(self.ops.clerk_judgements, start, end, group="stats",
                        on_success=self.judgements.set_views,
                        on_failure=lambda e: show_error(self, e, self.lang))

    def export(self, fmt: str) -> None:
        start, end = self.dates()
        path = self._choose_path(fmt, f"checkins_{start:%Y%m%d}_{end:%Y%m%d}.{fmt}")
        if path is None:
            return
        self.runner.run(self.ops.export, start, end, Path(path), fmt,
                        on_success=self._exported,
                        on_failure=lambda e: show_error(self, e, self.lang))

    def _exported(self, path: Path) -> None:
        self.last_export = path
        self.summary.setText(self._summary_text() + "   ✔ " + self.tr("Exported to %1").replace(
            "%1", str(path)))

    def _ask_path(self, fmt: str, suggested: str) -> Path | None:
        filters = {"csv": self.tr("CSV file (*.csv)"), "xlsx": self.tr("Excel file (*.xlsx)")}
        name, _ = QFileDialog.getSaveFileName(self, self.tr("Export"), suggested, filters[fmt])
        return Path(name) if name else None

    # --- input (view values) ------------------------------------------------------------------

    def set_stats(self, view: StatsView) -> None:
        self.view = view
        self._render()

    def _summary_text(self) -> str:
        v = self.view
        if v is None:
            return self.tr("Loading...")
        return self.tr("Check-ins: %1   Admitted: %2   Review: %3   Rejected: %4   Blacklist hits: %5") \
            .replace("%1", str(v.checkins)).replace("%2", str(v.by_decision.get("admit", 0))) \
            .replace("%3", str(v.by_decision.get("review", 0))) \
            .replace("%4", str(v.by_decision.get("reject", 0))).replace("%5", str(v.blacklist_hits))

    def _reason_words(self) -> dict[str, str]:
        """Short words for the commonest reason codes (a chart axis has little room); other
        codes use the service's own text (``StatsView.reason_text``), else the code."""
        return {
            "face_undecided": self.tr("Face uncertain"),
            "face_mismatch": self.tr("Face mismatch"),
            "face_declined": self.tr("Face check declined"),
            "id_not_patient": self.tr("ID not the booked patient"),
            "blacklist_hit": self.tr("Blacklist"),
            "already_checked_in": self.tr("Already checked in"),
            "many_bookings_today": self.tr("Too many bookings today"),
            "too_early": self.tr("Too early for the slot"),
            "too_late": self.tr("Too late for the slot"),
            "rebooked_after_cancel": self.tr("Cancel and rebook"),
            "booked_at_release": self.tr("Booked by a bot"),
        }

    def _reason_label(self, code: str) -> str:
        words = self._reason_words()
        if code in words:
            return words[code]
        text = self.view.reason_text.get(code) if self.view else None
        return text(self.lang) if text else code

    def _bar_chart(self, title: str, labels: list[str], values: list[int], colour: str,
                   horizontal: bool = False) -> QChart:
        chart = QChart()
        chart.setTitle(title)
        chart.legend().hide()
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        bars = QBarSet(title)
        bars.append([float(v) for v in values])
        bars.setColor(QColor(colour))
        series = QHorizontalBarSeries() if horizontal else QBarSeries()
        series.append(bars)
        series.setLabelsVisible(True)
        chart.addSeries(series)
        cats = QBarCategoryAxis()
        cats.append(labels or [""])
        vals = QValueAxis()
        vals.setRange(0, max([1, *values]) * 1.15)
        vals.setLabelFormat("%d")
        vals.applyNiceNumbers()
        cat_side, val_side = ((Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignBottom)
                              if horizontal else (Qt.AlignmentFlag.AlignBottom, Qt.AlignmentFlag.AlignLeft))
        chart.addAxis(cats, cat_side)
        chart.addAxis(vals, val_side)
        series.attachAxis(cats)
        series.attachAxis(vals)
        return chart

    def _decision_chart(self, title: str, labels: list[str], values: list[int]) -> QChart:
        """One colour per verdict (stacked sets with one non-zero bar each); labels name them."""
        chart = QChart()
        chart.setTitle(title)
        chart.legend().hide()
        chart.setMargins(QMargins(4, 4, 4, 4))
        series = QStackedBarSeries()
        for i, colour in enumerate(("#1b7f3b", "#b26a00", "#b3261e")):
            bars = QBarSet(labels[i])
            bars.append([float(values[j]) if j == i else 0.0 for j in range(len(values))])
            bars.setColor(QColor(colour))
            series.append(bars)
        series.setLabelsVisible(False)  # zeros of the other sets would be labelled too
        chart.addSeries(series)
        cats = QBarCategoryAxis()
        cats.append(labels)
        vals = QValueAxis()
        vals.setRange(0, max([1, *values]) * 1.15)
        vals.setLabelFormat("%d")
        vals.applyNiceNumbers()
        chart.addAxis(cats, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(vals, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(cats)
        series.attachAxis(vals)
        return chart

    def _render(self) -> None:
        self.summary.setText(self._summary_text())
        v = self.view
        if v is None:
            return
        days = sorted(v.by_day)
        self._set_chart("days", self._bar_chart(
            self.tr("Check-ins per day"), [d[5:] for d in days], [v.by_day[d] for d in days],
            "#1a73e8"))
        dec_words = {"admit": self.tr("Admit"), "review": self.tr("Review"),
                     "reject": self.tr("Reject")}
        decisions = ["admit", "review", "reject"]
        chart = self._decision_chart(self.tr("Verdicts"), [dec_words[d] for d in decisions],
                                     [v.by_decision.get(d, 0) for d in decisions])
        self._set_chart("decisions", chart)
        reasons = sorted(v.by_reason.items(), key=lambda kv: kv[1])[-8:]
        self._set_chart("reasons", self._bar_chart(
            self.tr("Verdicts by reason"), [self._reason_label(k) for k, _ in reasons],
            [n for _, n in reasons], "#b26a00", horizontal=True))
        hours = list(range(6, 21))
        self._set_chart("hours", self._bar_chart(
            self.tr("Peak hours"), [f"{h:02d}" for h in hours], [v.by_hour.get(h, 0) for h in hours],
            "#5f6368"))

    def _set_chart(self, key: str, chart: QChart) -> None:
        old = self.charts[key].chart()
        self.charts[key].setChart(chart)
        if old is not None and old is not chart:
            old.deleteLater()

    # --- language -----------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Statistics"))
        words = {"today": self.tr("Today"), "week": self.tr("This week"),
                 "month": self.tr("This month")}
        for p, b in self.period_buttons.items():
            b.setText(words[p])
        self.export_csv.setText(self.tr("Export CSV"))
        self.export_xlsx.setText(self.tr("Export Excel"))
        self._render()

    def showEvent(self, event: QShowEvent) -> None:
        """Fresh figures each time the tab is opened (the query runs off the GUI thread)."""
        super().showEvent(event)
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = current_lang()
            self.retranslate()
        super().changeEvent(event)
