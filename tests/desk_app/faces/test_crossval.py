"""Nested cross-validation by person, on distances whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desk_app.faces.crossval import (
    RELATIVE_CEILING,
    Rule,
    Tally,
    Thresholds,
    badness,
    build_scored,
    fit,
    nested_cv,
    person_folds,
    tally,
)


def population(rng, n_people: int, photos: int, gen=(0.40, 0.05), imp=(0.85, 0.05), pop=0,
               prefix="p") -> list[tuple]:
    """Every ordered pair of photos of ``n_people`` people: same person from ``gen``,
    different people from ``imp`` (normal mean, sd)."""
    rows = []
    for a in range(n_people):
        for b in range(n_people):
            for i in range(photos):
                for j in range(photos):
                    if a == b and i == j:
                        continue
                    mu, sd = gen if a == b else imp
                    rows.append((float(rng.normal(mu, sd)), a == b, False, pop,
                                 f"{prefix}{a}/{i}", f"{prefix}{b}/{j}"))
    return rows


def test_people_are_joined_by_genuine_pairs_and_each_sits_in_one_fold():
    rng = np.random.default_rng(1)
    s = build_scored(population(rng, 12, 3), ["x"], [True])
    # photo keys differ; the genuine pairs make 12 people
    assert len(set(s.person_a.tolist()) | set(s.person_b.tolist())) == 12
    folds = person_folds(s, 4)
    assert sorted(np.bincount(folds).tolist()) == [3, 3, 3, 3]
    assert (folds[s.person_a[s.same]] == folds[s.person_b[s.same]]).all()


def test_outer_figures_come_from_people_the_thresholds_never_saw():
    """Two look-alike strangers (a "relative" pair at 0.30) sit in one fold: the thresholds
    fitted without them admit them, and the outer figures must say so; thresholds fitted on
    everything (what ships) keep them out, but that is not a measurement."""
    rng = np.random.default_rng(2)
    rows = population(rng, 15, 3)
    rows += [(0.30, False, False, 0, "p3/0", "p4/0"), (0.30, False, False, 0, "p4/0", "p3/0")]
    s = build_scored(rows, ["patients"], [True])
    pa, pb = s.person_a[s.distance == 0.30][0], s.person_b[s.distance == 0.30][0]
    folds = np.arange(15) % 5
    folds[pb] = folds[pa]  # the two look-alikes in one fold
    res = nested_cv(s, n_folds=5, rules=[Rule(0.0), Rule(0.02)], folds=folds)
    (outer,) = res.outer
    assert outer.false_admits == 2
    assert res.thresholds is not None and res.thresholds.match_distance < 0.30
    assert res.on_all[0].false_admits == 0
    # every genuine pair is reported once; impostor pairs across folds are left out
    assert outer.genuine == int(s.same.sum())
    assert outer.impostor < int((~s.same).sum())
    assert [f["fold"] for f in res.folds] == [0, 1, 2, 3, 4]


def test_fit_keeps_every_impostor_out_and_at_most_one_percent_of_each_population_rejected():
    rng = np.random.default_rng(3)
    rows = population(rng, 10, 3, gen=(0.38, 0.06), imp=(0.70, 0.06), pop=0, prefix="a")
    rows += population(rng, 10, 3, gen=(0.45, 0.08), imp=(0.85, 0.05), pop=1, prefix="b")
    s = build_scored(rows, ["patients", "mixed"], [True, False])
    t = fit(Rule(0.01), s)
    imp = s.distance[~s.same]
    assert t.match_distance <= imp.min() - 0.01 + 1e-9
    for pop in (0, 1):
        g = s.distance[s.same & (s.population == pop)]
        assert (g >= t.mismatch_distance).sum() <= math.floor(0.01 * g.size)
    a, b = tally(s, t)
    assert a.false_admits == b.false_admits == 0
    # the normal fit (on the strict population's impostors) may only lower the threshold
    assert fit(Rule(0.01, 0.001), s).match_distance <= t.match_distance


def test_the_match_threshold_never_rises_above_the_relatives_ceiling():
    rng = np.random.default_rng(4)
    s = build_scored(population(rng, 8, 3, gen=(0.35, 0.03), imp=(1.0, 0.03)), ["x"], [True])
    t = fit(Rule(0.0), s)
    assert t.match_distance <= RELATIVE_CEILING < 0.493
    assert fit(Rule(0.0), s, ceiling=2.0).match_distance > 0.8


def test_too_few_pairs_is_an_error_not_a_threshold():
    s = build_scored([(0.3, True, False, 0, "a/0", "a/1"), (0.9, False, False, 0, "a/0", "b/0")],
                     ["x"], [True])
    with pytest.raises(ValueError):
        fit(Rule(0.0), s)


def test_capped_and_faceless_pairs_are_undecided():
    rows = [(0.30, True, True, 0, "a/0", "a/1"), (0.30, False, True, 0, "a/0", "b/0"),
            (math.inf, True, False, 0, "a/0", "a/2"), (0.95, True, False, 0, "a/1", "a/2")]
    s = build_scored(rows, ["x"], [True])
    (t,) = tally(s, Thresholds(0.5, 0.7))
    assert (t.false_admits, t.false_rejects, t.genuine_match, t.undecided, t.no_face) == (
        0, 1, 0, 3, 1)


def test_badness_puts_the_patients_false_admits_first():
    strict, other = Tally(genuine=100, impostor=100), Tally(genuine=100, impostor=100)
    strict.false_admits = 1
    worse = badness([strict, Tally(genuine=100, genuine_match=100)], [True, False])
    other.false_admits = 5
    better = badness([Tally(genuine=100), other], [True, False])
    assert better < worse
    # one false reject in 100 is allowed, the second counts
    assert badness([Tally(genuine=100, false_rejects=1)], [True])[2] == 0
    assert badness([Tally(genuine=100, false_rejects=2)], [True])[2] == 1


def test_the_shipped_match_threshold_leaves_the_known_relatives_to_the_clerk():
    """A brother and sister at 0.493, two Japanese men at 0.536 (issue 17, a mixed public set):
    with the defaults both are UNDECIDED, not a MATCH, and no calibration may propose more."""
    from desk_app.faces.verify import FaceOutcome, outcome_for
    from desk_app.settings import FacesSection

    faces = FacesSection()
    for d in (0.493, 0.536):
        assert outcome_for(d, faces) == FaceOutcome.UNDECIDED
        assert outcome_for(d, FacesSection(match_distance=RELATIVE_CEILING)) != FaceOutcome.MATCH
