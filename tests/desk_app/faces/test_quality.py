"""The quality gate on real photos, and on real photos spoiled in known ways."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from desk_app.faces.quality import QualityLimits, assess
from desk_app.faces.verify import judge_frame

pytestmark = pytest.mark.faces

LIMITS = QualityLimits(min_face_px=80)


def codes(report) -> set[str]:
    return {h.code for h in report.hints}


def test_a_good_portrait_passes(model, photo):
    q = judge_frame(photo("obama_small.jpg"), model, LIMITS)
    assert q.ok, codes(q)
    assert q.face_px >= 80 and abs(q.pose.yaw) < 0.1
    assert q.hints == ()
    assert 0.15 < q.ear < 0.45


def test_two_people_side_by_side_are_refused_with_a_hint(model, photo):
    q = judge_frame(photo("two_people.jpg", 800), model, LIMITS)
    assert not q.ok and "several_faces" in codes(q)
    text = next(h.text for h in q.hints if h.code == "several_faces")
    assert "患者本人" in text.zh and "Only the patient" in text.en


def test_a_small_face_behind_the_patient_is_ignored(model, photo):
    frame = np.full((480, 640, 3), 120, np.uint8)
    patient = photo("obama_small.jpg", 400)  # face about 130 px
    frame[60:60 + patient.shape[0], 120:520] = patient
    behind = photo("biden2.jpg", 150)  # face about 55 px, at the edge
    frame[0:150, 490:640] = behind[:150]
    boxes = model.detect(frame, 1)
    assert len(boxes) == 2  # both are seen at full size ...
    q = assess(frame, boxes, lambda b: model.landmarks(frame, b, 68), LIMITS)
    assert q.ok, codes(q)  # ... but the patient is the one judged
    assert q.box.left > 120 and q.box.right < 520


def test_too_small_face_asks_to_come_closer(model, photo):
    q = judge_frame(photo("obama-240p.jpg"), model, LIMITS)  # face about 72 px
    assert "too_small" in codes(q)
    assert not judge_frame(photo("obama-240p.jpg"), model, QualityLimits(min_face_px=60)).hints


def test_face_cut_by_the_frame_edge(model, photo):
    q = judge_frame(photo("obama_partial_face.jpg", 400), model, LIMITS)
    assert "off_frame" in codes(q)


def test_dark_bright_and_blurred_frames(model, photo):
    img = photo("obama_small.jpg")
    dark = (img * 0.25).astype(np.uint8)
    bright = np.clip(img.astype(int) + 120, 0, 255).astype(np.uint8)
    blurred = cv2.GaussianBlur(img, (0, 0), 3.0)
    assert "too_dark" in codes(judge_frame(dark, model, LIMITS))
    assert "too_bright" in codes(judge_frame(bright, model, LIMITS))
    q = judge_frame(blurred, model, LIMITS)
    assert "blurry" in codes(q), (q.sharpness, codes(q))


def test_no_face(model):
    q = judge_frame(np.full((480, 640, 3), 90, np.uint8), model, LIMITS)
    assert not q.ok and codes(q) == {"no_face"} and q.box is None


def test_pose_from_real_landmarks_flips_with_the_mirror_image(model, photo):
    img = photo("obama2.jpg", 400)
    q = judge_frame(img, model, LIMITS)
    qm = judge_frame(np.ascontiguousarray(img[:, ::-1]), model, LIMITS)
    assert abs(q.pose.yaw) > 0.1
    assert qm.pose.yaw == pytest.approx(-q.pose.yaw, abs=0.06)
