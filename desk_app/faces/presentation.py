"""Passive presentation-attack cue: the edges of a phone or a print around the face.

A photo of the card holder held up to the patient camera (on a phone screen or printed) shows
the face inside a rectangle: the phone's bezel or the paper's margin makes long straight edges
close around the face, on both sides of it, running along it. A person standing at the counter
has a head and shoulders there, and a background farther away.

For each frame with a face, :func:`frame_cue` counts the sides of such a frame around the face
box that the image shows (a long, straight edge left / right of the face spanning half its
height, above / below spanning half its width, within ``reach`` face sizes); a frame showing
``min_sides`` sides is *framed*. The attack is suspected when at least ``share`` of the frames
the face decision compared with the card are framed (:class:`PresentationCheck`).

It costs a few milliseconds per frame and no time of the patient's (no instruction to follow).
It does not see a screen held so close that its edges leave the picture, or a borderless display;
the active checks in :mod:`desk_app.faces.liveness` (blink, head turn) remain for desks that
need them. Parameters chosen with ``python -m benchmarks.liveness_eval`` (see
docs/architecture.md, "Face verification").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from desk_app.errors import Text
from desk_app.faces.engine import FaceBox


@dataclass(frozen=True)
class CueParams:
    """Chosen 2026-12-03 on LFW (the first 50 identities: the most attacks caught with at most
    2 % of genuine sequences flagged) by ``python -m benchmarks.liveness_eval``; figures on
    held-out photos in docs/architecture.md, "Presentation attacks"."""

    reach: float = 1.0  # look this many face widths/heights beyond the face box
    min_length: float = 1.2  # a segment is at least this many face sizes long
    min_sides: int = 2  # sides of a frame around the face for a frame to count as framed
    share: float = 0.3  # an attack when this share of the frames compared is framed (1 of 3)
    min_frames: int = 1  # frames compared before the check says anything


DEFAULT_CUE = CueParams()


@dataclass(frozen=True)
class FrameCue:
    sides: int  # 0..4: left, right, above, below
    left: bool = False
    right: bool = False
    above: bool = False
    below: bool = False


def _segments(gray: np.ndarray, min_len: int) -> np.ndarray:
    med = float(np.median(gray))
    edges = cv2.Canny(gray, max(10.0, 0.66 * med), min(255.0, max(40.0, 1.33 * med)))
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=max(10, min_len // 2),
                            minLineLength=min_len, maxLineGap=max(2, min_len // 12))
    return np.zeros((0, 4), np.int32) if lines is None else lines.reshape(-1, 4)


def frame_cue(gray: np.ndarray, box: FaceBox, params: CueParams = DEFAULT_CUE) -> FrameCue:
    """The sides of a straight-edged frame around ``box`` in a greyscale image."""
    h, w = gray.shape[:2]
    fw, fh = box.right - box.left, box.bottom - box.top
    x0, y0 = max(0, int(box.left - params.reach * fw)), max(0, int(box.top - params.reach * fh))
    x1, y1 = min(w, int(box.right + params.reach * fw)), min(h, int(box.bottom + params.reach * fh))
    roi = gray[y0:y1, x0:x1]
    if roi.size == 0:
        return FrameCue(0)
    min_len = max(12, int(params.min_length * min(fw, fh)))
    found = [False] * 4  # left, right, above, below
    for ax, ay, bx, by in _segments(roi, min_len):
        ax, bx, ay, by = ax + x0, bx + x0, ay + y0, by + y0
        dx, dy = abs(bx - ax), abs(by - ay)
        if dy > 2.5 * dx:  # near vertical: beside the face, running along it
            side = _side((ax + bx) / 2, (ay, by), (box.top, box.bottom), (box.left, box.right),
                         (0.15, 0.15))
            if side is not None:
                found[side] = True
        elif dx > 2.5 * dy:  # near horizontal: above (clear of the hair) or below the face
            side = _side((ay + by) / 2, (ax, bx), (box.left, box.right), (box.top, box.bottom),
                         (0.35, 0.15))
            if side is not None:
                found[2 + side] = True
    return FrameCue(sum(found), *found)


def _side(pos: float, span: tuple[int, int], along: tuple[int, int], across: tuple[int, int],
          margins: tuple[float, float]) -> int | None:
    """0 (before the face), 1 (after it) or None for a segment at ``pos`` across the face's
    axis, running over ``span`` along it: it must cover half the face's extent ``along``."""
    extent = along[1] - along[0]
    if min(max(span), along[1]) - max(min(span), along[0]) < 0.5 * extent:
        return None
    size = across[1] - across[0]
    if pos < across[0] - margins[0] * size:
        return 0
    if pos > across[1] + margins[1] * size:
        return 1
    return None


def to_gray(rgb: np.ndarray) -> np.ndarray:
    return rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


FAILED_TEXT = Text("人脸周围有手机或照片的边框, 可能是照片或屏幕, 请人工核对。",
                   "The face is framed by the edges of a phone or a photo: this may be a photo "
                   "or a screen. Please check in person.")
PASSED_TEXT = Text("未发现手机或照片边框。", "No phone or photo edges around the face.")


@dataclass(frozen=True)
class PresentationCheck:
    """The cue for a desk's face session: each frame with a face is marked ``framed`` or not
    (:meth:`framed`); the verdict is over the frames the face decision used (:meth:`verdict`),
    so the check judges the very faces that were compared with the card, not the person who
    walked up before holding a phone in front of the camera."""

    params: CueParams = DEFAULT_CUE

    def framed(self, rgb: np.ndarray, box: FaceBox) -> bool:
        return frame_cue(to_gray(rgb), box, self.params).sides >= self.params.min_sides

    def verdict(self, framed: Sequence[bool]) -> bool | None:
        """True: looks like a live face; False: a phone or a print; None: no frame to judge."""
        return sequence_verdict(framed, self.params)


def sequence_verdict(framed: Sequence[bool], params: CueParams = DEFAULT_CUE) -> bool | None:
    """Over the frames compared: an attack when at least ``share`` of them are framed."""
    if len(framed) < params.min_frames:
        return None
    return sum(framed) < params.share * len(framed)
