"""``desk-app calibrate faces [PAIRS.csv ...] [--strict PATIENTS.csv ...] [--save]``: thresholds
for a site, chosen and measured with nested cross-validation split by person.

The pairs are encoded exactly as ``eval faces`` does (same cache); each file is a population
(``--strict`` files: the patients, whose impostors must never be judged MATCH first). With
``--all-pairs`` every photo of a file plays the ID photo against every other photo of the file
(many more impostor pairs than a file lists; each photo is encoded once for either side).
:func:`~desk_app.faces.crossval.nested_cv` chooses the rule and the thresholds on some people
and reports on others; only the held-out figures are printed as a measurement.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from desk_app.errors import Text, UserInputError
from desk_app.faces import crossval
from desk_app.faces.evaluate import (
    Pair,
    PairJudge,
    desk_model,
    judge_pairs,
    load_faces_settings,
    open_cache,
    read_pairs,
)
from desk_app.faces.metrics import Proposal
from desk_app.faces.verify import CAPPING_HINTS, NO_MISMATCH_HINTS
from desk_app.paths import AppPaths
from desk_app.settings import FacesSection, load_settings, save_settings, update_settings


def rates(genuine: list[float], impostor: list[float], match: float, mismatch: float,
          capped_genuine: list[bool] | None = None,
          capped_impostor: list[bool] | None = None) -> dict:
    """What the three bands do to these pairs. A pair marked capped (another face was in view,
    :data:`~desk_app.faces.verify.CAPPING_HINTS`) is UNDECIDED whatever its distance, as at a
    desk."""
    cg = capped_genuine or [False] * len(genuine)
    ci = capped_impostor or [False] * len(impostor)
    n = len(genuine) + len(impostor)
    pairs = [*zip(genuine, cg, strict=True), *zip(impostor, ci, strict=True)]
    und = sum(c or not math.isfinite(d) or match < d < mismatch for d, c in pairs)
    return {
        "false_admits": sum(d <= match and not c for d, c in zip(impostor, ci, strict=True)),
        "false_rejects": sum(mismatch <= d < math.inf and not c
                             for d, c in zip(genuine, cg, strict=True)),
        "undecided": und,
        "undecided_share": round(und / n, 4) if n else 0.0,
        "genuine": len(genuine),
        "impostor": len(impostor),
    }


def person_key(label: str) -> str:
    """Who is on a photo, as far as the file says: the folder when the photos sit in one folder
    per person named like them (``Hu_Jintao/Hu_Jintao_0001.jpg``, as LFW), else the file
    itself; genuine pairs join a person's files in any case (:func:`crossval.build_scored`)."""
    p = Path(label.strip())
    return p.parent.name if p.parent.name and p.stem.startswith(p.parent.name) else label.strip()


def _listed_rows(pairs: list[Pair], judge: PairJudge, population: int) -> list[tuple]:
    rows = []
    for pair, r in zip(pairs, judge_pairs(pairs, judge), strict=True):
        d = math.inf if r["distance"] is None else float(r["distance"])
        first_live = pair.label_b.split("|")[0]
        rows.append((d, pair.same, bool(r.get("capped")), population, person_key(pair.label_a),
                     person_key(first_live), bool(r.get("no_mismatch")),
                     _above_ceiling(judge.faces, r.get("raw_distance"))))
    return rows


def _all_rows(pairs: list[Pair], judge: PairJudge, population: int) -> list[tuple]:
    """Every photo of the file as the ID photo against every other photo as the live one; the
    same person when the two photos are linked by genuine pairs or their folder."""
    photos: dict[Path, str] = {}
    links = []
    for pair in pairs:
        photos.setdefault(pair.file_a, person_key(pair.label_a))
        for f, label in zip(pair.live_files, pair.label_b.split("|"), strict=True):
            photos.setdefault(f, person_key(label))
            if pair.same:
                links.append((pair.file_a, f))
    files = list(photos)
    people = crossval.People()
    for f in files:
        people.join(str(f), photos[f])
    for a, b in links:
        people.join(str(a), str(b))
    who = [people.find(str(f)) for f in files]
    ids = [judge.id_side(f) for f in files]
    lives = [judge.live_side(f) for f in files]
    nan = np.full(128, np.nan)
    a = np.stack([e.encoding if e.encoding is not None else nan for e in ids])
    b = np.stack([e.encoding if e.encoding is not None else nan for e in lives])
    if judge.cohort is not None:  # the scores the thresholds are in (verify.Scorer)
        raw, dist = judge.cohort.all_against_all(a, b)
    else:
        raw = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
        dist = raw = np.where(np.isnan(raw), np.inf, raw)
    capped = [bool(set(e.hints) & CAPPING_HINTS) for e in lives]
    weak_a = [bool(set(e.hints) & NO_MISMATCH_HINTS) for e in ids]
    weak_b = [bool(set(e.hints) & NO_MISMATCH_HINTS) for e in lives]
    return [(float(dist[i, j]), who[i] == who[j], capped[j], population, who[i], who[j],
             weak_a[i] or weak_b[j], _above_ceiling(judge.faces, float(raw[i, j])))
            for i in range(len(files)) for j in range(len(files)) if i != j]


