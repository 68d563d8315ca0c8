"""``desk-app calibrate cohort``: choose the cohort and the thresholds by nested cross-validation.

Every photo of the pairs files is encoded once on each side (as ``eval faces`` does, with its
cache). For each outer fold (people, :func:`crossval.person_folds`), the inner loop tries each
cohort variant (:data:`VARIANTS`: score kind, number of centres, nearest centres) and each
threshold rule (:func:`crossval.default_rules`), a cohort built from the inner training folds'
photos only, and keeps the pair with the least :func:`crossval.badness` over the inner folds.
Every fit also caps the match threshold so that at most ``--max-far`` (:data:`MAX_FAR`) of the
strict population's strangers, every photo of the training folds against every other, would be
a MATCH; the report gives the same count on each held-out fold's photos.
The outer fold is then judged with a cohort built and thresholds fitted on the other folds:
only those figures are a measurement. What ships (``--out``) is the variant and rule chosen the
same way over all folds, built and fitted on all the photos.

A pair whose raw distance is above ``RELATIVE_CEILING`` is never a MATCH, whatever its score
(relatives, docs/architecture.md): the ceiling is set by reasoning, not chosen here.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desk_app.errors import Text, UserInputError
from desk_app.faces import cohort as cohort_mod
from desk_app.faces import crossval
from desk_app.faces.crossval import RELATIVE_CEILING, Rule, Scored, Tally
from desk_app.faces.evaluate import (
    PairJudge,
    desk_model,
    load_faces_settings,
    open_cache,
    read_pairs,
)
from desk_app.faces.verify import CAPPING_HINTS, NO_MISMATCH_HINTS


@dataclass(frozen=True)
class Variant:
    kind: cohort_mod.Kind
    centres: int
    k_nearest: int

    def __str__(self) -> str:
        return f"{self.kind}, {self.centres} centres, {self.k_nearest} nearest"


#: No match threshold under which more than this share of the strict population's strangers
#: (every photo against every other of the training folds) would be a MATCH: a file's few
#: hundred listed strangers say little about one in a thousand. The same rate as
#: ``calibrate faces --target-far`` (0.001) by default.
MAX_FAR = 1e-3

#: Score kinds x centres x nearest centres. One nearest centre is the most local crowding: the
#: cross-fitted cap (:meth:`Study.cap`) keeps its noise from admitting strangers. Not "z" with
#: one nearest centre: the spread of a single distance is 0, so every pair would score the
#: reference (a desk that matches no one; the inner loop never chose it, but could have, on a
#: set where every other variant admits a stranger).
VARIANTS = tuple(Variant(k, c, n) for k, c, n in itertools.product(("shift", "z"), (32, 64, 100),
                                                                    (1, 3, 10))
                 if not (k == "z" and n == 1))


@dataclass
class Photos:
    card: np.ndarray  # (n, 128), NaN rows: no face
    live: np.ndarray
    person: np.ndarray  # person id of each photo (ids of ``raw``)
    pair_a: np.ndarray  # photo index of each pair's card side
    pair_b: np.ndarray  # ... and live side
    raw: Scored  # the pairs with raw distances
    population: np.ndarray  # population index of each photo (its first pair's)


def encode_photos(files: list[tuple[Path, bool]], judge: PairJudge) -> Photos:
    from desk_app.faces.calibrate import person_key

    index: dict[Path, int] = {}
    rows, pa, pb = [], [], []
    names = []
    for population, (path, _) in enumerate(files):
        names.append(path.stem)
        for pair in read_pairs(path):
            for f in (pair.file_a, pair.file_b):
                index.setdefault(f, len(index))
            pa.append(index[pair.file_a])
            pb.append(index[pair.file_b])
            rows.append((pair, population))
    cards = [judge.id_side(f) for f in index]
    lives = [judge.live_side(f) for f in index]
    nan = np.full(128, np.nan)
    card = np.stack([e.encoding if e.encoding is not None else nan for e in cards])
    live = np.stack([e.encoding if e.encoding is not None else nan for e in lives])
    pa_arr, pb_arr = np.asarray(pa, int), np.asarray(pb, int)
    dist = np.sqrt(((card[pa_arr] - live[pb_arr]) ** 2).sum(axis=1))
    out_rows = []
    for (pair, population), d, i, j in zip(rows, dist, pa_arr, pb_arr, strict=True):
        hints = {*cards[i].hints, *lives[j].hints}
        out_rows.append((float(d) if math.isfinite(d) else math.inf, pair.same,
                         bool(set(lives[j].hints) & CAPPING_HINTS), population,
                         person_key(pair.label_a), person_key(pair.label_b),
                         bool(hints & NO_MISMATCH_HINTS)))
    raw = crossval.build_scored(out_rows, names, [strict for _, strict in files])
    person = np.full(len(index), -1)
    person[pa_arr] = raw.person_a
    person[pb_arr] = raw.person_b
    population = np.full(len(index), -1)
    population[pb_arr[::-1]] = raw.population[::-1]
    population[pa_arr[::-1]] = raw.population[::-1]
    return Photos(card, live, person, pa_arr, pb_arr, raw, population)


def stranger_scores(photos: Photos, cohort: cohort_mod.Cohort, mask: np.ndarray,
                    ceiling: float = RELATIVE_CEILING) -> tuple[np.ndarray, np.ndarray]:
    """Every photo of ``mask`` as the card against every other as the live face: the scores
    of the strangers' pairs and of the genuine pairs, inf where no MATCH is possible (no face,
    or a plain distance above ``ceiling``)."""
    faces = ~np.isnan(photos.card).any(axis=1) & ~np.isnan(photos.live).any(axis=1)
    idx = np.where(mask & faces)[0]
    raw, score = cohort.all_against_all(photos.card[idx], photos.live[idx])
    score = np.where(raw > ceiling, np.inf, score)
    who = photos.person[idx]
    same = who[:, None] == who[None, :]
    off = ~np.eye(len(idx), dtype=bool)
    return score[~same], score[same & off]


def scored_with(photos: Photos, cohort: cohort_mod.Cohort,
                ceiling: float = RELATIVE_CEILING) -> Scored:
    """The pairs with cohort scores; a raw distance above ``ceiling`` never matches."""
    cm, cs = cohort.crowding_arrays(photos.card, "card")
    lm, ls = cohort.crowding_arrays(photos.live, "live")
    raw = photos.raw
    i, j = photos.pair_a, photos.pair_b
    score = cohort.scores(raw.distance, cm[i], cs[i], lm[j], ls[j])
    score = np.where(np.isfinite(raw.distance) & np.isfinite(score), score, np.inf)
    return Scored(score, raw.same, raw.capped, raw.population, raw.person_a, raw.person_b,
                  raw.populations, raw.strict, raw.no_mismatch,
                  np.isfinite(raw.distance) & (raw.distance > ceiling))


class Study:
    def __init__(self, photos: Photos, n_folds: int = 5, seed: int = 17,
                 variants: tuple[Variant, ...] = VARIANTS, rules: list[Rule] | None = None,
                 max_far: float = MAX_FAR, ceiling: float = RELATIVE_CEILING):
        self.photos = photos
        self.max_far = max_far
        self.ceiling = ceiling
        strict = [i for i, st in enumerate(photos.raw.strict) if st]
        self.strict_photos = np.isin(photos.population, strict)
        self.n_folds = n_folds
        self.folds = crossval.person_folds(photos.raw, n_folds, seed)
        self.variants = variants
        self.rules = rules or crossval.default_rules()
        self._built: dict[tuple, tuple[cohort_mod.Cohort, Scored]] = {}
        self._caps: dict[tuple, float] = {}

    def built(self, fold_ids: tuple[int, ...], v: Variant) -> tuple[cohort_mod.Cohort, Scored]:
        key = (fold_ids, v)
        if key not in self._built:
            p, mine = self.photos, self._in(fold_ids)
            c = cohort_mod.build(p.card[mine], p.live[mine], p.person[mine], centres=v.centres,
                                 k_nearest=v.k_nearest, kind=v.kind)
            self._built[key] = (c, scored_with(p, c, self.ceiling))
        return self._built[key]

    def cap(self, fold_ids: tuple[int, ...], v: Variant) -> float:
        """The score of the (allowed + 1)-th closest strict stranger of ``fold_ids`` (allowed:
        ``max_far`` of them all), every photo against every other within each fold, *cross-
        fitted*: each fold's strangers scored with a cohort built without that fold. A cohort
        built from the very photos it scores finds them crowded by their own centres and scores
        them too kindly; a desk's patients are never in the cohort (with one nearest centre of
        64, the uncrossed cap let 0.43 % of held-out strangers match instead of 0.1 %)."""
        key = (fold_ids, v)
        if key not in self._caps:
            pools = []
            for f in fold_ids:
                rest = tuple(x for x in fold_ids if x != f) if len(fold_ids) > 1 else fold_ids
                c, _ = self.built(rest, v)
                imp, _ = stranger_scores(self.photos, c, self.strict_photos & self._in((f,)),
                                         self.ceiling)
                pools.append(imp)
            imp = np.concatenate(pools)
            allowed = math.floor(self.max_far * imp.size)
            matchable = np.sort(imp[np.isfinite(imp)])
            self._caps[key] = float(matchable[allowed]) if matchable.size > allowed else math.inf
        return self._caps[key]

    def fitted(self, fold_ids: tuple[int, ...], v: Variant, rule: Rule
               ) -> tuple[crossval.Thresholds, Scored]:
        _, s = self.built(fold_ids, v)
        inside = crossval._inside(s, self.folds, list(fold_ids))  # noqa: SLF001
        t = crossval.fit(rule, s.subset(inside), ceiling=math.inf)
        cap = self.cap(fold_ids, v)
        if cap < t.match_distance + 1e-9:  # strictly below that stranger, rounded down
            match = math.floor((cap - 1e-9) * 1000) / 1000
            t = crossval.Thresholds(match, max(t.mismatch_distance, match))
        return t, s

    def _in(self, fold_ids: tuple[int, ...]) -> np.ndarray:
        p = self.photos
        return (p.person >= 0) & np.isin(self.folds[np.maximum(p.person, 0)], fold_ids)

    def strangers_held_out(self, fold_ids: tuple[int, ...], held: int, v: Variant,
                           t: crossval.Thresholds) -> dict:
        """The strict population's photos of fold ``held``, every one against every other,
        scored with the cohort of ``fold_ids``: strangers and genuine pairs judged MATCH."""
        c, _ = self.built(fold_ids, v)
        imp, gen = stranger_scores(self.photos, c, self.strict_photos & self._in((held,)))
        return {"impostor": int(imp.size), "false_admits": int((imp <= t.match_distance).sum()),
                "genuine": int(gen.size), "genuine_match": int((gen <= t.match_distance).sum())}

    def choose(self, fold_ids: tuple[int, ...]) -> tuple[Variant, Rule]:
        """The variant and rule with the least badness, leaving each of ``fold_ids`` out."""
        best: tuple | None = None
        for v, rule in itertools.product(self.variants, self.rules):
            total = [0, 0, 0, 0]
            for held in fold_ids:
                train = tuple(f for f in fold_ids if f != held)
                try:
                    t, s = self.fitted(train, v, rule)
                except ValueError:  # too few pairs to fit on: never chosen
                    total = [math.inf] * 4
                    break
                test = s.subset(crossval._inside(s, self.folds, [held]))  # noqa: SLF001
                total = [a + b for a, b in zip(total, crossval.badness(
                    crossval.tally(test, t), s.strict), strict=True)]
            if best is None or tuple(total) < best[0]:
                best = (tuple(total), v, rule)
        assert best is not None
        return best[1], best[2]

    def run(self) -> dict:
        pops = self.photos.raw.populations
        outer = [Tally() for _ in pops]
        folds = []
        all_ids = tuple(range(self.n_folds))
        for held in all_ids:
            rest = tuple(f for f in all_ids if f != held)
            v, rule = self.choose(rest)
            t, s = self.fitted(rest, v, rule)
            per_pop = crossval.tally(s.subset(crossval._inside(s, self.folds, [held])), t)  # noqa: SLF001
            for total, part in zip(outer, per_pop, strict=True):
                total.add(part)
            folds.append({"fold": held, "variant": str(v), "rule": str(rule), **t.__dict__,
                          "strict_every_photo": self.strangers_held_out(rest, held, v, t)})
        v, rule = self.choose(all_ids)
        cohort, _ = self.built(all_ids, v)
        t, s = self.fitted(all_ids, v, rule)
        every = {k: sum(f["strict_every_photo"][k] for f in folds)
                 for k in ("impostor", "false_admits", "genuine", "genuine_match")}
        return {"outer": {name: x.as_dict() for name, x in zip(pops, outer, strict=True)},
                "strict_every_photo": every,
                "folds": folds, "variant": v, "rule": str(rule), "thresholds": t,
                "cohort": cohort,
                "on_all": {name: x.as_dict() for name, x
                           in zip(pops, crossval.tally(s, t), strict=True)}}


def main(args: argparse.Namespace) -> int:
    if not 0 < args.max_far < 0.5:
        raise UserInputError(Text("--max-far 应在 0 和 0.5 之间", "--max-far must be between 0 and 0.5"))
    if not 2 <= args.folds <= 20:
        raise UserInputError(Text("--folds 应在 2 和 20 之间", "--folds must be between 2 and 20"))
    files = [(Path(p), False) for p in args.pairs] + [(Path(p), True) for p in args.strict]
    if not files:
        raise UserInputError(Text("请给出至少一个样本对文件。", "Give at least one pairs file."))
    if not any(strict for _, strict in files):
        files = [(p, True) for p, _ in files]
    paths, settings = load_faces_settings(args.data_dir)
    cache = open_cache(paths, settings, not args.no_cache)
    # only the encodings are wanted here: no cohort needed to make them
    faces = settings.faces.model_copy(update={"score": "distance"})
    with desk_model() as model:
        photos = encode_photos(files, PairJudge(faces, "idcard", cache, model))
    try:
        result = Study(photos, args.folds, max_far=args.max_far,
                       ceiling=settings.faces.relative_ceiling).run()
    except ValueError as exc:
        raise UserInputError(Text(
            "可用的样本对太少: 交叉验证的每一折都需要至少 10 对同一人和 10 对不同人 (含人脸)。"
            "请提供更多人的照片或减少 --folds。",
            "Too few usable pairs: every fold of the cross-validation needs at least 10 genuine "
            "and 10 impostor pairs with faces. Give photos of more people or fewer --folds.",
        )) from exc
    t = result["thresholds"]
    report = {"held_out": result["outer"], "folds": result["folds"],
              "held_out_strict_every_photo": result["strict_every_photo"],
              "chosen": {"variant": str(result["variant"]), "rule": result["rule"],
                         "match_distance": t.match_distance,
                         "mismatch_distance": t.mismatch_distance},
              "proposal_on_all_data_not_a_measurement": result["on_all"],
              "exposure": result["cohort"].meta["exposure"]}
    if args.out:
        meta = {**result["cohort"].meta, "built": datetime.date.today().isoformat(),
                "from": [p.name for p, _ in files], "variant": str(result["variant"]),
                "match_distance": t.match_distance, "mismatch_distance": t.mismatch_distance}
        dataclasses.replace(result["cohort"], meta=meta).save(Path(args.out))
        report["written"] = str(args.out)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    print("held out (outer folds; a cohort and thresholds from the other folds each time):")
    for name, x in result["outer"].items():
        print(f"  {name:24s} impostor MATCH {x['false_admits']}/{x['impostor']}  genuine MISMATCH "
              f"{x['false_rejects']}/{x['genuine']}  genuine MATCH {x['genuine_match']} "
              f"({x['genuine_match_share']})  undecided {x['undecided_share']}")
    e = result["strict_every_photo"]
    print(f"  strict population, every photo against every other: strangers MATCH "
          f"{e['false_admits']}/{e['impostor']}, genuine MATCH {e['genuine_match']}/{e['genuine']}")
    for f in result["folds"]:
        print(f"  fold {f['fold']}: {f['variant']}; {f['rule']}; "
              f"{f['match_distance']} / {f['mismatch_distance']}")
    print(f"chosen on all folds: {result['variant']}; {result['rule']}; "
          f"match {t.match_distance}, mismatch {t.mismatch_distance}")
    for side, x in result["cohort"].meta["exposure"].items():
        print(f"{side}-side centres: at least {x['fewest_people']} people each (one weight a "
              f"person), at least {x['closest_to_a_person']} from any one person's mean")
    if args.out:
        print(f"cohort written to {args.out}")
    return 0
