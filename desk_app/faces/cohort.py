"""Scores against a cohort of strangers: how crowded the face's neighbourhood is.

dlib's descriptor does not spread all faces alike: East Asian strangers lie as close together as
one Western person's own photos (docs/architecture.md, "Face verification"). One distance
threshold for everyone is then either too loose for the crowded faces (impostors admitted) or
too strict for the rest (everyone left to the clerk). A pair's distance is therefore judged
against the distance of each face to its nearest strangers (*crowding*), the way speaker and
face verification normalise scores against a cohort (symmetric / adaptive score normalisation):

* ``shift``: ``score = distance - (crowding - reference)``; ``crowding`` the mean of the card
  face's and the live face's crowding, ``reference`` the median crowding of the cohort's own
  faces, so a face of average crowding keeps its distance;
* ``z``: ``score = reference + (distance - crowding) / spread * spread_reference`` (the
  spread of the nearest distances as well).

The card face's crowding is its mean distance to the ``k_nearest`` nearest *live-side* centres
(a card is compared with live faces), the live face's to the nearest *card-side* centres.

What ships is not anyone's face. The cohort is a set of **centres**: k-means centres of
descriptors, each the mean of its people's means (a person weighs once, however many photos of
them went in) and kept only when at least ``min_people`` different people went into it
(:func:`build`), so no one is more than a third of a centre. No descriptor of a single person
is in the file (PIPL: a face template is sensitive personal information); the file records how
close its centres come to any one person's mean (``meta["exposure"]``). Before settings
version 6 a centre's mean counted photos, and a public figure with many photos made up to 83 %
of one (docs/architecture.md, ``cohort.py``). The file is ``resources/faces/cohort.npz``, made
by ``desk-app calibrate cohort ... --out`` from the public photos of ``../shared/data/faces``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from desk_app.errors import DataError, Text

log = logging.getLogger(__name__)

Kind = Literal["shift", "z"]
SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "faces" / "cohort.npz"


class CohortUnavailable(DataError):
    """The cohort file is missing or damaged: scores cannot be computed."""

    title_text = Text("人脸比对参照数据不可用", "Face comparison reference data unavailable")
    default_text = Text("人脸比对参照数据文件缺失或已损坏, 请联系信息科。",
                        "The face comparison reference file is missing or damaged. Call hospital IT.")


@dataclass(frozen=True)
class Crowding:
    """One face's distances to its nearest strangers: their mean and spread."""

    mean: float
    spread: float


