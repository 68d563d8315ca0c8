"""The one place errors reach a person, and the global exception hook."""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from desk_app.errors import DeskError, ErrorKind, as_desk_error

log = logging.getLogger(__name__)

_ICONS = {
    ErrorKind.USER_INPUT: QMessageBox.Icon.Information,
    ErrorKind.NETWORK: QMessageBox.Icon.Warning,
    ErrorKind.DEVICE: QMessageBox.Icon.Warning,
}


def show_error(parent: QWidget | None, error: BaseException, lang: str = "zh_CN") -> QMessageBox:
    """Show any error as words (never a traceback); returns the (non-modal) box."""
    err: DeskError = as_desk_error(error)
    if err.kind.value == "internal":
        log.error("internal error shown to the user: %s", err.detail or type(error).__name__,
                  exc_info=(type(error), error, error.__traceback__))
    box = QMessageBox(parent)
    box.setIcon(_ICONS.get(err.kind, QMessageBox.Icon.Critical))
    box.setWindowTitle(err.title(lang))
    box.setText(err.message(lang))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box


class ExceptionHook(QObject):
    """Logs every uncaught exception (any thread) and shows it on the GUI thread."""

    raised = Signal(object)

    def __init__(self, lang: str = "zh_CN", parent: QObject | None = None):
        super().__init__(parent)
        self.lang = lang
        self.follow_language = True
        self.parent_widget: QWidget | None = None
        self.last: BaseException | None = None
        self.raised.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._old_hook = sys.excepthook
        self._old_thread_hook = threading.excepthook

    def install(self) -> ExceptionHook:
        sys.excepthook = self._hook
        threading.excepthook = lambda a: self._hook(a.exc_type, a.exc_value, a.exc_traceback)
        return self

    def uninstall(self) -> None:
        sys.excepthook = self._old_hook
        threading.excepthook = self._old_thread_hook

    def _hook(self, etype: type[BaseException], value: BaseException | None,
              tb: TracebackType | None) -> None:
        if value is None or issubclass(etype, KeyboardInterrupt):
            return
        log.error("uncaught exception", exc_info=(etype, value, tb))
        self.last = value
        self.raised.emit(value)

    @Slot(object)
    def _show(self, exc: BaseException) -> None:
        from ui.i18n import current_lang

        # Follow a language switch made after the hook was installed.
        show_error(self.parent_widget, exc, current_lang() if self.follow_language else self.lang)
