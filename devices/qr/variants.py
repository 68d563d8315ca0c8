"""Harder versions of real QR photos, for measuring the reader beyond the easy originals.

Each variant imitates something desks meet: a dark-mode phone screen (inverted), a dim or
washed-out picture with uneven light, JPEG artefacts from a cheap webcam, a code far from the
camera inside a 720p frame, sensor noise over blur. Deterministic (seeded), so tests and the
benchmark see the same pictures on every run.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np


def _noise(g: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(g + rng.normal(0, sigma, g.shape), 0, 255).astype(np.uint8)


def _in_frame(g: np.ndarray, scale: float, size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    w, h = size
    ramp = np.linspace(-30, 30, w, dtype=np.float32)[None, :]
    out = np.clip(np.full((h, w), 165, np.float32) + ramp, 0, 255).astype(np.uint8)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    s = cv2.resize(g, None, fx=scale, fy=scale, interpolation=interp)[: h - 120, : w - 400]
    sh, sw = s.shape
    out[100:100 + sh, 300:300 + sw] = s
    return out


def _jpeg(g: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", g, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def _uneven(g: np.ndarray) -> np.ndarray:
    ramp = np.linspace(-40, 40, g.shape[1], dtype=np.float32)[None, :]
    return np.clip(g * 0.35 + 100 + ramp, 0, 255).astype(np.uint8)


VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "original": lambda g: g,
    "dark_mode": lambda g: 255 - g,
    "dim": lambda g: (g * 0.25).astype(np.uint8),
    "uneven_light": _uneven,
    "jpeg_q10": lambda g: _jpeg(g, 10),
    "in_720p_frame": lambda g: _noise(_in_frame(g, 1.0), 6, 1),
    "far_in_720p": lambda g: _noise(_in_frame(g, 0.8), 6, 2),
    "dark_mode_720p": lambda g: _noise(255 - _in_frame(g, 1.2), 5, 3),
    "blur_noise": lambda g: _noise(cv2.GaussianBlur(g, (0, 0), 1.2), 12, 4),
    "noisy": lambda g: _noise(g, 25, 5),
}


def variant(name: str, gray: np.ndarray) -> np.ndarray:
    return VARIANTS[name](gray)
