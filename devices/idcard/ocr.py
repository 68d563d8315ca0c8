"""Offline OCR of the 18-character number line: Tesseract (subprocess) or RapidOCR (ONNX).

Both engines read only the cropped number line, restricted to ``0-9`` and ``X``; what they
return is cleaned (spaces dropped, ``x`` upper-cased, letter O read as digit 0) but never
"repaired" towards a valid check digit: a number that fails its check is reported as such.
Which engine is the default was decided by measurement (see ``benchmarks/bench_idcard.py``
and docs/architecture.md, "ID cards").
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from desk_app.errors import ConfigError, Text

log = logging.getLogger(__name__)

_KEEP = re.compile(r"[0-9X]")
_LETTER_DIGITS = str.maketrans({"O": "0", "o": "0", "x": "X", "×": "X"})


class OcrUnavailable(ConfigError):
    default_text = Text("文字识别组件缺失, 请联系信息科。", "The text recognition component is missing. "
                        "Please call hospital IT.")


@dataclass(frozen=True)
class LineText:
    text: str  # cleaned: only 0-9 and X
    confidence: float  # 0..1 as the engine reports it
    raw: str = ""


class OcrEngine(Protocol):
    name: str

    def read_line(self, line: np.ndarray) -> LineText:
        """The characters of one text line (BGR or grey crop)."""
        ...


def clean(text: str) -> str:
    return "".join(_KEEP.findall(text.translate(_LETTER_DIGITS).upper()))


def _prepare(line: np.ndarray, height: int) -> np.ndarray:
    gray = cv2.cvtColor(line, cv2.COLOR_BGR2GRAY) if line.ndim == 3 else line
    f = height / max(1, gray.shape[0])
    return cv2.resize(gray, None, fx=f, fy=f,
                      interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)


# One thread: the desk has 2 cores and OpenMP in tesseract only adds contention for one line.
_TESS_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


class TesseractEngine:
    """``tesseract`` (apt ``tesseract-ocr``), one subprocess per line, ``--psm 7``."""

    name = "tesseract"

    def __init__(self, binary: str = "tesseract", timeout_s: float = 10.0) -> None:
        path = shutil.which(binary)
        if path is None:
            raise OcrUnavailable(detail="tesseract not on PATH")
        self.binary = path
        self.timeout_s = timeout_s

    def read_line(self, line: np.ndarray) -> LineText:
        # Grey, not binarised: Otsu thickens the strokes and LSTM then reads 0 as 6.
        gray = cv2.copyMakeBorder(_prepare(line, 48), 16, 16, 16, 16, cv2.BORDER_REPLICATE)
        ok, png = cv2.imencode(".png", gray)
        if not ok:
            return LineText("", 0.0)
        cmd = [self.binary, "stdin", "stdout", "--psm", "7", "--oem", "1", "-l", "eng",
               "-c", "tessedit_char_whitelist=0123456789X", "tsv"]
        try:
            out = subprocess.run(cmd, input=png.tobytes(), capture_output=True,
                                 timeout=self.timeout_s, check=False, env=_TESS_ENV)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("tesseract failed: %s", type(exc).__name__)
            return LineText("", 0.0)
        words, confs = [], []
        for row in out.stdout.decode("utf-8", "replace").splitlines()[1:]:
            cols = row.split("\t")
            if len(cols) >= 12 and cols[11].strip():
                words.append(cols[11])
                try:
                    confs.append(float(cols[10]))
                except ValueError:
                    confs.append(0.0)
        raw = "".join(words)
        conf = min(confs) / 100 if confs else 0.0
        return LineText(clean(raw), max(0.0, conf), raw)


DETECT_SIDE = 960
DETECT_SHORT = DETECT_SIDE * 9 // 16


class RapidOcrEngine:
    """RapidOCR's PP-OCRv4 recogniser (ONNX model from the wheel) on the cropped line only."""

    name = "rapidocr"

    def __init__(self) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise OcrUnavailable(detail="rapidocr-onnxruntime not installed") from exc
        # det_limit_type "max": the detector never enlarges an image (it shrinks only one
        # over 2,000 px, which it is not given); text_lines sizes a whole frame itself, and a
        # card's number band goes in at the card's scale.
        self._engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1,
                                det_limit_type="max")
        self._lock = threading.Lock()

    def text_lines(self, frame: np.ndarray, *, as_is: bool = False) -> list[np.ndarray]:
        """The text lines the detector (PP-OCRv4 det, ONNX) finds in a whole frame: one 4 x 2
        float32 quadrilateral each, corners top-left, top-right, bottom-right, bottom-left
        along the reading direction. ``as_is``: the image at its own scale (a card's number
        band, tens of ms), not sized as a frame."""
        # A frame: its longer side at most DETECT_SIDE px, its shorter at least DETECT_SHORT
        # (a 720p frame: 960 x 540): a card's number stays ~15 px high on a card a third of
        # the frame wide, at about half the detector's cost at full size.
        h, w = frame.shape[:2]
        scale = 1.0 if as_is else max(min(1.0, DETECT_SIDE / max(h, w)), DETECT_SHORT / min(h, w))
        small = frame if scale == 1.0 else cv2.resize(
            frame, None, fx=scale, fy=scale,
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        with self._lock:
            boxes, _ = self._engine(small, use_det=True, use_cls=False, use_rec=False)
        return [np.asarray(b, np.float32).reshape(4, 2) / scale for b in (boxes or [])]

    def read_line(self, line: np.ndarray) -> LineText:
        gray = _prepare(line, 48)
        bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        bgr = cv2.copyMakeBorder(bgr, 0, 0, 12, 12, cv2.BORDER_REPLICATE)
        with self._lock:
            result, _ = self._engine(bgr, use_det=False, use_cls=False, use_rec=True)
        if not result:
            return LineText("", 0.0)
        raw, score = str(result[0][0]), float(result[0][1])
        return LineText(clean(raw), score, raw)


ENGINES = {"tesseract": TesseractEngine, "rapidocr": RapidOcrEngine}
DEFAULT_ENGINE = "rapidocr"


def make_engine(name: str = DEFAULT_ENGINE) -> OcrEngine:
    try:
        return ENGINES[name]()
    except KeyError as exc:
        raise OcrUnavailable(detail=f"unknown OCR engine {name}") from exc
