"""Detection details: small faces in the middle, faces cut by the frame edge, the card-style
portrait around a face; the chips an encoding method asks for."""

from __future__ import annotations

import numpy as np
import pytest

from desk_app.faces.degrade import ID_PHOTO_SIZE, card_portrait
from desk_app.faces.engine import (
    ID_PHOTO_METHOD,
    LIVE_METHOD,
    EncodeMethod,
    FaceBox,
    face_distance,
    face_weight,
    pick_primary,
    touches_edge,
)

pytestmark = pytest.mark.faces


def frame_with(face: np.ndarray, x0: int, y0: int) -> np.ndarray:
    out = np.full((480, 640, 3), 110, np.uint8)
    out[y0:y0 + face.shape[0], x0:x0 + face.shape[1]] = face
    return out


def test_a_small_face_in_the_middle_is_found_only_below_the_hog_window(model, photo):
    small = photo("obama_small.jpg", 124)  # HOG's 80 px window misses this face at full size
    centred = frame_with(small, (640 - small.shape[1]) // 2, (480 - small.shape[0]) // 2)
    assert model.detect_frame(centred, min_face_px=80) == []
    boxes = model.detect_frame(centred, min_face_px=60)
    assert len(boxes) == 1
    b = boxes[0]
    assert 35 <= b.width < 80 and abs(b.center[0] - 320) < 40 and abs(b.center[1] - 240) < 60


def test_small_faces_are_looked_for_in_the_middle_only(model, photo):
    small = photo("obama_small.jpg", 124)
    corner = frame_with(small, 0, 0)  # someone small at the edge is not a patient at the counter
    assert model.detect_frame(corner, min_face_px=60) == []
    assert model.detect(corner, 1)  # upsampling the whole frame would have found it


def test_a_face_cut_by_the_frame_weighs_half_and_loses_to_the_centred_patient():
    shape = (480, 640, 3)
    inside = FaceBox(200, 100, 300, 200)
    cut = FaceBox(540, 100, 640, 200)  # clipped at the right border
    assert touches_edge(cut, shape) and not touches_edge(inside, shape)
    moved = FaceBox(539, 100, 639, 200)  # the same place, one pixel inside
    assert face_weight(cut, shape) == pytest.approx(face_weight(moved, shape) / 2, rel=0.02)
    big_cut = FaceBox(500, 60, 640, 220)  # larger than the patient, but half out of view
    patient = FaceBox(270, 140, 370, 240)
    assert pick_primary([big_cut, patient], shape) == 1


def test_card_portrait_places_the_face_like_a_card_photo(model, photo):
    rgb = photo("obama.jpg")
    box = model.detect(rgb, 0)[0]
    portrait, inside = card_portrait(rgb, box)
    assert portrait.shape == (ID_PHOTO_SIZE[1], ID_PHOTO_SIZE[0], 3)
    assert abs(inside.width - ID_PHOTO_SIZE[0] / 2) <= 2
    assert abs(inside.center[0] - ID_PHOTO_SIZE[0] / 2) <= 2
    assert abs(inside.center[1] - 0.48 * ID_PHOTO_SIZE[1]) <= 2


def test_chips_are_dlibs_aligned_chip_its_mirror_and_the_rescaled_squares(model, photo):
    """Scale 1.0 is dlib's own aligned chip; the other scales show the same face a little
    smaller or larger (same centre); mirror images follow their chip; the descriptor of a
    method is the mean over its chips."""
    import dlib

    rgb = photo("obama.jpg")
    box = model.detect(rgb, 0)[0]
    rect = dlib.rectangle(box.left, box.top, box.right, box.bottom)
    shape = model._part(5)(rgb, rect)
    dlib_chip = dlib.get_face_chip(rgb, shape, size=150, padding=0.25)

    plain = model.chips(rgb, box, EncodeMethod())
    assert len(plain) == 1 and np.array_equal(plain[0], dlib_chip)
    live = model.chips(rgb, box, LIVE_METHOD)
    assert len(live) == 2 and np.array_equal(live[1], dlib_chip[:, ::-1])

    scaled = model.chips(rgb, box, EncodeMethod(scales=(0.94, 1.0, 1.06)))
    assert len(scaled) == 3 and np.array_equal(scaled[1], dlib_chip)
    # a larger square shows more around the face: the face itself is smaller in the chip
    assert not np.array_equal(scaled[0], scaled[2])
    widths = []
    for chip in scaled:
        found = model.detect(np.ascontiguousarray(chip), 1)
        assert len(found) == 1
        widths.append(found[0].width)
    assert widths[0] > widths[2]

    vec = model.encode(rgb, box, ID_PHOTO_METHOD)
    assert np.allclose(vec, model.describe(model.chips(rgb, box, ID_PHOTO_METHOD)))
    assert face_distance(vec, model.encode(rgb, box, EncodeMethod())) < 0.15


def test_method_keys_tell_the_cached_encodings_apart():
    keys = {m.key() for m in (EncodeMethod(), LIVE_METHOD, ID_PHOTO_METHOD,
                              EncodeMethod(scales=(0.9, 1.0, 1.1)))}
    assert len(keys) == 4
    assert EncodeMethod().key() == "lm5-j0-m0-u0-p0.25"  # the keys cached before scales came
    assert ID_PHOTO_METHOD.key().endswith("-s0.94,1,1.06") and ID_PHOTO_METHOD.passes == 6
