"""One pipeline for codes, whether a camera saw them or a handheld scanner typed them.

* :class:`CodeRead` is what reaches the check-in service (``CheckinOps.submit_code(text, source)``).
* :class:`CodeDebouncer` reports a text once while it stays in view (a camera sees the same code
  in dozens of frames; a clerk may scan twice).
* :class:`QrFrameWorker` is the camera's decoding consumer: its own thread takes the *newest*
  frame from a camera subscription (frames arriving while it decodes are dropped), runs the
  cheap stages on every frame and one of the expensive stages in turn, so every frame costs about
  the same and a code that needs e.g. the dark-mode stage is still read within a few frames.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from desk_app.errors import DeskError
from devices.camera.types import Camera, Frame
from devices.qr.reader import QrReader

log = logging.getLogger(__name__)

#: Stages run on every live frame, and the ones taken in turn (one per frame). pyzbar at full
#: 720p resolution (~20 ms) is left out: zxing-cpp already looks at full resolution on every
#: frame. Costs per 720p frame without a code on one core, measured 2026-12-03 (scene-player
#: frames): zx_level ~0.2 ms, zxing ~1, level ~4.4, inverted ~5.9, adaptive ~2.5, smoothed ~3,
#: zx_smoothed ~0.9, zx_adaptive ~0.5. ``zx_level`` first: a frame whose code it reads stops
#: there (live median 6.9 ms a frame against 9.1 with ``zxing`` first; the same 26 of 26
#: frames with a code read).
LIVE_EVERY_FRAME = ("zx_level", "zxing", "level")
LIVE_ROTATION = ("inverted", "zx_smoothed", "zx_adaptive", "smoothed", "zx_smoothed",
                 "zx_adaptive", "adaptive", "zx_smoothed")


@dataclass(frozen=True)
class CodeRead:
    text: str
    source: str  # "camera" | "scanner" (the ``source`` of CheckinOps.submit_code)
    decoder: str  # "pyzbar" | "zxing" | "scanner"
    timestamp: float  # time.monotonic()
    device: str = ""  # camera name or scanner name
    stage: str = ""
    polygon: tuple[tuple[int, int], ...] = ()  # where the code is in the frame (camera reads)


CodeSink = Callable[[CodeRead], None]


def clean_code_text(text: str, max_len: int) -> str | None:
    """The text as the pipeline passes it on: outer white space trimmed, line endings
    normalised; None if empty, too long, or holding control characters other than tab/newline
    (a scanner glitch or a hostile code, never a booking code)."""
    t = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not t or len(t) > max_len:
        return None
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in t):
        return None
    return t


class CodeDebouncer:
    """Lets a text through once, then again only after ``repeat_s`` without seeing it."""

    def __init__(self, repeat_s: float = 3.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.repeat_s = repeat_s
        self._clock = clock
        self._last_seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def offer(self, text: str, now: float | None = None) -> bool:
        now = self._clock() if now is None else now
        with self._lock:
            last = self._last_seen.get(text)
            self._last_seen[text] = now
            if len(self._last_seen) > 256:  # forget old texts
                cutoff = now - self.repeat_s
                self._last_seen = {k: v for k, v in self._last_seen.items() if v >= cutoff}
            return last is None or now - last > self.repeat_s

    def reset(self) -> None:
        """Next patient: the same code may be presented again at once."""
        with self._lock:
            self._last_seen.clear()


class CodeFeed:
    """Where camera and scanner codes meet: cleans, debounces, hands to the sinks (any thread)."""

    def __init__(self, debouncer: CodeDebouncer | None = None, max_len: int = 4096) -> None:
        self.debouncer = debouncer or CodeDebouncer()
        self.max_len = max_len
        self._sinks: list[CodeSink] = []

    def connect(self, sink: CodeSink) -> None:
        self._sinks.append(sink)

    def submit(self, read: CodeRead) -> bool:
        """True if passed on (new text), False if dropped (duplicate or unusable)."""
        text = clean_code_text(read.text, self.max_len)
        if text is None:
            log.info("code from %s dropped: empty, too long or with control characters",
                     read.source)
            return False
        if not self.debouncer.offer(text, read.timestamp):
            return False
        if text != read.text:
            read = CodeRead(text, read.source, read.decoder, read.timestamp, read.device,
                            read.stage, read.polygon)
        for sink in list(self._sinks):
            try:
                sink(read)
            except DeskError:
                log.exception("code sink refused a code")
        return True


class QrFrameWorker:
    """Decodes the newest frames of one camera on its own thread (see module docstring)."""

    def __init__(
        self,
        camera: Camera,
        feed: CodeFeed,
        *,
        reader: QrReader | None = None,
        every_frame: Sequence[str] = LIVE_EVERY_FRAME,
        rotation: Sequence[str] = LIVE_ROTATION,
    ) -> None:
        self.camera = camera
        self.feed = feed
        self.reader = reader or QrReader()
        self.every_frame = tuple(every_frame)
        self.rotation = tuple(rotation)
        self._sub = camera.subscribe()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._turn = 0
        self._ms: deque[float] = deque(maxlen=300)
        self._cpu_ms: deque[float] = deque(maxlen=300)
        self.frames_decoded = 0
        self.codes_read = 0

    def stages_for_next_frame(self) -> tuple[str, ...]:
        extra = self.rotation[self._turn % len(self.rotation)] if self.rotation else None
        self._turn += 1
        return self.every_frame + ((extra,) if extra else ())

    def process(self, frame: Frame) -> list[CodeRead]:
        """Decode one frame (also usable without the thread, e.g. in tests and benchmarks)."""
        result = self.reader.read(frame.image, self.stages_for_next_frame())
        self._ms.append(result.ms)
        self._cpu_ms.append(result.cpu_ms)
        self.frames_decoded += 1
        reads = [CodeRead(c.text, "camera", c.decoder, frame.timestamp, frame.source, c.stage,
                          c.polygon) for c in result.codes]
        for r in reads:
            if self.feed.submit(r):
                self.codes_read += 1
        return reads

    @property
    def dropped(self) -> int:
        """Frames the camera delivered while this worker was busy decoding."""
        return self._sub.dropped

    @property
    def ms_median(self) -> float:
        """Wall time per decoded frame (recent 300)."""
        return statistics.median(self._ms) if self._ms else 0.0

    @property
    def cpu_ms_median(self) -> float:
        """CPU time per decoded frame (recent 300): the cost on one core."""
        return statistics.median(self._cpu_ms) if self._cpu_ms else 0.0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"qr-{self.camera.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self._sub.get(timeout=0.2)
            if frame is None:  # no frame yet, or the camera stopped (then get returns at once)
                self._stop.wait(0.05)
                continue
            try:
                self.process(frame)
            except Exception:  # noqa: BLE001 - logged with traceback; the next frame is tried
                log.exception("QR decoding of a frame from %s failed", self.camera.name)
