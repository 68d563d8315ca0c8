"""The check-in workflow: one patient at a time, parts arriving in any order.

The clerk's screen feeds what the devices read — a booking code (camera QR, handheld scanner,
typed reference), the ID card (reader, camera, typed number), live face frames — and gets back a
:class:`~desk_app.services.model.CheckinState` after each. As soon as the parts are there the
service decides (``desk_app.checkin``), records the visit with its outbox row in one
transaction, flags the case for security when the verdict says so (with the two face images,
encrypted, kept only for flagged cases), and writes the decision to the audit log.

Every method may block (scrypt, face model, disk) and is called off the GUI thread, one call at
a time per desk (``ui.operations`` serial lane); a lock guards the case anyway. A call for a
session that is no longer current changes nothing and returns the current state.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import cv2
import numpy as np

from desk_app.booking import (
    BookingCode,
    BookingCodeError,
    KeySet,
    KeySetError,
    RevocationList,
    parse_booking_code,
    patient_matches,
)
from desk_app.checkin import engine as rules
from desk_app.checkin.model import (
    BlacklistHit,
    CheckinInput,
    ClerkOverride,
    History,
    IdDocument,
    Verdict,
)
from desk_app.clock import CHINA_TZ, Clock
from desk_app.errors import DeskError, Text, UserInputError
from desk_app.faces.engine import FaceModelUnavailable
from desk_app.faces.verify import (
    MODEL_UNAVAILABLE,
    FaceDecision,
    FaceSession,
    IdPhoto,
    encode_id_photo,
)
from desk_app.identity import IdNumber, InvalidIdNumber, parse_id_number
from desk_app.identity.hashing import ScryptParams, b64d, slow_hash
from desk_app.logs import MASKER, PiiMasker
from desk_app.services.model import (
    CheckinState,
    Decision,
    FaceView,
    ReasonView,
    Step,
    StepStatus,
    StepView,
    VerdictView,
)
from desk_app.services.security import check_note, queue_suspect_report
from desk_app.services.session import SessionService
from desk_app.services.views import booking_view, person_view
from desk_app.settings import Settings
from desk_app.storage import AlertInput, FaceJudgement, Override, Reason, Store, VisitInput

log = logging.getLogger(__name__)

#: The store cursor where the sync worker keeps the platform's desk config (JSON): the
#: blacklist salt and scrypt cost. Written by ``sync.worker``, read here.
PLATFORM_CONFIG_CURSOR = "platform.config"
BLACKLIST_CHECKED_CURSOR = "blacklist.checked_at"  # the platform's time of the last check
SKEW_CURSOR = "platform.skew_s"  # the platform's clock minus the desk's, seconds

HINTS = {
    "booking": Text("请出示预约二维码", "Please show the booking QR code"),
    "id": Text("请出示身份证", "Please present the ID card"),
    "face": Text("请正对摄像头", "Please look at the camera"),
    "decided": Text("按回车办理下一位", "Press Enter for the next patient"),
    "card_photo": Text("请将身份证放在柜台摄像头下 (读取证件照片)",
                       "Put the ID card under the counter camera (for its photo)"),
    "judge_face": Text("请核对两张照片: 本人按 F7, 非本人按 F8",
                       "Compare the two photos: F7 same person, F8 not the same person"),
    "confirm_card": Text("请查验身份证原件, 无误后按 F9", "Check the physical ID card, then press F9"),
}

#: What the clerk's calls say when they change the verdict (the override reason, the banner).
CLERK_NOTES = {
    "same": Text("挂号员核对人脸: 本人", "The clerk judged the face: same person"),
    "different": Text("挂号员核对人脸: 非本人", "The clerk judged the face: not the same person"),
    "card": Text("挂号员已查验身份证原件", "The clerk checked the physical ID card"),
}


class CardLike(Protocol):
    """What the service needs of a card read (``devices.idcard.IdCardRead`` has it)."""

    id_number: str
    name: str
    valid_to: date | None
    long_term: bool
    portrait: np.ndarray | None
    source: str


@dataclass
class _Case:
    """One patient's check-in while it is open. Internal and mutable; screens get CheckinState."""

    session_id: str
    booking: BookingCode | None = None
    booking_error: BookingCodeError | None = None
    id_number: IdNumber | None = None
    name: str = ""
    card_valid_to: date | None = None
    card_long_term: bool = False
    id_source: str = ""
    id_portrait: np.ndarray | None = None
    id_photo: IdPhoto | None = None
    face_session: FaceSession | None = None
    face: FaceDecision | None = None
    live_face: np.ndarray | None = None
    face_box: tuple[int, int, int, int] | None = None
    face_prompt: Text | None = None
    verdict: Verdict | None = None
    visit_id: str | None = None
    presented_hash: bytes | None = None
    errors: list[Text] = field(default_factory=list)
    # Why there is no face comparison, when known exactly (``FaceCheck.missing``); a chip read
    # without portrait waiting for the counter camera's look at the card.
    face_missing: str = ""
    awaiting_card_photo: bool = False
    camera_card: tuple[str, np.ndarray, IdPhoto | None] | None = None  # (number, portrait, photo)
    # The engine's input of the verdict, when it was made, and the clerk's calls since.
    inputs: CheckinInput | None = None
    decided_at: datetime | None = None
    judgement: str = ""
    card_confirmed_by: str = ""
    clerk_notes: list[str] = field(default_factory=list)


