"""The face model: HOG detection, landmarks and 128-d descriptors (dlib, via face_recognition_models).

Plain functions over numpy images; no Qt, no threads of its own. Everything here may run in a
worker thread; the dlib objects are shared behind one lock (the machine has two cores and the
descriptor network already uses them), and every long loop checks a :class:`CancelToken`.

Two kinds of image go through here and get different treatment (see docs/architecture.md,
"Face verification", for the measurements behind each choice):

* **live frames** (640x480 or larger): detected on a downscaled copy, small faces looked for
  (upsampled) in the middle only; the aligned chip and its mirror image are encoded and
  averaged (two network passes, 55-145 ms of CPU each on the machines measured; at a desk they
  run side by side in two face processes, :mod:`desk_app.faces.remote`);
* **the ID photo** (a chip photo is 102 x 126 px, the face about 50 px wide): enlarged before
  detection and landmarking, then encoded as three chips (the aligned square at 0.94, 1 and 1.06
  times its size) and their mirror images, averaged: six passes, once per patient, since every
  error it carries is repeated in every comparison. dlib's jitter (10) was measured and not
  taken: 3 s a patient, and random (docs/architecture.md).

:meth:`FaceModel.chips` (landmarks, warping) and :meth:`FaceModel.describe` (the network) are
separate so the network passes can run elsewhere.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from desk_app.errors import DeskError, DeviceError, ErrorKind, Text

log = logging.getLogger(__name__)


class CancelToken(Protocol):
    """Anything with ``is_set()``: a ``threading.Event`` is the usual one."""

    def is_set(self) -> bool: ...


class Cancelled(DeskError):
    """The caller cancelled the work (a new patient, the window closed): nothing to show."""

    kind = ErrorKind.INTERNAL
    title_text = Text("已取消", "Cancelled")
    default_text = Text("人脸比对已取消。", "The face comparison was cancelled.")


class BadFrame(DeviceError):
    """A picture that is not an image at all (a broken camera driver or source)."""

    default_text = Text("摄像头画面无法使用, 请检查摄像头。",
                        "The camera picture cannot be used. Please check the camera.")


class FaceModelUnavailable(DeskError):
    """The model files are missing or damaged: the desk goes on with manual verification."""

    kind = ErrorKind.CONFIG
    title_text = Text("人脸比对不可用", "Face comparison unavailable")
    default_text = Text(
        "人脸识别模型无法加载, 请人工核对本人与证件照片, 并联系信息科。",
        "The face model could not be loaded. Please compare the patient with the card photo "
        "yourself and call hospital IT.",
    )


def check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


@dataclass(frozen=True)
class EncodeMethod:
    """How one image is turned into a descriptor; part of the cache key.

    ``upscale_to``: enlarge the image (Lanczos) so the detected face is at least this wide before
    landmarks and the aligned chip are taken (0 = never). ``jitters``: dlib's random
    jitter-and-average (0 or 1 = none). ``mirror``: also encode the horizontally mirrored chip and
    average. ``landmarks``: 5- or 68-point shape model used for the alignment. ``scales``: aligned
    chips taken with the chip's square grown or shrunk about its centre by these factors (1.0 is
    dlib's own chip), all encoded and averaged.
    """

    landmarks: Literal[5, 68] = 5
    jitters: int = 0
    mirror: bool = False
    upscale_to: int = 0
    padding: float = 0.25
    scales: tuple[float, ...] = (1.0,)

    @property
    def passes(self) -> int:
        """Network passes (chips) per image."""
        return len(self.scales) * (2 if self.mirror else 1)

    def key(self) -> str:
        key = (f"lm{self.landmarks}-j{self.jitters}-m{int(self.mirror)}-u{self.upscale_to}"
               f"-p{self.padding:g}")
        if self.scales != (1.0,):
            key += "-s" + ",".join(f"{s:g}" for s in self.scales)
        return key


# Chosen by measurement on LFW fold 1 with ID-card degradation (docs/architecture.md, "Face
# verification"): the card photo is encoded once per patient, six passes (~0.2 s on the desk's
# two face processes, ~0.4 s in one); a live frame takes two, run side by side by them.
ID_PHOTO_METHOD = EncodeMethod(landmarks=5, jitters=0, mirror=True, upscale_to=160,
                               scales=(0.94, 1.0, 1.06))
LIVE_METHOD = EncodeMethod(landmarks=5, jitters=0, mirror=True, upscale_to=0)


@dataclass(frozen=True)
class FaceBox:
    """A detected face in image pixel coordinates."""

    left: int
    top: int
    right: int
    bottom: int
    score: float = 0.0

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def center(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)

    def scaled(self, f: float) -> FaceBox:
        return FaceBox(
            round(self.left * f), round(self.top * f), round(self.right * f), round(self.bottom * f),
            self.score,
        )


def to_rgb(image: np.ndarray, bgr: bool = True) -> np.ndarray:
    """A contiguous uint8 RGB image from BGR/RGB, grey or 4-channel input."""
    import cv2

    img = np.asarray(image)
    if (img.dtype.kind not in "biuf" or img.ndim not in (2, 3) or img.size == 0
            or (img.ndim == 3 and img.shape[2] not in (1, 3, 4))):
        raise BadFrame(detail=f"picture of shape {img.shape}, dtype {img.dtype}")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.dtype != np.uint8:
        img = np.clip(np.nan_to_num(img), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB if bgr else cv2.COLOR_RGBA2RGB)
    elif bgr:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(img)


#: Share of the width and height left out on each side when small faces are looked for.
CENTRE_MARGIN = 0.2
#: Widest picture the CNN detector is given (the middle of a frame, downscaled to this).
THOROUGH_WIDTH = 400


def touches_edge(box: FaceBox, shape: tuple[int, ...]) -> bool:
    """Boxes are clipped to the image: touching its border means part of the face is outside."""
    h, w = shape[:2]
    return box.left <= 0 or box.top <= 0 or box.right >= w or box.bottom >= h


def face_weight(box: FaceBox, shape: tuple[int, ...]) -> float:
    """How much a face looks like the patient's: its area, reduced by up to half as its centre
    moves from the image centre to a corner, and halved when the frame cuts it (someone at the
    side of the counter, half out of view, is not the patient facing the camera)."""
    h, w = shape[:2]
    cx, cy = w / 2, h / 2
    half_diag = max(1.0, float(np.hypot(cx, cy)))
    bx, by = box.center
    off = float(np.hypot(bx - cx, by - cy)) / half_diag
    weight = box.width * box.height * (1.0 - 0.5 * min(1.0, off))
    return weight * 0.5 if touches_edge(box, shape) else weight


def pick_primary(boxes: list[FaceBox], shape: tuple[int, ...]) -> int:
    """Index of the face the patient most likely is (largest :func:`face_weight`), so a bystander
    at the edge loses against the patient in the middle even when a little closer to the lens."""
    return max(range(len(boxes)), key=lambda i: face_weight(boxes[i], shape))


#: The parts of the model: the HOG detector, the 5- and 68-point shape predictors (the 68-point
#: file is 100 MB), the descriptor network.
PARTS = ("detector", 5, 68, "net")


def _load_part(name):  # type: ignore[no-untyped-def]
    try:
        import dlib

        with warnings.catch_warnings():  # its pkg_resources import warns on every start
            warnings.simplefilter("ignore", UserWarning)
            import face_recognition_models as frm
    except ImportError as exc:
        raise FaceModelUnavailable(detail=f"import {exc.name}") from exc
    try:
        if name == "detector":
            return dlib.get_frontal_face_detector()
        if name == 5:
            return dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        if name == 68:
            return dlib.shape_predictor(frm.pose_predictor_model_location())
        if name == "net":
            return dlib.face_recognition_model_v1(frm.face_recognition_model_location())
        if name == "cnn":  # finds turned, tilted and shadowed faces HOG misses, for the last look
            return dlib.cnn_face_detection_model_v1(frm.cnn_face_detector_model_location())
    except RuntimeError as exc:  # dlib raises RuntimeError for unreadable model files
        raise FaceModelUnavailable(detail="model file") from exc
    raise ValueError(f"no model part {name!r}")


class FaceModel:
    """The dlib models, each part loaded on first use; one instance per process is enough."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict = {}  # type: ignore[type-arg]

    def _part(self, name):  # type: ignore[no-untyped-def]
        """A model part, loaded now if it is not yet (callers hold ``self._lock``)."""
        part = self._parts.get(name)
        if part is None:
            part = self._parts[name] = _load_part(name)
        return part

    def load(self, parts: tuple = PARTS) -> None:  # type: ignore[type-arg]
        """Load these parts now (at start-up in a worker) instead of on the first face. A face
        process loads only the network: ~100 MB less than all four."""
        with self._lock:
            for name in parts:
                self._part(name)

    # --- detection ------------------------------------------------------------------------------

    def detect(self, rgb: np.ndarray, upsample: int = 0) -> list[FaceBox]:
        with self._lock:
            rects, scores, _ = self._part("detector").run(rgb, upsample, 0.0)
        h, w = rgb.shape[:2]
        out = []
        for r, s in zip(rects, scores, strict=True):
            box = FaceBox(max(0, r.left()), max(0, r.top()), min(w, r.right()), min(h, r.bottom()),
                          float(s))
            if box.width > 4 and box.height > 4:
                out.append(box)
        return out

    def detect_thorough(self, rgb: np.ndarray, cancel: CancelToken | None = None,
                        ) -> list[FaceBox]:
        """The last look, when HOG found no face in any frame of a patient's window: the CNN
        detector on the middle of the picture (where the patient stands; at most ~400 px wide,
        so it costs well under a second)."""
        import cv2

        check_cancel(cancel)
        h, w = rgb.shape[:2]
        x0, y0 = round(w * CENTRE_MARGIN), round(h * CENTRE_MARGIN)
        centre = np.ascontiguousarray(rgb[y0:h - y0, x0:w - x0])
        f = min(1.0, THOROUGH_WIDTH / max(1, centre.shape[1]))
        if f < 1.0:
            centre = cv2.resize(centre, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        with self._lock:  # ~0.5 s a 250 px picture on one core
            found = self._part("cnn")(centre, 0)
        ch, cw = centre.shape[:2]
        out = []
        for d in found:
            r = d.rect
            left, top = max(0, r.left()), max(0, r.top())
            right, bottom = min(cw, r.right()), min(ch, r.bottom())
            if right - left > 4 and bottom - top > 4:
                out.append(FaceBox(round(left / f) + x0, round(top / f) + y0,
                                   round(right / f) + x0, round(bottom / f) + y0,
                                   float(d.confidence)))
        return out

    def detect_frame(self, rgb: np.ndarray, work_width: int = 320, min_face_px: int = 80,
                     cancel: CancelToken | None = None) -> list[FaceBox]:
        """Faces in a live frame, in the frame's own pixels.

        HOG first runs on a copy ``work_width`` wide (a quarter of the pixels of 640x480; it sees
        faces at least 80/scale px wide, a patient close to the counter), then on one 1.5 times
        wider; only when nothing is found there does it look at full size, and it upsamples (the
        middle of the picture only) when ``min_face_px`` is below dlib's 80 px window."""
        import cv2

        h, w = rgb.shape[:2]
        # e.g. 640 px: 320 (faces >= 160 px), 480 (>= 107 px), then full size (>= 80 px)
        for width in (work_width, round(work_width * 1.5)):
            scale = width / w
            if scale >= 1.0:
                break
            check_cancel(cancel)
            small = cv2.resize(rgb, (width, round(h * scale)), interpolation=cv2.INTER_AREA)
            boxes = self.detect(small, 0)
            if boxes or 80 / scale <= min_face_px:
                return [b.scaled(1 / scale) for b in boxes]
        check_cancel(cancel)
        boxes = self.detect(rgb, 0)
        if boxes or min_face_px >= 80:
            return boxes
        # Faces under HOG's 80 px window: upsample only the middle of the picture, where a
        # patient further from the lens stands (a quarter of the pixels: the cost of one more
        # full-size pass, where upsampling the whole frame would cost four).
        check_cancel(cancel)
        x0, y0 = round(w * CENTRE_MARGIN), round(h * CENTRE_MARGIN)
        centre = np.ascontiguousarray(rgb[y0:h - y0, x0:w - x0])
        return [FaceBox(b.left + x0, b.top + y0, b.right + x0, b.bottom + y0, b.score)
                for b in self.detect(centre, 1)]

    # --- landmarks and descriptors --------------------------------------------------------------

    def landmarks(self, rgb: np.ndarray, box: FaceBox, points: Literal[5, 68] = 68) -> np.ndarray:
        """(N, 2) float array of landmark coordinates."""
        import dlib

        rect = dlib.rectangle(box.left, box.top, box.right, box.bottom)
        with self._lock:
            shape = self._part(points)(rgb, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def sex_chip(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        """The 32 x 32 chip dlib's gender classifier takes (5 landmarks, padding 0.2;
        :mod:`desk_app.faces.sex`)."""
        import dlib

        from desk_app.faces.sex import CHIP_PADDING, CHIP_SIZE

        rect = dlib.rectangle(box.left, box.top, box.right, box.bottom)
        with self._lock:
            shape = self._part(5)(rgb, rect)
            chip = dlib.extract_image_chip(
                rgb, dlib.get_face_chip_details(shape, size=CHIP_SIZE, padding=CHIP_PADDING))
        return np.ascontiguousarray(chip)

    def chips(self, rgb: np.ndarray, box: FaceBox, method: EncodeMethod = LIVE_METHOD,
              ) -> list[np.ndarray]:
        """The aligned 150 x 150 face chips ``method`` asks for (a few milliseconds: landmarks
        and warping, no network), in a fixed order: each scale, then its mirror image."""
        import cv2
        import dlib

        img, b = rgb, box
        if method.upscale_to and b.width < method.upscale_to:
            f = method.upscale_to / max(1, b.width)
            img = cv2.resize(img, (round(img.shape[1] * f), round(img.shape[0] * f)),
                             interpolation=cv2.INTER_LANCZOS4)
            b = b.scaled(f)
        rect = dlib.rectangle(b.left, b.top, b.right, b.bottom)
        out = []
        with self._lock:
            shape = self._part(method.landmarks)(img, rect)
            base = dlib.get_face_chip_details(shape, size=150, padding=method.padding)
            for s in method.scales:
                details = base
                if s != 1.0:
                    r = base.rect
                    cx, cy = (r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2
                    hw, hh = r.width() * s / 2, r.height() * s / 2
                    details = dlib.chip_details(dlib.drectangle(cx - hw, cy - hh, cx + hw, cy + hh),
                                                dlib.chip_dims(150, 150), base.angle)
                chip = dlib.extract_image_chip(img, details)
                out.append(chip)
                if method.mirror:
                    out.append(np.ascontiguousarray(chip[:, ::-1]))
        return out

    def describe(self, chips: list[np.ndarray], jitters: int = 0,
                 cancel: CancelToken | None = None) -> np.ndarray:
        """The mean 128-d descriptor of aligned chips (one network pass each)."""
        vecs = []
        for c in chips:
            check_cancel(cancel)
            with self._lock:
                vecs.append(np.array(self._part("net").compute_face_descriptor(
                    c, max(0, jitters))))
        return np.mean(vecs, axis=0)

    def encode(self, rgb: np.ndarray, box: FaceBox, method: EncodeMethod = LIVE_METHOD,
               cancel: CancelToken | None = None) -> np.ndarray:
        """The 128-d descriptor of the face in ``box``."""
        check_cancel(cancel)
        return self.describe(self.chips(rgb, box, method), method.jitters, cancel)


_MODEL: FaceModel | None = None
_MODEL_LOCK = threading.Lock()


def shared_model() -> FaceModel:
    """The process-wide model (loading the files takes about a second)."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            _MODEL = FaceModel()
        return _MODEL


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
