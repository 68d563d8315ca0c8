"""A handheld scanner works anywhere on the screen: an application-wide event filter feeds every
key press to the keyboard-wedge decoder (``devices.scanner.wedge.WedgeDecoder``, pure logic on
``(text, timestamp_ms)``), so a scan is recognised whichever widget has the focus.

Keys a person types are not lost: a key the decoder passes straight back is delivered normally
(shortcuts included); keys it held while deciding are re-sent to the focused widget once it
releases them. Scans are emitted as :attr:`ScannerFilter.scanned` (text), on the GUI thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QWindow
from PySide6.QtWidgets import QApplication

from devices.scanner.wedge import Rejected, Scanned, Typed, WedgeDecoder

log = logging.getLogger(__name__)

_KEYS = {"\r": Qt.Key.Key_Return, "\n": Qt.Key.Key_Return, "\t": Qt.Key.Key_Tab,
         "\x1b": Qt.Key.Key_Escape, "\x08": Qt.Key.Key_Backspace}


class ScannerFilter(QObject):
    scanned = Signal(str)
    rejected = Signal(int)  # length of a refused (too long) burst

    def __init__(self, max_interkey_ms: float = 35.0, *, enabled: bool = True,
                 clock_ms: Callable[[], float] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.decoder = WedgeDecoder(max_interkey_ms)
        self.enabled = enabled
        self._clock = clock_ms or (lambda: time.monotonic() * 1000.0)
        self._replaying = False
        self._app: QApplication | None = None
        self._tick = QTimer(self)
        self._tick.setInterval(max(5, int(max_interkey_ms)))
        self._tick.timeout.connect(self._on_tick)

    def install(self, app: QApplication | None = None) -> ScannerFilter:
        self._app = app or QApplication.instance()  # type: ignore[assignment]
        self._app.installEventFilter(self)
        return self

    def uninstall(self) -> None:
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None
        self._tick.stop()

    # --- the filter -------------------------------------------------------------------------

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (self._replaying or not self.enabled or event.type() != QEvent.Type.KeyPress
                or not isinstance(obj, QWindow)):
            # A key press from the keyboard reaches the top-level QWindow first, then the focus
            # widget and its parents (the filter sees each): feed it to the decoder only once.
            return False
        assert isinstance(event, QKeyEvent)
        mods = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier
                                     | Qt.KeyboardModifier.KeypadModifier)
        text = event.text()
        if not text or mods != Qt.KeyboardModifier.NoModifier:
            return False  # F-keys, arrows, Ctrl shortcuts: never part of a scan
        events = self.decoder.key(text, self._clock())
        if self.decoder.holding:
            self._tick.start()
        if events == [Typed(text)] and not self.decoder.holding:
            return False  # a person's key with nothing held: deliver it as it is
        self._handle(events, obj)
        return True

    def _on_tick(self) -> None:
        events = self.decoder.tick(self._clock())
        if events:
            self._handle(events, None)
        if not self.decoder.holding:
            self._tick.stop()

    def _handle(self, events: list, window: QObject | None) -> None:
        for ev in events:
            if isinstance(ev, Scanned):
                log.info("scanner: code of %d characters at %.0f keys/s", len(ev.text),
                         ev.keys_per_s)
                self.scanned.emit(ev.text)
            elif isinstance(ev, Typed):
                self._replay(ev.text, window)
            elif isinstance(ev, Rejected):
                log.info("scanner: burst of %d characters refused", ev.length)
                self.rejected.emit(ev.length)

    def _replay(self, text: str, window: QObject | None) -> None:
        target: QObject | None = QApplication.focusWidget()
        if target is None and isinstance(window, QWindow):
            target = window.focusObject() or window
        target = target or QApplication.activeWindow()
        if target is None:
            log.debug("scanner: %d typed keys had no widget to go to", len(text))
            return
        self._replaying = True
        try:
            for ch in text:
                key = _KEYS.get(ch, Qt.Key.Key_unknown)
                for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(target, QKeyEvent(etype, key,
                                                             Qt.KeyboardModifier.NoModifier, ch))
        finally:
            self._replaying = False
