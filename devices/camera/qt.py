"""A thin QtCore adapter so widgets can connect to a camera with signals.

Create it in the GUI thread. The capture thread only *wakes* it (a queued signal, at most one
outstanding); the adapter's slot then takes the newest frame and emits :attr:`frame_ready` in
the GUI thread. While the GUI is busy, newer frames replace older ones instead of queueing up.
The adapter does not own the camera: the composition root stops (joins) it at shutdown.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal, Slot

from desk_app.errors import DeskError
from devices.camera.types import CameraState, Frame
from devices.camera.worker import CameraWorker


class CameraSignals(QObject):
    frame_ready = Signal(object)  # Frame, in the GUI thread
    state_changed = Signal(str, object)  # CameraState value, DeskError | None

    _wake = Signal()
    _state = Signal(str, object)

    def __init__(self, camera: CameraWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.camera = camera
        self._sub = camera.subscribe()
        self._pending = threading.Event()
        self._wake.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._state.connect(self.state_changed, Qt.ConnectionType.QueuedConnection)
        camera.add_state_listener(self._on_state)
        camera.add_frame_listener(self._on_frame)

    @property
    def dropped(self) -> int:
        """Frames the GUI never saw because it was busy (it always gets the newest)."""
        return self._sub.dropped

    def close(self) -> None:
        """Stop relaying (call before deleting the adapter; the camera's owner stops the camera)."""
        self.camera.remove_listener(self._on_frame)
        self.camera.remove_listener(self._on_state)

    def _on_frame(self, frame: Frame) -> None:  # capture thread
        if not self._pending.is_set():
            self._pending.set()
            self._wake.emit()

    @Slot()
    def _deliver(self) -> None:
        self._pending.clear()
        frame: Frame | None = self._sub.poll()
        if frame is not None:
            self.frame_ready.emit(frame)

    def _on_state(self, state: CameraState, error: DeskError | None) -> None:
        self._state.emit(state.value, error)
