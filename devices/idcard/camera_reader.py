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

import dataclasses
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from desk_app.identity import parse_id_number
from devices.camera.types import Camera, CameraState
from devices.idcard.errors import CardNotRead, PrintedNumberInvalid
from devices.idcard.locate import CardView, card_outlines, find_card, rectify
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
                 candidates: int = 3, text_lines: bool = True) -> None:
        self.engine = engine or make_engine()
        self.try_flip = try_flip
        self.candidates = candidates
        # The engine's text detector: the number line found in a card's number band and, the
        # second way to a card, in the whole frame (engines without a detector: outlines only).
        self.text_lines = text_lines and hasattr(self.engine, "text_lines")

    def read_frame(self, frame: np.ndarray, *, text_lines: bool = True) -> FrameReading:
        """One frame's reading. The number is read on the card's outline first (tens of ms)
        and decides when it passes its check. One that fails it (or cannot exist) is read
        again in two independent ways, each with its own idea of where the line lies: the
        text detector's line in that card's number band (``CardView.number_band``, tens of
        ms), and, when ``text_lines`` allows, the detector's line in the whole frame (a few
        hundred ms; skipped when the first two agree). :func:`agreed` decides: a number
        passing its check only when no read of nearly the same characters disputes it or two
        reads give it, else the failing text as read (never altered).
        When the outline reads nothing, the whole frame's line decides alone, as the
        outline's first read does (a pale card on white paper, a finger over a corner, a
        bent outline). The desk still needs two agreeing frames."""
        t0 = time.perf_counter()
        reading, view = self._read_outlines(frame, t0)
        if reading.status == "ok":
            return reading
        reads: list[FrameReading] = []
        if view is not None:
            reads = [reading]
            by_band = self._read_band(view)
            if by_band is not None:
                reads.append(by_band)
                if by_band.text == reading.text:  # two reads agree: a failing number stays
                    return dataclasses.replace(reading, ms=(time.perf_counter() - t0) * 1000)
        by_line = self.read_text_lines(frame) if text_lines and self.text_lines else None
        if by_line is not None and not reads:  # the first number read: it decides alone
            return dataclasses.replace(by_line, ms=(time.perf_counter() - t0) * 1000)
        best = agreed([*reads, by_line] if by_line is not None else reads) or reading
        return dataclasses.replace(best, ms=(time.perf_counter() - t0) * 1000)

    def read_text_lines(self, frame: np.ndarray) -> FrameReading | None:
        """The card found by its number line: the detector's long thin lines, each read; the
        first holding a number decides, and the card's corners follow from where that line
        lies on the card kind (``NUMBER_LINE_ON_CARD``). None when no line holds a number."""
        t0 = time.perf_counter()
        for quad, line in self._line_reads(frame, MAX_LINES_READ):
            number = card_number(line)
            view = rectify(frame, card_corners_from_line(quad, card_kind(number)))
            return dataclasses.replace(reading_of(line, view.corners, view.portrait()),
                                       ms=(time.perf_counter() - t0) * 1000)
        return None

    def _read_band(self, view: CardView) -> FrameReading | None:
        """The number read on the line the text detector finds in ``view``'s number band (at
        the card's scale): where a loose outline slants the line or its tight crop cuts a
        character, the detector's box still follows the printed line."""
        if not self.text_lines:
            return None
        for _, line in self._line_reads(view.number_band(), MAX_BAND_LINES, as_is=True):
            return reading_of(line, view.corners, view.portrait())
        return None

    def _line_reads(self, image: np.ndarray, most: int, *, as_is: bool = False
                    ) -> Iterator[tuple[np.ndarray, LineText]]:
        """(quadrilateral, read) of the ``most`` longest long thin lines the text detector
        finds in ``image`` that hold a number, longest first."""
        lines = [q for q in self.engine.text_lines(image, as_is=as_is)  # type: ignore[attr-defined]
                 if _line_aspect(q) >= MIN_LINE_ASPECT]
        lines.sort(key=lambda q: -float(np.linalg.norm(q[1] - q[0])))
        for quad in lines[:most]:
            line = self.engine.read_line(straighten(image, quad))
            if card_number(line):
                yield quad, line

    def _read_outlines(self, frame: np.ndarray, t0: float
                       ) -> tuple[FrameReading, CardView | None]:
        """The first number read on the outlines, with the view it was read on (None: no
        number read)."""
        outlines = card_outlines(frame, self.candidates)
        if not outlines:
            return FrameReading("no_card", ms=(time.perf_counter() - t0) * 1000), None
        # The best outline's line as expected first; then wider (outline a little off), then
        # the card the other way up; then the next outlines (another outline of the same card;
        # on a busy counter a sheet of paper may look more card-like than the card), each way
        # up. Stops at the first number, valid or not (read_frame looks again at one that
        # fails, in other ways; reading the next outline until some number passes would be
        # "correcting" it).
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
                                        (time.perf_counter() - t0) * 1000), v
                first = first or line.text
        return FrameReading("no_number", first, 0.0, outlines[0][1],
                            ms=(time.perf_counter() - t0) * 1000), None


