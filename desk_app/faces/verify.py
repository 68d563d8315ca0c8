"""Live face against the ID photo: the multi-frame decision a desk makes.

* :func:`encode_id_photo` encodes the card photo once per patient, with care (it is tiny);
* :class:`FaceSession` takes live frames as they come (``add_frame``, callable from a worker,
  cancellable), gates each one (:mod:`desk_app.faces.quality`), keeps the best ``best_k``
  frames of the last ``window_s`` seconds, and decides when it has them (and, when the desk asks
  for it, when the liveness check has an answer);
* :class:`Scorer` turns a comparison into the score the thresholds are in: the plain distance,
  or (``faces.score = "cohort"``, the default) the distance judged against the faces' nearest
  strangers (:mod:`desk_app.faces.cohort`);
* :func:`banded` maps a score to MATCH / UNDECIDED / MISMATCH with the desk's thresholds
  (``FacesSection``), never a MATCH above the relatives' ceiling; evaluation and calibration use
  the very same function.

The result is a frozen :class:`FaceDecision`; ``to_face_check()`` gives the check-in domain's
``FaceCheck``.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeVar

import numpy as np

from desk_app.errors import Text
from desk_app.faces.cohort import Cohort, CohortUnavailable, shared_cohort
from desk_app.faces.engine import (
    ID_PHOTO_METHOD,
    LIVE_METHOD,
    CancelToken,
    EncodeMethod,
    FaceBox,
    FaceModel,
    check_cancel,
    face_distance,
    pick_primary,
    shared_model,
    to_rgb,
)
from desk_app.faces.liveness import (
    LivenessResult,
    LivenessSample,
    check_blink,
    check_presentation,
    check_turn,
)
from desk_app.faces.presentation import PresentationCheck
from desk_app.faces.quality import Hint, QualityLimits, QualityReport, assess, hint
from desk_app.faces.sex import frames_differ, shared_sex_model
from desk_app.settings import FacesSection

log = logging.getLogger(__name__)

F = TypeVar("F")


class FaceOutcome(StrEnum):
    MATCH = "match"
    UNDECIDED = "undecided"
    MISMATCH = "mismatch"
    DECLINED = "declined"  # the patient did not consent (PIPL): a clerk verifies by hand
    UNAVAILABLE = "unavailable"  # no usable ID photo or no model: a clerk verifies by hand


def outcome_for(distance: float, faces: FacesSection) -> FaceOutcome:
    """The desk's three bands: <= match_distance MATCH, >= mismatch_distance MISMATCH."""
    if distance <= faces.match_distance:
        return FaceOutcome.MATCH
    if distance >= faces.mismatch_distance:
        return FaceOutcome.MISMATCH
    return FaceOutcome.UNDECIDED


def banded(score: float, raw: float | None, faces: FacesSection,
           hint_codes: set[str] | frozenset[str] = frozenset()) -> tuple[FaceOutcome, bool]:
    """The outcome of a score (:func:`outcome_for`, then :func:`capped`), and whether a MATCH
    was held back because the plain distance ``raw`` is above ``faces.relative_ceiling``
    (cohort scores only: a relative may score like the patient; the clerk compares)."""
    outcome = outcome_for(score, faces)
    held = (outcome is FaceOutcome.MATCH and faces.score == "cohort" and raw is not None
            and raw > faces.relative_ceiling)
    if held:
        outcome = FaceOutcome.UNDECIDED
    return capped(outcome, hint_codes), held


class Scorer:
    """One card face's comparisons, in the unit of the desk's thresholds: ``compare(live)``
    gives (score, plain distance). With ``faces.score = "cohort"`` the cohort is loaded (once
    per process) and :class:`~desk_app.faces.cohort.CohortUnavailable` raised when it cannot be."""

    def __init__(self, card: np.ndarray, faces: FacesSection, cohort: Cohort | None = None):
        self.card = card
        self.cohort = (cohort or shared_cohort()) if faces.score == "cohort" else None
        self._card = None if self.cohort is None else self.cohort.card_crowding(card)

    def compare(self, live: np.ndarray) -> tuple[float, float]:
        raw = face_distance(self.card, live)
        if self.cohort is None or self._card is None:
            return raw, raw
        return self.cohort.score(raw, self._card, self.cohort.live_crowding(live)), raw