def _png(image: np.ndarray | None, max_side: int = 320) -> bytes | None:
    if image is None or image.size == 0:
        return None
    h, w = image.shape[:2]
    f = min(1.0, max_side / max(h, w))
    if f < 1.0:
        image = cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", image)
    return buf.tobytes() if ok else None


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
        self._lock = threading.RLock()
        self._case = _Case(session_id=str(uuid.uuid4()))
        # A chip reader without the photo decoder whose cards' portraits the counter camera
        # captures (the composition root says so: ``expect_camera_portrait``).
        self.camera_portrait = False

    def expect_camera_portrait(self, on: bool) -> None:
        """Chip reads without a portrait wait for the counter camera's read of the same card."""
        self.camera_portrait = on

    # -- the operations --------------------------------------------------------------------
    def new_patient(self) -> CheckinState:
        with self._lock:
            self._case = _Case(session_id=str(uuid.uuid4()))
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
            now = self.clock.now()
            try:
                code = parse_booking_code(
                    text, self._keyset(), self._revocations(), s.desk.hospital_id, now,
                    lookup=self.store.bookings, allow_checked_in=True)
            except BookingCodeError as exc:
                log.info("booking code refused (%s) from %s", exc.reason, source)
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

    def _new_card(self, case: _Case, card: CardLike) -> IdNumber | None:
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
    def _portrait_known(case: _Case, card: CardLike) -> bool:
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
                case.face = result.decision
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
                self._maybe_decide(case)
                return self._state()
            if case is None or case.face_session is None or case.face is not None:
                return self._state()
            try:
                case.face = case.face_session.finish()
            except FaceModelUnavailable as exc:  # the thorough look needs the CNN detector
                return self._face_model_lost(case, exc)
            self._maybe_decide(case)
            return self._state()

    def _face_model_lost(self, case: _Case, exc: FaceModelUnavailable) -> CheckinState:
        """A model file could not be read mid-case: the clerk compares by hand."""
        log.error("face model unavailable (%s): the clerk compares by hand", exc.detail)
        case.face = FaceDecision.unavailable(self.settings().faces, MODEL_UNAVAILABLE)
        self._maybe_decide(case)
        return self._state()

    def decline_face(self, session_id: str) -> CheckinState:
        with self._lock:
            case = self._current(session_id)
            if case is None or case.verdict is not None:
                return self._state()
            case.face = FaceDecision.declined(self.settings().faces)
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
            new, override = self._redecide(case, user, now, call, face=face)
            s = self.settings()
            assert case.decided_at is not None
            judgement = FaceJudgement(
                judgement_id=str(uuid.uuid4()), visit_id=case.visit_id, clerk=user.username,
                judged_at=now, distance=case.face.distance if case.face else None,
                judgement=call, seconds=max(0.0, (now - case.decided_at).total_seconds()),
                match_distance=s.faces.match_distance, mismatch_distance=s.faces.mismatch_distance)
            self.store.visits.record_face_judgement(judgement, override)
            self._changed(case, new)
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
            new, override = self._redecide(case, user, now, "card", document=document)
            self.store.visits.confirm_card(case.visit_id, user.username, now, override)
            self._changed(case, new)
            case.card_confirmed_by = user.username
            return self._state()

    def _redecide(self, case: _Case, user: Any, now: datetime, note: str, **changes: Any
                  ) -> tuple[Verdict, Override | None]:
        """The engine's verdict again with the clerk's call in its input; when the decision
        changes it is recorded as the clerk's (an override naming them and their calls)."""
        assert case.inputs is not None and case.verdict is not None
        case.inputs = replace(case.inputs, **changes)
        new = rules.evaluate(case.inputs, self.settings().policy)
        notes = [*case.clerk_notes, CLERK_NOTES[note].zh]
        if new.decision == case.verdict.decision:
            case.clerk_notes = notes
            return new, None
        reason = "; ".join(notes)
        new = replace(new, override=ClerkOverride(
            by=user.username, role=user.role.value, reason=reason, decision=new.decision,
            previous=case.verdict.decision, at=now))
        case.clerk_notes = notes
        return new, Override(by=user.username, reason=reason, verdict=new.decision.value)

    def _changed(self, case: _Case, new: Verdict) -> None:
        """The re-decided verdict is the case's; security is alerted if it now says so."""
        old = case.verdict
        case.verdict = new
        if new.alert_security and old is not None and not old.alert_security \
                and case.visit_id is not None:
            self.store.alerts.create(case.visit_id, AlertInput(
                id_photo=_png(case.id_portrait), live_face=_png(case.live_face)),
                actor=new.override.by if new.override else "system")
        self.on_recorded()

    @staticmethod
    def _face_to_judge(case: _Case) -> bool:
        return (case.verdict is not None and case.verdict.override is None and not case.judgement
                and case.face is not None and case.face.outcome.value == "undecided")

    def _card_to_confirm(self, case: _Case) -> bool:
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
                visit_id=case.visit_id, id_hash=self._presented_hash(case),
                id_last4=case.id_number.last4 if case.id_number else None, actor=user.username)
            self.on_recorded()
            return self._state()

    # -- the parts -------------------------------------------------------------------------
    def _current(self, session_id: str) -> _Case | None:
        if session_id != self._case.session_id:
            log.debug("stale call for a finished case ignored")
            return None
        return self._case

    def _set_id(self, case: _Case, number: IdNumber, *, name: str, valid_to: date | None,
                long_term: bool, source: str, portrait: np.ndarray | None,
                photo: IdPhoto | None = None) -> None:
        self.masker.remember(name)
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

    def _card_photo(self, case: _Case, portrait: np.ndarray | None,
                    photo: IdPhoto | None) -> None:
        if portrait is None or not portrait.size:
            return
        case.awaiting_card_photo = False
        case.id_portrait = portrait
        case.id_photo = photo if photo is not None else self._encode_card_photo(portrait)
        case.face_session = FaceSession(case.id_photo, self.settings().faces, self.face_model)
        if case.face_session.decision is not None:  # no face found in the card photo
            case.face = case.face_session.decision

    def _encode_card_photo(self, portrait: np.ndarray) -> IdPhoto:
        """The card photo's encoding; with the model files missing or damaged the comparison is
        unavailable (a clerk compares by hand), the card itself is taken as read."""
        try:
            return encode_id_photo(portrait, self.face_model)
        except FaceModelUnavailable as exc:
            log.error("face model unavailable (%s): the clerk compares by hand", exc.detail)
            return IdPhoto(None, None, model_unavailable=True)

    def _keyset(self) -> KeySet:
        stored = self.store.keys.keyset()
        try:
            return KeySet.from_wire(stored.to_wire())
        except KeySetError:
            log.error("the cached key set is unreadable; every token will be refused")
            return KeySet(())

    def _revocations(self) -> RevocationList:
        return RevocationList(booking_ids=self.store.keys.revocations("booking"),
                              key_ids=self.store.keys.revocations("key"))

    def _platform_salt(self) -> tuple[bytes, ScryptParams] | None:
        raw = self.store.cursors.get(PLATFORM_CONFIG_CURSOR)
        if not raw:
            return None
        try:
            cfg = json.loads(raw)
            return b64d(cfg["blacklist_salt"]), ScryptParams.from_dict(cfg["scrypt"])
        except (ValueError, KeyError, TypeError):
            log.error("the cached platform config is unreadable")
            return None

    def _presented_hash(self, case: _Case) -> bytes | None:
        if case.presented_hash is None and case.id_number is not None:
            salt = self._platform_salt()
            if salt is not None:
                case.presented_hash = slow_hash(case.id_number.number, salt[0], salt[1])
        return case.presented_hash

    def _blacklist_age(self, now: datetime) -> timedelta | None:
        """Age of the blacklist copy in the platform's time: a desk clock that runs behind must
        not make a stale list look fresh."""
        raw = self.store.cursors.get(BLACKLIST_CHECKED_CURSOR)
        if not raw:
            return None
        try:
            skew = float(self.store.cursors.get(SKEW_CURSOR) or 0.0)
            return max(timedelta(0), now + timedelta(seconds=skew) - datetime.fromisoformat(raw))
        except ValueError:
            return None

    # -- deciding --------------------------------------------------------------------------
    def _maybe_decide(self, case: _Case) -> None:
        if case.verdict is None and case.booking is not None and case.id_number is not None \
                and case.face is not None:
            self._decide(case)

    def _decide(self, case: _Case) -> None:
        s = self.settings()
        now = self.clock.now()
        user = self.session.require()
        hit = None
        presented = self._presented_hash(case)
        if presented is not None:
            entry = self.store.blacklist.lookup(presented, at=now)
            if entry is not None:
                hit = BlacklistHit(source=entry.source, reason=entry.reason,
                                   valid_from=entry.valid_from, valid_to=entry.valid_to)
        history = History()
        if case.booking is not None:
            prior = self.store.visits.for_booking(case.booking.booking_id)
            history = History(
                booking_visits=tuple(rules.prior_visit(v) for v in prior),
                person_visits_today=tuple(
                    rules.prior_visit(v) for v in self._today_visits(case, now)),
            )
        document = None
        if case.id_number is not None:
            document = IdDocument(number=case.id_number, valid_to=case.card_valid_to,
                                  long_term=case.card_long_term, source=case.id_source or "manual")
        face = case.face.to_face_check() if case.face is not None else None
        if face is not None and case.face_missing:
            face = replace(face, missing=case.face_missing)
        case.inputs = CheckinInput(
            booking=case.booking.booking if case.booking else None,
            booking_error=case.booking_error.reason if case.booking_error else None,
            patient_matches=(patient_matches(case.booking, case.id_number)
                             if case.booking is not None and case.id_number is not None else None),
            document=document, face=face, blacklist=hit,
            blacklist_age=self._blacklist_age(now) if presented is not None else None,
            blacklist_known=presented is not None, history=history, now=now)
        verdict = rules.evaluate(case.inputs, s.policy)
        case.verdict, case.decided_at = verdict, now
        self._record(case, verdict, user.username, presented, now)

    def _today_visits(self, case: _Case, now: datetime):
        if case.id_number is None:
            return []
        day_start = datetime.combine(now.astimezone(CHINA_TZ).date(), datetime.min.time(), CHINA_TZ)
        return [v for v in self.store.visits.for_id_number(case.id_number.number, since=day_start)
                if case.booking is None or v.booking_id != case.booking.booking_id]

    def _record(self, case: _Case, verdict: Verdict, clerk: str, presented: bytes | None,
                now: datetime) -> None:
        s = self.settings()
        visit_id = str(uuid.uuid4())
        face = case.face
        visit = VisitInput(
            visit_id=visit_id,
            booking_id=case.booking.booking_id if case.booking else None,
            hospital_id=s.desk.hospital_id, desk_id=s.desk.desk_id, clerk=clerk,
            checked_in_at=now, verdict=verdict.decision.value,
            reasons=tuple(Reason(r.code, r.severity, r.rule) for r in verdict.reasons),
            face_distance=face.distance if face else None,
            face_outcome=face.outcome.value if face else None,
            presented_id_hash=presented,
            presented_id_last4=case.id_number.last4 if case.id_number else None,
            offline=self.offline(), id_number=case.id_number.number if case.id_number else None,
            person_name=case.name or None)
        alert = None
        if verdict.alert_security:
            alert = AlertInput(id_photo=_png(case.id_portrait), live_face=_png(case.live_face))
        try:
            self.store.visits.record(visit, alert)
        except DeskError:
            case.verdict = None  # nothing was stored: the clerk sees the error and may retry
            raise
        case.visit_id = visit_id
        log.info("visit %s recorded: %s (%s)", visit_id, verdict.decision.value,
                 ",".join(r.code for r in verdict.reasons))
        self.on_recorded()

    # -- the screen's view -----------------------------------------------------------------
    def _state(self) -> CheckinState:
        case = self._case
        s = self.settings()
        steps = (self._booking_step(case), self._id_step(case), self._face_step(case),
                 self._checks_step(case))
        if case.verdict is not None:
            hint = HINTS["decided"]
        elif case.booking is None and case.booking_error is None:
            hint = HINTS["booking"]
        elif case.id_number is None:
            hint = HINTS["id"]
        elif case.awaiting_card_photo:
            hint = HINTS["card_photo"]
        else:
            hint = case.face_prompt or HINTS["face"]
        face_to_judge, card_to_confirm = self._face_to_judge(case), self._card_to_confirm(case)
        if face_to_judge:
            hint = HINTS["judge_face"]
        elif card_to_confirm:
            hint = HINTS["confirm_card"]
        person = None
        if case.id_number is not None:
            valid = "长期" if case.card_long_term else (
                case.card_valid_to.isoformat() if case.card_valid_to else "")
            person = person_view(case.id_number.number, case.name, case.id_number.sex, valid,
                                 case.id_source)
        face_view = None
        if case.face is not None:
            face_view = FaceView(outcome=case.face.outcome.value, distance=case.face.distance,
                                 match_below=s.faces.match_distance,
                                 mismatch_above=s.faces.mismatch_distance)
        verdict_view = None
        if case.verdict is not None:
            v = case.verdict
            verdict_view = VerdictView(
                decision=Decision(v.decision.value),
                reasons=tuple(ReasonView(r.code, r.severity, r.text, r.rule) for r in v.reasons),
                alert_security=v.alert_security, overridden=v.override is not None,
                override_reason=v.override.reason if v.override is not None else "",
                decided_by=v.override.by if v.override is not None and case.clerk_notes else "",
                decision_note=self._decision_note(case) if v.override is not None else None)
        return CheckinState(
            session_id=case.session_id, steps=steps, hint=hint,
            booking=booking_view(case.booking.booking) if case.booking else None,
            person=person, face=face_view, verdict=verdict_view, visit_id=case.visit_id,
            id_photo_png=_png(case.id_portrait), live_face_png=_png(case.live_face),
            errors=tuple(case.errors), face_box=case.face_box, face_to_judge=face_to_judge,
            card_to_confirm=card_to_confirm, card_confirmed_by=case.card_confirmed_by,
            awaiting_card_photo=case.awaiting_card_photo)

    @staticmethod
    def _decision_note(case: _Case) -> Text | None:
        calls = [k for k in ("same", "different") if case.judgement == k]
        if case.card_confirmed_by:
            calls.append("card")
        if not calls or not case.clerk_notes:
            return None
        return Text("; ".join(CLERK_NOTES[k].zh for k in calls),
                    "; ".join(CLERK_NOTES[k].en for k in calls))

    @staticmethod
    def _booking_step(case: _Case) -> StepView:
        if case.booking is not None:
            b = case.booking.booking
            return StepView(Step.BOOKING, StepStatus.OK, Text(
                f"{b.department_name} {b.doctor_name} {b.slot_start.astimezone(CHINA_TZ):%H:%M}",
                f"{b.department_name} {b.doctor_name} {b.slot_start.astimezone(CHINA_TZ):%H:%M}"))
        if case.booking_error is not None:
            return StepView(Step.BOOKING, StepStatus.FAILED, case.booking_error.text)
        return StepView(Step.BOOKING, StepStatus.WAITING, HINTS["booking"])

    @staticmethod
    def _id_step(case: _Case) -> StepView:
        if case.id_number is not None:
            masked = case.id_number.masked()
            return StepView(Step.ID, StepStatus.OK, Text(masked, masked))
        if case.errors and case.booking is not None:
            return StepView(Step.ID, StepStatus.FAILED, case.errors[0])
        return StepView(Step.ID, StepStatus.WAITING, HINTS["id"])

    @staticmethod
    def _face_step(case: _Case) -> StepView:
        if case.face is None:
            status = StepStatus.WORKING if case.face_session is not None else StepStatus.WAITING
            return StepView(Step.FACE, status, case.face_prompt or HINTS["face"])
        outcome = case.face.outcome.value
        status = {"match": StepStatus.OK, "mismatch": StepStatus.FAILED}.get(outcome, StepStatus.WARN)
        return StepView(Step.FACE, status, case.face.text)

    @staticmethod
    def _checks_step(case: _Case) -> StepView:
        if case.verdict is None:
            return StepView(Step.CHECKS, StepStatus.WAITING, Text("等待核验", "Waiting"))
        status = {"admit": StepStatus.OK, "review": StepStatus.WARN}.get(
            case.verdict.decision.value, StepStatus.FAILED)
        first = case.verdict.reasons[0].text if case.verdict.reasons else Text("通过", "Admitted")
        return StepView(Step.CHECKS, status, first)


__all__ = ["CardLike", "CheckinService", "PLATFORM_CONFIG_CURSOR"]
