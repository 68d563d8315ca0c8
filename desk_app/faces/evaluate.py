"""``desk-app eval faces PAIRS.csv``: judge labelled photo pairs exactly as a desk would.

The first image of a pair plays the ID photo (optionally degraded to a 102 x 126 card portrait
with ``--degrade-a idcard``) and is encoded by :func:`~desk_app.faces.verify.encode_id_photo`;
the second plays one live frame and goes through the same detection, quality gate and encoding
as a frame at the desk (:func:`~desk_app.faces.verify.encode_still`). The outcome comes from
:func:`~desk_app.faces.verify.banded` with the thresholds in the desk's settings.

The desk holds a MATCH whose live face looks the other sex than the ID number records
(:mod:`desk_app.faces.sex`, ``faces.sex_check``); so does the evaluation. A pairs file has no
ID number: an optional column ``sex_a`` (``M`` / ``F``) gives the card holder's sex, and without
it the card photo's own estimate stands in when it is at least ``faces.sex_confidence`` sure
(otherwise the pair goes unchecked, as a desk without the classifier would).

Encodings are cached below the cache folder, keyed by the file's SHA-256, the side and the
method, so a second run over the same data takes seconds. A face descriptor is biometric data
(sensitive personal information under PIPL): every entry is sealed with the desk's data key
(AES-GCM, the database's key) and deleted after ``privacy.face_retention_days``; ``--no-cache``
keeps nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import logging
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desk_app.errors import DataError, DeskError, Text, UserInputError
from desk_app.faces.cohort import shared_cohort
from desk_app.faces.engine import (
    ID_PHOTO_METHOD,
    LIVE_METHOD,
    CancelToken,
    EncodeMethod,
    FaceBox,
    FaceModel,
    check_cancel,
    shared_model,
    to_rgb,
)
from desk_app.faces.metrics import eer, far_frr, tar_at_far
from desk_app.faces.quality import QualityLimits, hint
from desk_app.faces.sex import confident_sex, frames_differ, shared_sex_model
from desk_app.faces.verify import (
    CAPPING_HINTS,
    ID_PHOTO_GUESSED,
    NO_MISMATCH_HINTS,
    FaceOutcome,
    Scorer,
    banded,
    decide_from_distances,
    encode_id_photo,
    encode_still,
    fill_hints,
    frames_to_use,
)
from desk_app.paths import AppPaths
from desk_app.settings import FacesSection, Settings, load_settings
from desk_app.storage.crypto import Crypto, KeyStore

log = logging.getLogger(__name__)

#: Part of every cache key: raise it when detection, the gate or the encoding change in a way
#: the method key does not show, so no stale encodings are reused.
PIPELINE = 5  # 5: every entry also keeps the sex estimate (p_male)


@dataclass(frozen=True)
class Pair:
    file_a: Path
    file_b: Path  # the first live photo
    same: bool
    label_a: str
    label_b: str
    files_b: tuple[Path, ...] = ()  # every live photo (``a.jpg|b.jpg|c.jpg``): frames of one visit
    sex_a: str | None = None  # the card holder's sex ("M" / "F", column ``sex_a``), if given

    @property
    def live_files(self) -> tuple[Path, ...]:
        return self.files_b or (self.file_b,)


def read_pairs(csv_path: Path, limit: int = 0) -> list[Pair]:
    """Pairs from a CSV with columns file_a,file_b,same_person (paths relative to the CSV)."""
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = {"file_a", "file_b", "same_person"} - set(reader.fieldnames or [])
            if missing:
                raise UserInputError(Text(
                    f"{csv_path.name} 缺少列: {', '.join(sorted(missing))}",
                    f"{csv_path.name} lacks the columns: {', '.join(sorted(missing))}",
                ))
            pairs = []
            for n, row in enumerate(reader, start=2):
                same = (row["same_person"] or "").strip()
                if same not in {"0", "1"}:
                    raise UserInputError(Text(
                        f"{csv_path.name} 第 {n} 行: same_person 应为 0 或 1",
                        f"{csv_path.name} line {n}: same_person must be 0 or 1",
                    ))
                lives = tuple(csv_path.parent / f.strip()
                              for f in (row["file_b"] or "").split("|") if f.strip())
                if not lives:
                    raise UserInputError(Text(
                        f"{csv_path.name} 第 {n} 行: file_b 为空",
                        f"{csv_path.name} line {n}: file_b is empty",
                    ))
                sex = (row.get("sex_a") or "").strip().upper()
                if sex not in {"", "M", "F"}:
                    raise UserInputError(Text(
                        f"{csv_path.name} 第 {n} 行: sex_a 应为 M、F 或留空",
                        f"{csv_path.name} line {n}: sex_a must be M, F or empty",
                    ))
                pairs.append(Pair(csv_path.parent / row["file_a"], lives[0], same == "1",
                                  row["file_a"], row["file_b"], lives, sex or None))
                if limit and len(pairs) >= limit:
                    break
            return pairs
    except FileNotFoundError as exc:
        raise UserInputError(Text(f"找不到文件 {csv_path}", f"File not found: {csv_path}")) from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserInputError(Text(f"{csv_path} 不是可读的 CSV 文件",
                                  f"{csv_path} is not a readable CSV file")) from exc


# --- cached encodings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoded:
    encoding: np.ndarray | None
    hints: tuple[str, ...]
    ms: float  # compute time when it was made (a cache hit costs nearly nothing)
    cached: bool = False
    score: float = 0.0  # the live frame's quality score (FaceSession ranks frames by it)
    p_male: float | None = None  # the sex the face looks (desk_app.faces.sex), if estimated


class EncodingCache:
    """One small sealed file per (file hash, side, method) below ``root`` (``None``: no cache).

    Each entry is an ``.npz`` encrypted with ``crypto`` (AES-GCM, bound to its key); an entry
    older than ``max_age_days`` is deleted, and so are the unsealed ``.npz`` entries earlier
    versions left, when the cache is opened. An entry that does not decrypt or parse is
    recomputed."""

    SUFFIX = ".enc"

    def __init__(self, root: Path | None, crypto: Crypto | None = None,
                 max_age_days: float = 30.0) -> None:
        if root is not None and crypto is None:
            raise ValueError("a cache on disk needs the desk's data key")
        self.root = root
        self.crypto = crypto
        self.max_age_s = max_age_days * 86400
        self.purged = self._purge() if root is not None else 0

    def _path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / key[:2] / f"{key}{self.SUFFIX}"

    def _expired(self, p: Path) -> bool:
        return time.time() - p.stat().st_mtime > self.max_age_s

    def _purge(self) -> int:
        """Delete unsealed entries of earlier versions and entries past their age."""
        assert self.root is not None
        gone = 0
        if not self.root.is_dir():
            return 0
        for p in self.root.rglob("*"):
            try:
                if p.is_file() and (p.suffix == ".npz" or self._expired(p)):
                    p.unlink()
                    gone += 1
            except OSError as exc:  # in use or gone meanwhile: the next run tries again
                log.warning("face cache entry %s not deleted (%s)", p.name, type(exc).__name__)
        if gone:
            log.info("face cache: %d old or unsealed entries deleted", gone)
        return gone

    def get(self, key: str) -> Encoded | None:
        p = self._path(key)
        if p is None or not p.is_file():
            return None
        assert self.crypto is not None
        try:
            if self._expired(p):
                p.unlink()
                return None
            raw = self.crypto.decrypt(p.read_bytes(), key.encode())
            with np.load(io.BytesIO(raw), allow_pickle=False) as z:
                enc = z["encoding"]
                hints = tuple(str(h) for h in z["hints"])
                ms = float(z["ms"])
                score = float(z["score"])
                p_male = float(z["p_male"])
        except (OSError, ValueError, KeyError, DeskError) as exc:  # DecryptionError is a DeskError
            log.warning("face cache entry %s unreadable (%s); recomputing", p.name,
                        type(exc).__name__)
            return None
        return Encoded(enc if enc.size else None, hints, ms, cached=True, score=score,
                       p_male=None if math.isnan(p_male) else p_male)

    def put(self, key: str, value: Encoded) -> None:
        p = self._path(key)
        if p is None:
            return
        assert self.crypto is not None
        p.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        enc = value.encoding if value.encoding is not None else np.zeros(0)
        np.savez(buf, encoding=enc, hints=np.array(value.hints, dtype=str), ms=value.ms,
                 score=value.score, p_male=math.nan if value.p_male is None else value.p_male)
        sealed = self.crypto.encrypt(buf.getvalue(), key.encode())
        # A temporary name of its own: two evaluations sharing the cache may write one key.
        fd, name = tempfile.mkstemp(prefix=p.stem[:16], suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(sealed)
            os.replace(name, p)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise


def open_cache(paths: AppPaths, settings: Settings, enabled: bool = True) -> EncodingCache:
    """The desk's encoding cache, sealed with its data key. None kept when ``enabled`` is false
    or the key cannot be had: a database whose key is missing never gets a new key beside it
    (the desk itself reports that)."""
    if not enabled:
        return EncodingCache(None)
    try:
        key = KeyStore(paths.key_file).load(create=not paths.database_file.exists())
    except DeskError as exc:
        log.warning("the desk's data key is not available (%s): face encodings are not cached",
                    exc.detail or type(exc).__name__)
        return EncodingCache(None)
    return EncodingCache(paths.cache_dir / "face-encodings", Crypto(key),
                         max_age_days=settings.privacy.face_retention_days)


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise DataError(Text(f"无法读取图片 {path.name}", f"Cannot read the image {path.name}"),
                        detail=type(exc).__name__) from exc
    return h.hexdigest()


def read_image(path: Path | str) -> np.ndarray:
    """RGB uint8; a clear error for a missing or undecodable file."""
    path = Path(path)
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data is not None and data.size else None
    if img is None:
        raise DataError(Text(f"无法读取图片 {path.name}", f"Cannot read the image {path.name}"),
                        detail=str(path))
    return to_rgb(img, bgr=True)


class PairJudge:
    """Encodes both sides of pairs (with the cache) and judges them with the desk's thresholds."""

    def __init__(self, faces: FacesSection, degrade: str = "none", cache: EncodingCache | None = None,
                 model: FaceModel | None = None, id_method: EncodeMethod = ID_PHOTO_METHOD,
                 live_method: EncodeMethod = LIVE_METHOD) -> None:
        self.faces = faces
        self.degrade = degrade
        self.cache = cache or EncodingCache(None)
        self.model = model or shared_model()
        self.id_method = id_method
        self.live_method = live_method
        self.limits = QualityLimits(min_face_px=faces.min_face_px)
        # the cohort (faces.score "cohort") once, before any pair: a missing file stops here
        self.cohort = shared_cohort() if faces.score == "cohort" else None

    def _cached(self, path: Path, side: str, make: Callable[[np.ndarray], Encoded]) -> Encoded:
        key = hashlib.sha256(f"{file_hash(path)}|{side}".encode()).hexdigest()
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        value = make(read_image(path))
        self.cache.put(key, value)
        return value

    def id_side(self, path: Path) -> Encoded:
        side = f"id|{PIPELINE}|{self.degrade}|{self.id_method.key()}"

        def make(rgb: np.ndarray) -> Encoded:
            t0 = time.perf_counter()
            if self.degrade == "idcard":
                from desk_app.faces.degrade import idcard_portrait

                rgb = idcard_portrait(rgb, self.model)
            photo = encode_id_photo(rgb, self.model, bgr=False, method=self.id_method)
            hints = ("id_photo_fallback_box",) if photo.fallback_box else ()
            if not photo.usable:
                hints = ("id_photo_no_face",)
            p_male = (self._p_male(rgb, photo.box) if photo.usable and photo.box is not None
                      and not photo.fallback_box else None)  # never on a guessed box
            return Encoded(photo.encoding, hints, (time.perf_counter() - t0) * 1000,
                           p_male=p_male)

        return self._cached(path, side, make)

    def live_side(self, path: Path) -> Encoded:
        side = f"live|{PIPELINE}|{self.live_method.key()}|{self.limits}"

        def make(rgb: np.ndarray) -> Encoded:
            t0 = time.perf_counter()
            enc, report = encode_still(rgb, self.model, self.limits, self.live_method)
            p_male = (self._p_male(rgb, report.box) if enc is not None and report.box is not None
                      else None)
            return Encoded(enc, tuple(h.code for h in report.hints),
                           (time.perf_counter() - t0) * 1000, score=report.score, p_male=p_male)

        return self._cached(path, side, make)

    def _p_male(self, rgb: np.ndarray, box: FaceBox) -> float | None:
        sex_model = shared_sex_model()  # None (logged once) when the classifier cannot load
        return None if sex_model is None else sex_model.p_male(self.model.sex_chip(rgb, box))

    def holder_sex(self, pair: Pair, card: Encoded) -> str | None:
        """The sex a desk would read from the ID number: the file's ``sex_a``, else the card
        photo's own estimate when it is at least ``faces.sex_confidence`` sure."""
        if not self.faces.sex_check:
            return None
        if pair.sex_a:
            return pair.sex_a
        return confident_sex(card.p_male, self.faces.sex_confidence)

    def sex_held(self, pair: Pair, card: Encoded, outcome: FaceOutcome,
                 live: list[Encoded]) -> bool:
        """Whether the desk's sex check would hold this MATCH for the clerk (``sex_differs``):
        the mean estimate of the live photos used says the other sex."""
        seen = [f.p_male for f in live if f.p_male is not None]
        return outcome is FaceOutcome.MATCH and frames_differ(
            self.holder_sex(pair, card), seen, self.faces.sex_confidence)

    def judge(self, pair: Pair) -> dict:
        a = self.id_side(pair.file_a)
        if len(pair.live_files) > 1:
            return self._judge_frames(pair, a, [self.live_side(f) for f in pair.live_files])
        b = self.live_side(pair.file_b)
        is_capped = bool(set(b.hints) & CAPPING_HINTS)
        raw = math.inf
        if a.encoding is None or b.encoding is None:
            dist, outcome = math.inf, FaceOutcome.UNDECIDED
        else:
            dist, raw = Scorer(a.encoding, self.faces, self.cohort).compare(b.encoding)
            outcome, _ = banded(dist, raw, self.faces, {*a.hints, *b.hints})
        held = self.sex_held(pair, a, outcome, [b])
        if held:
            outcome = FaceOutcome.UNDECIDED
        return {
            "file_a": pair.label_a, "file_b": pair.label_b, "same": int(pair.same),
            "distance": None if math.isinf(dist) else round(dist, 4),
            "raw_distance": None if math.isinf(raw) else round(raw, 4),
            "outcome": outcome.value, "no_face": a.encoding is None or b.encoding is None,
            "capped": is_capped, "frames_used": int(b.encoding is not None),
            "no_mismatch": bool({*a.hints, *b.hints} & NO_MISMATCH_HINTS),
            "hints": [*a.hints, *b.hints, *(["sex_differs"] if held else [])],
            "sex_held": held, "ms": round(a.ms + b.ms, 1), "cached": a.cached and b.cached,
        }

    def _judge_frames(self, pair: Pair, a: Encoded, frames: list[Encoded]) -> dict:
        """Several live photos as the frames of one visit: the desk's choice of the best
        ``best_k`` (:func:`~desk_app.faces.verify.frames_to_use`) and its decision
        (:func:`~desk_app.faces.verify.decide_from_distances`, the mean distance)."""
        good = [f for f in frames if f.encoding is not None and not f.hints]
        soft = [f for f in frames if f.encoding is not None and f.hints]
        used, fill = frames_to_use(good, soft, self.faces.best_k, lambda f: f.score)
        hint_codes = fill_hints([tuple(hint(c) for c in f.hints) for f in fill]) if fill else ()
        if "id_photo_fallback_box" in a.hints:
            hint_codes = (*hint_codes, ID_PHOTO_GUESSED)
        if a.encoding is None:
            used, fill = [], []
        compared = ([] if a.encoding is None else
                    [Scorer(a.encoding, self.faces, self.cohort).compare(f.encoding)
                     for f in (*used, *fill)])
        decision = decide_from_distances([d for d, _ in compared], self.faces, hint_codes,
                                         raw=[r for _, r in compared])
        held = a.encoding is not None and self.sex_held(pair, a, decision.outcome,
                                                        [*used, *fill])
        outcome = FaceOutcome.UNDECIDED if held else decision.outcome
        hints = [*a.hints, *dict.fromkeys(c for f in frames for c in f.hints),
                 *(["sex_differs"] if held else [])]
        return {
            "file_a": pair.label_a, "file_b": pair.label_b, "same": int(pair.same),
            "distance": None if decision.distance is None else round(decision.distance, 4),
            "raw_distance": decision.raw_distance,
            "outcome": outcome.value, "no_face": decision.distance is None, "sex_held": held,
            "capped": any(h.code in CAPPING_HINTS for h in decision.hints),
            "no_mismatch": any(h.code in NO_MISMATCH_HINTS for h in decision.hints),
            "frames_used": decision.frames_used,
            "hints": hints, "ms": round(a.ms + sum(f.ms for f in frames), 1),
            "cached": a.cached and all(f.cached for f in frames),
        }