OUTCOME_TEXT = {
    FaceOutcome.MATCH: Text("人证一致。", "The face matches the ID photo."),
    FaceOutcome.UNDECIDED: Text(
        "无法确定是否本人, 请人工核对证件照片。",
        "Not sure it is the same person. Please compare with the ID photo yourself.",
    ),
    FaceOutcome.MISMATCH: Text(
        "人证不一致, 可能不是证件本人, 请人工核对。",
        "The face does not match the ID photo. This may not be the card holder; please check.",
    ),
    FaceOutcome.DECLINED: Text(
        "患者未同意人脸比对, 请人工核对证件照片。",
        "The patient declined face comparison. Please compare with the ID photo yourself.",
    ),
    FaceOutcome.UNAVAILABLE: Text(
        "人脸比对不可用, 请人工核对证件照片。",
        "Face comparison is not available. Please compare with the ID photo yourself.",
    ),
}

ID_PHOTO_NO_FACE = Hint("id_photo_no_face", Text(
    "证件照片中未找到人脸。", "No face was found in the ID photo."))
ID_PHOTO_GUESSED = Hint("id_photo_fallback_box", Text(
    "证件照片中的人脸位置按标准版式推定。",
    "The face in the ID photo was not found; its place was assumed from the card layout."))
MODEL_UNAVAILABLE = Hint("face_model_unavailable", Text(
    "人脸识别模型无法加载, 请人工核对并联系信息科。",
    "The face model could not be loaded. Please compare by hand and call hospital IT."))
RELATIVE_HELD = Hint("relative_ceiling", Text(
    "很像, 但不足以排除亲属持证冒用, 请人工核对证件照片。",
    "Very alike, but not enough to rule out a relative using the card. Please compare with the "
    "ID photo yourself."))
SEX_DIFFERS = Hint("sex_differs", Text(
    "人脸相符, 但面部特征显示的性别与证件登记的不同, 可能是亲属持证, 请人工核对。",
    "The face matches, but it looks the other sex than the ID card records: possibly a relative "
    "with the card. Please compare with the ID photo yourself."))
SEX_CHECK_UNAVAILABLE = Hint("sex_check_unavailable", Text(
    "人脸相符。与证件登记性别的核对未能运行 (性别识别模型无法加载), 请留意亲属持证并联系信息科。",
    "The face matches. The check against the sex the ID card records could not run (its model "
    "could not be loaded): watch for a relative with the card, and call hospital IT."))
COHORT_UNAVAILABLE = Hint("face_cohort_unavailable", Text(
    "人脸比对参照数据无法加载, 请人工核对并联系信息科。",
    "The face comparison reference data could not be loaded. Please compare by hand and call "
    "hospital IT."))
TOO_FEW_FRAMES = Hint("too_few_frames", Text(
    "合格画面不足, 结果仅供参考。", "Too few good frames; the result is only indicative."))


@dataclass(frozen=True)
class FaceDecision:
    outcome: FaceOutcome
    # mean score over the frames used (the thresholds' unit, ``faces.score``); None when nothing
    # was compared
    distance: float | None
    frames_used: int
    match_distance: float
    mismatch_distance: float
    frame_distances: tuple[float, ...] = ()
    hints: tuple[Hint, ...] = ()
    liveness: LivenessResult | None = None
    raw_distance: float | None = None  # the plain distance's mean over the same frames

    @property
    def text(self) -> Text:
        """What the clerk reads: the outcome's text, or the hint that explains an undecided
        or unavailable outcome the clerk could not guess (a relative's ceiling, the cohort)."""
        for h in self.hints:
            if h.code in (RELATIVE_HELD.code, COHORT_UNAVAILABLE.code, SEX_DIFFERS.code,
                          SEX_CHECK_UNAVAILABLE.code):
                return h.text
        return OUTCOME_TEXT[self.outcome]

    @property
    def liveness_state(self) -> str | None:
        """"passed" | "failed" | "pending" (not enough frames), None when not checked."""
        if self.liveness is None:
            return None
        return "pending" if self.liveness.passed is None else (
            "passed" if self.liveness.passed else "failed")

    def to_face_check(self):  # type: ignore[no-untyped-def]
        """The check-in domain's ``FaceCheck(outcome, distance, liveness)``."""
        from desk_app.checkin.model import FaceCheck  # team DOMAIN's value; imported when used

        return FaceCheck(outcome=self.outcome.value, distance=self.distance,
                         liveness=self.liveness_state)

    @classmethod
    def declined(cls, faces: FacesSection) -> FaceDecision:
        return cls(FaceOutcome.DECLINED, None, 0, faces.match_distance, faces.mismatch_distance)

    @classmethod
    def unavailable(cls, faces: FacesSection, *hints: Hint) -> FaceDecision:
        return cls(FaceOutcome.UNAVAILABLE, None, 0, faces.match_distance,
                   faces.mismatch_distance, hints=tuple(hints))


