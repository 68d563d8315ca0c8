"""Qt face of the sync worker for the UI: a status signal delivered on the GUI thread.

The worker calls its listeners on its own thread; a Qt signal emitted there reaches slots of
objects living in the GUI thread through a queued connection, so the screens never touch the
worker's thread and never wait on it. QtCore only (the layering contract for ``sync``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desk_app.services.model import SyncStatusView
from sync.office import OfficeSync
from sync.worker import SyncWorker


class SyncStatusSignal(QObject):
    """``status_changed(SyncStatusView)`` for every state change of ``worker``."""

    status_changed = Signal(object)

    def __init__(self, worker: SyncWorker, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        worker.add_listener(self._emit)

    def _emit(self, status: SyncStatusView) -> None:
        self.status_changed.emit(status)

    def current(self) -> SyncStatusView:
        return self.worker.status()


class OfficeAlertsSignal(QObject):
    """``changed(OfficeApplied)`` on the GUI thread whenever the hospital's alerts changed (new
    or handled), whether the push thread or the sync thread applied them."""

    changed = Signal(object)

    def __init__(self, office: OfficeSync, parent: QObject | None = None):
        super().__init__(parent)
        office.add_listener(self.changed.emit)
