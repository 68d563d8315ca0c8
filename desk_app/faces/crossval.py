"""Thresholds chosen and measured with nested cross-validation, folds split by identity.

The pairs of several populations (one a pairs file, e.g. the East Asian patients and a mixed
set) are pooled. People are the connected parts of "same person" links (a person's photos,
joined by the genuine pairs and, when given, by the photo's folder), and every person goes to
one fold: a person's face never sits in both the choosing and the reporting part. A pair between
two folds would carry a face across, so it is used only where both its people are on the same
side (training: any two training folds; reporting: the fold itself).

Outer loop (reports): for each fold, the inner loop chooses a :class:`Rule` on the other folds
(leave one of them out at a time), the rule sets thresholds on all the other folds, and the
fold is judged with them. The figures reported are the outer folds' alone. What ships is the
rule the same leave-one-fold-out choice picks on all the data, fitted on all of it.

A rule is judged by, in this order (:func:`badness`): impostors judged MATCH in the strict
populations (the patients: none may be admitted), impostors judged MATCH elsewhere, genuine
pairs judged MISMATCH beyond ``target_frr`` of a population, and then the fewest genuine pairs
not judged MATCH (the clerk's work).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

#: No calibration proposes a match threshold above this. dlib's descriptor puts relatives close:
#: a brother and sister at 0.493 and two Japanese men at 0.536 were measured in a mixed public
#: set (issue 17); with the match threshold below both, a relative is at best UNDECIDED and the
#: clerk compares the photo.
RELATIVE_CEILING = 0.47


@dataclass(frozen=True)
class Scored:
    """Pairs as numpy columns (one entry a pair)."""

    distance: np.ndarray  # float; inf when one side had no face
    same: np.ndarray  # bool
    capped: np.ndarray  # bool: another face in view, UNDECIDED whatever the distance
    population: np.ndarray  # int, index into ``populations``
    person_a: np.ndarray  # int: the person (component) of each side
    person_b: np.ndarray
    populations: tuple[str, ...]
    strict: tuple[bool, ...]  # per population: no false admit may be traded for anything
    no_mismatch: np.ndarray | None = None  # bool: never MISMATCH (verify.NO_MISMATCH_HINTS)
    # bool: never MATCH (with cohort scores: the raw distance is above the relatives' ceiling)
    no_match: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.distance.size)

    @property
    def mismatch_allowed(self) -> np.ndarray:
        return ~self.capped if self.no_mismatch is None else ~self.capped & ~self.no_mismatch

    def subset(self, mask: np.ndarray) -> Scored:
        return Scored(self.distance[mask], self.same[mask], self.capped[mask],
                      self.population[mask], self.person_a[mask], self.person_b[mask],
                      self.populations, self.strict,
                      None if self.no_mismatch is None else self.no_mismatch[mask],
                      None if self.no_match is None else self.no_match[mask])

    @property
    def match_allowed(self) -> np.ndarray:
        return ~self.capped if self.no_match is None else ~self.capped & ~self.no_match


class People:
    """Union-find over person keys: keys joined are one person."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self._parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self._parent[ra] = rb


def build_scored(rows: Sequence[tuple], populations: Sequence[str], strict: Sequence[bool],
                 ) -> Scored:
    """From (distance or inf, same, capped, population, person key a, person key b[,
    no_mismatch[, no_match]]) rows; persons linked by a genuine pair become one."""
    people = People()
    for _, same, _, _, a, b, *_ in rows:
        people.find(a)
        people.find(b)
        if same:
            people.join(a, b)
    ids: dict[str, int] = {}
    pa = [ids.setdefault(people.find(r[4]), len(ids)) for r in rows]
    pb = [ids.setdefault(people.find(r[5]), len(ids)) for r in rows]
    return Scored(
        np.asarray([r[0] for r in rows], dtype=float), np.asarray([r[1] for r in rows], bool),
        np.asarray([r[2] for r in rows], bool), np.asarray([r[3] for r in rows], int),
        np.asarray(pa, int), np.asarray(pb, int), tuple(populations), tuple(strict),
        np.asarray([bool(r[6]) if len(r) > 6 else False for r in rows], bool),
        np.asarray([bool(r[7]) if len(r) > 7 else False for r in rows], bool))


