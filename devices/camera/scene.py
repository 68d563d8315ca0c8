"""The scene player: a simulated camera composing frames from a scripted list of scenes.

A script is a plain list of :class:`SceneStep` (a name, a duration, the :class:`Layer` s visible,
blur/noise/light). Layers are a face photo, an ID-card image or a phone showing a QR code (drawn
with ``segno``; ``dark=True`` for a dark-mode screen: light modules on black), each moving from
``at`` to ``to`` and growing from ``size`` to ``size_to`` over the step. Frame ``i`` shows scene
time ``i / fps``, so the pictures are the same on every run whatever the machine's speed.

Two-camera desks use two players on the same script: ``view="patient"`` draws only faces,
``view="counter"`` only phones and cards; a one-camera desk uses ``view="both"``.

Example::

    script = checkin_script(face_photo="faces/obama.jpg", card_image=card, qr_text="RNB1:...")
    camera = CameraWorker(ScenePlayer(script, width=1280, height=720))
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import segno

from devices.camera.errors import CameraConfigError

log = logging.getLogger(__name__)

View = Literal["both", "patient", "counter"]
LayerKind = Literal["face", "card", "phone", "image", "screen", "print"]

#: Longest text the player will draw as a QR (version 40-L holds 2953 bytes).
MAX_QR_TEXT = 2900


@dataclass(frozen=True, eq=False)
class Layer:
    """Something in front of a camera. Positions are fractions of the frame (centre x, y); sizes
    are the layer's height as a fraction of the frame height; angles in degrees (counter-clockwise)."""

    kind: LayerKind
    image: str | Path | np.ndarray | None = None  # face photo / card / any picture (BGR)
    qr_text: str = ""  # phone only
    dark: bool = False  # phone only: dark-mode screen, light QR on black
    at: tuple[float, float] = (0.5, 0.5)
    to: tuple[float, float] | None = None
    size: float = 0.4
    size_to: float | None = None
    angle: float = 0.0
    angle_to: float | None = None
    view: Literal["", "patient", "counter"] = ""  # "" = by kind: face -> patient, others -> counter

    @property
    def camera(self) -> str:
        return self.view or ("patient" if self.kind in ("face", "screen", "print") else "counter")


@dataclass(frozen=True)
class SceneStep:
    name: str
    duration_s: float
    layers: tuple[Layer, ...] = ()
    blur: float = 0.0  # Gaussian sigma in pixels (focus / motion)
    noise: float = 0.0  # sensor noise, standard deviation in grey levels
    light: float = 1.0  # exposure factor


def face(image: str | Path | np.ndarray, **kw: object) -> Layer:
    kw.setdefault("at", (0.5, 0.45))
    kw.setdefault("size", 0.5)
    return Layer("face", image=image, **kw)  # type: ignore[arg-type]


def card(image: str | Path | np.ndarray, **kw: object) -> Layer:
    kw.setdefault("at", (0.5, 0.62))
    kw.setdefault("size", 0.35)
    return Layer("card", image=image, **kw)  # type: ignore[arg-type]


def phone(qr_text: str, *, dark: bool = False, **kw: object) -> Layer:
    kw.setdefault("at", (0.55, 0.55))
    kw.setdefault("size", 0.7)
    return Layer("phone", qr_text=qr_text, dark=dark, **kw)  # type: ignore[arg-type]


def screen(image: str | Path | np.ndarray, **kw: object) -> Layer:
    """A phone held up to the camera showing a photo (a presentation attack): bezel, rounded
    corners, the screen's pixel grid (moiré at the camera), a glare band, a thumb and fingers
    over its edges. ``size`` is the phone's height."""
    kw.setdefault("at", (0.5, 0.5))
    kw.setdefault("size", 0.8)
    return Layer("screen", image=image, **kw)  # type: ignore[arg-type]


def printed(image: str | Path | np.ndarray, **kw: object) -> Layer:
    """A photo printed on paper held up to the camera: white margin, paper shading, fingers
    holding it at the sides. ``size`` is the sheet's height."""
    kw.setdefault("at", (0.5, 0.5))
    kw.setdefault("size", 0.8)
    return Layer("print", image=image, **kw)  # type: ignore[arg-type]