@dataclass(frozen=True)
class Cohort:
    card_centres: np.ndarray  # (n, 128): centres of strangers' card-photo descriptors
    live_centres: np.ndarray  # (n, 128): centres of strangers' live descriptors
    kind: Kind
    k_nearest: int
    reference: float  # median crowding of the cohort's own faces
    spread_reference: float  # median spread of the same
    meta: dict

    # -- one face --
    def card_crowding(self, descriptor: np.ndarray) -> Crowding:
        return _crowding(descriptor, self.live_centres, self.k_nearest)

    def live_crowding(self, descriptor: np.ndarray) -> Crowding:
        return _crowding(descriptor, self.card_centres, self.k_nearest)

    # -- one pair --
    def score(self, distance: float, card: Crowding, live: Crowding) -> float:
        if not math.isfinite(distance):
            return distance
        mean = (card.mean + live.mean) / 2
        if self.kind == "shift":
            return distance - (mean - self.reference)
        spread = max((card.spread + live.spread) / 2, 1e-6)
        return self.reference + (distance - mean) / spread * self.spread_reference

    def scores(self, distances: np.ndarray, card_mean: np.ndarray, card_spread: np.ndarray,
               live_mean: np.ndarray, live_spread: np.ndarray) -> np.ndarray:
        """:meth:`score` over arrays (calibration)."""
        mean = (card_mean + live_mean) / 2
        if self.kind == "shift":
            return distances - (mean - self.reference)
        spread = np.maximum((card_spread + live_spread) / 2, 1e-6)
        return self.reference + (distances - mean) / spread * self.spread_reference

    def all_against_all(self, card: np.ndarray, live: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Every card descriptor against every live one (rows with NaN: no face, inf): the
        plain distances and the scores, both (len(card), len(live))."""
        raw = _dist(np.nan_to_num(card), np.nan_to_num(live))
        missing = np.isnan(card).any(axis=1)[:, None] | np.isnan(live).any(axis=1)[None, :]
        raw = np.where(missing, np.inf, raw)
        cm, cs = self.crowding_arrays(card, "card")
        lm, ls = self.crowding_arrays(live, "live")
        score = self.scores(raw, cm[:, None], cs[:, None], lm[None, :], ls[None, :])
        return raw, np.where(np.isfinite(raw) & np.isfinite(score), score, np.inf)

    def crowding_arrays(self, descriptors: np.ndarray, side: Literal["card", "live"]
                        ) -> tuple[np.ndarray, np.ndarray]:
        centres = self.live_centres if side == "card" else self.card_centres
        d = np.sort(_dist(np.nan_to_num(descriptors), centres), axis=1)[:, : self.k_nearest]
        bad = np.isnan(descriptors).any(axis=1)
        mean, spread = d.mean(axis=1), d.std(axis=1)
        return np.where(bad, np.nan, mean), np.where(bad, np.nan, spread)

    # -- file --
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh, card_centres=self.card_centres.astype(np.float32),
                live_centres=self.live_centres.astype(np.float32),
                meta=np.array(json.dumps({**self.meta, "kind": self.kind,
                                          "k_nearest": self.k_nearest,
                                          "reference": self.reference,
                                          "spread_reference": self.spread_reference},
                                         sort_keys=True)))


def load(path: Path | None = None) -> Cohort:
    """The cohort in ``path`` (default: the shipped one); :class:`CohortUnavailable` when it is
    missing or damaged."""
    path = path or SHIPPED
    try:
        cohort = _read(path)
    except Exception as exc:  # noqa: BLE001 - a damaged file (bad zip, bad CRC, zlib, shapes ...)
        detail = f"{path}: {type(exc).__name__}: {str(exc)[:200]}"
        if str(path) not in _REPORTED:  # the fallback is taken per case; said once
            _REPORTED.add(str(path))
            log.error("face cohort file unreadable, the clerk compares faces: %s", detail)
        raise CohortUnavailable(detail=detail) from exc
    _REPORTED.discard(str(path))  # mended: a new failure is worth a new line
    return cohort


_REPORTED: set[str] = set()


def _read(path: Path) -> Cohort:
    """The cohort in ``path``; any exception when it is not a readable, sound cohort file."""
    with np.load(path, allow_pickle=False) as z:
        card, live = np.asarray(z["card_centres"], float), np.asarray(z["live_centres"], float)
        meta = json.loads(str(z["meta"]))
    kind = meta.pop("kind")
    k = int(meta.pop("k_nearest"))
    ref, sref = float(meta.pop("reference")), float(meta.pop("spread_reference"))
    ok = (kind in ("shift", "z") and 1 <= k <= min(len(card), len(live))
          and card.ndim == live.ndim == 2 and card.shape[1] == live.shape[1] == 128
          and np.isfinite(card).all() and np.isfinite(live).all()
          and math.isfinite(ref) and math.isfinite(sref) and (sref > 0 or kind == "shift"))
    if not ok:
        raise ValueError("not a cohort file")
    return Cohort(card, live, kind, k, ref, sref, meta)


@functools.lru_cache(maxsize=4)
def score_basis(score: str, path: str | None = None) -> str:
    """The unit a desk's face scores are in, recorded with each clerk's call so that
    ``calibrate faces --from-desk-history`` never mixes units: ``"distance"``, or ``"cohort:"``
    and the first 12 hex digits of the cohort file's SHA-256 (``"cohort:?"`` when unreadable:
    such scores are never made, the face check is then unavailable)."""
    if score != "cohort":
        return "distance"
    try:
        digest = hashlib.sha256(Path(path or SHIPPED).read_bytes()).hexdigest()[:12]
    except OSError:
        digest = "?"
    return f"cohort:{digest}"


@functools.lru_cache(maxsize=4)
def shared_cohort(path: str | None = None) -> Cohort:
    """The cohort loaded once per process (the file is read-only)."""
    return load(Path(path) if path else None)


# --- building one --------------------------------------------------------------------------------


def build(card: np.ndarray, live: np.ndarray, people: Sequence[int], *, centres: int,
          k_nearest: int, kind: Kind, min_people: int = 3, seed: int = 7,
          meta: dict | None = None) -> Cohort:
    """A cohort from descriptors (rows with NaN: no face, left out) of ``people`` (one id a
    row). Each side is clustered into ``centres`` k-means centres, each centre the mean of its
    people's means (one person, one weight, however many photos: :func:`_person_means`); a
    centre into which fewer than ``min_people`` people went is dropped (its members join the
    nearest kept centre). ``meta["exposure"]`` records, per side, the fewest people in a
    centre and the closest a centre comes to one person's mean (:func:`exposure`)."""
    people_arr = np.asarray(people)
    card_c = _centres(card, people_arr, centres, min_people, seed)
    live_c = _centres(live, people_arr, centres, min_people, seed + 1)
    k_nearest = min(k_nearest, len(card_c), len(live_c))
    draft = Cohort(card_c, live_c, kind, k_nearest, 0.0, 1.0, {})
    cm, cs = draft.crowding_arrays(card, "card")
    lm, ls = draft.crowding_arrays(live, "live")
    ref = float(np.nanmedian(np.concatenate([cm, lm])))
    sref = float(np.nanmedian(np.concatenate([cs, ls])))
    exposed = {}
    for side, x, c in (("card", card, card_c), ("live", live, live_c)):
        n_people, closest = exposure(x, people_arr, c)
        exposed[side] = {"fewest_people": int(n_people.min()),
                         "closest_to_a_person": round(float(closest.min()), 4)}
    info = {"centres_card": len(card_c), "centres_live": len(live_c), "min_people": min_people,
            "weighting": "person", "exposure": exposed,
            "faces": int((~np.isnan(card).any(axis=1)).sum() + (~np.isnan(live).any(axis=1)).sum()),
            "people": len(set(people_arr.tolist())), **(meta or {})}
    return Cohort(card_c, live_c, kind, k_nearest, ref, sref, info)