def reading_of(line: LineText, corners: np.ndarray | None, portrait: np.ndarray | None
               ) -> FrameReading:
    number = card_number(line)
    return FrameReading(_number_status(number) if number else "no_number", number,
                        line.confidence, corners, portrait)


def agreed(reads: list[FrameReading]) -> FrameReading | None:
    """What independent reads of one card's number line say together. A number passing its
    check is taken when no read of nearly the same characters (``NEAR_EDITS``) disputes it,
    or when two reads give it and each such read is of a text read fewer times; a misread of
    a misprinted number may pass (1 in 11), so one passing read against one failing read of
    nearly the same characters decides nothing. Else the number failing its check (or unable
    to exist) read most often, the most confident read on a tie. None when no read holds a
    number. A read of other characters entirely (another line, dates read as a number)
    disputes nothing."""
    numbers = [r for r in reads if r.status in ("ok", "checksum", "invalid")]
    votes = Counter(r.text for r in numbers)

    def undisputed(text: str) -> bool:
        rivals = [t for t in votes if t != text and _edits(t, text) <= NEAR_EDITS]
        return not rivals or (votes[text] >= 2 and all(votes[t] < votes[text] for t in rivals))

    taken = [r for r in numbers if r.status == "ok" and undisputed(r.text)]
    if taken:
        return max(taken, key=lambda r: (votes[r.text], r.confidence))
    failing = [r for r in numbers if r.status != "ok"]
    if not failing:
        return None
    return max(failing, key=lambda r: (votes[r.text], r.confidence))


NEAR_EDITS = 3  # two reads of one printed number: a few characters misread, dropped or added


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (characters substituted, dropped or added)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


MIN_LINE_ASPECT = 6.0  # a number line of 15 or 18 characters is far longer than high
MAX_LINES_READ = 4  # the longest lines only: the number is among the longest on a card
MAX_BAND_LINES = 2  # in the number band: the number, perhaps a date line caught at its top
#: Where the number's text line lies on each card kind, as fractions of the card's width and
#: height: left, top, right, bottom. Measured on outline reads of synthetic counter frames
#: (seed 4242, 82 cards; spread under 0.025), and the same on the real layouts: the resident
#: card's number starts after 公民身份号码, the 2023 foreigner's after 证件号码 / Card No.,
#: the 2017 card's 15 characters end earlier.
NUMBER_LINE_ON_CARD = {
    "resident": (0.296, 0.830, 0.938, 0.920),
    "foreign_2017": (0.346, 0.826, 0.878, 0.921),
    "foreign_2023": (0.302, 0.831, 0.940, 0.921),
}


def card_kind(number: str) -> str:
    if len(number) == 15:
        return "foreign_2017"
    return "foreign_2023" if number.startswith("9") else "resident"


