"""Face descriptors computed in child processes.

dlib's face-recognition network holds Python's GIL for the whole computation (50-150 ms a pass
here; a live frame takes two, the card photo six), so computing it on a worker *thread* would
still stall the GUI thread for that long; so does the CNN detector (about a second). HOG
detection, landmarks and the aligned chips are short or release it, so they stay in this
process; only the network passes (:meth:`FaceModel.describe`) and :meth:`FaceModel.detect_thorough`
go to a pool of child processes, each loading its own copy of the network at start. Only the
150 x 150 chips (for the CNN, the frame) cross the process boundary.

The pool has one process per core, two at most: the two passes of a live frame (the chip and
its mirror image) run side by side, so a frame costs about one pass of wall time on the desk's
two cores instead of two (measured in ``make bench``, docs/architecture.md).
If a child dies, the next call starts a new pool; if that fails too, the descriptor is computed
here (slower for the GUI, never wrong) and the failure is logged.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from desk_app.faces.engine import CancelToken, FaceBox, FaceModel, check_cancel, shared_model

log = logging.getLogger(__name__)


def _child_init() -> None:
    shared_model().load(("net",))  # the CNN detector loads on its first look


def _child_describe(chips: list[np.ndarray], jitters: int) -> list[np.ndarray]:
    """One descriptor per chip (not averaged: the parent averages over all children)."""
    model = shared_model()
    return [model.describe([c], jitters) for c in chips]


def _child_detect_thorough(rgb: np.ndarray) -> list[FaceBox]:
    return shared_model().detect_thorough(rgb)


def _child_ready() -> bool:
    return True


def share_out(items: list, n: int) -> list[list]:  # type: ignore[type-arg]
    """``items`` cut into at most ``n`` runs of (nearly) equal length, in order."""
    if not items:
        return []
    n = max(1, min(n, len(items)))
    size = -(-len(items) // n)
    return [items[i:i + size] for i in range(0, len(items), size)]


class ProcessFaceModel(FaceModel):
    """A :class:`FaceModel` whose descriptors are computed in child processes."""

    def __init__(self, workers: int | None = None) -> None:
        super().__init__()
        #: child processes: one per core, at most two (the two passes of a live frame)
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._closed = False  # after close(): no new children, the last calls are made here
        self.remote_calls = 0
        self.local_calls = 0

    def _executor(self) -> ProcessPoolExecutor | None:
        with self._pool_lock:
            if self._closed:
                return None
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_child_init)
            return self._pool

    def start(self) -> None:
        """Start the children and load their models now (returns at once; they load alone)."""
        with self._pool_lock:
            self._closed = False
        pool = self._executor()
        assert pool is not None
        for _ in range(self.workers):
            pool.submit(_child_ready)

    def close(self) -> None:
        """Stop the children. A call still under way (the desk closing mid-frame) finishes
        here instead of starting new ones."""
        with self._pool_lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _in_children(self, fn, arg_lists: list[tuple]) -> tuple[bool, list]:  # type: ignore[type-arg]
        """``fn(*args)`` for each ``args`` in the children, side by side; a dead pool is replaced
        once. Returns ``(True, results)``, or ``(False, [])`` when both attempts failed or the
        model is closed (the caller computes it here)."""
        for attempt in (1, 2):
            pool = self._executor()
            if pool is None:
                log.info("face processes closed: computed in this process")
                return False, []
            try:
                futures = [pool.submit(fn, *args) for args in arg_lists]
                return True, [f.result() for f in futures]
            except BrokenProcessPool:
                log.error("a face process died (attempt %d); starting new ones", attempt)
                with self._pool_lock:
                    self._pool = None
            except (RuntimeError, CancelledError):  # no new futures after shutdown; or cancelled
                if not self._closed:
                    raise
                log.info("face processes closed during a call: computed in this process")
                return False, []
        return False, []

    def _in_child(self, fn, *args):  # type: ignore[no-untyped-def]
        ok, results = self._in_children(fn, [args])
        return ok, (results[0] if ok else None)

    def describe(self, chips: list[np.ndarray], jitters: int = 0,
                 cancel: CancelToken | None = None) -> np.ndarray:
        """The chips shared out over the children (in order, so the mean is the same sum)."""
        check_cancel(cancel)
        groups = [(g, jitters) for g in share_out(chips, self.workers)]
        ok, results = self._in_children(_child_describe, groups)
        if ok:
            self.remote_calls += 1
            check_cancel(cancel)
            return np.mean([v for group in results for v in group], axis=0)
        self.local_calls += 1
        return super().describe(chips, jitters, cancel)

    def detect_thorough(self, rgb: np.ndarray, cancel: CancelToken | None = None,
                        ) -> list[FaceBox]:
        """The CNN detector holds the GIL for about a second: it runs in the child too."""
        check_cancel(cancel)
        ok, boxes = self._in_child(_child_detect_thorough, rgb)
        if ok:
            check_cancel(cancel)
            return boxes
        return super().detect_thorough(rgb, cancel)
