"""Plug-in for the vendor library that decodes the chip's WLT-compressed portrait.

The 1,024-byte WLT photo can only be decoded by the licensed vendor library (``libwlt.so`` on
Linux, a ``.dll`` on Windows); we never ship it. Hospital IT names it in
``DevicesSection.wlt_decoder_library``. The convention supported is the common one::

    int unpack(char *wlt /* 1024 bytes */, char *bmp /* >= 38862 bytes */, int save_bmp);

returning 1 on success and writing a 102 x 126 24-bit BMP (with header) into ``bmp``. Without a
library (or when it fails to load) the desk says so once in the log and reads return
``portrait=None``; the check-in then takes the portrait from the camera.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

log = logging.getLogger(__name__)

PHOTO_WIDTH, PHOTO_HEIGHT = 102, 126
#: 54-byte header + 126 rows of 102 * 3 bytes padded to 308.
BMP_SIZE = 54 + PHOTO_HEIGHT * ((PHOTO_WIDTH * 3 + 3) // 4 * 4)
LIBRARY_SUFFIX = ".dll" if sys.platform == "win32" else ".so"


class PortraitDecoder(Protocol):
    def decode(self, wlt: bytes) -> np.ndarray | None:
        """BGR portrait from the chip's photo bytes, or None when it cannot be decoded."""
        ...


class CtypesWltDecoder:
    """A vendor ``unpack`` function loaded with ctypes (see the module docstring)."""

    def __init__(self, library: str | Path, symbol: str = "unpack") -> None:
        path = Path(library)
        if not path.suffix:
            path = path.with_suffix(LIBRARY_SUFFIX)
        loader = ctypes.WinDLL if sys.platform == "win32" else ctypes.CDLL  # type: ignore[attr-defined]
        self._lib = loader(str(path))  # OSError when missing or the wrong architecture
        self._fn = getattr(self._lib, symbol)
        self._fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
        self._fn.restype = ctypes.c_int
        self._lock = threading.Lock()  # vendor decoders are rarely re-entrant
        self.path = path

    def decode(self, wlt: bytes) -> np.ndarray | None:
        if len(wlt) < 1024:
            return None
        src = ctypes.create_string_buffer(bytes(wlt[:1024]), 1024)
        dst = ctypes.create_string_buffer(BMP_SIZE + 1024)
        with self._lock:
            rc = self._fn(src, dst, 0)
        if rc != 1:
            log.warning("WLT decoder returned %s", rc)
            return None
        raw = dst.raw
        if raw[:2] == b"BM":
            img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
            return img
        # Some builds write the bare bottom-up BGR rows (padded to 4 bytes) without a header.
        stride = (PHOTO_WIDTH * 3 + 3) // 4 * 4
        rows = np.frombuffer(raw[: stride * PHOTO_HEIGHT], np.uint8).reshape(PHOTO_HEIGHT, stride)
        return np.ascontiguousarray(rows[::-1, : PHOTO_WIDTH * 3].reshape(PHOTO_HEIGHT, PHOTO_WIDTH, 3))


_said_missing: set[str] = set()


def load_wlt_decoder(library: str, symbol: str = "unpack") -> PortraitDecoder | None:
    """The configured decoder, or None (logged once per setting) when none is configured or it
    cannot be loaded; never raises, since a desk without portraits still works."""
    if not library.strip():
        if "" not in _said_missing:
            _said_missing.add("")
            log.info("no WLT decoder library configured: chip portraits are not decoded; "
                     "the portrait comes from the camera")
        return None
    try:
        return CtypesWltDecoder(library.strip(), symbol)
    except (OSError, AttributeError) as exc:
        if library not in _said_missing:
            _said_missing.add(library)
            log.error("WLT decoder library %s cannot be used (%s): chip portraits are not "
                      "decoded; the portrait comes from the camera", library, type(exc).__name__)
        return None
