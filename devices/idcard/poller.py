"""The reader's worker thread: card put down -> read once -> card lifted, and reconnecting.

Owns its :class:`~devices.idcard.types.IdCardReader` (only this thread talks to the port) and
reports :class:`ReaderEvent` s through one callback, called on the worker thread (a Qt owner
re-emits it as a queued signal). A card lying on the reader is read once; it must be lifted
(``misses_for_removal`` polls without a card) before it is read again. When the port goes away
the worker closes it and retries opening with back-off until the reader comes back or
:meth:`ReaderPoller.stop` is called. An "error" (a bad frame, a card that does not read, no
answer) is reported once, not at every poll; the next poll that goes through (the card read,
or lifted) reports "connected" again, so an owner showing the error knows when it is over.

Real SAM modules often halt the card after a read so "find card" then says "no card" although
it still lies there; that shows up here as a "removed" event soon after the read, which is
harmless: the same card is only read again after it was lifted and put down again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from desk_app.errors import DeskError
from devices.idcard.errors import FrameChecksumError, NoCard, ReaderNotConnected, ReaderTimeout
from devices.idcard.types import IdCardRead, IdCardReader

log = logging.getLogger(__name__)

EventKind = Literal["connected", "card", "removed", "error", "disconnected"]


@dataclass(frozen=True)
class ReaderEvent:
    kind: EventKind
    read: IdCardRead | None = None
    error: DeskError | None = None


class ReaderPoller:
    def __init__(
        self,
        reader: IdCardReader,
        on_event: Callable[[ReaderEvent], None],
        *,
        interval_s: float = 0.25,
        misses_for_removal: int = 2,
        backoff_s: tuple[float, float] = (0.5, 10.0),
    ) -> None:
        self.reader = reader
        self.on_event = on_event
        self.interval_s = interval_s
        self.misses_for_removal = misses_for_removal
        self.backoff_min, self.backoff_max = backoff_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reads = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"idcard-{self.reader.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _emit(self, event: ReaderEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # a consumer bug must not kill the reader thread; it is logged
            log.exception("ID-card event handler failed")

    def _run(self) -> None:
        backoff = self.backoff_min
        connected = False
        card_read = False  # the card on the reader has been read already
        misses = 0
        last_error: type[DeskError] | None = None  # reported once until a poll succeeds
        try:
            while not self._stop.is_set():
                if not connected:
                    try:
                        self.reader.open()
                    except ReaderNotConnected as exc:
                        self._emit(ReaderEvent("disconnected", error=exc))
                        self._stop.wait(backoff)
                        backoff = min(backoff * 2, self.backoff_max)
                        continue
                    connected, backoff = True, self.backoff_min
                    last_error = None  # "connected" clears the hint: a new error is said again
                    self._emit(ReaderEvent("connected"))
                try:
                    present = self.reader.card_present()
                    if present:
                        misses = 0
                        if not card_read:
                            read = self.reader.read()
                            card_read = True
                            self.reads += 1
                            self._emit(ReaderEvent("card", read=read))
                    else:
                        misses += 1
                        if card_read and misses >= self.misses_for_removal:
                            card_read = False
                            self._emit(ReaderEvent("removed"))
                    if last_error is not None:  # a whole poll again after an error: working
                        last_error = None
                        self._emit(ReaderEvent("connected"))
                except NoCard:
                    misses += 1  # lifted between find and read: try again when it is back
                except (FrameChecksumError, ReaderTimeout) as exc:
                    if type(exc) is not last_error:
                        last_error = type(exc)
                        self._emit(ReaderEvent("error", error=exc))
                except ReaderNotConnected as exc:
                    connected = False
                    self.reader.close()
                    if card_read:
                        card_read = False
                        self._emit(ReaderEvent("removed"))
                    self._emit(ReaderEvent("disconnected", error=exc))
                    continue
                except DeskError as exc:
                    if type(exc) is not last_error:
                        last_error = type(exc)
                        self._emit(ReaderEvent("error", error=exc))
                self._stop.wait(self.interval_s)
        finally:
            self.reader.close()
