"""Cohort scores: the shipped file, how one is built, what a missing one does, and what the
scores do to real East Asian and Western photos (the real model, ``desk-app eval faces`` and
``desk-app calibrate cohort`` through the command line)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from desk_app.cli import main
from desk_app.faces import cohort as cohort_mod
from desk_app.faces import cohort_study
from desk_app.faces.verify import FaceOutcome, FaceSession, IdPhoto, decide_from_distances
from desk_app.settings import FacesSection

from .test_evaluate import write_pairs


def test_the_shipped_cohort_is_centres_of_several_people_and_fits_the_defaults():
    c = cohort_mod.load()
    assert c.kind in ("shift", "z") and 1 <= c.k_nearest <= len(c.live_centres)
    assert c.card_centres.shape[1] == c.live_centres.shape[1] == 128
    assert c.meta["min_people"] >= 3 and c.meta["people"] > 400
    # the thresholds shipped were fitted with this very cohort
    faces = FacesSection()
    assert (c.meta["match_distance"], c.meta["mismatch_distance"]) == (
        faces.match_distance, faces.mismatch_distance)
    assert faces.score == "cohort"


def test_a_built_cohort_holds_no_ones_descriptor_and_no_centre_of_fewer_than_three_people():
    rng = np.random.default_rng(3)
    # 40 people, 3 photos each, in two crowds; plus 2 loners far from everyone
    centres = rng.normal(0, 0.08, (2, 128))
    x, people = [], []
    for p in range(40):
        me = centres[p % 2] + rng.normal(0, 0.05, 128)
        for _ in range(3):
            x.append(me + rng.normal(0, 0.02, 128))
            people.append(p)
    for p in (40, 41):
        x.append(np.full(128, 3.0 * (p - 39)))
        people.append(p)
    x_arr = np.array(x)
    x_arr[5] = np.nan  # a photo without a face is left out
    c = cohort_mod.build(x_arr, x_arr.copy(), people, centres=30, k_nearest=3, kind="shift",
                         min_people=3)
    for side in (c.card_centres, c.live_centres):
        lab = np.argmin(cohort_mod._dist(np.nan_to_num(x_arr), side), axis=1)  # noqa: SLF001
        ok = ~np.isnan(x_arr).any(axis=1)
        for j in range(len(side)):
            assert len({people[i] for i in np.where(ok & (lab == j))[0]}) >= 3
        nearest = cohort_mod._dist(x_arr[ok], side).min(axis=0)  # noqa: SLF001
        assert (nearest > 1e-6).all()  # no centre is one photo's descriptor
    # a face of the first crowd is more crowded than a loner: its score rises above its distance
    crowd = c.card_crowding(x_arr[0])
    loner = c.card_crowding(x_arr[-1])
    assert crowd.mean < c.reference < loner.mean
    assert c.score(0.4, crowd, crowd) > 0.4 > c.score(0.4, loner, loner)


def test_every_variant_the_study_may_choose_tells_pairs_apart():
    """A variant whose score is the same for every pair (z over one nearest centre: the
    spread of one distance is 0) would match no one or everyone: none is offered."""
    rng = np.random.default_rng(5)
    crowds = rng.normal(0, 0.1, (12, 128))  # 12 crowds of 30 people, 2 photos each
    me = crowds[np.arange(360) % 12] + rng.normal(0, 0.05, (360, 128))
    x = np.repeat(me, 2, axis=0) + rng.normal(0, 0.02, (720, 128))
    people = np.repeat(np.arange(360), 2)
    for v in cohort_study.VARIANTS:
        c = cohort_mod.build(x, x + rng.normal(0, 0.01, x.shape), people, centres=v.centres,
                             k_nearest=v.k_nearest, kind=v.kind)
        _, scores = c.all_against_all(x[:20], x[20:40])
        assert np.ptp(scores) > 0.05, v
    z1 = cohort_mod.build(x, x, people, centres=32, k_nearest=1, kind="z")
    assert np.ptp(z1.all_against_all(x[:20], x[20:40])[1]) < 1e-9  # why it is not offered
    assert len(cohort_study.VARIANTS) == 15


def test_a_person_with_many_photos_weighs_once_in_a_centre():
    """A public figure with 30 photos and two people with one each: the centre is the mean of
    the three people, not (as a mean of photos would be) nearly the figure's own template."""
    rng = np.random.default_rng(5)
    figure, other1, other2 = (rng.normal(0, 0.1, 128) for _ in range(3))
    x = np.array([figure + rng.normal(0, 0.01, 128) for _ in range(30)] + [other1, other2])
    people = [0] * 30 + [1, 2]
    c = cohort_mod.build(x, x.copy(), people, centres=1, k_nearest=1, kind="shift")
    expected = (x[:30].mean(axis=0) + other1 + other2) / 3
    assert np.allclose(c.card_centres[0], expected) and np.allclose(c.live_centres[0], expected)
    photo_mean = x.mean(axis=0)
    to_figure = float(np.linalg.norm(c.card_centres[0] - x[:30].mean(axis=0)))
    assert to_figure > 3 * float(np.linalg.norm(photo_mean - x[:30].mean(axis=0)))
    n_people, closest = cohort_mod.exposure(x, people, c.card_centres)
    assert n_people.tolist() == [3] and closest[0] == pytest.approx(
        min(np.linalg.norm(expected - m) for m in (x[:30].mean(axis=0), other1, other2)))
    assert c.meta["weighting"] == "person"
    assert c.meta["exposure"]["card"]["fewest_people"] == 3


