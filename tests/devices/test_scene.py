"""The scene player: deterministic pictures, views for one- and two-camera desks, and a QR on
a phone (light and dark mode) that the real reader decodes from the composed 720p frame."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from devices.camera import (
    CameraConfigError,
    CameraState,
    CameraWorker,
    ScenePlayer,
    SceneStep,
    card,
    checkin_script,
    face,
    phone,
)
from devices.qr import QrReader

# As long as a real booking token (RNB1: + compact JWS, ~520 characters).
TOKEN = "RNB1:" + base64.urlsafe_b64encode(bytes(range(200)) * 2).decode().rstrip("=")


def _face_img() -> np.ndarray:
    img = np.full((250, 200, 3), (90, 120, 160), np.uint8)
    img[60:190, 50:150] = (150, 170, 200)
    return img


def _card_img() -> np.ndarray:
    img = np.full((540, 856, 3), (230, 225, 215), np.uint8)
    img[80:400, 560:800] = (180, 180, 180)
    return img


def test_script_is_a_plain_list_and_times_map_to_steps():
    script = checkin_script(_face_img(), _card_img(), "HELLO")
    names = [s.name for s in script]
    assert names == ["empty desk", "patient walks up", "shows QR", "puts card down",
                     "looks at camera"]
    sp = ScenePlayer(script, width=320, height=180)
    assert sp.duration_s == pytest.approx(sum(s.duration_s for s in script))
    t = sp.start_of("shows QR")
    assert sp.step_at(t + 0.01)[1].name == "shows QR"
    assert sp.step_at(sp.duration_s + t + 0.01)[1].name == "shows QR"  # loops


def test_render_is_deterministic_and_moves_over_a_step():
    script = [SceneStep("walk", 2.0, (face(_face_img(), at=(0.2, 0.5), to=(0.8, 0.5)),),
                        blur=1.0, noise=4.0)]
    a, b = ScenePlayer(script, width=320, height=180), ScenePlayer(script, width=320, height=180)
    assert np.array_equal(a.render(0.5, frame_index=3), b.render(0.5, frame_index=3))
    start, end = a.render(0.0), a.render(1.99)
    assert start.shape == (180, 320, 3) and start.dtype == np.uint8
    # The face moved from the left third to the right third of the frame (a person is drawn
    # as a soft ellipse, not the photo's rectangle: a little less of each third changes).
    diff_left = np.abs(start[:, :100].astype(int) - end[:, :100]).mean()
    diff_right = np.abs(start[:, 220:].astype(int) - end[:, 220:]).mean()
    assert diff_left > 6 and diff_right > 6
    # Noise differs from frame to frame (a live camera is never still).
    assert not np.array_equal(a.render(0.5, frame_index=3), a.render(0.5, frame_index=4))


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark-mode"])
def test_qr_on_the_phone_is_readable_from_a_composed_720p_frame(dark: bool):
    sp = ScenePlayer(checkin_script(_face_img(), _card_img(), TOKEN, dark_phone=dark),
                     width=1280, height=720)
    reader = QrReader()
    t0 = sp.start_of("shows QR")
    read = 0
    for k in range(6):
        res = reader.read(sp.render(t0 + 0.3 + k * 0.35, frame_index=k))
        assert all(c.text == TOKEN for c in res.codes), "never a wrong text"
        read += any(c.text == TOKEN for c in res.codes)
    assert read >= 5
    # Nothing to read while the patient walks up.
    assert reader.read(sp.render(sp.start_of("patient walks up") + 0.5)).codes == ()


def test_two_camera_views_split_the_scene():
    script = checkin_script(_face_img(), _card_img(), TOKEN)
    patient = ScenePlayer(script, view="patient")
    counter = ScenePlayer(script, view="counter")
    both = ScenePlayer(script, view="both")
    t = patient.start_of("shows QR") + 1.0
    reader = QrReader()
    assert reader.read(patient.render(t)).codes == ()  # the patient camera never sees the phone
    assert [c.text for c in reader.read(counter.render(t)).codes] == [TOKEN]
    # The face is on the patient view and absent from the counter view.
    t_face = patient.start_of("looks at camera") + 2.5
    bg = ScenePlayer([SceneStep("empty", 1.0)], view="both").render(0)
    assert np.abs(patient.render(t_face).astype(int) - bg).mean() > 5
    assert np.abs(counter.render(t_face).astype(int) - bg).mean() < 3  # only sensor noise
    assert np.abs(both.render(t_face).astype(int) - bg).mean() > 5


def test_face_photo_and_card_from_files(faces_dir: Path, tmp_path: Path):
    photos = sorted(faces_dir.glob("*.jpg"))[:2]
    sp = ScenePlayer([SceneStep("card", 1.0, (card(photos[1]), face(photos[0], at=(0.2, 0.4))))],
                     width=640, height=360)
    img = sp.render(0.5)
    assert img.shape == (360, 640, 3)
    with pytest.raises(CameraConfigError):
        ScenePlayer([SceneStep("x", 1.0, (face(tmp_path / "missing.jpg"),))]).render(0)


def test_bad_scripts_are_config_errors():
    with pytest.raises(CameraConfigError):
        ScenePlayer([])
    with pytest.raises(CameraConfigError):
        ScenePlayer([SceneStep("x", 0.0)])
    with pytest.raises(CameraConfigError):
        ScenePlayer([SceneStep("x", 1.0, (phone("x" * 5000),))]).render(0)


def test_scene_player_runs_as_a_camera():
    sp = ScenePlayer([SceneStep("a", 0.2, (), noise=2), SceneStep("b", 0.2, (phone("HI"),))],
                     width=320, height=180, fps=50)
    with CameraWorker(sp) as cam:
        sub = cam.subscribe()
        frames = [sub.get(timeout=3) for _ in range(5)]
        assert cam.state is CameraState.RUNNING
    assert all(f is not None and f.image.shape == (180, 320, 3) for f in frames)
    assert cam.state is CameraState.STOPPED


@pytest.mark.faces
def test_face_in_the_patient_view_is_found_by_the_face_detector(faces_dir: Path):
    import cv2
    import face_recognition

    photo = faces_dir / "obama-1080p.jpg"
    if not photo.is_file():
        photo = sorted(faces_dir.glob("*.jpg"))[0]
    sp = ScenePlayer(checkin_script(photo, _card_img(), TOKEN), view="patient")
    img = sp.render(sp.start_of("looks at camera") + 2.9)
    boxes = face_recognition.face_locations(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    assert len(boxes) == 1
    top, right, bottom, left = boxes[0]
    assert bottom - top >= 80  # HOG finds it at full size (FacesSection.min_face_px is 60)


def test_a_person_has_no_rectangular_border_but_a_held_photo_does():
    """A face layer fades out in an ellipse (a person in front of the camera); the screen and
    print layers show the photo inside a phone's bezel or a paper margin, held by a hand."""
    from devices.camera.scene import printed, screen

    photo = np.full((200, 160, 3), 200, np.uint8)
    frames = {}
    for name, layer in (("face", face(photo, at=(0.5, 0.5), size=0.8)),
                        ("screen", screen(photo, at=(0.5, 0.5), size=0.8)),
                        ("print", printed(photo, at=(0.5, 0.5), size=0.8))):
        sp = ScenePlayer([SceneStep("x", 1.0, (layer,))], width=320, height=240, view="patient")
        frames[name] = sp.render(0.0).astype(int)
        assert layer.camera == "patient"
    bg = ScenePlayer([SceneStep("x", 1.0, ())], width=320, height=240).render(0.0).astype(int)
    # the sprite is 192 px tall, 154 wide (face), centred: its corner shows the background
    # for a face, the dark bezel for a phone, the white margin for a print
    corner = (120 - 92, 160 - 73)
    assert np.abs(frames["face"][corner] - bg[corner]).max() < 8
    assert frames["face"][120, 160].mean() == pytest.approx(200, abs=3)
    # the phone is 96 px wide: its left bezel (4 px) runs down x = 112..115
    assert frames["screen"][90:110, 112:115].mean() < 60
    assert frames["screen"][90:110, 130:190].mean() > 150  # the photo on the screen
    assert frames["print"][30, 160].mean() > 225  # the paper's top margin
