"""Blink and head-turn checks on synthetic 68-point landmark sequences with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from desk_app.faces.liveness import LivenessSample, check_blink, check_turn
from desk_app.faces.quality import ear, pose


def synthetic_face(eye_open: float = 1.0, yaw: float = 0.0, roll_deg: float = 0.0,
                   scale: float = 1.0) -> np.ndarray:
    """A 68-point face in iBUG order: eyes 60 px apart, eye opening ``eye_open`` of normal,
    nose shifted sideways by ``yaw`` eye distances, rotated by ``roll_deg``."""
    pts = np.zeros((68, 2))
    t = np.linspace(-np.pi * 0.9, np.pi * 0.1, 17)
    pts[0:17] = np.c_[200 + 80 * np.cos(t + np.pi / 2 + np.pi * 0.4), 200 + 90 * np.sin(-t)]
    pts[17:22] = np.c_[np.linspace(135, 185, 5), np.full(5, 150)]
    pts[22:27] = np.c_[np.linspace(215, 265, 5), np.full(5, 150)]
    dx = yaw * 60
    pts[27:31] = np.c_[np.full(4, 200 + dx), np.linspace(170, 215, 4)]
    pts[31:36] = np.c_[np.linspace(185, 215, 5) + dx, np.full(5, 222)]

    def eye(cx: float) -> np.ndarray:
        h = 4.5 * eye_open
        return np.array([[cx - 15, 170], [cx - 5, 170 - h], [cx + 5, 170 - h], [cx + 15, 170],
                         [cx + 5, 170 + h], [cx - 5, 170 + h]])

    pts[36:42] = eye(170)
    pts[42:48] = eye(230)
    a = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    pts[48:60] = np.c_[200 + 25 * np.cos(a), 250 + 10 * np.sin(a)]
    a = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    pts[60:68] = np.c_[200 + 15 * np.cos(a), 250 + 4 * np.sin(a)]
    r = np.radians(roll_deg)
    rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])
    return (pts - 200) @ rot.T * scale + 200


def samples(ears_and_yaws: list[tuple[float, float]]) -> list[LivenessSample]:
    out = []
    for i, (e, y) in enumerate(ears_and_yaws):
        lm = synthetic_face(eye_open=e, yaw=y)
        p = pose(lm)
        out.append(LivenessSample(i * 0.2, ear(lm), p.yaw))
    return out


def test_ear_open_and_closed():
    assert ear(synthetic_face(1.0)) == pytest.approx(0.3, abs=0.01)
    assert ear(synthetic_face(0.1)) < 0.05


def test_pose_is_independent_of_roll_and_scale():
    base = pose(synthetic_face(yaw=0.2))
    tilted = pose(synthetic_face(yaw=0.2, roll_deg=20, scale=1.7))
    assert base.yaw == pytest.approx(0.2, abs=0.01)
    assert tilted.yaw == pytest.approx(base.yaw, abs=0.01)
    assert tilted.roll_deg == pytest.approx(20, abs=0.5)
    assert pose(synthetic_face()).yaw == pytest.approx(0.0, abs=1e-6)


def test_blink_is_seen():
    seq = samples([(1, 0)] * 4 + [(0.2, 0)] * 2 + [(1, 0)] * 3)
    assert check_blink(seq).passed is True


def test_half_closed_eyes_are_not_a_blink():
    seq = samples([(1, 0)] * 4 + [(0.85, 0)] * 2 + [(1, 0)] * 3)
    assert check_blink(seq).passed is None
    result = check_blink(seq, final=True)
    assert result.passed is False and result.code == "liveness_blink_failed"


def test_a_photo_never_blinks():
    seq = samples([(1, 0)] * 12)
    assert check_blink(seq, final=True).passed is False


def test_closed_eyes_that_never_open_again_are_not_a_blink():
    seq = samples([(1, 0)] * 4 + [(0.2, 0)] * 5)
    assert check_blink(seq, final=True).passed is False


def test_too_few_frames_is_pending_not_failed():
    assert check_blink(samples([(1, 0)] * 2), final=True).passed is None


def test_turn_to_the_asked_side():
    # patient's left = image right = positive yaw (frames not mirrored)
    seq = samples([(1, 0.0)] * 3 + [(1, 0.2), (1, 0.4)])
    assert check_turn(seq, "left").passed is True
    assert check_turn(seq, "right").passed is None
    assert check_turn(seq, "right", final=True).passed is False


def test_turn_must_start_frontal():
    # a photo held already turned does not pass
    seq = samples([(1, 0.4)] * 6)
    assert check_turn(seq, "left", final=True).passed is False


def test_small_turn_is_not_enough():
    seq = samples([(1, 0.0)] * 3 + [(1, 0.2)] * 3)
    assert check_turn(seq, "left", final=True).passed is False
