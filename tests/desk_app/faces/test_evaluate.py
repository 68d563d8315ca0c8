"""``desk-app eval faces`` and ``calibrate faces`` through the real command line, on a few real pairs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from desk_app.cli import main

pytestmark = pytest.mark.faces

# (file_a, file_b, same): a few pairs from pairs.csv, enough to check the figures by hand.
PAIRS = [
    ("obama.jpg", "obama1.jpg", 1),
    ("biden.jpg", "biden2.jpg", 1),
    ("alex_lacamoire1.jpg", "alex_lacamoire_img1.jpg", 1),
    ("obama.jpg", "biden2.jpg", 0),
    ("rose_leslie_img1.jpg", "kit_harington_john2.jpeg", 0),
    ("obama_small.jpg", "lin-manuel-miranda.png", 0),
]


def write_pairs(path: Path, faces_dir: Path, rows) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file_a", "file_b", "same_person"])
        for a, b, same in rows:
            w.writerow([str(faces_dir / a), str(faces_dir / b), same])
    return path


@pytest.fixture(scope="module")
def shared_data_dir(tmp_path_factory) -> Path:
    """One data folder (and so one encoding cache) for the module's runs."""
    return tmp_path_factory.mktemp("faces-eval")


def run_json(capsys, argv) -> tuple[int, list[str], dict]:
    code = main(argv)
    out = capsys.readouterr().out.strip().splitlines()
    return code, out, json.loads(out[-1])