def checkin_script(
    face_photo: str | Path | np.ndarray | None,
    card_image: str | Path | np.ndarray | None,
    qr_text: str | None,
    *,
    dark_phone: bool = False,
) -> list[SceneStep]:
    """The usual visit at the window: walks up, shows the QR, puts the card down, looks up."""
    # While showing a phone or a card the patient stands aside a little, so a one-camera desk
    # sees both (a two-camera desk sees the face on one camera and the items on the other).
    who = () if face_photo is None else (face(face_photo, at=(0.25, 0.42), size=0.45),)
    # Sizes are the photo's height as a fraction of the frame's; portrait photos show head and
    # shoulders, so "looks at camera" fills the frame to give a face of ~100+ px at 720p (the
    # face matcher wants >= 80 px).
    steps = [SceneStep("empty desk", 1.0, (), noise=2.0)]
    if face_photo is not None:
        steps.append(SceneStep("patient walks up", 2.0,
                               (face(face_photo, at=(0.6, 0.45), to=(0.25, 0.42), size=0.15,
                                     size_to=0.45),), blur=1.2, noise=3.0))
    if qr_text is not None:
        steps.append(SceneStep("shows QR", 2.5,
                               (*who, phone(qr_text, dark=dark_phone, at=(0.62, 0.58),
                                            to=(0.55, 0.52), size=0.8, angle=-6, angle_to=3)),
                               blur=0.6, noise=3.0))
    if card_image is not None:
        steps.append(SceneStep("puts card down", 2.5,
                               (*who, card(card_image, at=(0.5, 0.66), to=(0.5, 0.62), size=0.4,
                                           angle=4, angle_to=1)), blur=0.5, noise=3.0))
    if face_photo is not None:
        steps.append(SceneStep("looks at camera", 3.0,
                               (face(face_photo, at=(0.35, 0.45), to=(0.5, 0.5), size=0.7,
                                     size_to=1.1),), noise=2.0))
    return steps


@dataclass
class _Sprite:
    image: np.ndarray  # BGR
    alpha: np.ndarray  # float32 0..1, same H x W


@dataclass
class _Cache:
    sprites: dict[int, _Sprite] = field(default_factory=dict)
    files: dict[str, np.ndarray] = field(default_factory=dict)


