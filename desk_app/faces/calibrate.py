"""``desk-app calibrate faces PAIRS.csv --target-far 0.001 [--save]``: thresholds from a site's data.

The pairs are encoded exactly as ``eval faces`` does (same cache), the thresholds proposed by
:func:`~desk_app.faces.metrics.propose_thresholds`, and, so that nobody mistakes figures on the
calibration data for a measurement, a two-fold cross-validation is printed alongside: calibrate
on one half, judge the other half, and the other way round. The halves keep the file's order
(genuine and impostor pairs split separately), so identities listed together stay together, as
in LFW's folds.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from desk_app.errors import Text, UserInputError
from desk_app.faces.evaluate import (
    PairJudge,
    capped_of,
    desk_model,
    distances_of,
    judge_pairs,
    load_faces_settings,
    open_cache,
    read_pairs,
)
from desk_app.faces.metrics import Proposal, propose_thresholds
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


def halves(values: list) -> tuple[list, list]:
    mid = len(values) // 2
    return values[:mid], values[mid:]


def cross_validate(genuine: list[float], impostor: list[float], target_far: float,
                   capped_genuine: list[bool] | None = None,
                   capped_impostor: list[bool] | None = None) -> list[dict]:
    """Two folds: thresholds from one half, rates on the other."""
    g1, g2 = halves(genuine)
    i1, i2 = halves(impostor)
    cg1, cg2 = halves(capped_genuine or [False] * len(genuine))
    ci1, ci2 = halves(capped_impostor or [False] * len(impostor))
    out = []
    for name, (gc, ic), (gm, im, cgm, cim) in (
            ("first->second", (g1, i1), (g2, i2, cg2, ci2)),
            ("second->first", (g2, i2), (g1, i1, cg1, ci1))):
        p = propose_thresholds(gc, ic, target_far)
        out.append({"fold": name, "match_distance": p.match_distance,
                    "mismatch_distance": p.mismatch_distance,
                    **rates(gm, im, p.match_distance, p.mismatch_distance, cgm, cim)})
    return out


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
    if getattr(args, "from_desk_history", False) == bool(getattr(args, "pairs", None)):
        raise UserInputError(Text("请给出样本对文件 PAIRS.csv 或 --from-desk-history (二选一)。",
                                  "Give either PAIRS.csv or --from-desk-history."))
    if args.from_desk_history:
        from desk_app.faces.history import calibrate_from_history

        return calibrate_from_history(args)
    paths, settings = load_faces_settings(args.data_dir)
    faces = settings.faces
    pairs = read_pairs(Path(args.pairs), getattr(args, "limit", 0) or 0)
    cache = open_cache(paths, settings, not getattr(args, "no_cache", False))
    with desk_model() as model:
        results = judge_pairs(pairs, PairJudge(faces, args.degrade_a, cache, model))
    genuine, impostor = distances_of(results)
    capped_g, capped_i = capped_of(results)
    try:
        proposal: Proposal = propose_thresholds(genuine, impostor, args.target_far)
    except ValueError as exc:
        raise UserInputError(Text(
            "可用的样本对太少 (每类至少 10 对含人脸)。",
            "Too few usable pairs (at least 10 genuine and 10 impostor pairs with faces).",
        )) from exc
    report = {
        "proposal": {"match_distance": proposal.match_distance,
                     "mismatch_distance": proposal.mismatch_distance,
                     "basis": proposal.basis,
                     "impostor_mean": round(proposal.impostor_mean, 4),
                     "impostor_sd": round(proposal.impostor_sd, 4)},
        "on_calibration_data": rates(genuine, impostor, proposal.match_distance,
                                     proposal.mismatch_distance, capped_g, capped_i),
        "current": {"match_distance": faces.match_distance,
                    "mismatch_distance": faces.mismatch_distance},
        "target_far": args.target_far,
        "degrade_a": args.degrade_a,
    }
    if len(genuine) >= 20 and len(impostor) >= 20:
        report["cross_validation"] = cross_validate(genuine, impostor, args.target_far,
                                                    capped_g, capped_i)
    print(f"proposed match_distance    = {proposal.match_distance}  ({proposal.basis})")
    print(f"proposed mismatch_distance = {proposal.mismatch_distance}")
    print(f"current                    = {faces.match_distance} / {faces.mismatch_distance}")
    for fold in report.get("cross_validation", []):
        print(f"cross-validation {fold['fold']}: thresholds {fold['match_distance']}/"
              f"{fold['mismatch_distance']} -> false admits {fold['false_admits']}/"
              f"{fold['impostor']}, false rejects {fold['false_rejects']}/{fold['genuine']}, "
              f"undecided {fold['undecided_share']:.1%}")
    if args.save:
        report["saved"] = save_proposal(paths, proposal)
    print(json.dumps(report, ensure_ascii=False))
    return 0
