"""The check-in workflow: one patient at a time, parts arriving in any order.

The clerk's screen feeds what the devices read — a booking code (camera QR, handheld scanner,
typed reference), the ID card (reader, camera, typed number), live face frames — and gets back a
:class:`~desk_app.services.model.CheckinState` after each. As soon as the parts are there the
service decides (``desk_app.checkin``), records the visit with its outbox row in one
transaction, flags the case for security when the verdict says so (with the two face images,
encrypted, kept only for flagged cases), and writes the decision to the audit log.

This module takes what arrives (card, code, face) and the clerk's calls; the case itself is
:mod:`.checkin_case`, the decision assembly and recording :mod:`.checkin_decide`, the screen's
view of the case :mod:`.checkin_view`.

Every method may block (scrypt, face model, disk) and is called off the GUI thread, one call at
a time per desk (``ui.operations`` serial lane); a lock guards the case anyway. A call for a
session that is no longer current changes nothing and returns the current state.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np

from desk_app.booking import BookingCodeError, parse_booking_code
from desk_app.checkin import engine as rules
from desk_app.clock import CHINA_TZ, Clock
from desk_app.errors import Text, UserInputError
from desk_app.faces.cohort import score_basis
from desk_app.faces.engine import FaceModelUnavailable
from desk_app.faces.verify import (
    MODEL_UNAVAILABLE,
    FaceDecision,
    FaceOutcome,
    FaceSession,
    IdPhoto,
    encode_id_photo,
)
from desk_app.identity import IdNumber, InvalidIdNumber, parse_id_number
from desk_app.logs import MASKER, PiiMasker
from desk_app.services.checkin_case import CardLike, Case
from desk_app.services.checkin_decide import PLATFORM_CONFIG_CURSOR, Decider
from desk_app.services.checkin_view import state_of
from desk_app.services.model import CheckinState, Decision
from desk_app.services.security import check_note, queue_suspect_report
from desk_app.services.session import SessionService
from desk_app.settings import Settings
from desk_app.storage import FaceJudgement, Override, Store

log = logging.getLogger(__name__)


class CheckinService:
    """Implements :class:`desk_app.services.api.CheckinOps`."""

    def __init__(self, store: Store, session: SessionService, settings: Callable[[], Settings],
                 clock: Clock, *, masker: PiiMasker = MASKER,
                 on_recorded: Callable[[], None] = lambda: None,
                 face_model: Any = None, offline: Callable[[], bool] = lambda: False):
        self.store = store
        self.session = session
        self.settings = settings
        self.clock = clock
        self.masker = masker
        self.on_recorded = on_recorded  # e.g. wake the sync worker
        self.face_model = face_model
        self.offline = offline
        self.decider = Decider(store, settings, clock, offline=lambda: self.offline(),
                               on_recorded=lambda: self.on_recorded())
        self._lock = threading.RLock()
        self._case = Case(session_id=str(uuid.uuid4()))
        # A chip reader without the photo decoder whose cards' portraits the counter camera
        # captures (the composition root says so: ``expect_camera_portrait``).
        self.camera_portrait = False

    def expect_camera_portrait(self, on: bool) -> None:
        """Chip reads without a portrait wait for the counter camera's read of the same card."""
        self.camera_portrait = on

    # -- the operations --------------------------------------------------------------------
    def new_patient(self) -> CheckinState:
        with self._lock:
            self._case = Case(session_id=str(uuid.uuid4()))
            return self._state()

    def current(self) -> CheckinState:
        with self._lock:
            return self._state()

    def submit_code(self, session_id: str, text: str, source: str) -> CheckinState:
        with self._lock:
            case = self._current(session_id)
            if case is None or case.verdict is not None:
                return self._state()
            s = self.settings()
            now = self.decider.platform_now()  # the token's times are the platform's
            try:
                code = parse_booking_code(
                    text, self.decider.keyset(), self.decider.revocations(), s.desk.hospital_id, now,
                    lookup=self.store.bookings, allow_checked_in=True)
            except BookingCodeError as exc:
                log.info("booking code refused (%s) from %s", exc.reason, source)
                if case.booking is not None:
                    # A valid booking is held (a stray old QR on the same phone, a second code
                    # in view): said, and the case goes on with the valid one.
                    case.errors = [Text(f"已有有效预约, 仍按该预约核验; 另一个预约码无效: {exc.text.zh}",
                                        "A valid booking is held and stays the one checked; "
                                        f"another code was not accepted: {exc.text.en}")]
                    return self._state()
                if exc.reason in ("not_booking_code", "too_long", "malformed", "unknown_reference"):
                    # Nothing usable was presented: say so and wait for the right code.
                    case.errors = [exc.text]
                    case.booking_error = exc
                    return self._state()
                case.booking_error = exc
                case.booking = None
                self._decide(case)
                return self._state()
            case.booking, case.booking_error, case.errors = code, None, []
            self._maybe_decide(case)
            return self._state()

    def submit_id_number(self, session_id: str, text: str) -> CheckinState:
        with self._lock:
            case = self._current(session_id)
            if case is None or case.verdict is not None:
                return self._state()
            try:
                number = parse_id_number(text, today=self.clock.now().astimezone(CHINA_TZ).date())
            except InvalidIdNumber as exc:
                case.errors = [exc.text]
                return self._state()
            self._set_id(case, number, name="", valid_to=None, long_term=False, source="manual",
                         portrait=None)
            self._maybe_decide(case)
            return self._state()

    def _new_card(self, case: Case, card: CardLike) -> IdNumber | None:
        """The card's ID number, or None when it is invalid (the error is set) or the same card
        was read again (camera and reader: no change)."""
        try:
            number = parse_id_number(card.id_number,
                                     today=self.clock.now().astimezone(CHINA_TZ).date())
        except InvalidIdNumber as exc:
            case.errors = [exc.text]
            return None
        if case.id_number is not None and case.id_number.number == number.number \
                and (case.id_portrait is not None or card.portrait is None):
            return None
        return number

    def submit_card(self, session_id: str, card: CardLike) -> CheckinState:
        photo: IdPhoto | None = None
        if card.portrait is not None and card.portrait.size:
            with self._lock:
                case = self._current(session_id)
                wanted = (case is not None and case.verdict is None
                          and self._new_card(case, card) is not None
                          and not self._portrait_known(case, card))
            if wanted:
                # Six network passes in the face processes (~0.2-0.4 s, more when frames queue
                # there too): outside the lock, so codes, frames and the status stay answered.
                photo = self._encode_card_photo(card.portrait)
        with self._lock:
            case = self._current(session_id)
            if case is None or case.verdict is not None:
                return self._state()
            number = self._new_card(case, card)
            if number is None:
                return self._state()
            if card.source == "camera" and self.camera_portrait:
                # A chip reader without the photo decoder: the chip's number stands and the
                # camera only supplies the portrait of the same card; another card's is not
                # taken. Seen before the chip is read, it waits for the chip's number.
                if case.id_source != "reader":
                    if card.portrait is not None and card.portrait.size:
                        case.camera_card = (number.number, card.portrait, photo)
                    return self._state()
                if number.number != case.id_number.number:  # type: ignore[union-attr]
                    log.warning("the counter camera read another card than the reader's")
                    return self._state()
                self._card_photo(case, card.portrait, photo)
                self._maybe_decide(case)
                return self._state()
            self._set_id(case, number, name=card.name or "", valid_to=card.valid_to,
                         long_term=bool(card.long_term), source=card.source,
                         portrait=card.portrait, photo=photo)
            self._maybe_decide(case)
            return self._state()

    @staticmethod
    def _portrait_known(case: Case, card: CardLike) -> bool:
        """The counter camera reads the card over and over: its portrait is encoded once."""
        return (card.source == "camera" and case.camera_card is not None
                and case.camera_card[0] == card.id_number)

    def submit_face_frame(self, session_id: str, frame: np.ndarray, timestamp: float) -> CheckinState:
        with self._lock:
            case = self._current(session_id)
            if case is None or case.verdict is not None or case.face is not None:
                return self._state()
            if case.face_session is None:
                return self._state()  # no ID photo yet: the hint asks for the card first
            try:
                result = case.face_session.add_frame(frame, timestamp)
            except FaceModelUnavailable as exc:
                return self._face_model_lost(case, exc)
            q = result.quality
            case.face_box = None if q.box is None else (q.box.left, q.box.top, q.box.right,
                                                        q.box.bottom)
            case.face_prompt = result.prompt or (q.hints[0].text if q.hints else None)
            if q.box is not None and (case.live_face is None or q.ok):
                case.live_face = frame[max(0, q.box.top):q.box.bottom,
                                       max(0, q.box.left):q.box.right].copy()
            if result.decision is not None:
                case.face, case.face_card = result.decision, case.photo_card
                self._maybe_decide(case)
            return self._state()

    def finish_face(self, session_id: str) -> CheckinState:
        """The face window is over: decide with the frames there are. A chip read still waiting
        for its portrait from the counter camera is decided without a face comparison, saying
        why."""
        with self._lock:
            case = self._current(session_id)
            if case is not None and case.awaiting_card_photo and case.face is None:
                case.awaiting_card_photo = False
                case.face_missing = "camera_no_portrait"
                case.face = FaceDecision.unavailable(self.settings().faces)
                case.face_card = case.id_number.number if case.id_number is not None else ""
                self._maybe_decide(case)
                return self._state()
            if case is None or case.face_session is None or case.face is not None:
                return self._state()
            try:
                case.face, case.face_card = case.face_session.finish(), case.photo_card
            except FaceModelUnavailable as exc:  # the thorough look needs the CNN detector
                return self._face_model_lost(case, exc)
            self._maybe_decide(case)
            return self._state()

    def _face_model_lost(self, case: Case, exc: FaceModelUnavailable) -> CheckinState:
        """A model file could not be read mid-case: the clerk compares by hand."""
        log.error("face model unavailable (%s): the clerk compares by hand", exc.detail)
        case.face = FaceDecision.unavailable(self.settings().faces, MODEL_UNAVAILABLE)
        case.face_card = case.photo_card
        self._maybe_decide(case)
        return self._state()

    def decline_face(self, session_id: str) -> CheckinState:
        with self._lock:
            case = self._current(session_id)
            if case is None or case.verdict is not None:
                return self._state()
            if case.face is not None:
                if case.face.outcome is FaceOutcome.DECLINED:
                    return self._state()
                # A result (a mismatch above all) stands: declining now would turn it into a
                # manual check with no trace of it.
                raise UserInputError(FACE_HAS_RESULT, detail="decline after the face result")
            case.face, case.face_card = FaceDecision.declined(self.settings().faces), ""
            if case.face_session is not None:
                case.face_session.decline()
            case.live_face, case.face_box = None, None
            self._maybe_decide(case)
            return self._state()

    def override(self, session_id: str, decision: Decision, reason: str,
                 supervisor: tuple[str, str] | None = None) -> CheckinState:
        clerk = self.session.require()
        # A supervisor's credentials are checked (argon2, throttled) before the lock is taken.
        user = self.session.verify(*supervisor) if supervisor is not None else clerk
        with self._lock:
            case = self._current(session_id)
            if case is None or case.verdict is None or case.visit_id is None:
                raise UserInputError(Text("没有可放行的核验结果。", "There is no verdict to override."))
            new = rules.apply_override(case.verdict, user.role.value, decision.value,
                                       self.masker.mask(reason), by=user.username,
                                       at=self.clock.now(), policy=self.settings().policy,
                                       chip_read=case.id_source == "reader")
            assert new.override is not None
            self.store.visits.override(case.visit_id, Override(
                by=user.username, reason=new.override.reason, verdict=new.decision.value),
                at_window_of=clerk.username if user.username != clerk.username else None)
            case.verdict = new
            self.on_recorded()
            return self._state()

    def judge_face(self, session_id: str, same: bool) -> CheckinState:
        with self._lock:
            case = self._current(session_id)
            if case is None:
                return self._state()
            if not self._face_to_judge(case) or case.visit_id is None or case.inputs is None:
                raise UserInputError(Text("没有待核对的人脸比对。",
                                          "There is no undecided face to judge."))
            user = self.session.require()
            now = self.clock.now()
            call = "same" if same else "different"
            face = replace(case.inputs.face, judgement=call,  # type: ignore[type-var]
                           judged_by=user.username)
            new, override = self.decider.redecide(case, user, now, call, face=face)
            s = self.settings()
            assert case.decided_at is not None
            judgement = FaceJudgement(
                judgement_id=str(uuid.uuid4()), visit_id=case.visit_id, clerk=user.username,
                judged_at=now, distance=case.face.distance if case.face else None,
                judgement=call, seconds=max(0.0, (now - case.decided_at).total_seconds()),
                match_distance=s.faces.match_distance, mismatch_distance=s.faces.mismatch_distance,
                score_basis=score_basis(s.faces.score))
            self.store.visits.record_face_judgement(judgement, override,
                                                    self.decider.alert_for(case, new))
            self.decider.changed(case, new)
            case.judgement = call
            return self._state()

    def confirm_card(self, session_id: str) -> CheckinState:
        with self._lock:
            case = self._current(session_id)
            if case is None:
                return self._state()
            if not self._card_to_confirm(case) or case.visit_id is None or case.inputs is None:
                raise UserInputError(Text("没有待查验的证件 (仅摄像头识别的证件需要确认)。",
                                          "There is no card to check (only a card read by the "
                                          "camera needs it)."))
            user = self.session.require()
            now = self.clock.now()
            document = replace(case.inputs.document,  # type: ignore[type-var]
                               confirmed_by=user.username, confirmed_at=now)
            new, override = self.decider.redecide(case, user, now, "card", document=document)
            self.store.visits.confirm_card(case.visit_id, user.username, now, override,
                                           self.decider.alert_for(case, new))
            self.decider.changed(case, new)
            case.card_confirmed_by = user.username
            return self._state()


    @staticmethod
    def _face_to_judge(case: Case) -> bool:
        return (case.verdict is not None and case.verdict.override is None and not case.judgement
                and case.face is not None and case.face.outcome.value == "undecided")

    def _card_to_confirm(self, case: Case) -> bool:
        return (case.verdict is not None and case.verdict.override is None
                and case.id_source == "camera" and not case.card_confirmed_by
                and not self.settings().policy.require_chip_for_admit)

    def report_suspect(self, session_id: str, note: str) -> CheckinState:
        with self._lock:
            case = self._current(session_id)
            if case is None:
                return self._state()
            user = self.session.require()
            queue_suspect_report(
                self.store, self.settings(), kind="scalper", note=check_note(note, required=False),
                booking_id=case.booking.booking_id if case.booking else None,
                visit_id=case.visit_id, id_hash=self.decider.presented_hash(case),
                id_last4=case.id_number.last4 if case.id_number else None, actor=user.username)
            self.on_recorded()
            return self._state()

    def checked_number(self, session_id: str) -> str:
        """The ID number of the card checked in this case, for the window's actions on the
        person (appeal, unfreeze): read by the chip reader, or read by the camera and the
        physical card checked by the clerk (F9). A typed number is not a checked card."""
        with self._lock:
            case = self._current(session_id)
            number = case.id_number if case is not None else None
        if case is None or number is None or case.id_source not in ("reader", "camera") \
                or (case.id_source == "camera" and not case.card_confirmed_by):
            raise UserInputError(CARD_NOT_CHECKED, detail="window action: no checked card")
        return number.number

    # -- the parts -------------------------------------------------------------------------
    def _current(self, session_id: str) -> Case | None:
        if session_id != self._case.session_id:
            log.debug("stale call for a finished case ignored")
            return None
        return self._case

    def _set_id(self, case: Case, number: IdNumber, *, name: str, valid_to: date | None,
                long_term: bool, source: str, portrait: np.ndarray | None,
                photo: IdPhoto | None = None) -> None:
        self.masker.remember(name)
        if case.id_number is None or case.id_number.number != number.number:
            # Another card before the verdict: a face compared with the card before (its photo,
            # its session) says nothing about this one.
            case.forget_face(photo=True)
        case.id_number, case.name, case.errors = number, name, []
        case.card_valid_to, case.card_long_term, case.id_source = valid_to, long_term, source
        case.presented_hash = None
        if portrait is not None and portrait.size:
            self._card_photo(case, portrait, photo)
        elif case.face is None and source == "reader" and self.camera_portrait:
            # A reader without the photo decoder: the counter camera captures the portrait of
            # the same card (submit_card with source "camera"); finish_face gives up on it.
            seen = case.camera_card
            if seen is not None and seen[0] == number.number:
                self._card_photo(case, seen[1], seen[2])
            else:
                case.awaiting_card_photo = True
        elif case.face is None:
            # No card photo (typed number, reader without photo decoder): no comparison possible.
            case.face_missing = "reader_no_decoder" if source == "reader" else ""
            case.face = FaceDecision.unavailable(self.settings().faces)
            case.face_card = number.number

    def _card_photo(self, case: Case, portrait: np.ndarray | None,
                    photo: IdPhoto | None) -> None:
        if portrait is None or not portrait.size:
            return
        case.forget_face(photo=False)  # e.g. "no photo, no comparison" of the chip read before
        case.awaiting_card_photo = False
        case.id_portrait = portrait
        case.photo_card = case.id_number.number if case.id_number is not None else ""
        case.id_photo = photo if photo is not None else self._encode_card_photo(portrait)
        case.face_session = FaceSession(
            case.id_photo, self.settings().faces, self.face_model,
            holder_sex=case.id_number.sex if case.id_number is not None else None)
        if case.face_session.decision is not None and case.face is None:  # no face in the photo
            case.face, case.face_card = case.face_session.decision, case.photo_card

    def _encode_card_photo(self, portrait: np.ndarray) -> IdPhoto:
        """The card photo's encoding; with the model files missing or damaged the comparison is
        unavailable (a clerk compares by hand), the card itself is taken as read."""
        try:
            return encode_id_photo(portrait, self.face_model)
        except FaceModelUnavailable as exc:
            log.error("face model unavailable (%s): the clerk compares by hand", exc.detail)
            return IdPhoto(None, None, model_unavailable=True)


    # -- deciding --------------------------------------------------------------------------
    def _maybe_decide(self, case: Case) -> None:
        self._drop_face_of_another_card(case)
        if case.verdict is None and case.booking is not None and case.id_number is not None \
                and case.face is not None:
            self._decide(case)

    def _decide(self, case: Case) -> None:
        self._drop_face_of_another_card(case)
        self.decider.decide(case, self.session.require().username)

    @staticmethod
    def _drop_face_of_another_card(case: Case) -> None:
        """A face result is only ever decided with the card it was compared against (the card
        changes clear it; this guards against a path that forgets to)."""
        if case.face is None or case.face.outcome is FaceOutcome.DECLINED:
            return
        number = case.id_number.number if case.id_number is not None else None
        if case.face_card != number:
            log.error("a face result of another card was dropped before deciding")
            case.forget_face(photo=case.photo_card != number)

    # -- the screen's view -----------------------------------------------------------------
    def _state(self) -> CheckinState:
        case = self._case
        return state_of(case, self.settings(), face_to_judge=self._face_to_judge(case),
                        card_to_confirm=self._card_to_confirm(case),
                        today=self.clock.now().astimezone(CHINA_TZ).date())


FACE_HAS_RESULT = Text(
    "人证比对已有结果, 不能再改为人工核验 (不同意人脸核验须在比对之前提出)。",
    "The face comparison already has a result, which stands: the patient can decline the face "
    "check only before it is made.")
CARD_NOT_CHECKED = Text(
    "请先在身份证阅读器上读取此人的身份证 (摄像头读取的证件须按 F9 核对)。",
    "Read this person's ID card on the reader first (a card read by the camera needs F9).")

__all__ = ["CardLike", "CheckinService", "PLATFORM_CONFIG_CURSOR"]
