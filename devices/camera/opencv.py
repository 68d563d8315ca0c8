"""OpenCV capture: a device index, a video file or a network stream (RTSP/HTTP), as a FrameSource.

OpenCV only says "could not open" or "no frame"; the reason (unplugged, busy, no permission) is
worked out here from what the operating system shows, so the clerk gets a useful message.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from devices.camera.errors import (
    CameraBusy,
    CameraConfigError,
    CameraError,
    CameraPermissionDenied,
    CameraUnplugged,
)

log = logging.getLogger(__name__)

STREAM_PREFIXES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://")
_STREAM_TIMEOUT_MS = 5000


class OpenCvSource:
    """``target`` is an ``int`` device index, a video file path or a stream URL.

    ``width``/``height`` are requested from devices (the driver may pick the nearest mode; the
    frames say what was delivered). Files are played at their own frame rate and, with ``loop``,
    re-opened from the start at the end, so a file that disappears is noticed like an unplugged
    camera."""

    def __init__(
        self,
        target: int | str | Path,
        *,
        width: int | None = None,
        height: int | None = None,
        loop: bool = True,
        fps: float | None = None,
    ) -> None:
        self.target = target
        self.width = width
        self.height = height
        self.loop = loop
        self._fps_override = fps
        self._cap: cv2.VideoCapture | None = None
        self._file_fps: float | None = None
        if isinstance(target, int):
            self.kind = "device"
            self.name = f"device {target}"
        elif str(target).lower().startswith(STREAM_PREFIXES):
            self.kind = "stream"
            self.name = _redact_url(str(target))
        else:
            self.kind = "file"
            self.name = Path(target).name

    @property
    def pace_fps(self) -> float | None:
        if self._fps_override:
            return self._fps_override
        return self._file_fps if self.kind == "file" else None

    # --- FrameSource ---------------------------------------------------------------------------
    def open(self) -> None:
        self.close()
        if self.kind == "device":
            cap = self._open_device(int(self.target))
        elif self.kind == "stream":
            cap = cv2.VideoCapture(
                str(self.target), cv2.CAP_FFMPEG,
                [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, _STREAM_TIMEOUT_MS,
                 cv2.CAP_PROP_READ_TIMEOUT_MSEC, _STREAM_TIMEOUT_MS],
            )
            if not cap.isOpened():
                cap.release()
                raise CameraUnplugged(detail=f"stream {self.name} unreachable")
        else:
            path = Path(self.target)
            if not path.is_file():
                raise CameraUnplugged(detail=f"video file {path.name} missing")
            if not os.access(path, os.R_OK):
                raise CameraPermissionDenied(detail=f"video file {path.name} not readable")
            cap = cv2.VideoCapture(str(path))
            if not cap.isOpened():
                cap.release()
                raise CameraConfigError(detail=f"{path.name} is not a video OpenCV can read")
            fps = cap.get(cv2.CAP_PROP_FPS)
            self._file_fps = fps if 1 <= fps <= 240 else 25.0
        self._cap = cap

    def read(self) -> np.ndarray:
        cap = self._cap
        if cap is None:
            raise CameraUnplugged(detail="read before open")
        ok, image = cap.read()
        if ok and image is not None:
            return _as_bgr(image)
        if self.kind == "file" and self.loop:
            # End of the file: start again, noticing a file that went away in the meantime.
            self.open()
            cap = self._cap
            assert cap is not None
            ok, image = cap.read()
            if ok and image is not None:
                return _as_bgr(image)
            raise CameraConfigError(detail=f"{self.name} has no frames")
        raise CameraUnplugged(detail=f"{self.kind} {self.name} stopped delivering frames")

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

    # --- devices -------------------------------------------------------------------------------
    def _open_device(self, index: int) -> cv2.VideoCapture:
        node = Path(f"/dev/video{index}")
        if sys.platform.startswith("linux"):
            if not node.exists():
                raise CameraUnplugged(detail=f"{node} absent")
            if not os.access(node, os.R_OK | os.W_OK):
                raise CameraPermissionDenied(detail=f"{node} not accessible (group video?)")
            api = cv2.CAP_V4L2
        elif sys.platform == "win32":
            api = cv2.CAP_DSHOW
        else:
            api = cv2.CAP_ANY
        cap = cv2.VideoCapture(index, api)
        if not cap.isOpened():
            cap.release()
            # The node is there and we may open it: another program holds it (V4L2 EBUSY).
            raise _device_error(index, node)
        if self.width and self.height:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # we want the newest picture, not a queue
        ok, _ = cap.read()
        if not ok:
            cap.release()
            raise _device_error(index, node)
        return cap


def _device_error(index: int, node: Path) -> CameraError:
    if sys.platform.startswith("linux") and not node.exists():
        return CameraUnplugged(detail=f"{node} absent")
    return CameraBusy(detail=f"device {index} present but cannot be opened")


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _redact_url(url: str) -> str:
    """``rtsp://user:pw@host/x`` -> ``rtsp://***@host/x`` (stream names end up in logs)."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
