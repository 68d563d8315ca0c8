"""The demo's scenario table and the photos it ships: a clone alone runs every scenario."""

from __future__ import annotations

import shutil

from ui.demo.environment import EXTRA_PATIENTS
from ui.demo.scenarios import BY_NAME, OFFLINE_PATIENTS, SCENARIOS, SHIPPED_PHOTOS

SOURCES = SHIPPED_PHOTOS / "SOURCES.md"


def test_every_photo_a_scenario_shows_ships_with_its_source_and_licence():
    sources = SOURCES.read_text(encoding="utf-8")
    assert (SHIPPED_PHOTOS / "LICENSE_face_recognition.txt").is_file()
    assert "MIT" in sources and "Adam Geitgey" in sources
    for s in SCENARIOS:
        assert s.missing_photos(SHIPPED_PHOTOS) == [], s.name
        for name in s.photos:
            assert f"`{name}`" in sources, f"{name} ({s.name}) is not in SOURCES.md"


def test_only_photos_the_scenarios_use_are_shipped_and_they_stay_small():
    used = {n for s in SCENARIOS for n in s.photos}
    shipped = {p.name for p in SHIPPED_PHOTOS.iterdir()
               if p.suffix.lower() in (".jpg", ".jpeg", ".png")}
    assert shipped == used
    sizes = {p.name: p.stat().st_size for p in SHIPPED_PHOTOS.iterdir()}
    assert max(sizes.values()) < 200_000, sizes
    assert sum(sizes.values()) < 1_500_000


def test_a_folder_without_a_scenarios_photos_skips_just_that_scenario(tmp_path):
    shutil.copy(SHIPPED_PHOTOS / "obama.jpg", tmp_path / "obama.jpg")
    genuine = BY_NAME["genuine"]
    assert genuine.missing_photos(tmp_path) == ["obama2.jpg"]
    assert BY_NAME["forged_qr"].missing_photos(tmp_path) == []  # needs no face
    assert BY_NAME["forged_qr"].missing_photos(None) == []
    outage = BY_NAME["outage"].photos  # the three offline patients' photos count too
    assert {p for _k, card, live in OFFLINE_PATIENTS for p in (card, live)} <= set(outage)


def test_scenario_names_are_unique_and_their_patients_are_booked():
    assert len(BY_NAME) == len(SCENARIOS)
    extra = {key for key, _name, _number in EXTRA_PATIENTS}
    for s in SCENARIOS:
        for key in (s.booking_of, s.card_of):
            if key is not None and key.startswith("p_"):
                assert key in extra, (s.name, key)
    relative = BY_NAME["relative"]  # the sibling shows the patient's own card and booking
    assert relative.booking_of == relative.card_of
    assert relative.card_photo != relative.live_photo
    assert relative.expected != "admit"