def test_a_file_of_strangers_only_gives_strict_json_with_no_eer(faces_dir, shared_data_dir,
                                                                 tmp_path, capsys):
    """No genuine pair, no equal error rate: the summary says null, not NaN (which no strict
    JSON reader takes), and the figures that exist are there."""
    strangers = [r for r in PAIRS if not r[2]][:2]
    pairs = write_pairs(tmp_path / "strangers.csv", faces_dir, strangers)
    code = main(["eval", "faces", str(pairs), "--degrade-a", "idcard", "--json",
                 "--data-dir", str(shared_data_dir)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert code == 0

    def strict(token: str):
        raise AssertionError(f"not JSON: {token}")

    summary = json.loads(last, parse_constant=strict)
    assert summary["eer"] is None and summary["eer_threshold"] is None
    assert summary["tar_at_far_1pct"] is None and summary["frr_at_0.6"] is None
    assert (summary["same"], summary["different"], summary["false_admits"]) == (0, 2, 0)


def test_eval_judges_pairs_like_a_desk_and_caches(faces_dir, shared_data_dir, tmp_path, capsys):
    pairs = write_pairs(tmp_path / "pairs.csv", faces_dir, PAIRS)
    argv = ["eval", "faces", str(pairs), "--degrade-a", "idcard", "--json",
            "--data-dir", str(shared_data_dir)]
    code, lines, summary = run_json(capsys, argv)
    assert code == 0
    assert len(lines) == len(PAIRS) + 1
    for key in ("pairs", "same", "different", "false_admits", "false_rejects", "undecided",
                "no_face", "eer", "tar_at_far_1pct", "ms_per_pair_median"):
        assert key in summary
    assert (summary["pairs"], summary["same"], summary["different"]) == (6, 3, 3)
    assert summary["false_admits"] == 0 and summary["false_rejects"] == 0
    assert summary["no_face"] == 0 and summary["eer"] == 0.0
    assert summary["ms_per_pair_median"] > 0
    # the bands of the desk's settings (the defaults: cohort scores): no stranger a MATCH, no
    # genuine pair a MISMATCH; the line gives the score and the plain distance
    from desk_app.faces.verify import banded
    from desk_app.settings import FacesSection

    assert summary["score"] == "cohort" and summary["relative_ceiling"] == 0.47
    for ln in lines[:-1]:
        score, outcome = float(ln.split()[0]), ln.split()[1]
        raw = float(ln.split("raw=")[1].split()[0])
        assert outcome == banded(score, raw, FacesSection())[0].value, ln
        assert outcome != ("mismatch" if "same=1" in ln else "match"), ln
    # second run: every encoding comes from the cache, same figures
    code, lines2, summary2 = run_json(capsys, argv)
    assert summary2["cached_pairs"] == 6
    assert lines2[:-1] == lines[:-1]


def test_eval_limit_and_thresholds_from_the_settings(faces_dir, shared_data_dir, tmp_path, capsys):
    pairs = write_pairs(tmp_path / "pairs.csv", faces_dir, PAIRS)
    assert main(["settings", "set", "faces.match_distance", "0.01",
                 "--data-dir", str(shared_data_dir / "strict")]) == 0
    capsys.readouterr()
    # a desk with an absurdly strict match threshold never says MATCH
    code, lines, summary = run_json(capsys, ["eval", "faces", str(pairs), "--degrade-a", "idcard",
                                             "--json", "--limit", "3",
                                             "--data-dir", str(shared_data_dir / "strict")])
    assert summary["pairs"] == 3 and summary["match_distance"] == 0.01
    assert all(" match " not in ln for ln in lines[:-1])


def test_eval_bad_input_is_a_message_not_a_traceback(faces_dir, tmp_path, capsys):
    assert main(["eval", "faces", str(tmp_path / "nope.csv"), "--data-dir", str(tmp_path)]) == 1
    assert "nope.csv" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["eval", "faces", str(bad), "--data-dir", str(tmp_path), "--lang", "en"]) == 1
    assert "lacks the columns" in capsys.readouterr().err
    # a missing image spoils its own pair only
    pairs = write_pairs(tmp_path / "p.csv", faces_dir,
                        [("missing.jpg", "obama1.jpg", 1), ("obama.jpg", "biden2.jpg", 0)])
    code, lines, summary = run_json(capsys, ["eval", "faces", str(pairs), "--json",
                                             "--data-dir", str(tmp_path)])
    assert code == 0 and summary["pairs"] == 2 and summary["no_face"] == 1
    assert "unreadable" in lines[0]


def test_eval_with_several_live_photos_decides_as_the_desk_over_the_best_k(
        faces_dir, shared_data_dir, tmp_path, capsys):
    """``file_b`` as ``a.jpg|b.jpg|c.jpg``: the frames of one visit. The desk's choice of the
    best ``best_k`` frames and its decision (the mean distance of those) apply."""
    lives = ["obama1.jpg", "obama3.jpg", "obama2.jpg"]
    rows = [("obama.jpg", f, 1) for f in lives] + [("biden.jpg", f, 0) for f in lives]
    rows += [("obama.jpg", "|".join(lives), 1), ("biden.jpg", "|".join(lives), 0)]
    pairs = write_pairs(tmp_path / "frames.csv", faces_dir, [])
    with pairs.open("a", newline="") as f:  # the live side: several files, one cell
        w = csv.writer(f)
        for a, b, same in rows:
            w.writerow([str(faces_dir / a), "|".join(str(faces_dir / x) for x in b.split("|")),
                        same])
    argv = ["eval", "faces", str(pairs), "--degrade-a", "idcard", "--json",
            "--data-dir", str(shared_data_dir)]
    code, lines, summary = run_json(capsys, argv)
    assert code == 0 and summary["pairs"] == 8 and summary["same"] == 4
    dist = [float(ln.split()[0]) for ln in lines[:-1]]
    outcome = [ln.split()[1] for ln in lines[:-1]]
    # best_k 3 (the default): all three frames, their mean distance, banded as the desk does
    assert dist[6] == pytest.approx(sum(dist[:3]) / 3, abs=2e-4)
    assert dist[7] == pytest.approx(sum(dist[3:6]) / 3, abs=2e-4)
    assert outcome[7] == "mismatch"
    assert summary["frames_used_median"] == 1
    # best_k 2: the two best frames by quality, not the first two listed
    data = shared_data_dir / "k2"
    assert main(["settings", "set", "faces.best_k", "2", "--data-dir", str(data)]) == 0
    capsys.readouterr()
    _, lines2, _ = run_json(capsys, [*argv[:-1], str(data)])
    d2 = float(lines2[6].split()[0])
    means = [(dist[i] + dist[j]) / 2 for i, j in ((0, 1), (0, 2), (1, 2))]
    assert min(abs(d2 - m) for m in means) < 2e-4


def test_calibrate_chooses_on_some_people_reports_on_others_and_saves(
        faces_dir, shared_data_dir, tmp_path, capsys):
    """Nested cross-validation by person on real East Asian photos, every photo against every
    other (``--all-pairs``); the patients' file is strict (no impostor judged MATCH)."""
    people = {}
    for r in csv.DictReader((faces_dir / "east_asian" / "files.csv").open()):
        people.setdefault(r["identity"], []).append(r["file"])
    chosen = [files[:4] for files in people.values() if len(files) >= 4][:6]
    rows = [(files[i], files[i + 1], 1) for files in chosen for i in range(3)]
    rows += [(chosen[i][0], chosen[i + 1][0], 0) for i in range(5)]
    pairs = write_pairs(tmp_path / "patients.csv", faces_dir, rows)
    data = tmp_path / "desk"
    code = main(["calibrate", "faces", "--strict", str(pairs), "--all-pairs", "--folds", "3",
                 "--save", "--data-dir", str(data)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    report = json.loads(out[-1])
    p = report["proposal"]
    assert 0 < p["match_distance"] <= p["mismatch_distance"] < 2
    assert report["strict"] == ["patients"] and report["pairs"] == 24 * 23
    cv = report["nested_cv"]["patients"]
    assert cv["genuine"] == 6 * 12  # every genuine pair is reported, once
    assert 0 < cv["impostor"] < 24 * 23 - 72  # impostor pairs across folds are left out
    assert len(report["folds"]) == 3
    assert report["on_calibration_data"]["patients"]["false_admits"] == 0
    # cohort scores: the relatives' ceiling holds per pair (its plain distance), not here
    assert report["saved"]["match_distance"] == p["match_distance"]
    assert any(ln.startswith("  patients: false admits") for ln in out)
    main(["settings", "show", "--data-dir", str(data)])
    shown = capsys.readouterr().out
    assert f"match_distance = {p['match_distance']}" in shown


def test_calibrate_with_too_few_people_says_so(faces_dir, shared_data_dir, tmp_path, capsys):
    pairs = write_pairs(tmp_path / "few.csv", faces_dir, PAIRS)
    assert main(["calibrate", "faces", str(pairs), "--lang", "en",
                 "--data-dir", str(shared_data_dir)]) == 1
    assert "Too few usable pairs" in capsys.readouterr().err
    assert main(["calibrate", "faces", "--lang", "en", "--data-dir", str(shared_data_dir)]) == 1
    assert "at least one pairs file" in capsys.readouterr().err


def cache_entries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def test_cached_encodings_are_sealed_with_the_desks_key_and_expire(faces_dir, tmp_path, capsys):
    """Face descriptors are biometric data: on disk only encrypted with the desk's data key
    (the database's), unreadable with another key, deleted after privacy.face_retention_days;
    plaintext entries of earlier versions are deleted."""
    import os
    import time

    import numpy as np

    from desk_app.faces.evaluate import Encoded, EncodingCache
    from desk_app.paths import AppPaths
    from desk_app.storage import Store
    from desk_app.storage.crypto import Crypto, KeyStore

    data = tmp_path / "desk"
    pairs = write_pairs(tmp_path / "p.csv", faces_dir, PAIRS[:2])
    argv = ["eval", "faces", str(pairs), "--json", "--data-dir", str(data)]
    _, _, summary = run_json(capsys, argv)
    paths = AppPaths.resolve(data)
    root = paths.cache_dir / "face-encodings"
    entries = cache_entries(root)
    assert len(entries) == 4 and all(p.suffix == ".enc" for p in entries)
    key = KeyStore(paths.key_file).load(create=False)
    crypto = Crypto(key)
    cache = EncodingCache(root, crypto)
    name = entries[0].stem
    hit = cache.get(name)
    assert hit is not None and hit.encoding is not None and hit.encoding.shape == (128,)
    raw = entries[0].read_bytes()
    assert hit.encoding.tobytes() not in raw and b"encoding" not in raw  # no plaintext
    assert EncodingCache(root, Crypto.generate()).get(name) is None  # another desk's key

    # the database opened later takes the key eval made: one key per desk, entries readable
    Store.open(paths).close()
    assert KeyStore(paths.key_file).load(create=False) == key
    assert EncodingCache(root, crypto).get(name) is not None

    # an entry past its age and an unsealed one of an earlier version are deleted on opening
    old = entries[1]
    past = time.time() - 31 * 86400
    os.utime(old, (past, past))
    legacy = root / "ab" / "legacy.npz"
    legacy.parent.mkdir(exist_ok=True)
    np.savez(legacy, encoding=np.zeros(128))
    again = EncodingCache(root, crypto, max_age_days=30)
    assert again.purged == 2 and not old.exists() and not legacy.exists()
    _, _, summary = run_json(capsys, argv)  # recomputed where the entry was gone
    assert summary["cached_pairs"] == 1 and len(cache_entries(root)) == 4

    with pytest.raises(ValueError):
        EncodingCache(root)  # never an unsealed cache on disk
    cache.put("deadbeef", Encoded(np.ones(128), (), 1.0))
    assert EncodingCache(root, crypto).get("deadbeef").encoding.tolist() == [1.0] * 128


def test_no_cache_keeps_nothing_and_a_missing_key_is_not_replaced(faces_dir, tmp_path, capsys):
    from desk_app.paths import AppPaths
    from desk_app.storage import Store

    pairs = write_pairs(tmp_path / "p.csv", faces_dir, PAIRS[:1])
    data = tmp_path / "desk"
    _, _, summary = run_json(capsys, ["eval", "faces", str(pairs), "--json", "--no-cache",
                                      "--data-dir", str(data)])
    paths = AppPaths.resolve(data)
    assert summary["pairs"] == 1 and not (paths.cache_dir / "face-encodings").exists()

    Store.open(paths).close()  # a desk database ...
    paths.key_file.unlink()  # ... whose key is lost: eval must not make a new one
    _, _, summary = run_json(capsys, ["eval", "faces", str(pairs), "--json",
                                      "--data-dir", str(data)])
    assert summary["pairs"] == 1 and summary["false_rejects"] == 0
    assert not paths.key_file.exists() and not (paths.cache_dir / "face-encodings").exists()


def test_calibrate_from_desk_history_proposes_from_the_clerks_calls(tmp_path, capsys):
    """A real store with the clerks' calls on undecided faces (distance + same / not the same):
    the proposal moves match_distance to where this site's impostors start, keeps
    mismatch_distance, and leaves out fast calls and a clerk who confirms without looking."""
    import random
    import uuid
    from datetime import UTC, datetime, timedelta

    from desk_app.paths import AppPaths
    from desk_app.storage import FaceJudgement, Reason, Store, VisitInput

    data = tmp_path / "desk"
    store = Store.open(AppPaths.resolve(data).ensure())
    rng = random.Random(7)
    t0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

    def call(clerk: str, judgement: str, distance: float, seconds: float, i: int) -> None:
        at = t0 + timedelta(minutes=i)
        vid = str(uuid.uuid4())
        store.visits.record(VisitInput(
            visit_id=vid, booking_id=f"B{i}", hospital_id="H001", desk_id="desk-01", clerk=clerk,
            checked_in_at=at, verdict="review", reasons=(Reason("face_undecided", "warn", "face"),),
            face_distance=distance, face_outcome="undecided"))
        store.visits.record_face_judgement(FaceJudgement(
            judgement_id=str(uuid.uuid4()), visit_id=vid, clerk=clerk, judged_at=at,
            distance=distance, judgement=judgement, seconds=seconds, match_distance=0.537,
            mismatch_distance=0.615))

    # the band of these calls (plain distances), as a site that calibrated its own has it
    paths = AppPaths.resolve(data).ensure()
    paths.settings_file.write_text(
        'schema_version = 4\n[faces]\nscore = "distance"\nmatch_distance = 0.537\nmismatch_distance = 0.615\n',
        encoding="utf-8")

    i = 0
    for _ in range(30):  # genuine patients in the band: 0.54 .. 0.58, looked at (2-6 s)
        call("clerk1", "same", rng.uniform(0.54, 0.58), rng.uniform(2, 6), i)
        i += 1
    for _ in range(24):  # impostors the clerks caught: from 0.585 up
        call("clerk2", "different", rng.uniform(0.585, 0.612), rng.uniform(3, 9), i)
        i += 1
    for _ in range(12):  # a clerk who confirms everything at once, impostors too
        call("clerk3", "same", rng.uniform(0.59, 0.61), 0.4, i)
        i += 1
    call("clerk1", "same", 0.605, 0.5, i)  # one fast call of a clerk who usually looks
    i += 1
    # a call made under another band (e.g. before cohort scores): not comparable, left out
    vid = str(uuid.uuid4())
    store.visits.record(VisitInput(
        visit_id=vid, booking_id=f"B{i}", hospital_id="H001", desk_id="desk-01", clerk="clerk1",
        checked_in_at=t0, verdict="review", reasons=(Reason("face_undecided", "warn", "face"),),
        face_distance=0.40, face_outcome="undecided"))
    store.visits.record_face_judgement(FaceJudgement(
        judgement_id=str(uuid.uuid4()), visit_id=vid, clerk="clerk1", judged_at=t0,
        distance=0.40, judgement="different", seconds=4.0, match_distance=0.361,
        mismatch_distance=0.6))
    store.close()
    capsys.readouterr()
    assert main(["calibrate", "faces", "--from-desk-history", "--data-dir", str(data)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["source"] == "desk_history" and report["calls"] == 67
    assert report["left_out_other_band"] == 1
    assert report["left_out_clerks"] == ["clerk3"] and report["left_out_fast_calls"] == 1
    assert (report["same"], report["different"]) == (30, 24)
    p = report["proposal"]
    assert 0.537 < p["match_distance"] < 0.585  # up into the band, below the first impostor
    assert p["mismatch_distance"] == 0.615  # no evidence above the band: kept
    assert report["on_history"]["false_admits"] == 0
    assert len(report["cross_validation"]) == 2
    # Neither or both of PAIRS.csv and --from-desk-history: a clear message.
    assert main(["calibrate", "faces", "--data-dir", str(data)]) != 0
    assert "PAIRS.csv" in capsys.readouterr().err


def test_desk_history_compares_calls_of_this_desks_score_unit_only(tmp_path, capsys):
    """Version 3's plain band and version 5's cohort band both ended at 0.615: the band top
    cannot tell calls of two units apart, the recorded unit (storage revision 5) does. Here
    every call has today's band; a desk on the shipped cohort uses its own cohort's calls, not
    plain-distance calls nor calls of unknown unit (recorded before the unit was)."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from desk_app.faces.cohort import score_basis
    from desk_app.paths import AppPaths
    from desk_app.settings import FacesSection
    from desk_app.storage import FaceJudgement, Reason, Store, VisitInput

    faces = FacesSection()
    assert faces.score == "cohort"
    low = faces.match_distance
    here = score_basis("cohort")
    assert here.startswith("cohort:") and len(here) == len("cohort:") + 12
    assert here == score_basis("cohort") != score_basis("distance") == "distance"
    data = tmp_path / "desk"
    store = Store.open(AppPaths.resolve(data).ensure())
    t0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    n = 0

    def call(judgement: str, distance: float, basis: str) -> None:
        nonlocal n
        n += 1
        at, vid = t0 + timedelta(minutes=n), str(uuid.uuid4())
        store.visits.record(VisitInput(
            visit_id=vid, booking_id=f"B{n}", hospital_id="H001", desk_id="desk-01",
            clerk="clerk1", checked_in_at=at, verdict="review",
            reasons=(Reason("face_undecided", "warn", "face"),), face_distance=distance,
            face_outcome="undecided"))
        store.visits.record_face_judgement(FaceJudgement(
            judgement_id=str(uuid.uuid4()), visit_id=vid, clerk="clerk1", judged_at=at,
            distance=distance, judgement=judgement, seconds=4.0,
            match_distance=faces.match_distance, mismatch_distance=faces.mismatch_distance,
            score_basis=basis))

    for i in range(12):
        call("same", low + 0.005 + i * 0.004, here)
        call("different", low + 0.08 + i * 0.006, here)
    for i in range(5):  # the same band top, other units: plain distances, unknown
        call("different", low + 0.01 + i * 0.01, "distance")
        call("different", low + 0.02 + i * 0.01, "")
    store.close()
    assert main(["calibrate", "faces", "--from-desk-history", "--data-dir", str(data)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (report["calls"], report["left_out_other_band"]) == (24, 10)
    assert (report["same"], report["different"]) == (12, 12)
    assert report["on_history"]["false_admits"] == 0
    assert report["proposal"]["match_distance"] < low + 0.08  # below this desk's first impostor


def test_calibrate_from_desk_history_needs_enough_calls(tmp_path, capsys):
    from desk_app.paths import AppPaths
    from desk_app.storage import Store

    data = tmp_path / "desk"
    Store.open(AppPaths.resolve(data).ensure()).close()
    assert main(["calibrate", "faces", "--from-desk-history", "--data-dir", str(data),
                 "--lang", "en"]) != 0
    assert "at least 10 of each" in capsys.readouterr().err
    assert main(["calibrate", "faces", "--from-desk-history", "--data-dir",
                 str(tmp_path / "none"), "--lang", "en"]) != 0
    assert "No desk database" in capsys.readouterr().err


def test_eval_holds_a_match_that_looks_the_other_sex_than_the_holder_as_the_desk_does(
        faces_dir, shared_data_dir, tmp_path, capsys):
    """The desk holds a MATCH whose face looks the other sex than the ID number records; so
    does the evaluation: the card holder's sex from the file's ``sex_a`` column, else from the
    card photo's own estimate (confident ones only)."""
    pairs = tmp_path / "sexed.csv"
    rows = [("obama.jpg", "obama1.jpg", 1, "M"),   # as recorded: a MATCH stays
            ("obama.jpg", "obama1.jpg", 1, "F"),   # recorded "F": the clerk's call
            ("obama.jpg", "obama1.jpg", 1, ""),    # no column value: the card's estimate (M)
            ("obama.jpg", "biden2.jpg", 0, "F")]   # a MISMATCH is not the sex check's business
    with pairs.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file_a", "file_b", "same_person", "sex_a"])
        for a, b, same, sex in rows:
            w.writerow([str(faces_dir / a), str(faces_dir / b), same, sex])
    data = shared_data_dir / "sexed"  # a lenient match threshold: the genuine pair a MATCH
    assert main(["settings", "set", "faces.match_distance", "0.55", "--data-dir", str(data)]) == 0
    capsys.readouterr()
    argv = ["eval", "faces", str(pairs), "--degrade-a", "idcard", "--json", "--data-dir", str(data)]
    code, lines, summary = run_json(capsys, argv)
    assert code == 0
    outcome = [ln.split()[1] for ln in lines[:-1]]
    assert outcome == ["match", "undecided", "match", "mismatch"], lines
    assert "sex_differs" in lines[1] and "sex_differs" not in lines[0] + lines[2]
    assert (summary["sex_held_same"], summary["sex_held_different"]) == (1, 0)
    assert summary["sex_check"] is True
    # the check off in the desk's settings: off here too
    assert main(["settings", "set", "faces.sex_check", "false", "--data-dir", str(data)]) == 0
    capsys.readouterr()
    _, lines2, summary2 = run_json(capsys, argv)
    assert [ln.split()[1] for ln in lines2[:-1]] == ["match", "match", "match", "mismatch"]
    assert summary2["sex_held_same"] == 0
    # a sex that is neither M nor F: a message naming the line
    pairs.write_text("file_a,file_b,same_person,sex_a\na.jpg,b.jpg,1,X\n")
    assert main(["eval", "faces", str(pairs), "--data-dir", str(tmp_path), "--lang", "en"]) == 1
    assert "line 2: sex_a must be M, F or empty" in capsys.readouterr().err


def test_the_card_photos_own_sex_estimate_stands_in_for_the_id_number(faces_dir):
    """Without ``sex_a``: the degraded card portrait's estimate, on real photos of a man and a
    woman; a pair with the column keeps what the column says."""
    from desk_app.faces.evaluate import Pair, PairJudge
    from desk_app.settings import FacesSection

    judge = PairJudge(FacesSection(), "idcard")
    for name, sex in (("obama.jpg", "M"), ("rose_leslie_img1.jpg", "F")):
        pair = Pair(faces_dir / name, faces_dir / name, True, name, name)
        card = judge.id_side(pair.file_a)
        assert card.p_male is not None
        assert judge.holder_sex(pair, card) == sex
        other = "F" if sex == "M" else "M"
        from dataclasses import replace
        assert judge.holder_sex(replace(pair, sex_a=other), card) == other


def test_frame_pairs_script_writes_files_eval_faces_can_open(faces_dir, tmp_path):
    """scripts/frame_pairs.py makes the several-live-photo files of docs/architecture.md; its
    paths are relative to the file written (as eval faces reads them), wherever that is."""
    import subprocess
    import sys

    from desk_app.faces.evaluate import read_pairs

    script = Path(__file__).resolve().parents[3] / "scripts" / "frame_pairs.py"
    out = tmp_path / "deep" / "out"
    done = subprocess.run([sys.executable, str(script), str(faces_dir), str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    frames, single = read_pairs(out / "frames.csv"), read_pairs(out / "single.csv")
    assert len(single) == 3 * len(frames) > 0
    assert sum(p.same for p in frames) * 4 == len(frames)  # 1 genuine, 3 strangers a card
    for pair in frames[:8] + single[:8]:
        assert pair.file_a.is_file() and all(f.is_file() for f in pair.live_files), pair
    usage = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                           check=False)
    assert usage.returncode == 2 and "usage" in usage.stderr
