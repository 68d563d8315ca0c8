"""The sex a face looks, held against the sex the ID number records (relatives at the window).

A brother, sister, parent or child with the patient's card is the commonest impostor at a
window, and dlib's descriptor cannot tell relatives apart. The relatives' ceiling
(``faces.relative_ceiling``) does not help for East Asian faces, whose genuine pairs lie far
below it. A relative of the other sex can still be caught: the ID number records the holder's
sex. dlib's gender classifier (``resources/faces/gender-v1.onnx``, NOTICE beside it; 32 x 32
chips on the 5 landmarks, about a millisecond) estimates the live face's. A MATCH whose frames
say, with at least ``faces.sex_confidence``, the other sex than the card is left to the clerk
(hint ``sex_differs``): never a MISMATCH, since the estimate is wrong for some faces.

Measured 2026-12-03 (docs/research/2026-12-faces.md): the estimate agrees with the person's
majority on 598 / 605 live photos; at 0.95 confidence on both sides, card photo against live
photo, it disagreed for 1 of 334 East Asian and 0 of 295 LFW genuine pairs.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).resolve().parents[2] / "resources" / "faces" / "gender-v1.onnx"
CHIP_SIZE = 32
CHIP_PADDING = 0.2
MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)


class SexModel:
    """``p_male(chip)``: the probability that an aligned 32 x 32 RGB chip shows a man."""

    def __init__(self, path: Path = MODEL_FILE) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), sess_options=opts,
                                             providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._lock = threading.Lock()

    def p_male(self, chip: np.ndarray) -> float:
        x = (chip.astype(np.float32) - MEANS) / np.float32(256.0)
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        with self._lock:
            probs = self._session.run(None, {self._input: x})[0][0]
        return float(probs[1])


@functools.lru_cache(maxsize=1)
def shared_sex_model() -> SexModel | None:
    """The classifier, loaded once per process; None (and a log line) when it cannot be: the
    desk then goes without this check, as before it had one."""
    try:
        return SexModel(MODEL_FILE)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types; never fatal
        log.error("sex classifier unavailable (%s): %s", MODEL_FILE, exc)
        return None


def confident_sex(p_male: float | None, confidence: float) -> str | None:
    """"M" / "F" when the estimate is at least ``confidence`` sure, else None."""
    if p_male is None:
        return None
    return "M" if p_male >= confidence else "F" if p_male <= 1 - confidence else None


def frames_differ(holder_sex: str | None, estimates: list[float], confidence: float) -> bool:
    """Whether the frames' mean estimate confidently shows the other sex than ``holder_sex``:
    the rule both the desk (:class:`~desk_app.faces.verify.FaceSession`) and ``eval faces``
    apply to a MATCH. No estimates: False."""
    return bool(estimates) and differs(holder_sex, float(np.mean(estimates)), confidence)


def differs(holder_sex: str | None, p_male: float | None, confidence: float) -> bool:
    """Whether the face confidently shows the other sex than ``holder_sex`` ("M" / "F")."""
    if holder_sex not in ("M", "F") or p_male is None:
        return False
    return p_male <= 1 - confidence if holder_sex == "M" else p_male >= confidence