def _above_ceiling(faces: FacesSection, raw: float | None) -> bool:
    """Never a MATCH (cohort scores: the plain distance is above the relatives' ceiling)."""
    return (faces.score == "cohort" and raw is not None and math.isfinite(raw)
            and raw > faces.relative_ceiling)


def save_proposal(paths: AppPaths, proposal: Proposal) -> dict:
    """Write the proposed thresholds into the desk's settings; what was saved, and where."""
    loaded = load_settings(paths.settings_file, paths.site_config)
    new = update_settings(loaded.settings, {"faces": {
        "match_distance": proposal.match_distance,
        "mismatch_distance": proposal.mismatch_distance}})
    paths.ensure()
    save_settings(new, paths.settings_file, paths.site_config)
    saved: FacesSection = new.faces
    print(f"saved to {paths.settings_file}")
    return {"match_distance": saved.match_distance, "mismatch_distance": saved.mismatch_distance,
            "file": str(paths.settings_file)}


def main(args: argparse.Namespace) -> int:
    if not 0 < args.target_far < 0.5:
        raise UserInputError(Text("--target-far 应在 0 和 0.5 之间", "--target-far must be between 0 and 0.5"))
    given = bool(getattr(args, "pairs", None) or getattr(args, "strict", None))
    if getattr(args, "from_desk_history", False) == given:
        raise UserInputError(Text(
            "请给出至少一个样本对文件 PAIRS.csv, 或 --from-desk-history (二选一)。",
            "Give at least one pairs file PAIRS.csv, or --from-desk-history (not both)."))
    if args.from_desk_history:
        from desk_app.faces.history import calibrate_from_history

        return calibrate_from_history(args)
    if not 2 <= args.folds <= 20:
        raise UserInputError(Text("--folds 应在 2 和 20 之间", "--folds must be between 2 and 20"))
    files = [(Path(f), True) for f in args.strict or []]
    files += [(Path(f), not args.strict) for f in args.pairs or []]
    if not files:
        raise UserInputError(Text("请给出至少一个样本对文件。", "Give at least one pairs file."))
    paths, settings = load_faces_settings(args.data_dir)
    faces = settings.faces
    cache = open_cache(paths, settings, not getattr(args, "no_cache", False))
    names = [f.stem for f, _ in files]
    rows: list[tuple] = []
    with desk_model() as model:
        judge = PairJudge(faces, args.degrade_a, cache, model)
        for n, (f, _) in enumerate(files):
            pairs = read_pairs(f, getattr(args, "limit", 0) or 0)
            rows += (_all_rows if args.all_pairs else _listed_rows)(pairs, judge, n)
    scored = crossval.build_scored(rows, names, [st for _, st in files])
    rules = crossval.default_rules(args.target_far)
    try:
        # with cohort scores the relatives' ceiling is on each pair's plain distance
        ceiling = math.inf if faces.score == "cohort" else crossval.RELATIVE_CEILING
        result = crossval.nested_cv(scored, args.folds, rules, target_frr=0.01, ceiling=ceiling)
    except ValueError as exc:
        raise UserInputError(Text(
            "可用的样本对太少: 交叉验证的每一折都需要至少 10 对同一人和 10 对不同人 (含人脸)。"
            "请提供更多人的照片, 减少 --folds, 或加 --all-pairs。",
            "Too few usable pairs: every fold of the cross-validation needs at least 10 genuine "
            "and 10 impostor pairs with faces. Give photos of more people, fewer --folds, or "
            "--all-pairs.",
        )) from exc
    assert result.thresholds is not None
    proposal = result.thresholds
    report = {
        "proposal": {"match_distance": proposal.match_distance,
                     "mismatch_distance": proposal.mismatch_distance, "rule": str(result.rule)},
        "nested_cv": {name: t.as_dict() for name, t in zip(names, result.outer, strict=True)},
        "folds": result.folds,
        "on_calibration_data": {name: t.as_dict()
                                for name, t in zip(names, result.on_all, strict=True)},
        "strict": [name for name, st in zip(names, scored.strict, strict=True) if st],
        "current": {"match_distance": faces.match_distance,
                    "mismatch_distance": faces.mismatch_distance},
        "pairs": len(scored), "all_pairs": bool(args.all_pairs), "folds_n": args.folds,
        "target_far": args.target_far, "degrade_a": args.degrade_a,
    }
    print(f"proposed match_distance    = {proposal.match_distance}  ({result.rule})")
    print(f"proposed mismatch_distance = {proposal.mismatch_distance}")
    print(f"current                    = {faces.match_distance} / {faces.mismatch_distance}")
    print(f"nested cross-validation, {args.folds} folds by person (figures from the held-out "
          "folds only):")
    for name, t in zip(names, result.outer, strict=True):
        d = t.as_dict()
        print(f"  {name}: false admits {t.false_admits}/{t.impostor}, false rejects "
              f"{t.false_rejects}/{t.genuine}, genuine MATCH {t.genuine_match}/{t.genuine}, "
              f"undecided {d['undecided_share']:.1%}")
    if args.save:
        report["saved"] = save_proposal(paths, proposal)
    print(json.dumps(report, ensure_ascii=False))
    return 0