def test_a_damaged_cohort_file_leaves_the_face_to_the_clerk_and_says_why(tmp_path, monkeypatch):
    bad = tmp_path / "cohort.npz"
    bad.write_bytes(b"not a cohort")
    with pytest.raises(cohort_mod.CohortUnavailable):
        cohort_mod.load(bad)
    with pytest.raises(cohort_mod.CohortUnavailable):
        cohort_mod.load(tmp_path / "missing.npz")
    monkeypatch.setattr(cohort_mod, "SHIPPED", bad)
    cohort_mod.shared_cohort.cache_clear()
    try:
        session = FaceSession(IdPhoto(np.zeros(128), None), FacesSection(), model=object())
        d = session.decision
        assert d is not None and d.outcome == FaceOutcome.UNAVAILABLE
        assert [h.code for h in d.hints] == ["face_cohort_unavailable"]
        assert "reference" in d.text.en and d.text.zh
        # a site on plain distances does not need the file
        plain = FaceSession(IdPhoto(np.zeros(128), None), FacesSection(score="distance"),
                            model=object())
        assert plain.decision is None
    finally:
        cohort_mod.shared_cohort.cache_clear()


def _damaged(how: str) -> bytes:
    src = cohort_mod.SHIPPED.read_bytes()
    if how == "truncated":
        return src[: len(src) // 2]
    mid = len(src) // 2  # one bit flipped inside the compressed centres
    return src[:mid] + bytes([src[mid] ^ 0x01]) + src[mid + 1:]


@pytest.mark.parametrize("how", ["truncated", "bit_flipped"])
def test_a_truncated_or_bit_flipped_shipped_cohort_is_unavailable_and_said_once(
        how, tmp_path, caplog):
    bad = tmp_path / f"cohort-{how}.npz"
    bad.write_bytes(_damaged(how))
    with caplog.at_level("ERROR", logger="desk_app.faces.cohort"):
        for _ in range(3):  # every case tries again (IT may mend the file); one log line
            with pytest.raises(cohort_mod.CohortUnavailable) as caught:
                cohort_mod.load(bad)
    assert str(bad) in caught.value.detail
    assert len([r for r in caplog.records if r.name == "desk_app.faces.cohort"]) == 1
    bad.write_bytes(cohort_mod.SHIPPED.read_bytes())  # mended
    assert cohort_mod.load(bad).k_nearest >= 1


def test_a_score_under_the_threshold_is_no_match_above_the_relatives_ceiling():
    faces = FacesSection()
    below = faces.match_distance - 0.02
    d = decide_from_distances([below], faces, raw=[faces.relative_ceiling + 0.02])
    assert d.outcome == FaceOutcome.UNDECIDED
    assert [h.code for h in d.hints] == ["relative_ceiling"]
    assert d.hints[0].text.zh and d.raw_distance == round(faces.relative_ceiling + 0.02, 4)
    assert d.text == d.hints[0].text  # the clerk reads why, not only "not sure"
    ok = decide_from_distances([below], faces, raw=[faces.relative_ceiling - 0.02])
    assert ok.outcome == FaceOutcome.MATCH and not ok.hints
    # a site on plain distances keeps its own band (its thresholds are its calibration)
    plain = FacesSection(score="distance", match_distance=0.55, mismatch_distance=0.62)
    assert decide_from_distances([0.5], plain).outcome == FaceOutcome.MATCH


@pytest.mark.faces
def test_a_crowded_east_asian_stranger_close_in_plain_distance_is_no_match(
        faces_dir, tmp_path, capsys):
    """Wen Jiabao's card portrait and a photo of Hu Jintao: closer in plain distance than the
    default match score, so a plain threshold there would admit him; scored against the
    nearest strangers (East Asian faces crowd together in dlib's space) he is not a MATCH."""
    ea = faces_dir / "east_asian"
    pairs = write_pairs(tmp_path / "p.csv", faces_dir, [
        (ea / "Wen_Jiabao" / "Wen_Jiabao_0007.jpg", ea / "Hu_Jintao" / "Hu_Jintao_0001.jpg", 0),
        (ea / "Hu_Jintao" / "Hu_Jintao_0002.jpg", ea / "Hu_Jintao" / "Hu_Jintao_0001.jpg", 1)])
    data = tmp_path / "desk"
    assert main(["eval", "faces", str(pairs), "--degrade-a", "idcard", "--json",
                 "--data-dir", str(data)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    stranger = lines[0].split()
    score, raw = float(stranger[0]), float(lines[0].split("raw=")[1].split()[0])
    faces = FacesSection()
    assert raw < faces.match_distance < score
    assert stranger[1] != "match"
    assert json.loads(lines[-1])["false_admits"] == 0


@pytest.mark.faces
def test_calibrate_cohort_chooses_on_some_people_and_writes_a_cohort(faces_dir, tmp_path, capsys,
                                                                    monkeypatch):
    people: dict[str, list[str]] = {}
    for r in csv.DictReader((faces_dir / "east_asian" / "files.csv").open()):
        people.setdefault(r["identity"], []).append(r["file"])
    photos = [(who, f) for who, files in people.items() if len(files) >= 4
              for f in files[:4]][:36]  # 9 people: 3 a fold, the fewest a cohort is built of
    rows = [(a, b, int(pa == pb)) for pa, a in photos for pb, b in photos if a != b]
    pairs = write_pairs(tmp_path / "patients.csv", faces_dir, rows)
    out_file = tmp_path / "cohort.npz"
    # watch (not replace) which folds built each cohort and which folds' strangers it scored:
    # the cap and the held-out counts must never score a face its own cohort was made from
    made_from: dict[int, tuple] = {}
    scored: list[tuple[tuple, set]] = []
    real_built, real_strangers = cohort_study.Study.built, cohort_study.stranger_scores

    def built(self, fold_ids, v):  # type: ignore[no-untyped-def]
        c, s = real_built(self, fold_ids, v)
        made_from[id(c)] = (self, fold_ids)
        return c, s

    def strangers(photos, c, mask, *args, **kwargs):  # type: ignore[no-untyped-def]
        study, fold_ids = made_from[id(c)]
        scored.append((fold_ids, set(study.folds[photos.person[mask]].tolist())))
        return real_strangers(photos, c, mask, *args, **kwargs)

    monkeypatch.setattr(cohort_study.Study, "built", built)
    monkeypatch.setattr(cohort_study, "stranger_scores", strangers)
    code = main(["calibrate", "cohort", "--strict", str(pairs), "--folds", "3", "--json",
                 "--out", str(out_file), "--data-dir", str(tmp_path / "desk")])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    held = report["held_out"]["patients"]
    # nine people are few: the cap allows none of their strangers, yet held-out ones may match
    assert held["genuine"] == 9 * 12 and held["false_admits"] <= 0.02 * held["impostor"]
    assert len(report["folds"]) == 3
    crossed = [(made, seen) for made, seen in scored if not set(made) & seen]
    assert crossed and any(len(made) == 2 for made, _ in crossed)
    # only a fit on one training fold (the inner fits of 3 folds) cannot be crossed: it is
    # capped on its own strangers
    assert all(len(made) == 1 and set(made) == seen
               for made, seen in scored if (made, seen) not in crossed)
    chosen = report["chosen"]
    assert 0 < chosen["match_distance"] <= chosen["mismatch_distance"] < 2
    c = cohort_mod.load(out_file)
    assert c.meta["min_people"] == 3 and c.meta["from"] == ["patients.csv"]
    assert math.isfinite(c.reference)
    # the file and the report say how close its centres come to anyone who made them
    assert c.meta["weighting"] == "person" and report["exposure"] == c.meta["exposure"]
    for side in ("card", "live"):
        assert report["exposure"][side]["fewest_people"] >= 3
        assert report["exposure"][side]["closest_to_a_person"] > 0.05


@pytest.mark.faces
def test_calibrate_cohort_with_too_few_people_says_so(faces_dir, tmp_path, capsys):
    pairs = write_pairs(tmp_path / "few.csv", faces_dir, [
        ("obama.jpg", "obama1.jpg", 1), ("obama.jpg", "biden.jpg", 0)])
    assert main(["calibrate", "cohort", str(pairs), "--lang", "en",
                 "--data-dir", str(tmp_path / "desk")]) == 1
    assert "Too few usable pairs" in capsys.readouterr().err
    assert main(["calibrate", "cohort", str(pairs), "--max-far", "0.7", "--lang", "en",
                 "--data-dir", str(tmp_path / "desk")]) == 1
    assert "--max-far" in capsys.readouterr().err
