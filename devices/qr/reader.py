"""Reading QR codes (and optionally 1-D barcodes) from camera pictures with two decoders.

A cascade of *stages*, stopping at the first stage that reads something: each stage is one
preprocessing of the grayscale picture fed to one decoder, with its options. The order is
measured, not habit (2026-12-03): every stage's time and reads were measured picture by picture
on two tuning sets, the 189 harder versions of the real photos of ``../shared/data/qr``
(``devices.qr.variants``) and 84 photographed charset codes of seed 3
(``devices.qr.synthetic``); every order of up to four cheap zxing-cpp stages (with several
option sets) in front of the others was replayed on those figures. Kept: the order reading the
most (175 and 75) with the lowest mean over the two sets of its median time / zxing-cpp
alone's (x1.01 and x0.50; the next, zxing-cpp's inverted pass kept in the first stage: x0.93
and x0.95). The real photos and the charset photos of seed 2 were held out. The first three
stages call zxing-cpp "plain" (``_PLAIN``: one picture, no pyramid of downscaled copies, no
turns, no inverted pass): its own pyramid is much of what makes zxing-cpp cost ~7 ms on a 720p
picture that it reads at 640 px in ~0.3 ms.

==============  =========  ===========================================================
stage           decoder    read alone (of those it applies to), median ms (``stage_*``); why
==============  =========  ===========================================================
``zx_level``    zxing-cpp  95/189, 0.15 ms: plain, scaled down to <= 640 px (``level``).
                           Reads most codes a phone shows, at a fraction of zxing-cpp's
                           own cost on a large picture
``zx_smoothed`` zxing-cpp  110/189, 0.20: plain, full resolution smoothed (Gaussian 5x5,
                           sigma 1): sensor noise in dim light breaks binarisation
``zx_inverted`` zxing-cpp  37/189, 0.13: plain, ``level`` inverted: dark-mode screens
``zxing``       zxing-cpp  148/189, 0.33: full resolution, options as they come (pyramid,
                           turns, inverted): whatever zxing-cpp alone reads, this reads
``adaptive``    pyzbar     89/189, 1.6: local mean threshold for uneven light and glare
``level``       pyzbar     62/189, 1.9 (~4.4 at 720p): ``level``
``smoothed``    pyzbar     86/189, 1.6: ``level`` smoothed
``zx_adaptive`` zxing-cpp  87/189, 0.42: the thresholded picture
``inverted``    pyzbar     27/189, 2.0: dark-mode screens (zbar reads only dark-on-light)
``zx_upscaled`` zxing-cpp  79/126, 0.65: small pictures (< 480 px) doubled
``upscaled``    pyzbar     54/126, 4.7: small pictures doubled: zbar needs ~3 px modules
``full``        pyzbar     12/63, 33: full resolution, for codes too small for ``level``
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

# zxing-cpp's options for the cheap first passes: the one picture given (no pyramid of
# downscaled copies), no 90-degree turns (a QR code's finder patterns are found in any
# orientation; the same reads, measured) and no inverted pass (``read_barcodes`` looks for
# more codes in the inverted picture even after it read one: twice the cost on every read).
_PLAIN = {"try_downscale": False, "try_rotate": False, "try_invert": False}
#: stage: (decoder, picture of ``_Prepared``, zxing-cpp options), in cascade order.
STAGES: dict[str, tuple[str, str, dict[str, bool]]] = {
    "zx_level": ("zxing", "level", _PLAIN),
    "zx_smoothed": ("zxing", "smoothed_full", _PLAIN),
    "zx_inverted": ("zxing", "inverted", _PLAIN),
    "zxing": ("zxing", "gray", {}),  # as it comes: what zxing-cpp alone reads, we read
    "adaptive": ("pyzbar", "adaptive", {}),
    "level": ("pyzbar", "level", {}),
    "smoothed": ("pyzbar", "smoothed", {}),
    "zx_adaptive": ("zxing", "adaptive", {}),
    "inverted": ("pyzbar", "inverted", {}),
    "zx_upscaled": ("zxing", "upscaled", {}),
    "upscaled": ("pyzbar", "upscaled", {}),
    "full": ("pyzbar", "gray", {}),
}
ALL_STAGES = tuple(STAGES)
DECODERS = ("pyzbar", "zxing")
STAGE_DECODER = {stage: spec[0] for stage, spec in STAGES.items()}
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
        decoder, picture, options = STAGES[stage]
        img, scale = prep.picture(picture)
        if decoder == "pyzbar":
            return self._zbar(img, scale, stage)
        return self._zxing(img, scale, stage, options)

    def _zbar(self, img: np.ndarray, scale: float, stage: str) -> tuple[list[DecodedCode], int]:
        if not self._zbar_symbols:
            return [], 0
        out: list[DecodedCode] = []
        rejected = 0
        symbols, binary = decode_raw(img, self._zbar_symbols)
        for sym in symbols:
            text = self._accept(_zbar_text(sym.data, binary=binary), "pyzbar")
            if text is None:
                rejected += 1
                continue
            poly = tuple((round(p.x / scale), round(p.y / scale)) for p in sym.polygon)
            out.append(DecodedCode(text, "pyzbar", stage, self._by_zbar.get(sym.type, sym.type),
                                   poly))
        return _unique(out), rejected

    def _zxing(self, img: np.ndarray, scale: float, stage: str, options: dict[str, bool]
               ) -> tuple[list[DecodedCode], int]:
        out: list[DecodedCode] = []
        rejected = 0
        for r in zxingcpp.read_barcodes(img, formats=self._zx_formats,
                                        text_mode=zxingcpp.TextMode.HexECI, **options):
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


def _zbar_text(data: bytes, *, binary: bool = True) -> str | None:
    """zbar's raw bytes (binary mode) as text only when the charset cannot be in doubt: ASCII,
    or UTF-8 (zbar turns codes with an ECI it knows into UTF-8; without an ECI, UTF-8 is what
    zxing's rule reads too). Other bytes may carry an ECI zbar does not know (GB2312 ECI 29
    comes through raw) or none; zbar does not say which, so the code is left to zxing-cpp,
    which does (measured: pyzbar's own conversion made 10 wrong texts of 182 zxing test
    photos, issue 19). Without binary mode (zbar < 0.23.1) only ASCII: zbar's UTF-8 may then be
    its own wrong conversion."""
    if len(data) > MAX_TEXT * 4:
        log.info("pyzbar: code of %d bytes refused (too long)", len(data))
        return None
    d = guess(data)
    if d.charset == "ascii" or (d.charset == "utf-8" and binary):
        return d.text
    log.info("pyzbar: code that is neither ASCII nor UTF-8 left to zxing-cpp (%s)",
             d.charset or d.reason)
    return None


class _Prepared:
    """Preprocessed versions of one picture, each computed on first use."""

    def __init__(self, gray: np.ndarray) -> None:
        self.gray = gray
        h, w = gray.shape
        side = max(h, w)
        self.downscaled = side > LEVEL_SIDE * 1.15
        self.level_scale = LEVEL_SIDE / side if self.downscaled else 1.0
        self._cache: dict[str, np.ndarray] = {}

    def applies(self, stage: str) -> bool:
        if stage == "full":
            return self.downscaled
        if stage in ("upscaled", "zx_upscaled"):
            return max(self.gray.shape) < SMALL_SIDE
        return True

    def picture(self, name: str) -> tuple[np.ndarray, float]:
        """The picture ``name`` and its scale to the input picture's pixels."""
        if name == "gray":
            return self.gray, 1.0
        if name == "upscaled":
            return self._get(name), 2.0
        if name == "smoothed_full":
            return self._get(name), 1.0
        return self._get(name), self.level_scale

    @property
    def level(self) -> np.ndarray:
        return self._get("level")

    def _get(self, name: str) -> np.ndarray:
        img = self._cache.get(name)
        if img is None:
            img = self._cache[name] = self._make(name)
        return img

    def _make(self, name: str) -> np.ndarray:
        if name == "level":
            if not self.downscaled:
                return self.gray
            return cv2.resize(self.gray, None, fx=self.level_scale, fy=self.level_scale,
                              interpolation=cv2.INTER_AREA)
        if name == "smoothed":
            return cv2.GaussianBlur(self.level, (5, 5), 1.0)
        if name == "smoothed_full":  # the same as ``smoothed`` when not downscaled
            return (cv2.GaussianBlur(self.gray, (5, 5), 1.0) if self.downscaled
                    else self._get("smoothed"))
        if name == "inverted":
            return 255 - self.level
        if name == "adaptive":
            lv = self.level
            block = max(15, (max(lv.shape) // 24) | 1)
            return cv2.adaptiveThreshold(lv, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                                         cv2.THRESH_BINARY, block, 4)
        if name == "upscaled":
            return cv2.resize(self.gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        raise ValueError(name)


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