def card_corners_from_line(quad: np.ndarray, kind: str) -> np.ndarray:
    """The card's corners in the frame (top-left, top-right, bottom-right, bottom-left) from
    its number line's quadrilateral (same order, along the reading direction): the affine map
    taking the line's place on the card to the quadrilateral, applied to the card's corners."""
    x0, y0, x1, y1 = NUMBER_LINE_ON_CARD[kind]
    src = np.float32([[x0, y0], [x1, y0], [x0, y1]])
    dst = np.float32([quad[0], quad[1], quad[3]])
    m = cv2.getAffineTransform(src, dst)
    card = np.float32([[0, 0], [1, 0], [1, 1], [0, 1]])
    return (card @ m[:, :2].T + m[:, 2]).astype(np.float32)


def straighten(frame: np.ndarray, quad: np.ndarray, pad: float = 0.25) -> np.ndarray:
    """The line inside ``quad`` warped level, with a margin of ``pad`` times its height."""
    tl, tr, br, bl = quad.astype(np.float32)
    w, h = float(np.linalg.norm(tr - tl)), float(np.linalg.norm(bl - tl))
    ux, uy = (tr - tl) / max(w, 1.0), (bl - tl) / max(h, 1.0)
    m_ = h * pad
    src = np.float32([tl - (ux + uy) * m_, tr + (ux - uy) * m_, br + (ux + uy) * m_,
                      bl - (ux - uy) * m_])
    W, H = max(8, int(w + 2 * m_)), max(8, int(h + 2 * m_))
    m = cv2.getPerspectiveTransform(src, np.float32([[0, 0], [W, 0], [W, H], [0, H]]))
    return cv2.warpPerspective(frame, m, (W, H), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def _line_aspect(quad: np.ndarray) -> float:
    h = float(np.linalg.norm(quad[3] - quad[0]))
    return float(np.linalg.norm(quad[1] - quad[0])) / h if h > 0 else 0.0


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
                 on_seen: Callable[[Polygon], None] | None = None,
                 text_line_every_s: float = 0.5) -> None:
        self.name = f"camera:{camera.name}"
        self.camera = camera
        self.reader = reader or CameraCardReader()
        self.votes_needed = votes_needed
        self.timeout_s = timeout_s
        self.on_seen = on_seen
        # The text detector costs a few hundred ms a frame: while a vote runs, at most one
        # frame every ``text_line_every_s`` goes that way; while waiting for a card, only a
        # frame in which something changed (an empty counter costs nothing).
        self._line_gate = RateGate(text_line_every_s)
        self._idle = SceneMemory()
        self._idle_gate = RateGate(1.0)

    def open(self) -> None:
        """The camera is started and owned by its worker; nothing to open."""

    def close(self) -> None:
        """Nothing held."""

    def card_present(self) -> bool:
        frame = self.camera.latest()
        if frame is None:
            return False
        if find_card(frame.image) is not None:
            return True
        if not self.reader.text_lines:
            return False
        known = self._idle.answer_for(frame.image)
        if known is not None:
            return known
        if not self._idle_gate.allow():  # the scene moves (hands, a face): once a second
            return self._idle.last_answer
        found = self.reader.read_text_lines(frame.image) is not None
        self._idle.remember(frame.image, found)
        return found

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
                reading = self.reader.read_frame(frame.image,
                                                 text_lines=self._line_gate.allow())
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


class RateGate:
    """True at most once every ``every_s`` seconds (monotonic clock)."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._last = -float("inf")

    def allow(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.every_s:
            return False
        self._last = now
        return True


class SceneMemory:
    """The last answer for a scene, kept while the scene does not change (a thumbnail's mean
    absolute difference under ``tolerance`` grey levels): a still, empty counter is looked at
    once, and a card found by its number line stays "present" while it lies still."""

    def __init__(self, tolerance: float = 4.0) -> None:
        self.tolerance = tolerance
        self._thumb: np.ndarray | None = None
        self._answer = False

    @staticmethod
    def _thumbnail(image: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        return cv2.resize(gray, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)

    def answer_for(self, image: np.ndarray) -> bool | None:
        if self._thumb is None:
            return None
        diff = float(np.abs(self._thumbnail(image) - self._thumb).mean())
        return self._answer if diff < self.tolerance else None

    @property
    def last_answer(self) -> bool:
        return self._answer

    def remember(self, image: np.ndarray, answer: bool) -> None:
        self._thumb, self._answer = self._thumbnail(image), answer
