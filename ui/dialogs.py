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
                 decisions: tuple[Decision, ...] = (), supervisor: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName(f"NoteDialog_{kind}")
        self.kind = kind
        self.min_length = min_length
        self.prompt = QLabel(self)
        self.prompt.setWordWrap(True)
        self.decision = QComboBox(self)
        self.decision.setVisible(bool(decisions))
        self.decision.currentIndexChanged.connect(lambda _i: self._validate())
        self._decisions = decisions
        if kind == "manual_id":
            self.editor: QLineEdit | QPlainTextEdit = QLineEdit(self)
            self.editor.setMaxLength(32)
            self.editor.textChanged.connect(self._validate)
        else:
            self.editor = QPlainTextEdit(self)
            self.editor.setTabChangesFocus(True)
            self.editor.textChanged.connect(self._validate)
        # A supervisor's credentials (security, an administrator) for this one override at the
        # clerk's window; the desk stays signed in as the clerk.
        self.supervisor = supervisor
        self.supervisor_note = QLabel(self)
        self.supervisor_note.setWordWrap(True)
        self.supervisor_user = QLineEdit(self)
        self.supervisor_user.setObjectName("SupervisorUser")
        self.supervisor_password = QLineEdit(self)
        self.supervisor_password.setObjectName("SupervisorPassword")
        self.supervisor_password.setEchoMode(QLineEdit.EchoMode.Password)
        for w in (self.supervisor_note, self.supervisor_user, self.supervisor_password):
            w.setVisible(supervisor)
        self.error = QLabel(self)  # why the last try was refused (a supervisor's password)
        self.error.setObjectName("DialogError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.setVisible(False)
        self.supervisor_user.textChanged.connect(self._validate)
        self.supervisor_password.textChanged.connect(self._validate)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.prompt)
        lay.addWidget(self.decision)
        lay.addWidget(self.editor)
        lay.addWidget(self.supervisor_note)
        lay.addWidget(self.supervisor_user)
        lay.addWidget(self.supervisor_password)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.retranslate()
        self._validate()
        (self.decision if len(decisions) > 1 else self.editor).setFocus(
            Qt.FocusReason.OtherFocusReason)

    def text(self) -> str:
        ed = self.editor
        return (ed.text() if isinstance(ed, QLineEdit) else ed.toPlainText()).strip()

    def set_text(self, text: str) -> None:
        if isinstance(self.editor, QLineEdit):
            self.editor.setText(text)
        else:
            self.editor.setPlainText(text)

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def chosen_decision(self) -> Decision | None:
        data = self.decision.currentData()
        return Decision(data) if data else None

    def supervisor_credentials(self) -> tuple[str, str] | None:
        if not self.supervisor:
            return None
        return self.supervisor_user.text().strip(), self.supervisor_password.text()

    def set_decision(self, decision: Decision) -> None:
        index = self.decision.findData(decision.value)
        if index >= 0:
            self.decision.setCurrentIndex(index)

    def _validate(self) -> None:
        ok = len(self.text()) >= self.min_length
        if self._decisions:  # of two decisions neither is offered first: the person chooses
            ok = ok and self.chosen_decision() is not None
        if self.supervisor:
            ok = ok and bool(self.supervisor_user.text().strip()) and bool(
                self.supervisor_password.text())
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
        self.supervisor_note.setText(self.tr(
            "Your role may not make this decision. A colleague from security or an administrator "
            "enters their own user name and password for this one decision; it is recorded "
            "with both names."))
        self.supervisor_user.setPlaceholderText(self.tr("Supervisor's user name"))
        self.supervisor_password.setPlaceholderText(self.tr("Supervisor's password"))
        words = {Decision.ADMIT: self.tr("Admit"), Decision.REVIEW: self.tr("Review"),
                 Decision.REJECT: self.tr("Reject")}
        current = self.decision.currentIndex()
        self.decision.blockSignals(True)
        self.decision.clear()
        if len(self._decisions) > 1:
            self.decision.addItem(self.tr("Choose a decision..."), None)
        for d in self._decisions:
            self.decision.addItem(words[d], d.value)
        self.decision.setCurrentIndex(max(current, 0))
        self.decision.blockSignals(False)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
