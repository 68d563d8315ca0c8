"""Small dialogs shared by the screens: a required note (override reason, suspect report,
handled note), manual ID entry, and the override decision."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.model import Decision


class NoteDialog(QDialog):
    """Asks for a text; OK stays disabled until at least ``min_length`` characters are given."""

    KINDS = ("override", "suspect", "handled", "manual_id")

    def __init__(self, kind: str, parent: QWidget | None = None, *, min_length: int = 2,
                 decisions: tuple[Decision, ...] = ()) -> None:
        super().__init__(parent)
        self.setObjectName(f"NoteDialog_{kind}")
        self.kind = kind
        self.min_length = min_length
        self.prompt = QLabel(self)
        self.prompt.setWordWrap(True)
        self.decision = QComboBox(self)
        self.decision.setVisible(bool(decisions))
        self._decisions = decisions
        if kind == "manual_id":
            self.editor: QLineEdit | QPlainTextEdit = QLineEdit(self)
            self.editor.setMaxLength(32)
            self.editor.textChanged.connect(self._validate)
        else:
            self.editor = QPlainTextEdit(self)
            self.editor.setTabChangesFocus(True)
            self.editor.textChanged.connect(self._validate)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.prompt)
        lay.addWidget(self.decision)
        lay.addWidget(self.editor)
        lay.addWidget(self.buttons)
        self.retranslate()
        self._validate()
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def text(self) -> str:
        ed = self.editor
        return (ed.text() if isinstance(ed, QLineEdit) else ed.toPlainText()).strip()

    def set_text(self, text: str) -> None:
        if isinstance(self.editor, QLineEdit):
            self.editor.setText(text)
        else:
            self.editor.setPlainText(text)

    def chosen_decision(self) -> Decision | None:
        data = self.decision.currentData()
        return Decision(data) if data else None

    def _validate(self) -> None:
        ok = len(self.text()) >= self.min_length
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def retranslate(self) -> None:
        titles = {
            "override": (self.tr("Override the verdict"),
                         self.tr("Why do you override this verdict? The reason is recorded "
                                 "with your name.")),
            "suspect": (self.tr("Report a suspect"),
                        self.tr("Why do you think this person is a scalper? The report goes "
                                "to the platform.")),
            "handled": (self.tr("Mark alert handled"),
                        self.tr("What was done? The note is recorded with your name.")),
            "manual_id": (self.tr("Enter ID number"),
                          self.tr("The card could not be read. Type the ID number from the "
                                  "card:")),
        }
        title, prompt = titles[self.kind]
        self.setWindowTitle(title)
        self.prompt.setText(prompt)
        words = {Decision.ADMIT: self.tr("Admit"), Decision.REVIEW: self.tr("Review"),
                 Decision.REJECT: self.tr("Reject")}
        current = self.decision.currentIndex()
        self.decision.clear()
        for d in self._decisions:
            self.decision.addItem(words[d], d.value)
        if current >= 0:
            self.decision.setCurrentIndex(current)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