def person_folds(scored: Scored, n_folds: int, seed: int = 17) -> np.ndarray:
    """A fold for every person (index = person id), people with many pairs spread first so
    the folds are of similar size. Deterministic for a seed."""
    n_people = int(max(scored.person_a.max(initial=-1), scored.person_b.max(initial=-1))) + 1
    weight = np.bincount(scored.person_a, minlength=n_people) + np.bincount(
        scored.person_b, minlength=n_people)
    rng = np.random.default_rng(seed)
    order = sorted(rng.permutation(n_people), key=lambda p: -weight[p])
    folds = np.zeros(n_people, int)
    load = np.zeros(n_folds)
    for p in order:
        f = int(np.argmin(load))
        folds[p] = f
        load[f] += weight[p]
    return folds


@dataclass(frozen=True)
class Rule:
    """How thresholds are set from training pairs. ``margin``: the match threshold this far
    below the closest impostor; ``target_far``: and no higher than that quantile of a normal
    fitted to the strict populations' impostors (None: no fit)."""

    margin: float
    target_far: float | None = None

    def __str__(self) -> str:
        fit = f", normal fit {self.target_far:g}" if self.target_far else ""
        return f"closest impostor - {self.margin:g}{fit}"


def default_rules(target_far: float | None = 0.001) -> list[Rule]:
    fars: list[float | None] = [None] if not target_far else [None, target_far]
    return [Rule(m, f) for m in (0.0, 0.01, 0.02, 0.03, 0.05) for f in fars]


@dataclass(frozen=True)
class Thresholds:
    match_distance: float
    mismatch_distance: float


def fit(rule: Rule, s: Scored, target_frr: float = 0.01, ceiling: float = RELATIVE_CEILING,
        ) -> Thresholds:
    """Thresholds by ``rule`` on the pairs ``s``: match below every impostor (by the margin,
    the fit, and never above ``ceiling``); mismatch where at most ``target_frr`` of each
    population's genuine pairs lie at or above it, plus 0.01; rounded towards safety."""
    finite = np.isfinite(s.distance)
    imp = s.distance[~s.same & finite & ~s.capped]
    gen_ok = s.same & finite
    if imp.size < 10 or gen_ok.sum() < 10:
        raise ValueError("need at least 10 genuine and 10 impostor pairs with faces")
    # The impostors that could be a MATCH set the threshold (one above the relatives' ceiling
    # never is); with fewer than 10 of them, all impostors do (the safe side).
    matchable = s.distance[~s.same & finite & s.match_allowed]
    imp = matchable if matchable.size >= 10 else imp
    match = float(imp.min()) - rule.margin
    if rule.target_far:
        strict_pops = [i for i, st in enumerate(s.strict) if st]
        pool = imp
        if strict_pops:
            strict_imp = s.distance[~s.same & finite & s.match_allowed
                                    & np.isin(s.population, strict_pops)]
            pool = strict_imp if strict_imp.size >= 10 else imp
        mu, sd = float(pool.mean()), float(pool.std(ddof=1))
        match = min(match, mu + NormalDist().inv_cdf(rule.target_far) * sd)
    match = min(match, ceiling)
    mismatch = match
    for p in range(len(s.populations)):
        mine = s.same & (s.population == p)
        allowed = math.floor(target_frr * int(mine.sum()))
        # the genuine pairs that may be judged MISMATCH (no face: never compared)
        g = np.sort(s.distance[mine & finite & s.mismatch_allowed])
        if g.size > allowed:
            mismatch = max(mismatch, float(g[g.size - 1 - allowed]) + 0.01)
    # Rounded towards safety: match down and strictly below the impostor it was set from
    # (outcome_for says MATCH at distance <= match_distance), mismatch up.
    return Thresholds(math.floor((match - 1e-9) * 1000) / 1000,
                      math.ceil(mismatch * 1000) / 1000)


@dataclass
class Tally:
    """What three bands do to one population's pairs."""

    genuine: int = 0
    impostor: int = 0
    false_admits: int = 0  # impostor MATCH
    false_rejects: int = 0  # genuine MISMATCH
    genuine_match: int = 0
    undecided: int = 0  # either kind
    no_face: int = 0

    def add(self, other: Tally) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def as_dict(self) -> dict:
        n = self.genuine + self.impostor
        return {**self.__dict__,
                "genuine_match_share": round(self.genuine_match / self.genuine, 4)
                if self.genuine else None,
                "false_reject_share": round(self.false_rejects / self.genuine, 4)
                if self.genuine else None,
                "undecided_share": round(self.undecided / n, 4) if n else None}


