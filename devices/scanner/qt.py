"""QtCore adapter for the wedge scanner: the UI's event filter feeds key presses here.

The UI installs an application-wide event filter (QtGui/QtWidgets live there, not here) that
swallows printable key presses and Enter while the scanner is enabled and calls
:meth:`WedgeScannerQt.feed_key`; scans come out of :attr:`scanned`, and keys a person typed come
out of :attr:`typed` to be re-posted to the focused widget.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from devices.qr.pipeline import CodeFeed
from devices.scanner.wedge import Rejected, Scanned, WedgeScanner


class WedgeScannerQt(QObject):
    scanned = Signal(str)
    typed = Signal(str)
    rejected = Signal(str, int)  # reason, length

    def __init__(self, feed: CodeFeed | None, max_interkey_ms: float = 35.0,
                 parent: QObject | None = None, **kw: object) -> None:
        super().__init__(parent)
        self.scanner = WedgeScanner(feed, max_interkey_ms, on_typed=self.typed.emit,
                                    on_rejected=self._on_rejected, **kw)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        # Event timestamps have their own epoch; ticks are mapped onto it via the last key.
        self._last_event_ms = 0.0
        self._last_mono_ms = 0.0
        self._interval = int(max_interkey_ms) + 5

    @Slot(str, float)
    def feed_key(self, text: str, ts_ms: float | None = None) -> None:
        now = time.monotonic() * 1000.0
        ts = now if ts_ms is None or ts_ms <= 0 else float(ts_ms)
        self._last_event_ms, self._last_mono_ms = ts, now
        for ev in self.scanner.key(text, ts):
            if isinstance(ev, Scanned):
                self.scanned.emit(ev.text)
        if self.scanner.decoder.holding:
            self._timer.start(self._interval)
        else:
            self._timer.stop()

    def _tick(self) -> None:
        elapsed = time.monotonic() * 1000.0 - self._last_mono_ms
        self.scanner.tick(self._last_event_ms + elapsed)
        if self.scanner.decoder.holding:
            self._timer.start(self._interval)

    def _on_rejected(self, ev: Rejected) -> None:
        self.rejected.emit(ev.reason, ev.length)
