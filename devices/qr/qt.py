"""QtCore adapter: codes from the feed (QR worker thread or scanner) as a GUI-thread signal.

    signals = CodeSignals()
    feed.connect(signals.sink)            # called on any thread
    signals.code_read.connect(on_code)    # runs in the thread that owns ``signals`` (the GUI)
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from devices.qr.pipeline import CodeRead


class CodeSignals(QObject):
    code_read = Signal(object)  # CodeRead

    def sink(self, read: CodeRead) -> None:
        # Emitting from another thread queues the call to receivers living in the GUI thread.
        self.code_read.emit(read)
