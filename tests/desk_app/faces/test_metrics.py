"""Error rates and the threshold proposal, on distances whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desk_app.faces.calibrate import rates
from desk_app.faces.metrics import eer, far_frr, propose_thresholds, tar_at_far


def test_separated_distributions_have_zero_eer():
    genuine = [0.30, 0.35, 0.40, 0.42]
    impostor = [0.70, 0.80, 0.90]
    e, t = eer(genuine, impostor)
    assert e == 0.0
    assert 0.42 < t < 0.70
    assert tar_at_far(genuine, impostor, 0.01) == 1.0


def test_overlap_gives_the_crossing_rate():
    genuine = [0.1 * i for i in range(1, 11)]  # 0.1 .. 1.0
    impostor = [0.55 + 0.1 * i for i in range(10)]  # 0.55 .. 1.45
    far, frr = far_frr(genuine, impostor, 0.62)
    assert far == pytest.approx(0.1) and frr == pytest.approx(0.4)
    e, _ = eer(genuine, impostor)
    assert e == pytest.approx(0.25, abs=0.051)


def test_missing_faces_count_as_errors_for_genuine_pairs():
    genuine = [0.3, 0.3, math.inf, 0.3]
    impostor = [0.9, 0.9, math.inf, 0.9]
    e, _ = eer(genuine, impostor)
    assert e == pytest.approx(0.125)  # one genuine in four always rejected, no impostor admitted
    assert tar_at_far(genuine, impostor, 0.0) == 0.75


def test_proposal_keeps_impostors_out_and_genuine_in():
    rng = np.random.default_rng(7)
    genuine = list(rng.normal(0.40, 0.06, 300))
    impostor = list(rng.normal(0.85, 0.06, 300))
    p = propose_thresholds(genuine, impostor, target_far=0.001)
    assert p.match_distance <= min(impostor) - 0.01 + 1e-9
    # the normal fit extrapolates to 0.1 %: about 3.1 sd below the impostor mean
    assert p.match_distance == pytest.approx(0.85 - 3.09 * 0.06, abs=0.03)
    assert p.mismatch_distance >= p.match_distance
    r = rates(genuine, impostor, p.match_distance, p.mismatch_distance)
    assert r["false_admits"] == 0 and r["false_rejects"] <= 1


def test_proposal_needs_enough_pairs():
    with pytest.raises(ValueError):
        propose_thresholds([0.3] * 5, [0.9] * 50, 0.001)


def test_mismatch_never_below_match_when_distributions_overlap():
    genuine = [0.2 + 0.01 * i for i in range(60)]  # up to 0.79
    impostor = [0.5 + 0.01 * i for i in range(60)]
    p = propose_thresholds(genuine, impostor, 0.001)
    assert p.match_distance <= p.mismatch_distance


def test_capped_pairs_are_undecided_whatever_their_distance():
    genuine, impostor = [0.30, 0.35, 0.90], [0.40, 0.95, 0.97]
    plain = rates(genuine, impostor, 0.5, 0.7)
    assert plain == {**plain, "false_admits": 1, "false_rejects": 1, "undecided": 0}
    r = rates(genuine, impostor, 0.5, 0.7, [False, True, True], [True, False, False])
    # the capped genuine match, the capped genuine reject and the capped impostor admit
    assert r["false_admits"] == 0 and r["false_rejects"] == 0 and r["undecided"] == 3
