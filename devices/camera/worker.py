"""One capture thread per camera that keeps only the latest frame.

Design (plain ``threading``; the Qt adapter in ``devices.camera.qt`` sits on top):

* The worker thread owns the :class:`FrameSource`; it opens it, reads as fast as the source
  delivers (or at the source's ``pace_fps``), and *publishes* each frame into a one-slot
  :class:`FrameHub`, overwriting the previous one. Publishing never waits for a consumer.
* Each consumer holds a :class:`Subscription` and takes "the newest frame it has not seen yet",
  either without blocking (``poll``, for timers/GUI) or waiting (``get``, for pipeline threads).
  Frames published while a consumer was busy are skipped and counted in its ``dropped``.
* Any :class:`CameraError` from the source moves the state to RECONNECTING; the worker closes
  the source, waits with exponential back-off (interruptible by ``stop``) and opens it again.
  ``CameraConfigError`` (or retries exhausted, when ``max_retries`` is set) ends in FAILED.
* The owner calls ``stop()``, which sets an event and *joins* the thread (there is no QThread,
  so no "QThread: Destroyed while thread is still running" at shutdown).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from desk_app.errors import DeskError, InternalError
from devices.camera.errors import CameraError
from devices.camera.types import CameraState, CameraStatus, Frame, FrameSource, StateListener

log = logging.getLogger(__name__)


class FrameHub:
    """A one-slot mailbox: the newest frame, and a condition consumers can wait on."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False

    def publish(self, frame: Frame) -> None:
        with self._cond:
            self._frame = frame
            self._cond.notify_all()

    def latest(self) -> Frame | None:
        with self._cond:
            return self._frame

    def close(self) -> None:
        """Wake every waiting consumer (the camera stopped)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def reopen(self) -> None:
        with self._cond:
            self._closed = False

    def wait_newer(self, seq: int, timeout: float | None) -> Frame | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                f = self._frame
                if f is not None and f.seq > seq:
                    return f
                if self._closed:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def subscribe(self) -> Subscription:
        return Subscription(self)


class Subscription:
    """A consumer's view of a camera: the newest frame it has not taken yet."""

    def __init__(self, hub: FrameHub) -> None:
        self._hub = hub
        self._last_seq = -1
        self._taken = 0
        self._dropped = 0
        self._first_seq: int | None = None

    def _take(self, f: Frame | None) -> Frame | None:
        if f is None or f.seq <= self._last_seq:
            return None
        if self._last_seq >= 0:
            self._dropped += f.seq - self._last_seq - 1
        self._last_seq = f.seq
        self._taken += 1
        return f

    def poll(self) -> Frame | None:
        """Never blocks: a newer frame than the last one taken, or None."""
        return self._take(self._hub.latest())

    def get(self, timeout: float | None = None) -> Frame | None:
        """Waits up to ``timeout`` s for a newer frame; None on timeout or when the camera stops."""
        return self._take(self._hub.wait_newer(self._last_seq, timeout))

    @property
    def dropped(self) -> int:
        """Frames published after the first one taken that this consumer never saw."""
        return self._dropped

    @property
    def taken(self) -> int:
        return self._taken

    def close(self) -> None:
        """Nothing to release (kept for the Protocol, so a future push-based hub can)."""


class FpsMeter:
    """Frames per second over a sliding window of capture times."""

    def __init__(self, window_s: float = 2.0) -> None:
        self._window = window_s
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def tick(self, t: float) -> None:
        with self._lock:
            self._times.append(t)
            while self._times and t - self._times[0] > self._window:
                self._times.popleft()

    def reset(self) -> None:
        with self._lock:
            self._times.clear()

    def fps(self, now: float | None = None) -> float:
        with self._lock:
            if len(self._times) < 2:
                return 0.0
            # A camera that stopped delivering reads as 0 after one window, not its last rate.
            if now is not None and now - self._times[-1] > self._window:
                return 0.0
            span = self._times[-1] - self._times[0]
            return (len(self._times) - 1) / span if span > 0 else 0.0


