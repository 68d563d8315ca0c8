"""Reading QR codes (and optionally 1-D barcodes) from camera pictures with two decoders.

A cascade of *stages*, stopping at the first stage that reads something: each stage is one
preprocessing of the grayscale picture fed to one decoder. The order is measured, not habit
(2026-12-03, ``stage_*`` figures of ``benchmarks/bench_qr.py``): each stage was run alone
on the 210 harder versions of the real photos of ``../shared/data/qr`` (``devices.qr.variants``)
and stages taken greedily by codes newly read per millisecond of one core.

==============  =========  ===========================================================
stage           decoder    reads alone / 210, median ms (240 px photos; 720p in brackets)
==============  =========  ===========================================================
``zxing``       zxing-cpp  169, 0.5 ms: full resolution; tries inverted and rotated
                           codes itself. First, so a picture zxing-cpp reads costs what
                           zxing-cpp alone costs
``zx_smoothed`` zxing-cpp  132, 0.5: ``level`` smoothed (Gaussian, 1 px): sensor noise in
                           dim light breaks binarisation; +22 after ``zxing``
``adaptive``    pyzbar     106, 1.6: local mean threshold for uneven light and glare; +4
``level``       pyzbar     79, 2.1 (~7): the picture scaled down to <= 640 px; +1
``smoothed``    pyzbar     103, 1.8: the smoothed picture
``zx_adaptive`` zxing-cpp  100, 0.5: the thresholded picture
``inverted``    pyzbar     27, 1.7: dark-mode screens (zbar reads only dark-on-light)
``zx_upscaled`` zxing-cpp  100, 0.7: small pictures (< 480 px) doubled
``upscaled``    pyzbar     75, 4.9: small pictures doubled: zbar needs ~3 px modules
``full``        pyzbar     12, 32: full resolution, for codes too small for ``level``
==============  =========  ===========================================================

Each result says which decoder and stage read it. The text is the code's bytes read in the
charset its ECI names, else the one charset the bytes allow (``devices.qr.charset``); a code
whose charset is in doubt is dropped and logged, never guessed. zxing-cpp gives the bytes with
their ECI designators (``TextMode.HexECI``): its text mode would write byte 0x01 as ``<SOH>``.
zbar runs in binary mode (``devices.qr.zbar``) and its reads are taken only when ASCII or UTF-8
(it does not say whether a code had an ECI it did not know); other codes are left to the
zxing-cpp stages. Texts longer than ``max_text`` characters are dropped. Live callers pass
``stages`` to spread the expensive stages over several frames (``devices.qr.pipeline``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

from desk_app.errors import Text, UserInputError
from devices.qr.charset import decode_payload, guess, segments_from_hex_eci
from devices.qr.zbar import decode_raw

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # the longest text accepted (a booking token is ~500 characters)
MAX_PIXELS = 40_000_000  # larger pictures are refused, not decoded for seconds
LEVEL_SIDE = 640
SMALL_SIDE = 480

ALL_STAGES = ("zxing", "zx_smoothed", "adaptive", "level", "smoothed", "zx_adaptive", "inverted",
              "zx_upscaled", "upscaled", "full")
DECODERS = ("pyzbar", "zxing")
STAGE_DECODER = {"level": "pyzbar", "zxing": "zxing", "smoothed": "pyzbar",
                 "zx_smoothed": "zxing", "inverted": "pyzbar",
                  "adaptive": "pyzbar", "full": "pyzbar", "upscaled": "pyzbar",
                  "zx_adaptive": "zxing", "zx_upscaled": "zxing"}
# With one decoder only (for measuring it alone), its own stages in the same spirit.
_PYZBAR_ONLY = tuple(s for s in ALL_STAGES if STAGE_DECODER[s] == "pyzbar")
_ZXING_ONLY = tuple(s for s in ALL_STAGES if STAGE_DECODER[s] == "zxing")

# Symbologies by our names: pyzbar's ZBarSymbol and zxing-cpp's BarcodeFormat.
_FORMATS = {
    "qr": ("QRCODE", "QRCode"),
    "code128": ("CODE128", "Code128"),
    "code39": ("CODE39", "Code39"),
    "ean13": ("EAN13", "EAN13"),
    "ean8": ("EAN8", "EAN8"),
    "upca": ("UPCA", "UPCA"),
    "i25": ("I25", "ITF"),
    "pdf417": (None, "PDF417"),
    "datamatrix": (None, "DataMatrix"),
}


class BadImageError(UserInputError):
    """What was handed to the reader is not a picture it can look at."""

    title_text = Text("图像无效", "Invalid picture")
    default_text = Text("无法识别该图像, 请重新拍摄。", "This picture cannot be read. Please take it again.")


@dataclass(frozen=True)
class DecodedCode:
    text: str
    decoder: str  # "pyzbar" | "zxing"
    stage: str  # see ALL_STAGES
    symbology: str  # our name: "qr", "code128", ...
    polygon: tuple[tuple[int, int], ...] = ()  # corners in the input picture's pixels


@dataclass(frozen=True)
class ReadResult:
    codes: tuple[DecodedCode, ...]
    ms: float
    stages_run: tuple[str, ...]
    rejected: int = 0  # decoded symbols dropped (not UTF-8, too long)
    # CPU time of the calling thread (both decoders run in it): what one core spends, whatever
    # else the machine is doing; ``ms`` is wall time.
    cpu_ms: float = 0.0


class QrReader:
    """Thread-compatible (no shared mutable state): one instance may serve several threads.

    ``decoders`` limits the decoders used (for measuring each alone); ``formats`` the
    symbologies (default QR only: the booking code; add e.g. ``"code128"`` for printed slips)."""

    def __init__(
        self,
        *,
        decoders: Sequence[str] = DECODERS,
        formats: Sequence[str] = ("qr",),
        max_text: int = MAX_TEXT,
    ) -> None:
        unknown = [d for d in decoders if d not in DECODERS]
        if unknown or not decoders:
            raise ValueError(f"decoders must be among {DECODERS}, got {list(decoders)}")
        bad = [f for f in formats if f not in _FORMATS]
        if bad or not formats:
            raise ValueError(f"formats must be among {sorted(_FORMATS)}, got {list(formats)}")
        self.decoders = tuple(decoders)
        self.formats = tuple(formats)
        self.max_text = max_text
        if set(self.decoders) == {"pyzbar"}:
            self.stages = _PYZBAR_ONLY
        elif set(self.decoders) == {"zxing"}:
            self.stages = _ZXING_ONLY
        else:
            self.stages = ALL_STAGES
        self._zbar_symbols = [getattr(pyzbar.ZBarSymbol, _FORMATS[f][0]) for f in self.formats
                              if _FORMATS[f][0] is not None]
        zx = [getattr(zxingcpp.BarcodeFormat, _FORMATS[f][1]) for f in self.formats]
        # One format as itself; several as a tuple (zxing-cpp 3 deprecates ``|``).
        self._zx_formats = zx[0] if len(zx) == 1 else tuple(zx)
        self._by_zbar = {_FORMATS[f][0]: f for f in self.formats if _FORMATS[f][0]}
        self._by_zx = {_FORMATS[f][1]: f for f in self.formats}

    # --- public --------------------------------------------------------------------------------
    def read(self, image: np.ndarray, stages: Iterable[str] | None = None) -> ReadResult:
        """All codes of the first stage that reads any. ``image``: BGR, BGRA or grayscale uint8.

        Raises :class:`BadImageError` for anything that is not such a picture."""
        t0, c0 = time.perf_counter(), time.thread_time()
        gray = to_gray(image)
        wanted = self.stages if stages is None else tuple(s for s in stages if s in self.stages)
        prep = _Prepared(gray)
        run: list[str] = []
        rejected = 0
        codes: list[DecodedCode] = []
        for stage in wanted:
            if not prep.applies(stage):
                continue
            run.append(stage)
            codes, n_rej = self._run_stage(stage, prep)
            rejected += n_rej
            if codes:
                break
        return ReadResult(tuple(codes), (time.perf_counter() - t0) * 1000, tuple(run), rejected,
                          (time.thread_time() - c0) * 1000)

    # --- stages --------------------------------------------------------------------------------
    def _run_stage(self, stage: str, prep: _Prepared) -> tuple[list[DecodedCode], int]:
        if stage == "level":
            return self._zbar(prep.level, prep.level_scale, stage)
        if stage == "smoothed":
            return self._zbar(prep.smoothed, prep.level_scale, stage)
        if stage == "zx_smoothed":
            return self._zxing(prep.smoothed, prep.level_scale, stage)
        if stage == "inverted":
            return self._zbar(255 - prep.level, prep.level_scale, stage)
        if stage == "adaptive":
            return self._zbar(prep.adaptive, prep.level_scale, stage)
        if stage == "full":
            return self._zbar(prep.gray, 1.0, stage)
        if stage == "upscaled":
            return self._zbar(prep.upscaled, 2.0, stage)
        if stage == "zxing":
            return self._zxing(prep.gray, 1.0, stage)
        if stage == "zx_adaptive":
            return self._zxing(prep.adaptive, prep.level_scale, stage)
        if stage == "zx_upscaled":
            return self._zxing(prep.upscaled, 2.0, stage)
        raise ValueError(stage)

    def _zbar(self, img: np.ndarray, scale: float, stage: str) -> tuple[list[DecodedCode], int]:
        if not self._zbar_symbols:
            return [], 0
        out: list[DecodedCode] = []
        rejected = 0
        for sym in decode_raw(img, self._zbar_symbols):
            text = self._accept(_zbar_text(sym.data), "pyzbar")
            if text is None:
                rejected += 1
                continue
            poly = tuple((round(p.x / scale), round(p.y / scale)) for p in sym.polygon)
            out.append(DecodedCode(text, "pyzbar", stage, self._by_zbar.get(sym.type, sym.type),
                                   poly))
        return _unique(out), rejected

    def _zxing(self, img: np.ndarray, scale: float, stage: str) -> tuple[list[DecodedCode], int]:
        out: list[DecodedCode] = []
        rejected = 0
        for r in zxingcpp.read_barcodes(img, formats=self._zx_formats,
                                        text_mode=zxingcpp.TextMode.HexECI):
            if not r.valid:
                continue
            text = self._accept(_zxing_text(r), "zxing")
            if text is None:
                rejected += 1
                continue
            p = r.position
            poly = tuple((round(q.x / scale), round(q.y / scale))
                         for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
            out.append(DecodedCode(text, "zxing", stage, self._by_zx.get(r.format.name,
                                                                         r.format.name), poly))
        return _unique(out), rejected

    def _accept(self, text: str | None, decoder: str) -> str | None:
        if text is None:
            return None
        if len(text) > self.max_text:
            log.info("%s: code of %d characters refused (too long)", decoder, len(text))
            return None
        if not text:
            return None
        return text


def _zxing_text(r: zxingcpp.Barcode) -> str | None:
    """The code's text from its bytes and ECIs (``devices.qr.charset``), never zxing-cpp's
    human-readable form (``<SOH>`` for byte 0x01) nor its own charset guess (which takes
    GB2312 Chinese for Shift_JIS or ISO-8859-1)."""
    if len(r.bytes) > MAX_TEXT * 4:
        log.info("zxing: code of %d bytes refused (too long)", len(r.bytes))
        return None
    d = decode_payload(segments_from_hex_eci(r.text, r.symbology_identifier))
    if d.text is None:
        log.info("zxing: code refused: %s", d.reason)
    return d.text


def _zbar_text(data: bytes) -> str | None:
    """zbar's raw bytes (binary mode) as text only when the charset cannot be in doubt: ASCII,
    or UTF-8 (zbar turns codes with an ECI it knows into UTF-8; without an ECI, UTF-8 is what
    zxing's rule reads too). Other bytes may carry an ECI zbar does not know (GB2312 ECI 29
    comes through raw) or none; zbar does not say which, so the code is left to zxing-cpp,
    which does (measured: pyzbar's own conversion made 10 wrong texts of 182 zxing test
    photos, issue 19)."""
    if len(data) > MAX_TEXT * 4:
        log.info("pyzbar: code of %d bytes refused (too long)", len(data))
        return None
    d = guess(data)
    if d.charset in ("ascii", "utf-8"):
        return d.text
    log.info("pyzbar: code that is neither ASCII nor UTF-8 left to zxing-cpp (%s)",
             d.charset or d.reason)
    return None


class _Prepared:
    """Preprocessed variants of one picture, computed on first use."""

    def __init__(self, gray: np.ndarray) -> None:
        self.gray = gray
        h, w = gray.shape
        side = max(h, w)
        self.downscaled = side > LEVEL_SIDE * 1.15
        self.level_scale = LEVEL_SIDE / side if self.downscaled else 1.0
        self._level: np.ndarray | None = None
        self._adaptive: np.ndarray | None = None
        self._upscaled: np.ndarray | None = None
        self._smoothed: np.ndarray | None = None

    def applies(self, stage: str) -> bool:
        if stage == "full":
            return self.downscaled
        if stage in ("upscaled", "zx_upscaled"):
            return max(self.gray.shape) < SMALL_SIDE
        return True

    @property
    def level(self) -> np.ndarray:
        if self._level is None:
            if self.downscaled:
                self._level = cv2.resize(self.gray, None, fx=self.level_scale, fy=self.level_scale,
                                         interpolation=cv2.INTER_AREA)
            else:
                self._level = self.gray
        return self._level

    @property
    def smoothed(self) -> np.ndarray:
        if self._smoothed is None:
            self._smoothed = cv2.GaussianBlur(self.level, (0, 0), 1.0)
        return self._smoothed

    @property
    def adaptive(self) -> np.ndarray:
        if self._adaptive is None:
            lv = self.level
            block = max(15, (max(lv.shape) // 24) | 1)
            self._adaptive = cv2.adaptiveThreshold(lv, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                                                   cv2.THRESH_BINARY, block, 4)
        return self._adaptive

    @property
    def upscaled(self) -> np.ndarray:
        if self._upscaled is None:
            self._upscaled = cv2.resize(self.gray, None, fx=2, fy=2,
                                        interpolation=cv2.INTER_CUBIC)
        return self._upscaled


def to_gray(image: object) -> np.ndarray:
    """A contiguous 2-D uint8 view of a BGR/BGRA/gray picture, or :class:`BadImageError`."""
    if not isinstance(image, np.ndarray):
        raise BadImageError(detail=f"not an array: {type(image).__name__}")
    if image.dtype != np.uint8:
        raise BadImageError(detail=f"dtype {image.dtype}, expected uint8")
    if image.size == 0:  # cvtColor would raise cv2.error on it
        raise BadImageError(detail=f"empty picture {image.shape}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        gray = image
    elif image.ndim == 3 and image.shape[2] == 3:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    else:
        raise BadImageError(detail=f"shape {image.shape}")
    h, w = gray.shape
    if h < 8 or w < 8:
        raise BadImageError(detail=f"picture of {w}x{h} px is too small")
    if h * w > MAX_PIXELS:
        raise BadImageError(detail=f"picture of {w}x{h} px is too large")
    return np.ascontiguousarray(gray)


def _unique(codes: list[DecodedCode]) -> list[DecodedCode]:
    seen: set[tuple[str, str]] = set()
    out = []
    for c in codes:
        if (c.text, c.symbology) not in seen:
            seen.add((c.text, c.symbology))
            out.append(c)
    return out
