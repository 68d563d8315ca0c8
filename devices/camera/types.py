"""The small vocabulary every camera shares: frames, states, the source and camera Protocols."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from desk_app.errors import DeskError
    from devices.camera.errors import CameraError


@dataclass(frozen=True, eq=False)
class Frame:
    """One picture. ``image`` is a read-only BGR ``uint8`` array (H x W x 3), shared by all
    consumers, so nobody may modify it in place (copy first). ``seq`` counts frames delivered by
    this camera since it was created (gaps = frames dropped before publishing, never reused);
    ``timestamp`` is ``time.monotonic()`` at capture."""

    seq: int
    timestamp: float
    image: np.ndarray
    source: str = ""

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


class CameraState(StrEnum):
    STARTING = "starting"  # worker started, first open under way
    RUNNING = "running"  # frames are arriving
    RECONNECTING = "reconnecting"  # lost or never opened; retrying with back-off
    FAILED = "failed"  # given up (bad setting, or retries exhausted); see ``error``
    STOPPED = "stopped"  # not started, or stopped by its owner


class FrameSource(Protocol):
    """Where pictures come from (OpenCV device/file/URL, image folder, scene player).

    Used by exactly one thread, the capture worker. ``open`` and ``read`` raise
    :class:`~devices.camera.errors.CameraError` (retried) or ``CameraConfigError`` (not)."""

    name: str

    def open(self) -> None: ...

    def read(self) -> np.ndarray:
        """The next BGR picture; blocks at most about one frame interval (device sources)."""
        ...

    def close(self) -> None: ...

    @property
    def pace_fps(self) -> float | None:
        """Frames per second the worker should keep to (files, simulations); None = the source
        blocks in ``read`` by itself (real devices, streams)."""
        ...


@dataclass(frozen=True)
class CameraStatus:
    """A snapshot for status bars and the device screen."""

    name: str
    state: CameraState
    error: DeskError | None
    fps: float
    frames: int  # captured since creation
    reconnects: int
    source: str  # what the source calls itself (URLs with their password masked)


StateListener = Callable[["CameraState", "DeskError | None"], None]


class Camera(Protocol):
    """What the UI and the pipelines use: never blocks the caller, except ``stop`` (joins)."""

    name: str

    @property
    def state(self) -> CameraState: ...

    @property
    def error(self) -> CameraError | DeskError | None: ...

    @property
    def fps(self) -> float: ...

    def start(self) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...

    def latest(self) -> Frame | None: ...

    def subscribe(self) -> FrameSubscription: ...

    def add_state_listener(self, listener: StateListener) -> None: ...


class FrameSubscription(Protocol):
    def poll(self) -> Frame | None: ...

    def get(self, timeout: float | None = None) -> Frame | None: ...

    @property
    def dropped(self) -> int: ...

    @property
    def taken(self) -> int: ...

    def close(self) -> None: ...
