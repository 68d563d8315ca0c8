"""The step strip: booking, ID, face, checks, each filling in as its part arrives, in any order,
with one big hint saying what is still missing. Status is shown by a symbol and a word as well
as by colour."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desk_app.services.model import CheckinState, Step, StepStatus, StepView

STATUS_STYLE = {
    StepStatus.WAITING: ("○", "#5f6368", "#f1f3f4"),
    StepStatus.WORKING: ("◌", "#1a73e8", "#e8f0fe"),
    StepStatus.OK: ("✔", "#1b7f3b", "#e6f4ea"),
    StepStatus.WARN: ("!", "#b26a00", "#fef7e0"),
    StepStatus.FAILED: ("✖", "#b3261e", "#fce8e6"),
    StepStatus.SKIPPED: ("–", "#5f6368", "#f1f3f4"),
}


class StepTile(QFrame):
    def __init__(self, step: Step, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = step
        self.setObjectName(f"StepTile_{step.value}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.symbol = QLabel(self)
        self.symbol.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(self)
        self.status_word = QLabel(self)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        for lbl, size, bold in ((self.symbol, 26, True), (self.title, 16, True),
                                (self.status_word, 13, True), (self.summary, 13, False)):
            f = lbl.font()
            f.setPixelSize(size)
            f.setBold(bold)
            lbl.setFont(f)
        top = QHBoxLayout()
        top.addWidget(self.symbol)
        top.addWidget(self.title, 1)
        top.addWidget(self.status_word)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        self.view: StepView | None = None
        self.lang = "zh_CN"
        self.retranslate()

    def set_view(self, view: StepView | None, lang: str) -> None:
        self.view = view
        self.lang = lang
        self._render()

    def _render(self) -> None:
        status = self.view.status if self.view else StepStatus.WAITING
        symbol, fg, bg = STATUS_STYLE[status]
        self.symbol.setText(symbol)
        if status == getattr(self, "_styled", None):
            self.status_word.setText(self._status_words()[status])
            self.summary.setText(self.view.summary(self.lang) if self.view else "")
            return
        self._styled = status  # a style sheet costs ~1 ms to apply: only when the status changes
        self.setStyleSheet(f"#StepTile_{self.step.value} {{ background: {bg}; border: 2px solid {fg};"
                           f" border-radius: 6px; }} QLabel {{ color: {fg}; }}")
        self.status_word.setText(self._status_words()[status])
        self.summary.setText(self.view.summary(self.lang) if self.view else "")

    def _status_words(self) -> dict[StepStatus, str]:
        return {
            StepStatus.WAITING: self.tr("Waiting"),
            StepStatus.WORKING: self.tr("Checking"),
            StepStatus.OK: self.tr("OK"),
            StepStatus.WARN: self.tr("Check"),
            StepStatus.FAILED: self.tr("Failed"),
            StepStatus.SKIPPED: self.tr("Skipped"),
        }

    def retranslate(self) -> None:
        self.title.setText({
            Step.BOOKING: self.tr("Booking"),
            Step.ID: self.tr("ID card"),
            Step.FACE: self.tr("Face"),
            Step.CHECKS: self.tr("Checks"),
        }[self.step])
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class StepStrip(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StepStrip")
        self.tiles = {s: StepTile(s, self) for s in Step}
        self.hint = QLabel(self)
        self.hint.setObjectName("CheckinHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        f = self.hint.font()
        f.setPixelSize(28)
        f.setBold(True)
        self.hint.setFont(f)
        row = QHBoxLayout()
        for tile in self.tiles.values():
            row.addWidget(tile, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.hint)
        lay.addLayout(row)

    def set_state(self, state: CheckinState | None, lang: str) -> None:
        views = {v.step: v for v in state.steps} if state else {}
        for step, tile in self.tiles.items():
            tile.set_view(views.get(step), lang)
        self.hint.setText(state.hint(lang) if state else "")