def judge_pairs(pairs: list[Pair], judge: PairJudge, cancel: CancelToken | None = None,
                on_result: Callable[[dict], None] | None = None) -> list[dict]:
    results = []
    for pair in pairs:
        check_cancel(cancel)
        try:
            r = judge.judge(pair)
        except DataError as exc:
            r = {"file_a": pair.label_a, "file_b": pair.label_b, "same": int(pair.same),
                 "distance": None, "outcome": FaceOutcome.UNDECIDED.value, "no_face": True,
                 "hints": ["unreadable"], "ms": 0.0, "cached": False, "error": exc.message("en")}
        results.append(r)
        if on_result:
            on_result(r)
    return results


def distances_of(results: list[dict]) -> tuple[list[float], list[float]]:
    gen = [r["distance"] if r["distance"] is not None else math.inf for r in results if r["same"]]
    imp = [r["distance"] if r["distance"] is not None else math.inf for r in results
           if not r["same"]]
    return gen, imp


def capped_of(results: list[dict]) -> tuple[list[bool], list[bool]]:
    """Which pairs (genuine, impostor, in the order of :func:`distances_of`) a desk leaves
    UNDECIDED whatever their distance (another face in view)."""
    return ([bool(r.get("capped")) for r in results if r["same"]],
            [bool(r.get("capped")) for r in results if not r["same"]])