def tally(s: Scored, t: Thresholds) -> list[Tally]:
    """One :class:`Tally` per population, the outcomes as :func:`~desk_app.faces.verify.
    outcome_for` bands them (and capped pairs UNDECIDED, as at a desk)."""
    d = s.distance
    finite = np.isfinite(d)
    match = finite & (d <= t.match_distance) & s.match_allowed
    mismatch = finite & (d >= t.mismatch_distance) & s.mismatch_allowed & ~match
    undecided = ~match & ~mismatch
    out = []
    for p in range(len(s.populations)):
        m = s.population == p
        g, i = m & s.same, m & ~s.same
        out.append(Tally(int(g.sum()), int(i.sum()), int((match & i).sum()),
                         int((mismatch & g).sum()), int((match & g).sum()),
                         int((undecided & m).sum()), int((m & ~finite).sum())))
    return out


def badness(tallies: Sequence[Tally], strict: Sequence[bool], target_frr: float = 0.01,
            ) -> tuple[int, int, int, int]:
    """Lower is better, compared in order: strict false admits, other false admits, genuine
    MISMATCH beyond ``target_frr`` of a population, genuine pairs not matched."""
    fa_strict = sum(t.false_admits for t, st in zip(tallies, strict, strict=True) if st)
    fa_other = sum(t.false_admits for t, st in zip(tallies, strict, strict=True) if not st)
    fr_excess = sum(max(0, t.false_rejects - math.floor(target_frr * t.genuine)) for t in tallies)
    unmatched = sum(t.genuine - t.genuine_match for t in tallies)
    return fa_strict, fa_other, fr_excess, unmatched


def _inside(s: Scored, folds: np.ndarray, chosen: Sequence[int]) -> np.ndarray:
    """Pairs whose two people are both in ``chosen`` folds."""
    fa, fb = folds[s.person_a], folds[s.person_b]
    return np.isin(fa, chosen) & np.isin(fb, chosen)


def choose_rule(s: Scored, folds: np.ndarray, fold_ids: Sequence[int], rules: Sequence[Rule],
                target_frr: float = 0.01, ceiling: float = RELATIVE_CEILING,
                ) -> tuple[Rule, dict[Rule, tuple[int, ...]]]:
    """The rule with the least :func:`badness` summed over leave-one-fold-out among
    ``fold_ids`` (each left-out fold judged with thresholds fitted on the others)."""
    scores: dict[Rule, tuple[int, ...]] = {}
    for rule in rules:
        total = [0, 0, 0, 0]
        for held in fold_ids:
            train = s.subset(_inside(s, folds, [f for f in fold_ids if f != held]))
            test = s.subset(_inside(s, folds, [held]))
            try:
                t = fit(rule, train, target_frr, ceiling)
            except ValueError:
                continue
            total = [a + b for a, b in zip(total, badness(tally(test, t), s.strict, target_frr),
                                           strict=True)]
        scores[rule] = tuple(total)
    best = min(rules, key=lambda r: (scores[r], rules.index(r)))
    return best, scores


@dataclass
class NestedResult:
    outer: list[Tally]  # per population, summed over the outer folds' reporting parts
    folds: list[dict] = field(default_factory=list)  # per outer fold: rule, thresholds, tallies
    rule: Rule | None = None  # what ships: chosen on all folds
    thresholds: Thresholds | None = None  # ... and fitted on all the data
    on_all: list[Tally] = field(default_factory=list)  # the shipped thresholds on all the data


def nested_cv(s: Scored, n_folds: int = 5, rules: Sequence[Rule] | None = None,
              target_frr: float = 0.01, seed: int = 17,
              folds: np.ndarray | None = None, ceiling: float = RELATIVE_CEILING,
              ) -> NestedResult:
    """``folds``: a fold for every person (default :func:`person_folds`); ``ceiling``: no
    match threshold above it (:func:`fit`)."""
    rules = list(rules or default_rules())
    if folds is None:
        folds = person_folds(s, n_folds, seed)
    all_ids = list(range(n_folds))
    outer = [Tally() for _ in s.populations]
    result = NestedResult(outer)
    for held in all_ids:
        rest = [f for f in all_ids if f != held]
        rule, _ = choose_rule(s, folds, rest, rules, target_frr, ceiling)
        t = fit(rule, s.subset(_inside(s, folds, rest)), target_frr, ceiling)
        per_pop = tally(s.subset(_inside(s, folds, [held])), t)
        for total, part in zip(outer, per_pop, strict=True):
            total.add(part)
        result.folds.append({"fold": held, "rule": str(rule), **t.__dict__,
                             "populations": {name: p.as_dict() for name, p
                                             in zip(s.populations, per_pop, strict=True)}})
    result.rule, _ = choose_rule(s, folds, all_ids, rules, target_frr, ceiling)
    result.thresholds = fit(result.rule, s, target_frr, ceiling)
    result.on_all = tally(s, result.thresholds)
    return result
