"""Face descriptors computed in a child process.

dlib's face-recognition network holds Python's GIL for the whole computation (50-120 ms a face,
more for the ID photo, which is upscaled and mirrored), so computing it on a worker *thread*
still stalls the GUI thread for that long; so does the CNN detector (about a second). HOG
detection and landmarks release it or are short, so they stay in this process; only
:meth:`FaceModel.encode` and :meth:`FaceModel.detect_thorough` go to a one-process pool, which loads
its own copy of the models at start. Only a crop around the face (for the CNN, the frame)
crosses the process boundary.
If the child dies, the next call starts a new one; if that fails too, the descriptor is computed
here (slower for the GUI, never wrong) and the failure is logged.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from desk_app.faces.engine import (
    LIVE_METHOD,
    CancelToken,
    EncodeMethod,
    FaceBox,
    FaceModel,
    check_cancel,
    shared_model,
)

log = logging.getLogger(__name__)

#: Context kept around the face box: enough for the landmarks and the aligned chip (padding
#: 0.25) and for an upscaled ID photo.
MARGIN = 0.8


def _child_init() -> None:
    shared_model().load()


def _child_encode(crop: np.ndarray, box: FaceBox, method: EncodeMethod) -> np.ndarray:
    return shared_model().encode(crop, box, method)


def _child_detect_thorough(rgb: np.ndarray) -> list[FaceBox]:
    return shared_model().detect_thorough(rgb)


def _child_ready() -> bool:
    return True


def crop_around(rgb: np.ndarray, box: FaceBox, margin: float = MARGIN) -> tuple[np.ndarray, FaceBox]:
    """The part of ``rgb`` around ``box`` and the box in the crop's pixels."""
    h, w = rgb.shape[:2]
    mx, my = round(box.width * margin), round(box.height * margin)
    x0, y0 = max(0, box.left - mx), max(0, box.top - my)
    x1, y1 = min(w, box.right + mx), min(h, box.bottom + my)
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    return crop, FaceBox(box.left - x0, box.top - y0, box.right - x0, box.bottom - y0, box.score)


class ProcessFaceModel(FaceModel):
    """A :class:`FaceModel` whose descriptors are computed in a child process."""

    def __init__(self) -> None:
        super().__init__()
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.remote_calls = 0
        self.local_calls = 0

    def _executor(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_child_init)
            return self._pool

    def start(self) -> None:
        """Start the child and load its models now (returns at once; the child loads alone)."""
        self._executor().submit(_child_ready)

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _in_child(self, fn, *args):  # type: ignore[no-untyped-def]
        """``fn(*args)`` in the child; a dead child is replaced once. Returns ``(True, result)``,
        or ``(False, None)`` when both attempts failed (the caller computes it here)."""
        for attempt in (1, 2):
            try:
                return True, self._executor().submit(fn, *args).result()
            except BrokenProcessPool:
                log.error("the face process died (attempt %d); starting a new one", attempt)
                with self._pool_lock:
                    self._pool = None
        return False, None

    def encode(self, rgb: np.ndarray, box: FaceBox, method: EncodeMethod = LIVE_METHOD,
               cancel: CancelToken | None = None) -> np.ndarray:
        check_cancel(cancel)
        crop, b = crop_around(rgb, box)
        ok, vec = self._in_child(_child_encode, crop, b, method)
        if ok:
            self.remote_calls += 1
            check_cancel(cancel)
            return vec
        self.local_calls += 1
        return super().encode(crop, b, method, cancel)

    def detect_thorough(self, rgb: np.ndarray, cancel: CancelToken | None = None,
                        ) -> list[FaceBox]:
        """The CNN detector holds the GIL for about a second: it runs in the child too."""
        check_cancel(cancel)
        ok, boxes = self._in_child(_child_detect_thorough, rgb)
        if ok:
            check_cancel(cancel)
            return boxes
        return super().detect_thorough(rgb, cancel)