def _centres(x: np.ndarray, people: np.ndarray, k: int, min_people: int, seed: int) -> np.ndarray:
    ok = ~np.isnan(x).any(axis=1)
    x, people = x[ok], people[ok]
    if len(set(people.tolist())) < min_people:
        raise ValueError(f"need faces of at least {min_people} people")
    c = _kmeans(x, people, min(k, len(x)), seed)
    while True:
        lab = np.argmin(_dist(x, c), axis=1)
        n_people = np.array([len(set(people[lab == j].tolist())) for j in range(len(c))])
        if (n_people >= min_people).all():
            # each centre exactly the mean of the (at least min_people) people it holds
            return _person_means(x, people, lab, c)
        # drop the poorest centre, re-assign and re-average the rest
        c = np.delete(c, int(np.argmin(n_people)), axis=0)
        c = _person_means(x, people, np.argmin(_dist(x, c), axis=1), c)


def _person_means(x: np.ndarray, people: np.ndarray, lab: np.ndarray,
                  old: np.ndarray) -> np.ndarray:
    """Each centre the mean of its people's means: a person weighs once in a centre however
    many photos of them went in, so no one's face dominates a centre (with ``min_people``
    people a centre is at most 1 / ``min_people`` any one person). An empty centre stays."""
    pair_keys, person_means = _group_means(x, _pair_keys(lab, people))  # a (centre, person)
    centres, means = _group_means(person_means, pair_keys[:, 0])
    out = old.astype(float)
    out[centres] = means
    return out


def _pair_keys(lab: np.ndarray, people: np.ndarray) -> np.ndarray:
    """(centre, person index) of each row, as an (n, 2) array."""
    return np.stack([lab, np.unique(people, return_inverse=True)[1]], axis=1)


def _group_means(x: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``keys`` (rows, or values) and the mean of ``x`` over each."""
    groups, group_of = np.unique(keys, axis=0, return_inverse=True)
    group_of = group_of.reshape(-1)
    sums = np.zeros((len(groups), x.shape[1]))
    np.add.at(sums, group_of, x)
    return groups, sums / np.bincount(group_of)[:, None]


def _kmeans(x: np.ndarray, people: np.ndarray, k: int, seed: int,
            iters: int = 60) -> np.ndarray:
    """k-means++ seeding, then Lloyd's iterations whose update is :func:`_person_means`."""
    rng = np.random.default_rng(seed)
    c = [x[rng.integers(len(x))]]
    d2 = _dist(x, np.array(c))[:, 0] ** 2
    for _ in range(1, k):
        c.append(x[rng.choice(len(x), p=d2 / d2.sum())] if d2.sum() > 0 else x[rng.integers(len(x))])
        d2 = np.minimum(d2, ((x - c[-1]) ** 2).sum(axis=1))
    centres = np.array(c)
    for _ in range(iters):
        new = _person_means(x, people, np.argmin(_dist(x, centres), axis=1), centres)
        if np.allclose(new, centres):
            break
        centres = new
    return centres


def exposure(x: np.ndarray, people: Sequence[int], centres: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """What a cohort's centres give away about the people whose photos (rows of ``x``; NaN
    rows left out) made them: for each centre, how many different people are nearest to it
    (each weighs 1 / that in it, :func:`_person_means`) and its distance to the nearest
    person's own mean descriptor (a person's own photos lie about 0.24 from their mean, median
    on the shared photos: a centre that close to someone's mean is near their template)."""
    ok = ~np.isnan(x).any(axis=1)
    x, who = x[ok], np.asarray(people)[ok]
    lab = np.argmin(_dist(x, centres), axis=1)
    pairs = np.unique(_pair_keys(lab, who), axis=0)  # each (centre, person) once
    n_people = np.bincount(pairs[:, 0], minlength=len(centres))
    _, means = _group_means(x, who)
    return n_people, _dist(centres, means).min(axis=1)


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a * a).sum(axis=1)[:, None] - 2 * a @ b.T + (b * b).sum(axis=1)[None, :]
    return np.sqrt(np.maximum(sq, 0.0))


def _crowding(descriptor: np.ndarray, centres: np.ndarray, k: int) -> Crowding:
    d = np.sort(_dist(np.asarray(descriptor, float)[None, :], centres)[0])[:k]
    return Crowding(float(d.mean()), float(d.std()))
