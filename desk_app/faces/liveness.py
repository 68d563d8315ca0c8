"""Optional active liveness: a printed photo or a phone screen does not blink or turn its head.

Both checks read landmark figures over the frames of the window (every frame with a face, not
only those that pass the quality gate: a turned head fails the frontal test by design):

* **blink**: the eye aspect ratio (EAR) drops well below the person's own open-eye level and
  comes back. Relative to the person's median, so narrow eyes and glasses do not fail;
* **turn**: the patient is asked to turn the head to one side; the yaw ratio (see
  :mod:`desk_app.faces.quality`) must go from frontal past ``turn_yaw`` on the asked side.
  Frames are taken as the camera sees them, not mirrored: the patient's left is the image right
  (positive yaw).

A third, passive check needs nothing from the patient: **passive** looks for the edges of a
phone or a print around the face (:mod:`desk_app.faces.presentation`). It is the default since
2026-12 (``FacesSection.liveness``: "passive"; "blink", "turn" or "off" per desk). A failure is a
reason in the verdict, never a silent reject: a clerk looks.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from desk_app.errors import Text

PROMPTS = {
    "blink": Text("请眨一下眼睛。", "Please blink once."),
    "left": Text("请把头慢慢转向您的左边, 再转回来。", "Please turn your head slowly to your left, then back."),
    "right": Text("请把头慢慢转向您的右边, 再转回来。", "Please turn your head slowly to your right, then back."),
}


@dataclass(frozen=True)
class LivenessSample:
    timestamp: float
    ear: float
    yaw: float


@dataclass(frozen=True)
class LivenessResult:
    """``passed`` is None while the check has not seen enough frames to say."""

    kind: Literal["blink", "turn", "passive"]
    passed: bool | None
    text: Text

    @property
    def asks_patient(self) -> bool:
        """An instruction for the patient is on screen while the check runs (blink, turn)."""
        return self.kind != "passive" and self.passed is None

    @property
    def code(self) -> str:
        """Reason code for the verdict."""
        state = "pending" if self.passed is None else ("passed" if self.passed else "failed")
        return f"liveness_{self.kind}_{state}"


BLINK_CLOSED_SHARE = 0.70  # EAR below this share of the open level counts as closed
BLINK_OPEN_SHARE = 0.88
BLINK_MIN_SAMPLES = 6
TURN_YAW = 0.30
FRONTAL_YAW = 0.12


def check_blink(samples: Sequence[LivenessSample], final: bool = False) -> LivenessResult:
    """A blink: open, then at least one closed sample, then open again."""
    if len(samples) >= 3:
        open_level = statistics.median(s.ear for s in samples)
        closed_at = BLINK_CLOSED_SHARE * open_level
        open_at = BLINK_OPEN_SHARE * open_level
        state = "start"
        for s in samples:
            if state == "start" and s.ear >= open_at:
                state = "open"
            elif state == "open" and s.ear <= closed_at:
                state = "closed"
            elif state == "closed" and s.ear >= open_at:
                return LivenessResult("blink", True, Text("已检测到眨眼。", "Blink seen."))
    if final and len(samples) >= BLINK_MIN_SAMPLES:
        return LivenessResult("blink", False, Text(
            "未检测到眨眼, 可能是照片或屏幕, 请人工核对。",
            "No blink seen: this may be a photo or a screen. Please check in person.",
        ))
    if final:
        return LivenessResult("blink", None, Text(
            "画面太少, 未能完成眨眼检测。", "Too few frames to check for a blink."))
    return LivenessResult("blink", None, PROMPTS["blink"])


def check_turn(samples: Sequence[LivenessSample], direction: Literal["left", "right"],
               final: bool = False) -> LivenessResult:
    """Frontal first, then turned past TURN_YAW to the asked side."""
    sign = 1.0 if direction == "left" else -1.0
    seen_frontal = False
    for s in samples:
        if abs(s.yaw) <= FRONTAL_YAW:
            seen_frontal = True
        elif seen_frontal and sign * s.yaw >= TURN_YAW:
            return LivenessResult("turn", True, Text("已完成转头。", "Head turn seen."))
    if final and samples:
        return LivenessResult("turn", False, Text(
            "未按提示转头, 可能是照片或屏幕, 请人工核对。",
            "The head did not turn as asked: this may be a photo or a screen. Please check in person.",
        ))
    return LivenessResult("turn", None, PROMPTS[direction])


def check_presentation(verdict: bool | None, final: bool = False) -> LivenessResult:
    """The passive cue's verdict (:class:`desk_app.faces.presentation.PresentationCheck`)."""
    from desk_app.faces.presentation import FAILED_TEXT, PASSED_TEXT

    if verdict is None:
        return LivenessResult("passive", None, Text(
            "画面太少, 未能完成活体检测。", "Too few frames for the liveness check.")
            if final else PASSED_TEXT)
    return LivenessResult("passive", verdict, PASSED_TEXT if verdict else FAILED_TEXT)
