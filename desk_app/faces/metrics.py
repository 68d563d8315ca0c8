"""Error rates over pair distances and the threshold proposal used by calibration.

A pair with no face on one side counts as infinitely far: a genuine patient whose face cannot
be found is rejected, never quietly left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def far_frr(genuine: Sequence[float], impostor: Sequence[float], t: float) -> tuple[float, float]:
    """(share of impostors at distance <= t, share of genuine pairs above t)."""
    g = np.asarray(genuine, dtype=float)
    i = np.asarray(impostor, dtype=float)
    far = float(np.mean(i <= t)) if i.size else 0.0
    frr = float(np.mean(g > t)) if g.size else 0.0
    return far, frr


def _candidates(genuine: Sequence[float], impostor: Sequence[float]) -> np.ndarray:
    vals = np.asarray([v for v in (*genuine, *impostor) if math.isfinite(v)], dtype=float)
    if not vals.size:
        return np.asarray([0.0])
    vals = np.unique(vals)
    mids = (vals[:-1] + vals[1:]) / 2
    return np.concatenate([[vals[0] - 1e-6], mids, [vals[-1] + 1e-6]])


def eer(genuine: Sequence[float], impostor: Sequence[float]) -> tuple[float, float]:
    """(equal error rate, threshold): where FAR and FRR cross (mean of the two at the closest
    threshold)."""
    best = (2.0, 0.0, 0.0)
    for t in _candidates(genuine, impostor):
        far, frr = far_frr(genuine, impostor, t)
        gap = abs(far - frr)
        if gap < best[0]:
            best = (gap, (far + frr) / 2, float(t))
    return best[1], best[2]


def tar_at_far(genuine: Sequence[float], impostor: Sequence[float], far_max: float) -> float:
    """Share of genuine pairs accepted at the largest threshold whose FAR <= far_max."""
    best = 0.0
    for t in _candidates(genuine, impostor):
        far, frr = far_frr(genuine, impostor, t)
        if far <= far_max:
            best = max(best, 1.0 - frr)
    return best


@dataclass(frozen=True)
class Proposal:
    match_distance: float
    mismatch_distance: float
    impostor_mean: float
    impostor_sd: float
    genuine_n: int
    impostor_n: int
    basis: str  # which bound set match_distance: "normal_fit" or "empirical"


def propose_thresholds(genuine: Sequence[float], impostor: Sequence[float], target_far: float,
                       target_frr: float = 0.01, margin: float = 0.01) -> Proposal:
    """Three bands from labelled distances.

    ``match_distance`` keeps impostor admits at ``target_far``. A few hundred impostor pairs
    cannot show a 0.1% rate, so the bound is the lower of (a) the ``target_far`` quantile of a
    normal fitted to the impostor distances and (b) the closest impostor seen minus ``margin``.
    ``mismatch_distance`` is the smallest distance above which at most ``target_frr`` of the
    genuine pairs lie, plus ``margin``, and never below ``match_distance``; what is left between
    the two is UNDECIDED (a clerk looks)."""
    imp = np.asarray([v for v in impostor if math.isfinite(v)], dtype=float)
    gen = np.asarray([v for v in genuine if math.isfinite(v)], dtype=float)
    if imp.size < 10 or gen.size < 10:
        raise ValueError("need at least 10 genuine and 10 impostor pairs with faces")
    mu, sd = float(imp.mean()), float(imp.std(ddof=1))
    fit = mu + NormalDist().inv_cdf(target_far) * sd
    emp = float(imp.min()) - margin
    match = min(fit, emp)
    basis = "normal_fit" if fit <= emp else "empirical"
    g_sorted = np.sort(gen)
    allowed = math.floor(target_frr * len(genuine))  # genuine pairs allowed at/above mismatch
    idx = len(g_sorted) - 1 - allowed
    mismatch = float(g_sorted[max(0, idx)]) + margin
    mismatch = max(mismatch, match)
    # Round towards the safe side: match down, mismatch up.
    return Proposal(math.floor(match * 1000) / 1000, math.ceil(mismatch * 1000) / 1000, mu, sd,
                    int(gen.size), int(imp.size), basis)
