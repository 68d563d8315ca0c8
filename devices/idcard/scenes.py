"""Camera scenes showing a synthetic card (:mod:`devices.idcard.synthetic`): a counter top, the
card lying on it in perspective (``place_in_scene``), and what a desk's counter camera sees
under glare, a finger, a phone screen, a busy counter ... (``counter_frame``)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from devices.idcard.synthetic import CARD_ASPECT


def desk_background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A wood- or mat-like counter top (BGR)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    tone = rng.uniform(0.55, 1.0)
    grain = np.sin(xx * rng.uniform(0.02, 0.06) + 6 * np.sin(yy * rng.uniform(0.005, 0.02)))
    base = np.array(rng.choice([[60, 95, 130], [70, 70, 72], [40, 60, 90], [95, 110, 120]]),
                    np.float32) * tone
    img = base[None, None, :] + grain[..., None] * 10
    img += rng.normal(0, 4, size=(height, width, 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def place_in_scene(
    card: np.ndarray,
    rng: np.random.Generator,
    *,
    size: tuple[int, int] = (1280, 720),
    card_width_frac: tuple[float, float] = (0.42, 0.62),
    max_angle: float = 25.0,
    max_tilt: float = 0.08,
    noise: float = 4.0,
    blur: float = 0.6,
    background: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The card lying on a desk seen by a camera: rotated, in perspective, lit unevenly, with
    sensor noise and blur. Returns (BGR frame, the card's 4 corners in the frame, TL TR BR BL).
    ``max_angle`` > 90 allows upside-down cards."""
    w, h = size
    bg = background.copy() if background is not None else desk_background(w, h, rng)
    cw = rng.uniform(*card_width_frac) * w
    ch = cw / CARD_ASPECT
    ang = math.radians(rng.uniform(-max_angle, max_angle))
    cx = w / 2 + rng.uniform(-0.12, 0.12) * w
    cy = h / 2 + rng.uniform(-0.1, 0.1) * h
    half = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    pts = half @ rot.T
    pts += rng.uniform(-max_tilt, max_tilt, size=(4, 2)) * np.array([cw, ch])  # perspective
    pts += np.array([cx, cy])
    # Keep it inside the frame: shrink when its bounding box is larger, then shift.
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    fit = min(1.0, (w - 16) / (hi[0] - lo[0]), (h - 16) / (hi[1] - lo[1]))
    if fit < 1.0:
        c = (lo + hi) / 2
        pts = (pts - c) * fit + c
        lo, hi = pts.min(axis=0), pts.max(axis=0)
    shift = np.maximum(0, 8 - lo) - np.maximum(0, hi - np.array([w - 8, h - 8]))
    pts += shift
    src = np.array([[0, 0], [card.shape[1], 0], [card.shape[1], card.shape[0]],
                    [0, card.shape[0]]], np.float32)
    m = cv2.getPerspectiveTransform(src, pts.astype(np.float32))
    warped = cv2.warpPerspective(card, m, (w, h), flags=cv2.INTER_AREA)
    mask = np.zeros(card.shape[:2], np.uint8)
    r = int(card.shape[0] * 0.06)
    cv2.rectangle(mask, (r, 0), (card.shape[1] - r, card.shape[0]), 255, -1)
    cv2.rectangle(mask, (0, r), (card.shape[1], card.shape[0] - r), 255, -1)
    for px, py in ((r, r), (card.shape[1] - r, r), (r, card.shape[0] - r),
                   (card.shape[1] - r, card.shape[0] - r)):
        cv2.circle(mask, (px, py), r, 255, -1)
    alpha = cv2.warpPerspective(mask, m, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32)[..., None] / 255
    # A soft shadow below the card.
    shadow = cv2.GaussianBlur(alpha, (0, 0), 6)[..., None] if alpha.ndim == 2 else \
        cv2.GaussianBlur(alpha[..., 0], (0, 0), 6)[..., None]
    shadow = np.roll(shadow, (4, 4), axis=(0, 1))
    frame = bg.astype(np.float32) * (1 - 0.35 * shadow)
    frame = warped.astype(np.float32) * alpha + frame * (1 - alpha)
    # Uneven light: a broad gradient.
    gx = rng.uniform(-0.15, 0.15)
    gy = rng.uniform(-0.15, 0.15)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1 + gx * (xx / w - 0.5) * 2 + gy * (yy / h - 0.5) * 2
    frame *= light[..., None] * rng.uniform(0.85, 1.1)
    if blur > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    if noise > 0:
        frame += rng.normal(0, noise, size=frame.shape).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8), pts.astype(np.float32)


#: What a counter camera sees besides a card lying flat (``counter_frame``).
COUNTER_EFFECTS = ("perspective", "blur", "glare", "low_light", "finger", "jpeg", "phone_moire",
                   "busy")