def summarize(results: list[dict], faces: FacesSection) -> dict:
    gen, imp = distances_of(results)
    same = [r for r in results if r["same"]]
    diff = [r for r in results if not r["same"]]
    e, e_t = eer(gen, imp) if gen and imp else (None, None)  # no EER without both kinds
    ms = [r["ms"] for r in results if r["ms"]]
    return {
        "pairs": len(results),
        "same": len(same),
        "different": len(diff),
        "false_admits": sum(r["outcome"] == "match" for r in diff),
        "false_rejects": sum(r["outcome"] == "mismatch" for r in same),
        "undecided": sum(r["outcome"] == "undecided" for r in results),
        "undecided_same": sum(r["outcome"] == "undecided" for r in same),
        "undecided_different": sum(r["outcome"] == "undecided" for r in diff),
        "no_face": sum(bool(r["no_face"]) for r in results),
        # MATCHes the sex check held for the clerk: genuine pairs it cost, strangers it caught
        "sex_held_same": sum(bool(r.get("sex_held")) for r in same),
        "sex_held_different": sum(bool(r.get("sex_held")) for r in diff),
        "eer": None if e is None else round(e, 4),
        "eer_threshold": None if e_t is None else round(e_t, 4),
        "tar_at_far_1pct": round(tar_at_far(gen, imp, 0.01), 4) if gen and imp else None,
        "far_at_0.6": round(far_frr(gen, imp, 0.6)[0], 4) if imp else None,
        "frr_at_0.6": round(far_frr(gen, imp, 0.6)[1], 4) if gen else None,
        "score": faces.score,
        "match_distance": faces.match_distance,
        "mismatch_distance": faces.mismatch_distance,
        "relative_ceiling": faces.relative_ceiling,
        "sex_check": faces.sex_check,
        "ms_per_pair_median": round(statistics.median(ms), 1) if ms else None,
        "frames_used_median": statistics.median(r.get("frames_used", 1) for r in results)
        if results else None,
        "cached_pairs": sum(bool(r["cached"]) for r in results),
    }


