"""The quality gate for live frames: is this frame worth comparing, and if not, what to tell?

A frame passes when it shows exactly one dominant face (bystanders further back are ignored),
large enough, sharp, neither too dark nor too bright, and turned towards the camera. Every
failure comes with a hint in words a clerk can repeat to the patient ("请靠近一点").

The pose figures come from the 68 landmarks, as ratios that do not depend on the face size:

* ``yaw``: how far the nose tip sits from the middle of the eyes, over the eye distance
  (0 frontal; about +-0.35 at a 30 degree turn; positive = nose towards image right);
* ``pitch``: nose tip height between the eye line and the mouth, 0.5 when level;
* ``roll``: angle of the eye line in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from desk_app.errors import Text
from desk_app.faces.engine import FaceBox, face_weight, pick_primary, touches_edge


@dataclass(frozen=True)
class Hint:
    """One reason a frame was not used, for the clerk's screen and the log."""

    code: str
    text: Text


HINTS = {
    "no_face": Text("未检测到人脸, 请正对摄像头。", "No face seen. Please face the camera."),
    "several_faces": Text(
        "画面中有多人, 请只留患者本人在摄像头前。",
        "More than one person in view. Only the patient should face the camera.",
    ),
    "too_small": Text("人脸太小, 请靠近摄像头。", "The face is too small. Please come closer."),
    "off_frame": Text("人脸不完整, 请移到画面中央。", "The face is cut off. Please move to the centre."),
    "blurry": Text("画面模糊, 请保持不动。", "The picture is blurred. Please hold still."),
    "too_dark": Text("光线太暗, 请打开灯或面向光源。", "Too dark. Please turn on a light or face the light."),
    "too_bright": Text("光线太强, 请避开强光。", "Too bright. Please move out of the glare."),
    "not_frontal": Text("请正视摄像头, 不要侧脸或低头。", "Please look straight at the camera."),
}


def hint(code: str) -> Hint:
    return Hint(code, HINTS[code])


@dataclass(frozen=True)
class QualityLimits:
    """Gate thresholds; ``min_face_px`` comes from the desk's settings (FacesSection)."""

    min_face_px: int = 80
    # Variance of the Laplacian of the face, grey, resized to 112 px wide (scale-free).
    min_sharpness: float = 40.0
    min_brightness: float = 50.0  # mean grey level of the face, 0..255
    max_brightness: float = 210.0
    max_yaw: float = 0.25
    pitch_range: tuple[float, float] = (0.25, 0.75)
    max_roll_deg: float = 25.0
    # A second face weighing (area, less for being off-centre) at least this share of the
    # primary's means two people at the counter; lighter ones are people further back.
    bystander_share: float = 0.6


@dataclass(frozen=True)
class Pose:
    yaw: float
    pitch: float
    roll_deg: float


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """Soukupova & Cech's EAR for 6 eye landmarks: about 0.3 open, below 0.2 closed."""
    a = np.linalg.norm(eye[1] - eye[5])
    b = np.linalg.norm(eye[2] - eye[4])
    c = np.linalg.norm(eye[0] - eye[3])
    return float((a + b) / (2.0 * c)) if c > 1e-6 else 0.0


def ear(landmarks68: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes."""
    return (eye_aspect_ratio(landmarks68[36:42]) + eye_aspect_ratio(landmarks68[42:48])) / 2


def pose(landmarks68: np.ndarray) -> Pose:
    lm = np.asarray(landmarks68, dtype=np.float64)
    left_eye = lm[36:42].mean(axis=0)
    right_eye = lm[42:48].mean(axis=0)
    eye_mid = (left_eye + right_eye) / 2
    eye_vec = right_eye - left_eye
    eye_dist = float(np.linalg.norm(eye_vec)) or 1.0
    nose = lm[30]
    mouth = lm[48:68].mean(axis=0)
    # Project on the face's own axes so a tilted head does not read as a turned one.
    ux = eye_vec / eye_dist
    uy = np.array([-ux[1], ux[0]])
    yaw = float(np.dot(nose - eye_mid, ux)) / eye_dist
    down = float(np.dot(mouth - eye_mid, uy)) or 1.0
    pitch = float(np.dot(nose - eye_mid, uy)) / down
    roll = float(np.degrees(np.arctan2(eye_vec[1], eye_vec[0])))
    return Pose(yaw, pitch, roll)


def sharpness(grey_face: np.ndarray) -> float:
    import cv2

    h, w = grey_face.shape[:2]
    if w < 8 or h < 8:
        return 0.0
    f = 112 / w
    norm = cv2.resize(grey_face, (112, max(8, round(h * f))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(norm, cv2.CV_64F).var())


@dataclass(frozen=True)
class QualityReport:
    ok: bool
    box: FaceBox | None
    hints: tuple[Hint, ...] = ()
    face_px: int = 0
    sharpness: float = 0.0
    brightness: float = 0.0
    pose: Pose | None = None
    ear: float | None = None
    landmarks: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def score(self) -> float:
        """Ranking among passing frames: frontal, sharp and large first."""
        if self.box is None or self.pose is None:
            return 0.0
        frontal = max(0.0, 1.0 - abs(self.pose.yaw) / 0.5)
        sharp = min(1.0, self.sharpness / 200.0)
        size = min(1.0, self.face_px / 200.0)
        return 0.5 * frontal + 0.3 * sharp + 0.2 * size


def assess(rgb: np.ndarray, boxes: list[FaceBox], landmarks_of, limits: QualityLimits) -> QualityReport:
    """Judge one frame. ``landmarks_of(box)`` returns the 68 landmarks of a box (the model's)."""
    import cv2

    if not boxes:
        return QualityReport(False, None, (hint("no_face"),))
    primary_i = pick_primary(boxes, rgb.shape)
    box = boxes[primary_i]
    hints: list[Hint] = []
    weight = face_weight(box, rgb.shape)
    if any(i != primary_i and face_weight(b, rgb.shape) >= limits.bystander_share * weight
           for i, b in enumerate(boxes)):
        hints.append(hint("several_faces"))
    face_px = min(box.width, box.height)
    if face_px < limits.min_face_px:
        hints.append(hint("too_small"))
    if touches_edge(box, rgb.shape):
        hints.append(hint("off_frame"))
    grey = cv2.cvtColor(rgb[box.top:box.bottom, box.left:box.right], cv2.COLOR_RGB2GRAY)
    sharp = sharpness(grey)
    bright = float(grey.mean()) if grey.size else 0.0
    if bright < limits.min_brightness:
        hints.append(hint("too_dark"))
    elif bright > limits.max_brightness:
        hints.append(hint("too_bright"))
    elif sharp < limits.min_sharpness:
        hints.append(hint("blurry"))
    lm = landmarks_of(box)
    p = pose(lm)
    if (abs(p.yaw) > limits.max_yaw or not limits.pitch_range[0] <= p.pitch <= limits.pitch_range[1]
            or abs(p.roll_deg) > limits.max_roll_deg):
        hints.append(hint("not_frontal"))
    return QualityReport(not hints, box, tuple(hints), face_px, sharp, bright, p, ear(lm), lm)