def capped(outcome: FaceOutcome, hint_codes: set[str] | frozenset[str]) -> FaceOutcome:
    """UNDECIDED instead of MATCH or MISMATCH when a frame used had a capping hint, and instead
    of MISMATCH when the face compared may not be the right one (:data:`NO_MISMATCH_HINTS`)."""
    if hint_codes & CAPPING_HINTS and outcome in (FaceOutcome.MATCH, FaceOutcome.MISMATCH):
        return FaceOutcome.UNDECIDED
    if hint_codes & NO_MISMATCH_HINTS and outcome == FaceOutcome.MISMATCH:
        return FaceOutcome.UNDECIDED
    return outcome


def decide_from_distances(distances: list[float], faces: FacesSection,
                          hints: tuple[Hint, ...] = (),
                          liveness: LivenessResult | None = None,
                          raw: list[float] | None = None) -> FaceDecision:
    """The decision over the scores of the frames used (their mean); ``raw``: their plain
    distances, for the relatives' ceiling (:func:`banded`; default: the scores themselves)."""
    if not distances:
        return FaceDecision(FaceOutcome.UNDECIDED, None, 0, faces.match_distance,
                            faces.mismatch_distance, hints=hints, liveness=liveness)
    d = float(np.mean(distances))
    r = float(np.mean(raw if raw is not None else distances))
    outcome, held = banded(d, r, faces, {h.code for h in hints})
    if held:
        hints = (*hints, RELATIVE_HELD)
    return FaceDecision(outcome, d, len(distances), faces.match_distance,
                        faces.mismatch_distance, tuple(round(x, 4) for x in distances), hints,
                        liveness, round(r, 4))


# --- the ID photo ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdPhoto:
    encoding: np.ndarray | None = field(compare=False, repr=False)
    box: FaceBox | None
    fallback_box: bool = False  # no face detected: the standard card layout was assumed
    model_unavailable: bool = False  # the model files could not be loaded: nothing compared

    @property
    def usable(self) -> bool:
        return self.encoding is not None


def id_photo_box(rgb: np.ndarray, model: FaceModel) -> tuple[FaceBox | None, bool]:
    """The face in an ID photo. A chip photo's face is ~50 px, under HOG's 80 px window: the
    detector runs on a copy enlarged to >= 250 px tall. When it still finds nothing in a
    card-shaped portrait, the standard layout (face centred, half the width) is assumed."""
    import cv2

    h, w = rgb.shape[:2]
    f = max(1.0, 250 / h)
    big = rgb if f == 1.0 else cv2.resize(rgb, (round(w * f), round(h * f)),
                                          interpolation=cv2.INTER_CUBIC)
    boxes = model.detect(big, 1 if max(big.shape[:2]) < 700 else 0)
    if boxes:
        return boxes[pick_primary(boxes, big.shape)].scaled(1 / f), False
    if 1.1 <= h / w <= 1.45 and h <= 600:
        side = 0.5 * w
        cx, cy = w / 2, 0.48 * h
        return FaceBox(round(cx - side / 2), round(cy - side / 2), round(cx + side / 2),
                       round(cy + side / 2)), True
    return None, False


def encode_id_photo(image: np.ndarray, model: FaceModel | None = None, *, bgr: bool = True,
                    method: EncodeMethod = ID_PHOTO_METHOD,
                    cancel: CancelToken | None = None) -> IdPhoto:
    """Encode the card photo (BGR by default, as cameras and cv2 give it)."""
    model = model or shared_model()
    rgb = to_rgb(image, bgr=bgr)
    check_cancel(cancel)
    box, fallback = id_photo_box(rgb, model)
    if box is None:
        return IdPhoto(None, None)
    return IdPhoto(model.encode(rgb, box, method, cancel), box, fallback)


# --- live frames ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameResult:
    """What one frame did: its quality (for the hint on screen) and, once decided, the decision."""

    quality: QualityReport
    decision: FaceDecision | None = None
    prompt: Text | None = None  # the liveness instruction to show, while one is running


