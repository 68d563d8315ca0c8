"""Simulated sources without a camera: a folder of images (a video file is ``OpenCvSource`` with
``loop=True``; the scripted scene player is in ``devices.camera.scene``)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from devices.camera.errors import CameraConfigError, CameraUnplugged

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


class ImageFolderSource:
    """Shows every image of a folder in name order, ``seconds_per_image`` each, then starts again.

    With ``width``/``height`` each image is letterboxed into that size (as a camera would deliver
    a fixed resolution). The folder is listed again on every pass, so images added or removed
    while running are seen; an empty or missing folder counts as an unplugged camera."""

    def __init__(
        self,
        folder: str | Path,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float = 10.0,
        seconds_per_image: float = 1.0,
    ) -> None:
        self.folder = Path(folder)
        self.name = self.folder.name or str(self.folder)
        self.width = width
        self.height = height
        self._fps = fps
        self._repeat = max(1, round(seconds_per_image * fps))
        self._files: list[Path] = []
        self._i = 0
        self._shown = 0
        self._current: np.ndarray | None = None

    @property
    def pace_fps(self) -> float | None:
        return self._fps

    def open(self) -> None:
        if not self.folder.is_dir():
            raise CameraUnplugged(detail=f"image folder {self.name} missing")
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise CameraUnplugged(detail=f"image folder {self.name} has no images")
        self._i = 0
        self._shown = 0
        self._current = None

    def read(self) -> np.ndarray:
        if self._current is None or self._shown >= self._repeat:
            self._current = self._next_image()
            self._shown = 0
        self._shown += 1
        return self._current

    def close(self) -> None:
        self._current = None

    def _next_image(self) -> np.ndarray:
        for _ in range(len(self._files) + 1):
            if self._i >= len(self._files):
                self.open()  # next pass: list again
            path = self._files[self._i]
            self._i += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                log.info("image folder %s: skipping unreadable %s", self.name, path.name)
                continue
            if self.width and self.height:
                image = letterbox(image, self.width, self.height)
            return image
        raise CameraConfigError(detail=f"no readable image in {self.name}")


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``image`` to fit ``width`` x ``height``, centred on a dark grey canvas."""
    h, w = image.shape[:2]
    s = min(width / w, height / h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    out = np.full((height, width, 3), 40, np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y:y + nh, x:x + nw] = resized
    return out
