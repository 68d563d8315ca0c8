"""The window's actions on the person at the counter, after their ID card was checked in the
open check-in: F10 record an appeal against the blacklist (记录申诉), F11 unfreeze their booking
account (解冻预约账号).

The clerk confirms in a small dialog (the appeal needs the person's statement); the action runs
through :class:`ui.operations.Operations` off the GUI thread (``WindowOps`` of
``sync.appeals.WindowService``), and the result is shown in words: sent (the appeal's number, the
masked ID number), or kept in the outbox while the platform is unreachable. Errors (no card
checked, not on the blacklist, nothing frozen) go through the screen's one error function.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.api import WindowOps
from desk_app.services.model import WindowActionView
from ui.operations import Operations

MAX_STATEMENT = 500  # as sync.appeals.MAX_STATEMENT (the service checks it again)


class WindowActionDialog(QDialog):
    """Confirms one action; for ``appeal`` the person's statement is required (2..500 chars)."""

    def __init__(self, kind: str, id_masked: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"WindowAction_{kind}")
        self.kind = kind
        self.id_masked = id_masked
        self.prompt = QLabel(self)
        self.prompt.setWordWrap(True)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("Statement")
        self.editor.setTabChangesFocus(True)
        self.editor.setVisible(kind == "appeal")
        self.editor.textChanged.connect(self._validate)
        self.count = QLabel(self)
        self.count.setVisible(kind == "appeal")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (self.prompt, self.editor, self.count, self.buttons):
            lay.addWidget(w)
        self.retranslate()
        self._validate()
        (self.editor if kind == "appeal" else self.buttons).setFocus(
            Qt.FocusReason.OtherFocusReason)

    def statement(self) -> str:
        return self.editor.toPlainText().strip()

    def _validate(self) -> None:
        n = len(self.statement())
        ok = self.kind != "appeal" or 2 <= n <= MAX_STATEMENT
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        self.count.setText(self.tr("%1 / %2 characters").replace("%1", str(n))
                           .replace("%2", str(MAX_STATEMENT)))

    def retranslate(self) -> None:
        if self.kind == "appeal":
            self.setWindowTitle(self.tr("Record appeal"))
            self.prompt.setText(self.tr(
                "%1 says they are wrongly on the blacklist. Type their statement; it goes to the "
                "police, who decide.").replace("%1", self.id_masked))
        else:
            self.setWindowTitle(self.tr("Unfreeze booking account"))
            self.prompt.setText(self.tr(
                "The ID card %1 was checked at this window. Unfreeze the booking accounts frozen "
                "for this person?").replace("%1", self.id_masked))
        self._validate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class WindowActions(QObject):
    """Owned by the check-in screen. ``done`` carries each :class:`WindowActionView`."""

    done = Signal(object)

    def __init__(self, ops: WindowOps | None, runner: Operations, parent_widget: QWidget,
                 session_id: Callable[[], str | None], id_masked: Callable[[], str],
                 show_error: Callable[[BaseException], None],
                 refuse: Callable[[str], None]) -> None:
        super().__init__(parent_widget)
        self.ops = ops
        self.runner = runner
        self._parent = parent_widget
        self._session_id = session_id
        self._id_masked = id_masked
        self._show_error = show_error
        self._refuse = refuse
        self.dialog: WindowActionDialog | None = None
        self.result_box: QMessageBox | None = None

    def available(self) -> bool:
        return self.ops is not None and self._session_id() is not None and bool(self._id_masked())

    def ask(self, kind: str) -> None:
        """Open the confirmation (``appeal`` or ``unfreeze``) for the card of the open case."""
        if self.ops is None:
            return
        sid, masked = self._session_id(), self._id_masked()
        if sid is None or not masked:
            self._refuse(self.tr("Read the person's ID card first."))
            return
        self.close_dialog()
        dlg = WindowActionDialog(kind, masked, self._parent)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self._run(kind, sid, dlg.statement()))
        dlg.finished.connect(lambda _r: self._closed(dlg))
        self.dialog = dlg
        dlg.open()

    def _run(self, kind: str, sid: str, statement: str) -> None:
        assert self.ops is not None
        if kind == "appeal":
            self.runner.run(self.ops.record_appeal, sid, statement, on_success=self._show,
                            on_failure=self._show_error)
        else:
            self.runner.run(self.ops.unfreeze, sid, on_success=self._show,
                            on_failure=self._show_error)

    def _closed(self, dlg: WindowActionDialog) -> None:
        if self.dialog is dlg:
            self.dialog = None
        self._parent.setFocus()

    def close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.reject()
            self.dialog = None

    def message(self, view: WindowActionView) -> str:
        if view.queued:
            what = (self.tr("The appeal of %1 is kept on this PC and sent to the platform as "
                            "soon as it can be reached. Nothing else is needed.")
                    if view.action == "appeal" else
                    self.tr("The unfreeze of %1 is kept on this PC and sent to the platform as "
                            "soon as it can be reached; the account can book again after that."))
        elif view.action == "appeal":
            what = self.tr("Appeal recorded for %1 (number %2). The police decide; the decision "
                           "reaches every desk at its next sync.").replace(
                "%2", ", ".join(a[:8] for a in view.appeal_ids))
        else:
            what = self.tr("Booking account unfrozen for %1 (%2 account(s)); the person can "
                           "book again.").replace("%2", str(len(view.accounts)))
        return what.replace("%1", view.id_masked)

    def _show(self, view: WindowActionView) -> None:
        self.done.emit(view)
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("Done"), self.message(view),
                          QMessageBox.StandardButton.Ok, self._parent)
        box.setObjectName("WindowActionResult")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.result_box = box
        box.finished.connect(lambda _r: self._result_closed(box))
        box.open()

    def _result_closed(self, box: QMessageBox) -> None:
        if self.result_box is box:
            self.result_box = None
        self._parent.activateWindow()  # the clerk's keys work again at once
        self._parent.setFocus()
