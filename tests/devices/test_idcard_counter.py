"""ID cards as a counter camera sees them (issue 19): both card kinds the desk reads (resident
card; foreigner's permanent residence card 2017 and 2023), under glare, blur, low light, a
finger over a corner, JPEG, a phone screen, a busy counter -- read exactly, reported as
failing their check, or missed; never a wrong number. The set's seed is one no threshold was
tuned on (the generator and the locator were set up on seed 101)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from desk_app.cli import main as cli_main
from desk_app.identity import parse_id_number
from devices.idcard.camera_reader import CameraCardReader, card_number
from devices.idcard.locate import find_card
from devices.idcard.ocr import LineText
from devices.idcard.scenes import COUNTER_EFFECTS, counter_frame
from devices.idcard.synthetic import (
    CARD_KINDS,
    make_set,
    random_card_person,
    render_card,
)
from devices.idcard.types import printed_number_ok
from tests.devices.card_frames import corners_near

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def reader() -> CameraCardReader:
    return CameraCardReader()


def test_card_number_from_an_ocr_line():
    assert card_number(LineText("11010519900307123X", 0.9, "11010519900307123X")) == \
        "11010519900307123X"
    # The 2017 foreigner's card: letters kept; 0/O told apart by position only.
    assert card_number(LineText("", 0.9, "K0R310195031374")) == "KOR310195031374"
    assert card_number(LineText("", 0.9, "CardNo. USA11O190030735")) == "USA110190030735"
    for raw in ("USA11019003073", "US4110190030735", "12345", ""):
        assert card_number(LineText("", 0.9, raw)) == "", raw


def test_foreign_cards_have_their_numbers(faces_dir: Path):
    rng = np.random.default_rng(5)
    for kind, length in (("foreign_2017", 15), ("foreign_2023", 18)):
        p = random_card_person(rng, kind)
        assert len(p.id_number) == length and p.check_digit_valid
        assert parse_id_number(p.id_number).kind.value.startswith("foreign_permanent")
        bad = random_card_person(rng, kind, valid=False)
        assert not printed_number_ok(bad.id_number)


def test_finger_over_a_corner_still_finds_the_card(faces_dir: Path):
    """The outline from the card's four longest straight sides, snapped to its edges (measured
    on 30 frames, 2026-12-03: corners found 19/30 with a finger over one, 0/30 before;
    strong perspective 30/30, 26/30 before)."""
    rng = np.random.default_rng(7)
    photo = cv2.imread(str(faces_dir / "obama.jpg"))
    hits = 0
    for _ in range(12):
        card = render_card(random_card_person(rng, "resident"), photo)
        frame, corners = counter_frame(card, rng, "finger")
        view = find_card(frame)
        hits += view is not None and corners_near(view.corners, corners)
    assert hits >= 6


def test_every_kind_and_effect_on_held_out_frames(tmp_path: Path, faces_dir: Path, capsys):
    """Measured 2026-12-03 on 96 frames of seed 20261203 (architecture.md): 96 correct with
    the number-line search (93 before: 83 valid numbers of 86 read exactly), the 10 failing
    check digits all reported, 0 wrong. Here a smaller set of another seed."""
    n = len(CARD_KINDS) * len(COUNTER_EFFECTS)
    index = make_set(tmp_path, faces_dir, n, invalid=0.12, seed=777, counter=True)
    assert cli_main(["eval", "idcards", str(index), "--json"]) == 0
    s = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert s["images"] == n and s["errors"] == 0
    assert s["wrong"] == 0
    assert s["correct"] >= 0.75 * n, s
    assert set(s["by_kind"]) == set(CARD_KINDS) and set(s["by_effect"]) == set(COUNTER_EFFECTS)
    assert s["checksum_reported"] >= 1  # a failing check digit is reported, never "corrected"


def test_failing_check_digit_on_a_2017_card_is_reported(reader, faces_dir: Path):
    rng = np.random.default_rng(9)
    photo = cv2.imread(str(faces_dir / "biden.jpg"))
    bad = random_card_person(rng, "foreign_2017", valid=False)
    frame, _ = counter_frame(render_card(bad, photo), rng, "perspective")
    r = reader.read_frame(frame)
    assert r.status in ("checksum", "no_number"), r  # never "ok" with another number
    if r.status == "checksum":
        assert r.text == bad.id_number


def test_a_card_the_outlines_miss_is_found_by_its_number_line(reader, faces_dir: Path):
    """Busy counters and fingers (seed 31, not one the layout was measured on): where the
    card's outline gives no valid number, the text detector finds its number line in the
    whole frame; the number is read exactly, the card's corners follow roughly from where the
    line lies (within a tenth of the frame's width: the line is thin and the card tilted; the
    preview's outline, not the read, depends on them), and its portrait holds the card's face. No frame gives a wrong number either way."""
    import face_recognition

    rng = np.random.default_rng(31)
    photo = cv2.imread(str(faces_dir / "obama.jpg"))
    rescued = 0
    for i in range(24):
        kind = CARD_KINDS[i % len(CARD_KINDS)]
        person = random_card_person(rng, kind)
        frame, corners = counter_frame(render_card(person, photo), rng,
                                       ("busy", "finger")[i % 2])
        outline_only = reader.read_frame(frame, text_lines=False)
        both = reader.read_frame(frame)
        for r in (outline_only, both):
            assert r.status != "ok" or r.text == person.id_number, (i, kind, r)
        if outline_only.status != "ok" and both.status == "ok":
            rescued += 1
            assert corners_near(both.polygon, corners, tol=0.1 * 1280), (i, kind)
            rgb = cv2.cvtColor(both.portrait, cv2.COLOR_BGR2RGB)
            assert face_recognition.face_locations(rgb, number_of_times_to_upsample=1), (i, kind)
    assert rescued >= 1


def test_an_idle_counter_costs_one_look(faces_dir: Path):
    """The text detector is slow: with no card in view it runs once for a still scene, and
    again only when the scene changes; a card found that way stays present while it lies
    still."""
    from devices.camera.sim import ImageFolderSource  # noqa: F401 (the camera package loads)
    from devices.idcard.camera_reader import CameraIdCardSource
    from devices.idcard.scenes import desk_background

    class Counting(CameraCardReader):
        looks = 0

        def read_text_lines(self, frame):
            Counting.looks += 1
            return super().read_text_lines(frame)

    class StillCamera:  # a camera whose newest frame is whatever the test put there
        name, image = "still", None

        def latest(self):
            return None if self.image is None else type("F", (), {"image": self.image})()

    rng = np.random.default_rng(3)
    cam = StillCamera()
    source = CameraIdCardSource(cam, Counting())  # type: ignore[arg-type]
    cam.image = desk_background(1280, 720, rng)
    assert [source.card_present() for _ in range(5)] == [False] * 5
    assert Counting.looks == 1
    person = random_card_person(rng, "resident")
    photo = cv2.imread(str(faces_dir / "obama.jpg"))
    for _ in range(40):  # a busy-counter frame whose card only the number line finds
        frame, _ = counter_frame(render_card(person, photo), rng, "busy")
        if find_card(frame) is None and source.reader.read_text_lines(frame) is not None:
            break
    else:
        pytest.skip("no busy frame hid its card from the outline finder")
    cam.image, looks = frame, Counting.looks
    assert [source.card_present() for _ in range(3)] == [True] * 3
    assert Counting.looks == looks + 1