def counter_frame(card: np.ndarray, rng: np.random.Generator, effect: str,
                  size: tuple[int, int] = (1280, 720)) -> tuple[np.ndarray, np.ndarray]:
    """The card as a desk's counter camera shows it under ``effect`` (COUNTER_EFFECTS): strong
    perspective, motion/focus blur, a glare spot, low light with sensor noise, a finger over
    a corner, heavy JPEG, the card shown on a phone screen (pixel grid -> moiré, dark bezel),
    or lying among papers and objects (a busy frame). Returns (BGR frame, card corners)."""
    if effect == "phone_moire":
        card = _on_screen(card, rng)
    kw: dict[str, object] = {}
    if effect == "perspective":
        kw = {"max_tilt": 0.16, "max_angle": 35.0}
    elif effect == "blur":
        kw = {"blur": float(rng.uniform(1.6, 2.2))}
    elif effect == "low_light":
        kw = {"noise": 3.0}
    elif effect == "busy":
        kw = {"background": _busy_desk(size, rng), "card_width_frac": (0.34, 0.5)}
    frame, corners = place_in_scene(card, rng, size=size, **kw)
    f = frame.astype(np.float32)
    if effect == "glare":
        c = corners.mean(axis=0) + rng.uniform(-0.3, 0.3, 2) * (corners.max(0) - corners.min(0))
        yy, xx = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
        r = rng.uniform(50, 90)
        spot = np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2 * r * r))
        f = f + spot[..., None] * 150
    elif effect == "low_light":
        f = f * rng.uniform(0.22, 0.32) + rng.normal(0, 5, f.shape)
    elif effect == "finger":
        # Not the bottom-right corner: a finger there hides the number's end, which no one
        # can read (the desk then says it sees the card but not the number).
        corner = corners[int(rng.choice([0, 1, 3]))]
        centre = corner + (corners.mean(axis=0) - corner) * 0.06
        axes = (int(rng.uniform(40, 55)), int(rng.uniform(110, 150)))
        ang = float(np.degrees(np.arctan2(*(corner - corners.mean(axis=0))[::-1]))) + 90
        mask = np.zeros(f.shape[:2], np.uint8)
        cv2.ellipse(mask, (int(centre[0]), int(centre[1])), axes, ang, 0, 360, 255, -1)
        mask_f = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), 4)[..., None]
        skin = np.array([120, 150, 205], np.float32) * rng.uniform(0.8, 1.05)
        f = f * (1 - mask_f) + skin * mask_f
    out = np.clip(f, 0, 255).astype(np.uint8)
    if effect in ("jpeg", "phone_moire", "busy"):
        q = 22 if effect == "jpeg" else 60
        out = cv2.imdecode(cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])[1],
                           cv2.IMREAD_COLOR)
    return out, corners


def _on_screen(card: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The card's picture on a phone held up to the camera: brighter and bluish, the screen's
    RGB pixel grid (which the camera's sampling turns into moiré), a black bezel; the bezel's
    outline is what the camera sees as the 'card' (its aspect is close to the card's)."""
    h, w = card.shape[:2]
    f = card.astype(np.float32) * 0.85 + np.array([30, 18, 10], np.float32)
    pitch = int(rng.integers(3, 5))
    grid = np.ones((h, w, 3), np.float32)
    for ch in range(3):
        grid[:, ch::3 * pitch // 3 or 1, ch] *= 1.0
        grid[:, (np.arange(w) // pitch) % 3 != ch, ch] *= 0.72
    grid[(np.arange(h) // pitch) % pitch == 0] *= 0.8
    screen = np.clip(f * grid, 0, 255)
    bezel = int(0.06 * h)
    out = np.full((h + 2 * bezel, w + 2 * bezel, 3), 18, np.float32)
    out[bezel:bezel + h, bezel:bezel + w] = screen
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA).astype(np.uint8)


def _busy_desk(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A counter with things on it: sheets of paper (pale rectangles of other shapes), a
    keyboard, a pen, printed lines."""
    w, h = size
    img = desk_background(w, h, rng)
    for _ in range(int(rng.integers(3, 6))):
        pw, ph = rng.uniform(0.15, 0.35) * w, rng.uniform(0.25, 0.6) * h
        x, y = rng.uniform(0, w - pw), rng.uniform(0, h - ph)
        ang = rng.uniform(-30, 30)
        box = cv2.boxPoints(((x + pw / 2, y + ph / 2), (pw, ph), ang)).astype(np.int32)
        tone = int(rng.integers(200, 245))
        cv2.fillConvexPoly(img, box, (tone, tone, tone - 5))
        for k in range(int(rng.integers(3, 10))):  # printed lines on the sheet
            yy = int(y + ph * (0.15 + 0.07 * k))
            cv2.line(img, (int(x + pw * 0.1), yy), (int(x + pw * 0.8), yy), (90, 90, 90), 2)
    kx, ky = int(rng.uniform(0, w * 0.5)), int(rng.uniform(h * 0.7, h * 0.85))
    cv2.rectangle(img, (kx, ky), (kx + int(w * 0.45), h), (40, 40, 42), -1)
    for i in range(0, int(w * 0.45) - 30, 34):
        for j in range(0, h - ky - 20, 30):
            cv2.rectangle(img, (kx + i + 4, ky + j + 4), (kx + i + 30, ky + j + 26), (70, 70, 72), -1)
    px = int(rng.uniform(0, w))
    cv2.line(img, (px, 20), (px + int(rng.uniform(-200, 200)), 180), (30, 30, 160), 9)
    return img


# --- eval sets ---------------------------------------------------------------------------------