@dataclass
class _Candidate:
    timestamp: float
    score: float
    encoding: np.ndarray | None = None
    rgb: np.ndarray | None = None  # kept only for not-quite-good frames, encoded if needed
    box: FaceBox | None = None
    hints: tuple[Hint, ...] = ()  # why a not-quite-good frame was not good
    framed: bool = False  # inside a phone's or a print's edges (passive liveness)
    p_male: float | None = None  # the sex the face looks (faces.sex_check), when estimated


# Frames failing only on these may still be compared at the end of the window, with a hint.
SOFT_HINTS = frozenset({"blurry", "too_dark", "too_bright", "not_frontal", "off_frame",
                        "several_faces"})
# ...but with another face in view a comparison proves nothing about who stands at the counter
# (an impostor may bring the card's holder along): the outcome is at most UNDECIDED.
CAPPING_HINTS = frozenset({"several_faces"})
# A MISMATCH alerts security, so it must rest on the right faces: not on a card photo whose face
# was not found (the layout was assumed) nor on a live face cut by the frame edge (a bystander at
# the side may have been taken). Such a distance is the clerk's to judge (UNDECIDED); a MATCH
# from it stands (the match threshold is far below any stranger's distance).
NO_MISMATCH_HINTS = frozenset({"id_photo_fallback_box", "off_frame"})


def judge_frame(rgb: np.ndarray, model: FaceModel, limits: QualityLimits, work_width: int = 320,
                cancel: CancelToken | None = None, *, thorough: bool = False) -> QualityReport:
    """Detection (on a downscaled copy first) and the quality gate for one RGB frame.
    ``thorough``: when HOG finds no face, the CNN detector has a look (the last frame of a
    window with no face in any: about a second, in a face process at a desk)."""
    boxes = model.detect_frame(rgb, work_width, limits.min_face_px, cancel)
    if not boxes and thorough:
        boxes = model.detect_thorough(rgb, cancel)
    check_cancel(cancel)
    return assess(rgb, boxes, lambda b: model.landmarks(rgb, b, 68), limits)


def comparable(q: QualityReport) -> bool:
    """Good, or failing only on soft criteria (usable when nothing better comes)."""
    return q.box is not None and {h.code for h in q.hints} <= SOFT_HINTS


def encode_still(rgb: np.ndarray, model: FaceModel, limits: QualityLimits,
                 method: EncodeMethod = LIVE_METHOD, cancel: CancelToken | None = None,
                 ) -> tuple[np.ndarray | None, QualityReport]:
    """One photo as a desk treats a single live frame at the end of its window: looked at
    thoroughly when HOG sees no face, compared when it passes the gate or fails only on soft
    criteria; not compared otherwise."""
    q = judge_frame(rgb, model, limits, cancel=cancel, thorough=True)
    if not comparable(q):
        return None, q
    assert q.box is not None
    return model.encode(rgb, q.box, method, cancel), q


def frames_to_use(good: Sequence[F], soft: Sequence[F], k: int, score: Callable[[F], float],
                  ) -> tuple[list[F], list[F]]:
    """Which frames a decision compares: the best ``k`` good frames by quality score and, when
    there are fewer than ``k``, the best near-misses to fill up (the second list). The desk's
    :class:`FaceSession` and ``eval faces`` with several live photos both choose this way."""
    used = sorted(good, key=lambda c: -score(c))[:k]
    fill = sorted(soft, key=lambda c: -score(c))[: k - len(used)] if len(used) < k else []
    return used, fill


def fill_hints(fill: Sequence[tuple[Hint, ...]]) -> tuple[Hint, ...]:
    """The hints of a decision filled up with near-misses: "too few good frames" and the
    near-misses' own (a capping one must reach the decision)."""
    return (TOO_FEW_FRAMES, *dict.fromkeys(h for hints in fill for h in hints))


