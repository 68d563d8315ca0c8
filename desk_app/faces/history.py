"""``desk-app calibrate faces --from-desk-history``: thresholds for this site from the clerks'
calls on undecided faces, and the test of a clerk who confirms without looking.

For every undecided face the desk keeps only the distance and the clerk's call ("same" /
"different", see ``store.visits.record_face_judgement``): these are labelled distances, as a pairs file
gives, but only from the undecided band (faces the desk decided by itself were never put to a
clerk). So the proposal (:func:`~desk_app.faces.metrics.propose_thresholds`, as for a pairs
file) can move ``match_distance`` within the band — up when the clerks find impostors only
towards its top, down when they find them near its bottom — while ``mismatch_distance`` stays:
the history holds no face above it. A call made within :data:`FAST_CALL_S` (not looked at) and
every call of a clerk who confirms without looking (:func:`rubber_stamp`) are left out.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import replace

from desk_app.errors import Text, UserInputError
from desk_app.faces.calibrate import rates, save_proposal
from desk_app.faces.cohort import score_basis
from desk_app.faces.evaluate import load_faces_settings
from desk_app.faces.metrics import propose_thresholds
from desk_app.storage import FaceJudgement, Store

#: A "same person" call sooner than this after the undecided verdict appeared was not looked at.
FAST_CALL_S = 1.0
#: A clerk confirms without looking when, over at least RUBBER_STAMP_MIN_CASES calls, at least
#: RUBBER_STAMP_SHARE of all their calls were fast "same person" calls.
RUBBER_STAMP_MIN_CASES = 10
RUBBER_STAMP_SHARE = 0.9


def fast_same(j: FaceJudgement) -> bool:
    return j.judgement == "same" and j.seconds < FAST_CALL_S


def rubber_stamp(judgements: Sequence[FaceJudgement]) -> bool:
    """One clerk's calls: nearly every undecided face confirmed as the same person, nearly
    always within a second."""
    fast = sum(1 for j in judgements if fast_same(j))
    return len(judgements) >= RUBBER_STAMP_MIN_CASES and fast >= RUBBER_STAMP_SHARE * len(judgements)


def usable_calls(judgements: Sequence[FaceJudgement]
                 ) -> tuple[list[FaceJudgement], int, list[str]]:
    """(the calls to calibrate on, how many fast calls were left out, the clerks left out)."""
    by_clerk: dict[str, list[FaceJudgement]] = {}
    for j in judgements:
        by_clerk.setdefault(j.clerk, []).append(j)
    stampers = sorted(c for c, js in by_clerk.items() if rubber_stamp(js))
    kept = [j for j in judgements if j.clerk not in stampers and j.distance is not None]
    usable = [j for j in kept if not fast_same(j)]
    return usable, len(kept) - len(usable), stampers


def cross_validate(genuine: list[float], impostor: list[float], target_far: float) -> list[dict]:
    """Two folds in the order the calls were made (the history names no person, so no split by
    person is possible): thresholds from one half, rates on the other."""
    def halves(values: list[float]) -> tuple[list[float], list[float]]:
        return values[:len(values) // 2], values[len(values) // 2:]

    g1, g2 = halves(genuine)
    i1, i2 = halves(impostor)
    out = []
    for name, (gc, ic), (gm, im) in (("first->second", (g1, i1), (g2, i2)),
                                     ("second->first", (g2, i2), (g1, i1))):
        p = propose_thresholds(gc, ic, target_far)
        out.append({"fold": name, "match_distance": p.match_distance,
                    "mismatch_distance": p.mismatch_distance,
                    **rates(gm, im, p.match_distance, p.mismatch_distance)})
    return out


def calibrate_from_history(args: argparse.Namespace) -> int:
    paths, settings = load_faces_settings(args.data_dir)
    if not paths.database_file.is_file():
        raise UserInputError(Text(f"没有找到本机数据库 ({paths.database_file})。",
                                  f"No desk database at {paths.database_file}."))
    store = Store.open(paths)
    try:
        calls = store.visits.face_judgements()
    finally:
        store.close()
    # Calls scored in another unit (plain distances, another cohort file) or under another band
    # top are not comparable. Calls recorded before the unit was (storage revision 5) count
    # only for a desk on plain distances with the same band top: the band alone cannot tell
    # version 3's plain 0.615 from version 5's cohort 0.615.
    faces = settings.faces
    basis = score_basis(faces.score)

    def comparable(j: FaceJudgement) -> bool:
        same_unit = (j.score_basis == basis if j.score_basis
                     else faces.score == "distance")
        return same_unit and j.mismatch_distance == faces.mismatch_distance

    other_band = [j for j in calls if not comparable(j)]
    calls = [j for j in calls if comparable(j)]
    usable, fast, stampers = usable_calls(calls)
    genuine = [j.distance for j in usable if j.judgement == "same"]
    impostor = [j.distance for j in usable if j.judgement == "different"]
    try:
        p = propose_thresholds(genuine, impostor, args.target_far)  # type: ignore[arg-type]
    except ValueError as exc:
        raise UserInputError(Text(
            f"本机的人工核对记录太少 (可用: 本人 {len(genuine)} 次, 非本人 {len(impostor)} 次; "
            "每类至少 10 次)。",
            f"Too few clerk calls on this desk (usable: {len(genuine)} same person, "
            f"{len(impostor)} not the same; at least 10 of each).")) from exc
    match = min(p.match_distance, faces.mismatch_distance)
    proposal = replace(p, match_distance=match, mismatch_distance=faces.mismatch_distance)
    report: dict = {
        "source": "desk_history",
        "calls": len(calls), "used": len(usable), "same": len(genuine),
        "different": len(impostor), "left_out_fast_calls": fast, "left_out_clerks": stampers,
        "left_out_other_band": len(other_band),
        "proposal": {"match_distance": proposal.match_distance,
                     "mismatch_distance": proposal.mismatch_distance, "basis": p.basis,
                     "mismatch_kept": "the history holds no face above mismatch_distance"},
        "on_history": rates(genuine, impostor, proposal.match_distance,  # type: ignore[arg-type]
                            proposal.mismatch_distance),
        "current": {"match_distance": faces.match_distance,
                    "mismatch_distance": faces.mismatch_distance},
        "target_far": args.target_far,
    }
    if len(genuine) >= 20 and len(impostor) >= 20:
        report["cross_validation"] = cross_validate(genuine, impostor,  # type: ignore[arg-type]
                                                    args.target_far)
    print(f"clerk calls: {len(calls)} ({len(usable)} used; {fast} made within {FAST_CALL_S:.0f} s "
          f"and {len(stampers)} clerk(s) who confirm without looking left out; "
          f"{len(other_band)} made under another band left out)")
    print(f"proposed match_distance    = {proposal.match_distance}  ({p.basis})")
    print(f"mismatch_distance kept     = {proposal.mismatch_distance}")
    print(f"current                    = {faces.match_distance} / {faces.mismatch_distance}")
    if args.save:
        report["saved"] = save_proposal(paths, proposal)
    print(json.dumps(report, ensure_ascii=False))
    return 0
