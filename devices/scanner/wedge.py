"""Keyboard-wedge scanners: a handheld USB scanner "types" the code followed by Enter, far faster
than a person. This is the pure logic that tells the two apart; it takes key events as
``(text, timestamp_ms)`` and says what each burst was.

* Keys are *held* while they come faster than ``max_interkey_ms`` apart (a person's first key is
  therefore delayed by that much, ~35 ms, unnoticeable).
* Enter after at least ``min_length`` keys all closer than the threshold: :class:`Scanned`.
* A slower gap, or Enter after a slow or short sequence: the held keys are given back as
  :class:`Typed` so the UI can pass them on to the focused field (nothing a person types is lost).
* A burst longer than ``max_length``: :class:`Rejected` once, then the rest of the burst is
  ignored until its Enter (or a pause).

Call :meth:`WedgeDecoder.tick` from a timer (the Qt adapter does) so held keys are released
when nothing follows them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from devices.qr.pipeline import CodeFeed, CodeRead

log = logging.getLogger(__name__)

TERMINATORS = ("\r", "\n", "\r\n")


@dataclass(frozen=True)
class Scanned:
    text: str
    timestamp_ms: float
    keys_per_s: float


@dataclass(frozen=True)
class Typed:
    text: str  # keys to pass on to the focused widget, in order (may end with "\r")


@dataclass(frozen=True)
class Rejected:
    reason: str  # "too_long"
    length: int


WedgeEvent = Scanned | Typed | Rejected


class WedgeDecoder:
    def __init__(
        self,
        max_interkey_ms: float = 35.0,
        *,
        min_length: int = 4,
        max_length: int = 4096,
        tab_terminates: bool = False,
    ) -> None:
        if max_interkey_ms <= 0:
            raise ValueError("max_interkey_ms must be positive")
        self.max_interkey_ms = float(max_interkey_ms)
        self.min_length = max(1, min_length)
        self.max_length = max_length
        self.terminators = TERMINATORS + (("\t",) if tab_terminates else ())
        self._buf: list[str] = []
        self._first_ms = 0.0
        self._last_ms: float | None = None
        self._overflow = False

    @property
    def holding(self) -> bool:
        return bool(self._buf) or self._overflow

    @property
    def last_key_ms(self) -> float | None:
        return self._last_ms

    def key(self, text: str, ts_ms: float) -> list[WedgeEvent]:
        """One key press: its text (as ``QKeyEvent.text()``) and time in milliseconds."""
        out: list[WedgeEvent] = []
        if not text:
            return out
        gap_ok = self._last_ms is not None and ts_ms - self._last_ms <= self.max_interkey_ms
        if text in self.terminators:
            if self._overflow:
                self._reset()
                return out
            if self._buf and gap_ok and len(self._buf) >= self.min_length:
                code = "".join(self._buf)
                span = max(ts_ms - self._first_ms, 1e-3)
                out.append(Scanned(code, ts_ms, 1000.0 * (len(code) + 1) / span))
            else:
                out.append(Typed("".join(self._buf) + text))
            self._reset()
            return out
        if self._buf and not gap_ok:
            out.append(Typed("".join(self._buf)))
            self._reset()
        elif self._overflow and not gap_ok:
            self._reset()
        for ch in text:
            if ch < " " or ch == "\x7f":  # control keys (Backspace, Esc, GS ...): not code text
                if not self._buf and not self._overflow:
                    out.append(Typed(ch))
                continue
            if self._overflow:
                continue
            if not self._buf:
                self._first_ms = ts_ms
            self._buf.append(ch)
            if len(self._buf) > self.max_length:
                out.append(Rejected("too_long", len(self._buf)))
                self._buf.clear()
                self._overflow = True
        self._last_ms = ts_ms
        return out

    def tick(self, now_ms: float) -> list[WedgeEvent]:
        """Release held keys once no key followed them within the threshold."""
        if self._last_ms is None or now_ms - self._last_ms <= self.max_interkey_ms:
            return []
        out: list[WedgeEvent] = []
        if self._buf:
            out.append(Typed("".join(self._buf)))
        self._reset()
        return out

    def _reset(self) -> None:
        self._buf.clear()
        self._overflow = False
        self._last_ms = None


class WedgeScanner:
    """The decoder wired to the code pipeline: scans go to ``feed`` as ``source="scanner"``;
    typed keys go to ``on_typed`` (the UI re-posts them to the focused widget)."""

    def __init__(
        self,
        feed: CodeFeed | None,
        max_interkey_ms: float = 35.0,
        *,
        on_typed: Callable[[str], None] | None = None,
        on_rejected: Callable[[Rejected], None] | None = None,
        name: str = "wedge",
        **kw: object,
    ) -> None:
        self.decoder = WedgeDecoder(max_interkey_ms, **kw)  # type: ignore[arg-type]
        self.feed = feed
        self.on_typed = on_typed
        self.on_rejected = on_rejected
        self.name = name
        self.scans: list[Scanned] = []  # the last few, for the device status screen
        self.enabled = True

    def key(self, text: str, ts_ms: float) -> list[WedgeEvent]:
        if not self.enabled:
            if self.on_typed and text:
                self.on_typed(text)
            return [Typed(text)]
        return self._dispatch(self.decoder.key(text, ts_ms))

    def tick(self, now_ms: float) -> list[WedgeEvent]:
        return self._dispatch(self.decoder.tick(now_ms))

    def _dispatch(self, events: list[WedgeEvent]) -> list[WedgeEvent]:
        for ev in events:
            if isinstance(ev, Scanned):
                self.scans = [*self.scans[-9:], ev]
                if self.feed is not None:
                    self.feed.submit(CodeRead(ev.text, "scanner", "scanner", time.monotonic(),
                                              self.name))
            elif isinstance(ev, Typed):
                if self.on_typed:
                    self.on_typed(ev.text)
            else:
                log.info("scanner %s: burst of %d characters refused (%s)", self.name,
                         ev.length, ev.reason)
                if self.on_rejected:
                    self.on_rejected(ev)
        return events