class FaceSession:
    """One patient's face comparison. Not thread-safe: one worker feeds it frames in order.

    ``add_frame`` returns as soon as the frame is judged; the decision comes with the frame that
    completes the set (``best_k`` good frames, or twice that many when the window is still
    young, so the best of them are used), or from ``finish`` when the window runs out."""

    def __init__(self, id_photo: IdPhoto, faces: FacesSection, model: FaceModel | None = None,
                 limits: QualityLimits | None = None,
                 turn_direction: Literal["left", "right"] | None = None,
                 live_method: EncodeMethod = LIVE_METHOD, work_width: int = 320,
                 holder_sex: str | None = None) -> None:
        """``holder_sex``: "M" / "F" as the ID number records it (``faces.sex_check``)."""
        self.id_photo = id_photo
        self.holder_sex = holder_sex if faces.sex_check and holder_sex in ("M", "F") else None
        self.faces = faces
        self.model = model or shared_model()
        self.limits = limits or QualityLimits(min_face_px=faces.min_face_px)
        self.live_method = live_method
        self.work_width = work_width
        self.turn_direction = turn_direction or random.choice(["left", "right"])
        self._good: list[_Candidate] = []
        self._soft: list[_Candidate] = []
        self._samples: list[LivenessSample] = []
        self._presentation = PresentationCheck()
        self._first_ts: float | None = None
        self._faceless: np.ndarray | None = None  # the latest frame in which HOG saw no face
        self._last_hints: tuple[Hint, ...] = ()
        self.decision: FaceDecision | None = None
        self._scorer: Scorer | None = None
        if not id_photo.usable:
            self.decision = FaceDecision.unavailable(
                faces, MODEL_UNAVAILABLE if id_photo.model_unavailable else ID_PHOTO_NO_FACE)
            return
        assert id_photo.encoding is not None
        try:
            self._scorer = Scorer(id_photo.encoding, faces)
        except CohortUnavailable as exc:
            log.error("face cohort unavailable: %s", exc.detail)
            self.decision = FaceDecision.unavailable(faces, COHORT_UNAVAILABLE)

    # -- liveness --
    def _liveness(self, final: bool, used: list[_Candidate] | None = None
                  ) -> LivenessResult | None:
        mode = self.faces.liveness
        if mode == "off":
            return None
        if mode == "passive":  # judged on the frames compared with the card
            return check_presentation(
                None if used is None else self._presentation.verdict([c.framed for c in used]),
                final)
        if mode == "blink":
            return check_blink(self._samples, final)
        return check_turn(self._samples, self.turn_direction, final)

    def prompt(self) -> Text | None:
        live = self._liveness(False)
        return live.text if live is not None and live.asks_patient else None

    # -- frames --
    def add_frame(self, frame: np.ndarray, timestamp: float, cancel: CancelToken | None = None,
                  *, bgr: bool = True) -> FrameResult:
        if self.decision is not None:
            return FrameResult(QualityReport(False, None), self.decision)
        rgb = to_rgb(frame, bgr=bgr)
        q = judge_frame(rgb, self.model, self.limits, self.work_width, cancel)
        if q.box is not None and q.pose is not None and q.ear is not None:
            self._samples.append(LivenessSample(timestamp, q.ear, q.pose.yaw))
            if self._first_ts is None:
                self._first_ts = timestamp
        framed = (q.box is not None and self.faces.liveness == "passive"
                  and self._presentation.framed(rgb, q.box))  # a few ms: edges around the face
        self._last_hints = q.hints
        self._faceless = rgb if q.box is None else None
        self._drop_old(timestamp)
        if q.ok:
            enc = self.model.encode(rgb, q.box, self.live_method, cancel)
            self._good.append(_Candidate(timestamp, q.score, enc, framed=framed,
                                         p_male=self._p_male(rgb, q.box)))
        elif comparable(q):
            self._soft.append(_Candidate(timestamp, q.score, rgb=rgb, box=q.box, hints=q.hints,
                                         framed=framed))
            self._soft = sorted(self._soft, key=lambda c: -c.score)[: self.faces.best_k]
        live = self._liveness(False)
        k = self.faces.best_k
        young = self._first_ts is not None and timestamp - self._first_ts < self.faces.window_s / 2
        enough = len(self._good) >= (2 * k if young else k)
        # Two windows after the first face: decide with what there is, even if no frame was
        # good enough (a patient who never faces the camera squarely, a dim counter): the best
        # near-misses, said so in the hints (at most UNDECIDED), rather than waiting for ever.
        due = self._first_ts is not None and timestamp - self._first_ts >= 2 * self.faces.window_s
        # the passive check never holds the decision back (it asks nothing of the patient)
        if enough and (live is None or not live.asks_patient or due):
            self.decision = self._decide(final=True, cancel=cancel)
        elif due and (self._good or self._soft):
            self.decision = self._decide(final=True, cancel=cancel)
        prompt = live.text if live is not None and live.asks_patient else None
        return FrameResult(q, self.decision, prompt)

    def _drop_old(self, now: float) -> None:
        horizon = now - self.faces.window_s
        self._good = [c for c in self._good if c.timestamp >= horizon]
        self._soft = [c for c in self._soft if c.timestamp >= horizon]

    def _decide(self, final: bool, cancel: CancelToken | None = None) -> FaceDecision:
        assert self.id_photo.encoding is not None
        k = self.faces.best_k
        used, fill = frames_to_use(self._good, self._soft, k, lambda c: c.score)
        hints: tuple[Hint, ...] = ()
        if fill:
            # Not enough good frames: fill up with the best near-misses, and say so.
            for c in fill:
                assert c.rgb is not None and c.box is not None
                c.encoding = self.model.encode(c.rgb, c.box, self.live_method, cancel)
                c.p_male = self._p_male(c.rgb, c.box)
            used = [*used, *fill]
            hints = fill_hints([c.hints for c in fill])
        elif not used and self._faceless is not None and final:
            # No face in any frame, and the window is over: one thorough look at the last one.
            used, hints = self._thorough_look(cancel)
        elif not used:
            hints = self._last_hints or (hint("no_face"),)
        elif len(used) < k:
            hints = (TOO_FEW_FRAMES,)
        if self.id_photo.fallback_box:
            hints = (*hints, ID_PHOTO_GUESSED)
        assert self._scorer is not None
        compared = [self._scorer.compare(c.encoding) for c in used if c.encoding is not None]
        decision = decide_from_distances(
            [score for score, _ in compared], self.faces, hints,
            self._liveness(final, [c for c in used if c.encoding is not None]),
            raw=[raw for _, raw in compared])
        decision = self._sex_checked(decision, [c for c in used if c.encoding is not None])
        log.info("face decision %s score=%s distance=%s frames=%d liveness=%s",
                 decision.outcome.value,
                 None if decision.distance is None else round(decision.distance, 3),
                 decision.raw_distance, decision.frames_used, decision.liveness_state)
        return decision

    def _thorough_look(self, cancel: CancelToken | None) -> tuple[list[_Candidate], tuple[Hint, ...]]:
        assert self._faceless is not None
        rgb, self._faceless = self._faceless, None
        q = judge_frame(rgb, self.model, self.limits, self.work_width, cancel, thorough=True)
        if not comparable(q):
            return [], q.hints
        assert q.box is not None
        found = _Candidate(0.0, q.score, self.model.encode(rgb, q.box, self.live_method, cancel),
                           hints=q.hints, framed=self.faces.liveness == "passive"
                           and self._presentation.framed(rgb, q.box),
                           p_male=self._p_male(rgb, q.box))
        return [found], (TOO_FEW_FRAMES, *q.hints)

    # -- the card holder's sex --
    def _p_male(self, rgb: np.ndarray, box: FaceBox) -> float | None:
        """The sex the face looks (about a millisecond), only when there is a sex to hold it
        against and the classifier loaded."""
        if self.holder_sex is None:
            return None
        sex_model = shared_sex_model()
        return None if sex_model is None else sex_model.p_male(self.model.sex_chip(rgb, box))

    def _sex_checked(self, decision: FaceDecision, used: list[_Candidate]) -> FaceDecision:
        """A MATCH whose frames look the other sex than the card records: UNDECIDED."""
        seen = [c.p_male for c in used if c.p_male is not None]
        if decision.outcome is not FaceOutcome.MATCH or self.holder_sex is None:
            return decision
        if not seen:  # a sex to check and no estimate: the classifier did not load
            return dataclasses.replace(decision, hints=(*decision.hints, SEX_CHECK_UNAVAILABLE))
        if not frames_differ(self.holder_sex, seen, self.faces.sex_confidence):
            return decision
        return dataclasses.replace(decision, outcome=FaceOutcome.UNDECIDED,
                                   hints=(*decision.hints, SEX_DIFFERS))

    def finish(self, cancel: CancelToken | None = None) -> FaceDecision:
        """The window is over (or the clerk pressed on): decide with what there is."""
        if self.decision is None:
            self.decision = self._decide(final=True, cancel=cancel)
        return self.decision

    def decline(self) -> FaceDecision:
        """The patient declined face comparison (separate consent under PIPL)."""
        self._good.clear()
        self._soft.clear()
        self.decision = FaceDecision.declined(self.faces)
        return self.decision
