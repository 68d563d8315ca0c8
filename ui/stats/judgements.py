"""Per clerk, how they judged undecided faces: how many, "same" / "not the same", how many
"same" calls came within a second, the median time, the verdicts they overrode, and a mark on a
clerk who confirms nearly every case without looking (``ClerkJudgementsView.rubber_stamp``) or
who is far above their colleagues in overrides or quick confirmations (``far_above``, see
desk_app/services/insiders.py). Shown on the statistics screen
to administrators and security; every load of these figures is audited by the service."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.model import ClerkJudgementsView

FLAG_COLOUR = "#b3261e"


class ClerkJudgementsTable(QWidget):
    COLUMNS = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ClerkJudgements")
        self.title = QLabel(self)
        f = self.title.font()
        f.setPixelSize(15)
        f.setBold(True)
        self.title.setFont(f)
        self.table = QTableWidget(0, self.COLUMNS, self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(160)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.table)
        self.views: tuple[ClerkJudgementsView, ...] = ()
        self.retranslate()

    def set_views(self, views: Sequence[ClerkJudgementsView]) -> None:
        self.views = tuple(views)
        self._render()

    def flagged(self) -> list[str]:
        return [v.clerk for v in self.views if v.rubber_stamp or v.far_above]

    def _note(self, v: ClerkJudgementsView) -> str:
        notes = []
        if v.rubber_stamp:
            notes.append(self.tr("Confirms without looking"))
        if "overrides" in v.far_above:
            notes.append(self.tr("Overrides far above colleagues"))
        if "fast_confirms" in v.far_above:
            notes.append(self.tr("Quick confirmations far above colleagues"))
        return "⚠ " + "; ".join(notes) if notes else ""

    def _render(self) -> None:
        self.table.setRowCount(len(self.views))
        for row, v in enumerate(self.views):
            cells = (v.clerk, str(v.judged), str(v.same), str(v.different),
                     f"{v.within_1s} ({v.within_1s / v.judged:.0%})" if v.judged else "0",
                     f"{v.median_seconds:.1f}", str(v.overrides), self._note(v))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if v.rubber_stamp or v.far_above:
                    item.setForeground(QColor(FLAG_COLOUR))
                    bold = QFont(item.font())
                    bold.setBold(True)
                    item.setFont(bold)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, col, item)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Undecided faces judged by each clerk"))
        self.table.setHorizontalHeaderLabels([
            self.tr("Clerk"), self.tr("Judged"), self.tr("Same person"),
            self.tr("Not the same"), self.tr("Same within 1 s"), self.tr("Median seconds"),
            self.tr("Overrides"), self.tr("Note")])
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
