"""Reading the ID number from camera frames: find the card, OCR the number line, vote.

One frame gives a :class:`FrameReading`: ``no_card``, ``no_number`` (no number of a card the
desk reads: 18 characters -- resident card, foreigner's permanent residence card 2023 -- or the
2017 foreigner's card's 3 letters + 12 digits), ``checksum`` (a number whose check digit fails), ``invalid`` (the check digit
holds but no such birth date / region: a misread) or ``ok``. A :class:`NumberVoter`
collects readings over frames and decides once one valid number has ``votes_needed`` readings
and a strict majority of the valid ones; the same invalid text read ``votes_needed`` times with
no valid rival is decided as ``checksum``. Nothing is ever changed to make a check digit hold.

Where the card lies travels with it: the read carries the corners of the card in the frame that
decided it (``IdCardRead.polygon``), and while the vote is still open every frame that shows a
card is reported to ``on_seen`` (the check-in preview outlines it: "card seen, hold still").
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from desk_app.identity import parse_id_number
from devices.camera.types import Camera, CameraState
from devices.idcard.errors import CardNotRead, PrintedNumberInvalid
from devices.idcard.locate import card_outlines, find_card, rectify
from devices.idcard.ocr import LineText, OcrEngine, make_engine
from devices.idcard.types import FOREIGN15, IdCardRead, InvalidIdNumber, Polygon, printed_number_ok

log = logging.getLogger(__name__)

FrameStatus = Literal["no_card", "no_number", "checksum", "invalid", "ok"]
VoteStatus = Literal["ok", "checksum", "undecided"]


@dataclass(frozen=True, eq=False)
class FrameReading:
    status: FrameStatus
    text: str = ""  # the 18 characters read (ok / checksum), else what was read
    confidence: float = 0.0
    corners: np.ndarray | None = None
    portrait: np.ndarray | None = None
    ms: float = 0.0

    def __repr__(self) -> str:
        return f"FrameReading({self.status}, conf={self.confidence:.2f}, {self.ms:.0f} ms)"

    @property
    def polygon(self) -> Polygon:
        """The card's corners in frame pixels, rounded; empty when no card was found."""
        if self.corners is None:
            return ()
        return tuple((int(round(float(x))), int(round(float(y)))) for x, y in self.corners)


class CameraCardReader:
    """Per-frame pipeline. ``engine`` defaults to the measured best (see :mod:`.ocr`)."""

    def __init__(self, engine: OcrEngine | None = None, *, try_flip: bool = True,
                 candidates: int = 3) -> None:
        self.engine = engine or make_engine()
        self.try_flip = try_flip
        self.candidates = candidates

    def read_frame(self, frame: np.ndarray) -> FrameReading:
        t0 = time.perf_counter()
        outlines = card_outlines(frame, self.candidates)
        if not outlines:
            return FrameReading("no_card", ms=(time.perf_counter() - t0) * 1000)
        # The best outline's line as expected first; then wider (outline a little off), then
        # the card the other way up; then the next outlines (another outline of the same card;
        # on a busy counter a sheet of paper may look more card-like than the card), each way
        # up. Stops at the first number,
        # valid or not: re-reading a number that fails its check until something passes
        # would be "correcting" it.
        first = ""
        for i, (score, corners) in enumerate(outlines):
            view = rectify(frame, corners, score)  # only the outlines actually read
            turns = [view, view.flipped()] if self.try_flip else [view]
            for v, wide in [(v, wide) for v in turns
                            for wide in ((False, True) if i == 0 else (False,))]:
                line = self.engine.read_line(v.number_line(wide=wide))
                number = card_number(line)
                if number:
                    return FrameReading(_number_status(number), number, line.confidence,
                                        v.corners, v.portrait(),
                                        (time.perf_counter() - t0) * 1000)
                first = first or line.text
        return FrameReading("no_number", first, 0.0, outlines[0][1],
                            ms=(time.perf_counter() - t0) * 1000)


_FOREIGN15_AT_END = re.compile(r"([A-Z0]{3}[0-9O]{12})$")


def card_number(line: LineText) -> str:
    """The number in an OCR'd line, as printed: 18 characters (digits and X), or the 2017
    foreigner's 15 (3 letters, 12 digits; an O among the digits is the digit 0 and a 0 among
    the letters the letter O -- one glyph in the card's font -- nothing else is changed). Empty when the line holds neither (the caller reads it again another way)."""
    if len(line.text) == 18:
        return line.text
    alnum = re.sub(r"[^0-9A-Z]", "", line.raw.upper())
    m = _FOREIGN15_AT_END.search(alnum)  # "Card No." may precede it in a wide crop
    if m:
        n = m.group(1)
        n = n[:3].replace("0", "O") + n[3:].replace("O", "0")
        if FOREIGN15.fullmatch(n):
            return n
    return ""


