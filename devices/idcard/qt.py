"""QtCore adapter: the reader poller's events as GUI-thread signals.

Create it in the GUI thread and pass it as the poller's ``on_event``; the poller calls it on
its worker thread and the signals arrive queued in the GUI thread. It does not own the
poller: the composition root stops (joins) the poller at shutdown.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from devices.idcard.poller import ReaderEvent


class ReaderSignals(QObject):
    card_read = Signal(object)  # IdCardRead
    card_removed = Signal()
    # "connected" | "disconnected" | "error", with the DeskError (None for "connected")
    state_changed = Signal(str, object)

    def __call__(self, event: ReaderEvent) -> None:  # poller thread
        if event.kind == "card":
            self.card_read.emit(event.read)
        elif event.kind == "removed":
            self.card_removed.emit()
        else:
            self.state_changed.emit(event.kind, event.error)
