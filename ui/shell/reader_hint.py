"""The desktop ID-card reader's state for the clerk: its entry in the status bar, and a hint over
the check-in screen while cards cannot come from it (unplugged, not answering, a card whose data
did not read), gone again when the reader works.

Wiring (composition root)::

    signals = ReaderSignals(parent=window)           # devices.idcard.qt: queued to the GUI thread
    ReaderHint.attach(signals, status, checkin)      # on top of the check-in screen
    poller_listeners.append(signals)                 # the poller calls it on its own thread
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QBoxLayout, QLabel, QWidget

from desk_app.errors import DeskError, Text
from desk_app.services.model import DeviceStatusView
from devices.idcard.errors import ReaderTimeout
from devices.idcard.qt import ReaderSignals
from ui.shell.status import SyncStatusWidget


class ReaderHint(QLabel):
    """Hidden while the reader works. GUI thread only (fed by ``ReaderSignals``)."""

    def __init__(self, status: SyncStatusWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReaderHint")
        self.setWordWrap(True)
        self.setStyleSheet("#ReaderHint { background: #fef7e0; color: #b26a00; padding: 6px 10px;"
                           " border: 1px solid #b26a00; border-radius: 4px; font-size: 15px; }")
        self.status = status
        self.kind = "connected"  # the poller's last state: "connected" | "disconnected" | "error"
        self.error: DeskError | None = None
        self._render()

    @classmethod
    def attach(cls, signals: ReaderSignals, status: SyncStatusWidget, screen: QWidget) -> ReaderHint:
        """A hint on top of ``screen`` (a vertical box: the check-in screen, above the cameras,
        where the clerk looks), fed by ``signals`` on the GUI thread."""
        hint = cls(status, screen)
        layout = screen.layout()
        if isinstance(layout, QBoxLayout):
            layout.insertWidget(0, hint)
        signals.state_changed.connect(hint.on_state)
        signals.card_read.connect(hint.on_card)
        return hint

    def on_state(self, kind: str, error: object) -> None:
        """``ReaderSignals.state_changed``: "connected" (also: working again after an error),
        "disconnected" (the poller retries) or "error", with the reader's typed error."""
        self.kind = kind
        self.error = error if isinstance(error, DeskError) else None
        self._render()

    def on_card(self, _read: object) -> None:
        """A card was read: whatever went wrong before is over."""
        if self.kind != "connected":
            self.on_state("connected", None)

    def device_state(self) -> str:
        """The status bar's state: a reader that does not answer has failed; a card that did not
        read (a bad frame) says nothing against the reader."""
        if self.kind == "disconnected":
            return "reconnecting"
        if self.kind == "error" and isinstance(self.error, ReaderTimeout):
            return "failed"
        return "running"

    def _render(self) -> None:
        state = self.device_state()
        message = self.error.text if self.error is not None else Text("", "")
        self.status.set_device(DeviceStatusView("id_reader", state, message))
        if state == "reconnecting":
            hint = self.tr("The ID card reader is not connected: check its cable, or type the "
                           "ID number by hand (F3).")
        elif state == "failed":
            hint = self.tr("The ID card reader does not respond: check its cable, or type the "
                           "ID number by hand (F3).")
        elif self.kind == "error":
            hint = self.tr("The ID card was not read: please place it on the reader again.")
        else:
            hint = ""
        self.setText(f"⚠ {hint}" if hint else "")
        self.setVisible(bool(hint))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._render()
        super().changeEvent(event)