class CameraWorker:
    """A camera: a :class:`FrameSource` read on its own thread. See the module docstring."""

    def __init__(
        self,
        source: FrameSource,
        *,
        name: str | None = None,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
        max_retries: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.name = name or source.name
        self._backoff_initial = backoff_initial_s
        self._backoff_max = backoff_max_s
        self._max_retries = max_retries
        self._clock = clock
        self._hub = FrameHub()
        self._fps = FpsMeter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._state = CameraState.STOPPED
        self._error: DeskError | None = None
        self._listeners: list[StateListener] = []
        self._frame_listeners: list[Callable[[Frame], None]] = []
        self._seq = 0
        self.reconnects = 0  # successful re-opens after a loss (for status and tests)
        self.bad_frames = 0  # pictures from the source that were not images (skipped)

    # --- what consumers use ----------------------------------------------------------------------
    @property
    def state(self) -> CameraState:
        with self._lock:
            return self._state

    @property
    def error(self) -> DeskError | None:
        """The last error while not RUNNING (None when running or never failed)."""
        with self._lock:
            return self._error

    @property
    def fps(self) -> float:
        return self._fps.fps(self._clock())

    @property
    def frames_captured(self) -> int:
        return self._seq

    def latest(self) -> Frame | None:
        return self._hub.latest()

    def status(self) -> CameraStatus:
        with self._lock:
            state, error = self._state, self._error
        return CameraStatus(self.name, state, error, round(self.fps, 1), self._seq,
                            self.reconnects, self.source.name)

    def subscribe(self) -> Subscription:
        return self._hub.subscribe()

    def add_state_listener(self, listener: StateListener) -> None:
        """``listener(state, error)`` is called on the worker thread (or the caller of start/stop):
        keep it short and thread-safe (the Qt adapter re-emits it as a queued signal)."""
        self._listeners.append(listener)

    def add_frame_listener(self, listener: Callable[[Frame], None]) -> None:
        """``listener(frame)`` is called on the capture thread after each frame is published. It
        must return at once (set a flag, emit a queued signal); slow work belongs in a consumer
        thread with its own :meth:`subscribe`."""
        self._frame_listeners.append(listener)

    def remove_listener(self, listener: Callable[..., None]) -> None:
        """Forget a state or frame listener (no error if it was not registered)."""
        for group in (self._listeners, self._frame_listeners):
            while listener in group:
                group.remove(listener)

    # --- owner ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._hub.reopen()
        self._set_state(CameraState.STARTING, None)
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the thread and waits for it (the source is closed on the worker thread)."""
        self._stop.set()
        t = self._thread
        if t is not None:
            t.join(timeout)
            if t.is_alive():
                log.warning("camera %s: worker still blocked in the source after %.1f s",
                            self.name, timeout)
        self._thread = None
        self._hub.close()
        self._set_state(CameraState.STOPPED, None)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> CameraWorker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- worker thread -------------------------------------------------------------------------
    def _set_state(self, state: CameraState, error: DeskError | None) -> None:
        if self._stop.is_set() and state is not CameraState.STOPPED:
            return  # a worker finishing after stop() must not report "reconnecting" afterwards
        with self._lock:
            changed = state != self._state or error is not self._error
            self._state = state
            self._error = error
        if not changed:
            return
        for listener in list(self._listeners):
            try:
                listener(state, error)
            except Exception:  # noqa: BLE001 - a broken listener must not kill the camera
                log.exception("camera %s: state listener failed", self.name)

    def _run(self) -> None:
        delay = self._backoff_initial
        failures = 0
        ever_opened = False
        while not self._stop.is_set():
            try:
                self.source.open()
            except CameraError as e:
                failures += 1
                log.info("camera %s: cannot open (%s): %s", self.name, type(e).__name__, e.detail)
                if self._max_retries is not None and failures > self._max_retries:
                    self._set_state(CameraState.FAILED, e)
                    return
                self._set_state(CameraState.RECONNECTING, e)
                self._stop.wait(delay)
                delay = min(delay * 2, self._backoff_max)
                continue
            except DeskError as e:  # a config error: retrying cannot help
                log.warning("camera %s: %s", self.name, e)
                self._set_state(CameraState.FAILED, e)
                return
            except Exception as e:  # noqa: BLE001 - an unexpected library error: typed, then failed
                log.exception("camera %s: unexpected error while opening", self.name)
                self._set_state(CameraState.FAILED, InternalError(detail=type(e).__name__))
                return
            if ever_opened:
                self.reconnects += 1
            ever_opened = True
            failures = 0
            delay = self._backoff_initial
            self._set_state(CameraState.RUNNING, None)
            err = self._capture_loop()
            self._close_source()
            if err is None:  # stopped by the owner
                break
            if not isinstance(err, CameraError):
                self._set_state(CameraState.FAILED, err)
                return
            self._fps.reset()
            self._set_state(CameraState.RECONNECTING, err)
            self._stop.wait(delay)
            delay = min(delay * 2, self._backoff_max)
        self._close_source()

    def _capture_loop(self) -> DeskError | None:
        pace = self.source.pace_fps
        interval = 1.0 / pace if pace else 0.0
        next_due = self._clock()
        while not self._stop.is_set():
            try:
                image = self.source.read()
            except CameraError as e:
                log.info("camera %s: lost (%s)", self.name, type(e).__name__)
                return e
            except DeskError as e:
                return e
            except Exception as e:  # noqa: BLE001 - converted to a typed error at the boundary
                log.exception("camera %s: unexpected error while reading", self.name)
                return InternalError(detail=type(e).__name__)
            if not _is_picture(image):  # a broken driver: skip the frame, keep the camera
                self.bad_frames += 1
                if self.bad_frames == 1 or self.bad_frames % 1000 == 0:
                    log.warning("camera %s: %d unusable frames (last: %s)", self.name,
                                self.bad_frames, _describe(image))
                self._stop.wait(interval or 0.01)
                continue
            now = self._clock()
            image = np.ascontiguousarray(image)
            image.flags.writeable = False
            self._seq += 1
            frame = Frame(self._seq, now, image, self.name)
            self._hub.publish(frame)
            self._fps.tick(now)
            for listener in list(self._frame_listeners):
                try:
                    listener(frame)
                except Exception:  # noqa: BLE001 - a broken listener must not kill the camera
                    log.exception("camera %s: frame listener failed", self.name)
            if interval:
                next_due += interval
                wait = next_due - self._clock()
                if wait > 0:
                    self._stop.wait(wait)
                elif wait < -interval:  # fell behind (slow render): don't try to catch up
                    next_due = self._clock()
        return None

    def _close_source(self) -> None:
        try:
            self.source.close()
        except Exception:  # noqa: BLE001 - closing a broken device must not stop the reconnect loop
            log.exception("camera %s: error while closing", self.name)


def _is_picture(image: object) -> bool:
    """A non-empty uint8 grey, BGR or BGRA array (what consumers can decode)."""
    return (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.size > 0
            and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))))


def _describe(image: object) -> str:
    if isinstance(image, np.ndarray):
        return f"array {image.shape} {image.dtype}"
    return type(image).__name__