class ScenePlayer:
    """A :class:`~devices.camera.types.FrameSource` playing a script (see the module docstring)."""

    def __init__(
        self,
        script: Sequence[SceneStep],
        *,
        width: int = 1280,
        height: int = 720,
        fps: float = 15.0,
        view: View = "both",
        loop: bool = True,
        seed: int = 0,
        name: str = "",
    ) -> None:
        if not script:
            raise CameraConfigError(detail="empty scene script")
        if any(s.duration_s <= 0 for s in script):
            raise CameraConfigError(detail="scene steps need a positive duration")
        self.script = list(script)
        self.width, self.height = int(width), int(height)
        self.fps = float(fps)
        self.view = view
        self.loop = loop
        self.seed = seed
        self.name = name or f"scene-{view}"
        self.duration_s = sum(s.duration_s for s in self.script)
        self._index = 0
        self._cache = _Cache()
        self._lock = threading.Lock()  # render() may be called from tests while playing
        self._background: np.ndarray | None = None
        self._noise: np.ndarray | None = None
        self.current_step = self.script[0].name

    # --- FrameSource ---------------------------------------------------------------------------
    @property
    def pace_fps(self) -> float | None:
        return self.fps

    def open(self) -> None:
        self._index = 0

    def read(self) -> np.ndarray:
        t = self._index / self.fps
        self._index += 1
        return self.render(t, frame_index=self._index)

    def close(self) -> None:
        """Nothing held open."""

    def play(self, script: Sequence[SceneStep], *, loop: bool | None = None) -> None:
        """Start another script from its beginning (the demo's next patient), on a running
        camera: the next frame read is the new script's first."""
        if not script or any(s.duration_s <= 0 for s in script):
            raise CameraConfigError(detail="empty scene script or a step without duration")
        with self._lock:
            self.script = list(script)
            self.duration_s = sum(st.duration_s for st in self.script)
            if loop is not None:
                self.loop = loop
            self._index = 0
            self.current_step = self.script[0].name

    @property
    def scene_time(self) -> float:
        """Scene time of the next frame (seconds since the script started)."""
        return self._index / self.fps

    # --- the scene -----------------------------------------------------------------------------
    def step_at(self, t: float) -> tuple[int, SceneStep, float]:
        """(index, step, progress 0..1) at scene time ``t`` seconds."""
        if self.loop:
            t = t % self.duration_s
        start = 0.0
        for i, step in enumerate(self.script):
            if t < start + step.duration_s:
                return i, step, (t - start) / step.duration_s
            start += step.duration_s
        return len(self.script) - 1, self.script[-1], 1.0

    def start_of(self, name: str) -> float:
        """Scene time at which the step called ``name`` begins."""
        start = 0.0
        for step in self.script:
            if step.name == name:
                return start
            start += step.duration_s
        raise KeyError(name)

    def render(self, t: float, *, frame_index: int = 0) -> np.ndarray:
        """The picture at scene time ``t`` (BGR, height x width x 3, a new array)."""
        with self._lock:
            _, step, p = self.step_at(t)
            self.current_step = step.name
            frame = self._bg().copy()
            for layer in step.layers:
                if self.view != "both" and layer.camera != self.view:
                    continue
                self._draw(frame, layer, p)
            if step.light != 1.0:
                frame = cv2.convertScaleAbs(frame, alpha=step.light)
            if step.blur > 0:
                frame = cv2.GaussianBlur(frame, (0, 0), step.blur)
            if step.noise > 0:
                frame = self._add_noise(frame, step.noise, frame_index)
            return frame

    def _bg(self) -> np.ndarray:
        if self._background is None:
            h, w = self.height, self.width
            ramp = np.linspace(150, 205, h, dtype=np.float32)[:, None]
            bg = np.empty((h, w, 3), np.uint8)
            bg[..., 0] = np.clip(ramp * 0.92, 0, 255).astype(np.uint8)
            bg[..., 1] = np.clip(ramp * 0.98, 0, 255).astype(np.uint8)
            bg[..., 2] = np.clip(ramp * 1.0, 0, 255).astype(np.uint8)
            desk_top = int(h * 0.78)
            bg[desk_top:] = (92, 118, 140)  # a wooden counter
            cv2.line(bg, (0, desk_top), (w, desk_top), (60, 80, 95), max(1, h // 180))
            cv2.rectangle(bg, (int(w * 0.05), int(h * 0.08)), (int(w * 0.22), int(h * 0.40)),
                          (170, 175, 160), -1)  # a notice on the wall
            self._background = bg
        return self._background

    def _add_noise(self, frame: np.ndarray, sigma: float, index: int) -> np.ndarray:
        # One pre-drawn noise tile, shifted per frame: per-frame Gaussian noise at 720p costs
        # ~30 ms in numpy, this ~1 ms, and frames still differ.
        pad = 64
        h, w = frame.shape[:2]
        if self._noise is None or self._noise.shape[:2] != (h + pad, w + pad):
            rng = np.random.default_rng(self.seed)
            n = rng.normal(0.0, 32.0, size=(h + pad, w + pad, 3))
            self._noise = np.clip(n + 128, 0, 255).astype(np.uint8)
        rng = np.random.default_rng((self.seed, index))
        dy, dx = (int(v) for v in rng.integers(0, pad, 2))
        tile = self._noise[dy:dy + h, dx:dx + w]
        k = sigma / 32.0
        return cv2.addWeighted(frame, 1.0, tile, k, -128.0 * k)

    # --- layers --------------------------------------------------------------------------------
    def _draw(self, frame: np.ndarray, layer: Layer, p: float) -> None:
        h, w = frame.shape[:2]
        ax, ay = layer.at
        bx, by = layer.to if layer.to is not None else layer.at
        cx, cy = (ax + (bx - ax) * p) * w, (ay + (by - ay) * p) * h
        size = layer.size + ((layer.size_to if layer.size_to is not None else layer.size)
                             - layer.size) * p
        angle = layer.angle + ((layer.angle_to if layer.angle_to is not None else layer.angle)
                               - layer.angle) * p
        target_h = max(4.0, size * h)
        max_h = max(layer.size, layer.size_to or 0.0) * h
        sprite = self._sprite(layer, max(8, int(math.ceil(max_h))))
        sh, sw = sprite.image.shape[:2]
        m = cv2.getRotationMatrix2D((sw / 2, sh / 2), angle, target_h / sh)
        m[0, 2] += cx - sw / 2
        m[1, 2] += cy - sh / 2
        corners = np.array([[0, 0, 1], [sw, 0, 1], [0, sh, 1], [sw, sh, 1]], np.float64) @ m.T
        x0, y0 = np.floor(corners.min(axis=0)).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 <= x0 or y1 <= y0:
            return
        m[0, 2] -= x0
        m[1, 2] -= y0
        size_roi = (x1 - x0, y1 - y0)
        warped = cv2.warpAffine(sprite.image, m, size_roi, flags=cv2.INTER_AREA
                                if target_h < sh * 0.8 else cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(sprite.alpha, m, size_roi, flags=cv2.INTER_LINEAR)[..., None]
        roi = frame[y0:y1, x0:x1]
        roi[:] = (warped * alpha + roi * (1.0 - alpha)).astype(np.uint8)

    def _sprite(self, layer: Layer, height: int) -> _Sprite:
        key = id(layer) * 100_003 + height
        sprite = self._cache.sprites.get(key)
        if sprite is None:
            if layer.kind == "phone":
                sprite = _phone_sprite(layer.qr_text, layer.dark, height)
            elif layer.kind in ("screen", "print"):
                sprite = _held_photo_sprite(self._load(layer.image), height,
                                            layer.kind == "screen", id(layer))
            else:
                img = self._load(layer.image)
                scale = height / img.shape[0]
                interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
                img = cv2.resize(img, (max(1, round(img.shape[1] * scale)), height),
                                 interpolation=interp)
                if layer.kind == "face":
                    # A person in front of the camera, not a picture of one: no straight-edged
                    # border around the head (the photo fades out in an ellipse).
                    alpha = _soft_ellipse(img.shape[0], img.shape[1])
                else:
                    radius = height * 0.06 if layer.kind == "card" else 0.0
                    alpha = _rounded_mask(img.shape[0], img.shape[1], radius)
                sprite = _Sprite(img, alpha)
            self._cache.sprites[key] = sprite
        return sprite

    def _load(self, image: str | Path | np.ndarray | None) -> np.ndarray:
        if image is None:
            raise CameraConfigError(detail="a face/card layer needs an image")
        if isinstance(image, np.ndarray):
            if image.ndim == 2:
                return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
            return image[..., :3] if image.shape[2] == 4 else image
        key = str(image)
        if key not in self._cache.files:
            img = cv2.imread(key, cv2.IMREAD_COLOR)
            if img is None:
                raise CameraConfigError(detail=f"scene image {Path(key).name} cannot be read")
            self._cache.files[key] = img
        return self._cache.files[key]


def qr_matrix(text: str) -> np.ndarray:
    """The QR code for ``text`` as a bool array (True = dark module), without quiet zone."""
    if len(text) > MAX_QR_TEXT:
        raise CameraConfigError(detail=f"QR text of {len(text)} characters is too long")
    qr = segno.make_qr(text, error="m", boost_error=False)
    return np.array([[bool(v) for v in row] for row in qr.matrix], dtype=bool)


def _phone_sprite(text: str, dark: bool, height: int) -> _Sprite:
    """A phone held upright: dark body, screen with a QR on a white (or black) card."""
    width = max(8, round(height * 0.5))
    img = np.full((height, width, 3), 25, np.uint8)  # body
    bezel = max(2, round(width * 0.05))
    top = max(bezel, round(height * 0.08))
    screen_bg = 18 if dark else 242
    fg = 235 if dark else 15
    cv2.rectangle(img, (bezel, top), (width - bezel - 1, height - top - 1),
                  (screen_bg,) * 3, -1)
    # App header band, as booking apps have.
    cv2.rectangle(img, (bezel, top), (width - bezel - 1, top + round(height * 0.07)),
                  (60, 130, 40) if not dark else (40, 80, 30), -1)
    if text:
        mat = qr_matrix(text)
        n = mat.shape[0]
        avail = width - 2 * bezel
        quiet = 2  # modules: apps usually leave a small margin
        module = max(1, avail // (n + 2 * quiet))
        side = module * n
        code = np.where(mat, fg, screen_bg).astype(np.uint8)
        code = cv2.resize(code, (side, side), interpolation=cv2.INTER_NEAREST)
        x = (width - side) // 2
        y = (height - side) // 2
        img[y:y + side, x:x + side] = code[..., None]
    return _Sprite(img, _rounded_mask(height, width, width * 0.12))


def _held_photo_sprite(photo: np.ndarray, height: int, on_screen: bool, seed: int) -> _Sprite:
    """A photo on a phone screen (``on_screen``) or on a sheet of paper, with the hand that
    holds it. The photo fills the screen (or the sheet's inner part) keeping its aspect."""
    rng = np.random.default_rng(seed % (2**32))
    if on_screen:
        width = max(8, round(height * 0.5))
        img = np.full((height, width, 3), 22, np.uint8)  # body
        bezel = max(2, round(width * 0.045))
        top = max(bezel, round(height * 0.06))
    else:
        width = max(8, round(height * 0.72))
        img = np.full((height, width, 3), 236, np.uint8)  # paper
        bezel = max(2, round(width * 0.08))
        top = bezel
    inner_w, inner_h = width - 2 * bezel, height - 2 * top
    scale = max(inner_w / photo.shape[1], inner_h / photo.shape[0])  # cover the inner area
    pic = cv2.resize(photo, (max(1, round(photo.shape[1] * scale)),
                             max(1, round(photo.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    y0, x0 = (pic.shape[0] - inner_h) // 2, (pic.shape[1] - inner_w) // 2
    pic = pic[y0:y0 + inner_h, x0:x0 + inner_w].astype(np.float32)
    yy, xx = np.mgrid[0:inner_h, 0:inner_w].astype(np.float32)
    if on_screen:
        # the pixel grid: a faint fine pattern that beats with the camera's sampling (moiré)
        pitch = max(2.0, inner_w / 180.0)
        grid = 0.93 + 0.07 * np.cos(2 * np.pi * xx / pitch) * np.cos(2 * np.pi * yy / pitch)
        pic = pic * grid[..., None] * 1.05 + 6.0  # backlit, slightly washed out
        # a reflection: a soft diagonal band of light
        slope, offset = rng.uniform(0.4, 1.2), rng.uniform(0.2, 0.8) * inner_w
        band = np.exp(-(((xx + slope * yy) - offset - 0.3 * inner_h) / (0.12 * inner_w)) ** 2)
        pic = pic + band[..., None] * rng.uniform(40, 90)
    else:
        # paper: a little less contrast, a gradient of light across the sheet
        light = 0.92 + 0.1 * (xx / max(1, inner_w)) - 0.04 * (yy / max(1, inner_h))
        pic = (pic * 0.88 + 20) * light[..., None]
    img[top:top + inner_h, bezel:bezel + inner_w] = np.clip(pic, 0, 255).astype(np.uint8)
    radius = width * (0.1 if on_screen else 0.0)
    alpha = _rounded_mask(height, width, radius)
    # the hand: a thumb over one side, two fingertips over the other
    skin = tuple(int(v) for v in rng.uniform((95, 130, 170), (125, 160, 205)))
    t = max(3, round(width * 0.09))
    y_thumb = round(height * rng.uniform(0.55, 0.75))
    cv2.ellipse(img, (0, y_thumb), (round(t * 1.8), t), 0, 0, 360, skin, -1, cv2.LINE_AA)
    for f in (0.6, 0.74):
        cv2.ellipse(img, (width - 1, round(height * f)), (round(t * 1.4), round(t * 0.8)), 0, 0,
                    360, skin, -1, cv2.LINE_AA)
    return _Sprite(img, alpha)


def _soft_ellipse(h: int, w: int) -> np.ndarray:
    """Alpha 1 inside an ellipse inscribed in h x w, fading to 0 at its rim."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx - (w - 1) / 2) / (w / 2)) ** 2 + ((yy - (h - 1) / 2) / (h / 2)) ** 2)
    return np.clip((1.0 - r) / 0.18, 0.0, 1.0).astype(np.float32)


def _rounded_mask(h: int, w: int, radius: float) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    r = int(max(0, min(radius, h / 2, w / 2)))
    if r == 0:
        mask[:] = 255
    else:
        cv2.rectangle(mask, (r, 0), (w - 1 - r, h - 1), 255, -1)
        cv2.rectangle(mask, (0, r), (w - 1, h - 1 - r), 255, -1)
        for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
            cv2.circle(mask, (cx, cy), r, 255, -1, lineType=cv2.LINE_AA)
    return mask.astype(np.float32) / 255.0