def _number_status(text: str) -> FrameStatus:
    """ok: a possible number; checksum: its check digit fails; invalid: it checks but cannot
    exist (no such day or region), which at 1 in 11 odds is a misread, so it is not voted."""
    if not printed_number_ok(text):
        return "checksum"
    try:
        parse_id_number(text)
    except InvalidIdNumber:
        return "invalid"
    return "ok"


@dataclass
class VoteResult:
    status: VoteStatus
    number: str = ""
    confidence: float = 0.0
    portrait: np.ndarray | None = None
    frames: int = 0

    def to_read(self, polygon: Polygon = ()) -> IdCardRead:
        """The camera read (``polygon``: where the card lies now), or the typed error the clerk
        sees."""
        if self.status == "ok":
            return IdCardRead(id_number=self.number, portrait=self.portrait,
                              confidence=self.confidence, source="camera", polygon=polygon)
        if self.status == "checksum":
            raise PrintedNumberInvalid()
        raise CardNotRead(detail=f"{self.frames} frames")


@dataclass
class NumberVoter:
    votes_needed: int = 2
    valid: Counter[str] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    _best: dict[str, FrameReading] = field(default_factory=dict)

    def add(self, reading: FrameReading) -> VoteResult:
        self.frames += 1
        if reading.status in ("ok", "checksum"):
            bucket = self.valid if reading.status == "ok" else self.invalid
            bucket[reading.text] += 1
            best = self._best.get(reading.text)
            if best is None or reading.confidence > best.confidence:
                self._best[reading.text] = reading
        return self.result()

    def result(self) -> VoteResult:
        if self.valid:
            number, votes = self.valid.most_common(1)[0]
            total = sum(self.valid.values())
            if votes >= self.votes_needed and votes * 2 > total:
                best = self._best[number]
                conf = votes / (total + sum(self.invalid.values())) * best.confidence
                return VoteResult("ok", number, round(conf, 3), best.portrait, self.frames)
        if self.invalid and not self.valid:
            text, votes = self.invalid.most_common(1)[0]
            if votes >= self.votes_needed:
                return VoteResult("checksum", text, 0.0, self._best[text].portrait, self.frames)
        return VoteResult("undecided", frames=self.frames)


def read_frames(frames: list[np.ndarray], reader: CameraCardReader, votes_needed: int = 2
                ) -> VoteResult:
    """Vote over ``frames`` (stops early once decided)."""
    voter = NumberVoter(votes_needed)
    result = voter.result()
    for f in frames:
        result = voter.add(reader.read_frame(f))
        if result.status != "undecided":
            break
    return result


class CameraIdCardSource:
    """:class:`~devices.idcard.types.IdCardReader` over a running camera (counter camera).

    ``read`` takes the camera's newest frames (dropping older ones, so a slow OCR never queues
    work) until the vote decides or ``timeout_s`` passes. Called on a worker thread, which also
    calls ``on_seen(polygon)`` for each frame of an undecided vote that shows a card."""

    def __init__(self, camera: Camera, reader: CameraCardReader | None = None, *,
                 votes_needed: int = 2, timeout_s: float = 6.0,
                 on_seen: Callable[[Polygon], None] | None = None) -> None:
        self.name = f"camera:{camera.name}"
        self.camera = camera
        self.reader = reader or CameraCardReader()
        self.votes_needed = votes_needed
        self.timeout_s = timeout_s
        self.on_seen = on_seen

    def open(self) -> None:
        """The camera is started and owned by its worker; nothing to open."""

    def close(self) -> None:
        """Nothing held."""

    def card_present(self) -> bool:
        frame = self.camera.latest()
        return frame is not None and find_card(frame.image) is not None

    def read(self) -> IdCardRead:
        sub = self.camera.subscribe()
        voter = NumberVoter(self.votes_needed)
        deadline = time.monotonic() + self.timeout_s
        try:
            while time.monotonic() < deadline:
                frame = sub.get(timeout=max(0.01, deadline - time.monotonic()))
                if frame is None:
                    if self.camera.state in (CameraState.STOPPED, CameraState.FAILED):
                        break
                    continue
                reading = self.reader.read_frame(frame.image)
                result = voter.add(reading)
                if result.status == "ok":
                    return result.to_read(reading.polygon)
                if reading.polygon:
                    self._seen(reading.polygon)
                if result.status != "undecided":
                    return result.to_read()
        finally:
            sub.close()
        return voter.result().to_read()

    def _seen(self, polygon: Polygon) -> None:
        if self.on_seen is None:
            return
        try:
            self.on_seen(polygon)
        except Exception:  # the preview's feedback must not stop the card being read; logged
            log.exception("card-seen handler failed")