def load_faces_settings(data_dir: str | None) -> tuple[AppPaths, Settings]:
    paths = AppPaths.resolve(data_dir)
    loaded = load_settings(paths.settings_file, paths.site_config)
    for problem in loaded.problems:
        log.warning("settings: %s", problem.message("en"))
    return paths, loaded.settings


@contextlib.contextmanager
def desk_model() -> Iterator[FaceModel]:
    """The model as a desk runs it: descriptors in the face processes (both cores busy)."""
    from desk_app.faces.remote import ProcessFaceModel

    model = ProcessFaceModel()
    model.start()
    try:
        yield model
    finally:
        model.close()


def main(args: argparse.Namespace) -> int:
    paths, settings = load_faces_settings(args.data_dir)
    pairs = read_pairs(Path(args.pairs), getattr(args, "limit", 0) or 0)
    cache = open_cache(paths, settings, not getattr(args, "no_cache", False))
    with desk_model() as model:
        return _evaluate(args, pairs, PairJudge(settings.faces, args.degrade_a, cache, model))


def _evaluate(args: argparse.Namespace, pairs: list[Pair], judge: PairJudge) -> int:
    faces = judge.faces

    def show(r: dict) -> None:
        d = "   -  " if r["distance"] is None else f"{r['distance']:.4f}"
        raw = "" if r.get("raw_distance") is None else f"  raw={r['raw_distance']:.4f}"
        print(f"{d}  {r['outcome']:<9}  same={r['same']}{raw}  {r['file_a']}  {r['file_b']}"
              + (f"  [{', '.join(r['hints'])}]" if r["hints"] else ""), flush=True)

    results = judge_pairs(pairs, judge, on_result=show)
    summary = summarize(results, faces)
    if args.json:
        # NaN and infinity are not JSON: a figure that has none is null
        print(json.dumps({k: None if isinstance(v, float) and not math.isfinite(v) else v
                          for k, v in summary.items()}, ensure_ascii=False, allow_nan=False))
    else:
        for k, v in summary.items():
            print(f"{k:22} {v}")
    return 0
