"""Deciding a check-in: the engine's input assembled from the case and the store (the
blacklist copy, the desk's own visit history, the cached key set and platform config), the
verdict recorded with its outbox item in one transaction, and the clerk's later calls
re-decided (an override naming the clerk when the decision changes)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from desk_app.booking import KeySet, KeySetError, RevocationList, patient_matches
from desk_app.checkin import engine as rules
from desk_app.checkin.model import (
    BlacklistHit,
    CheckinInput,
    ClerkOverride,
    Decision,
    History,
    IdDocument,
    Verdict,
)
from desk_app.checkin.model import Reason as EngineReason
from desk_app.clock import CHINA_TZ, MAX_CLOCK_SKEW_S, Clock
from desk_app.errors import DeskError, InternalError, Text
from desk_app.identity.hashing import ScryptParams, b64d, slow_hash
from desk_app.services.checkin_case import Case, png
from desk_app.services.checkin_view import CLERK_NOTES
from desk_app.settings import PolicySection, Settings
from desk_app.storage import AlertInput, Override, Reason, Store, VisitInput

log = logging.getLogger(__name__)

#: The store cursor where the sync worker keeps the platform's desk config (JSON): the
#: blacklist salt and scrypt cost. Written by ``sync.pull``, read here.
PLATFORM_CONFIG_CURSOR = "platform.config"
BLACKLIST_CHECKED_CURSOR = "blacklist.checked_at"  # the platform's time of the last check
#: A desk clock further than this off the platform's puts a warning for IT on every verdict
#: (the sync worker logs the same threshold).
CLOCK_WARN_SKEW_S = 300.0


def _shifted(desk_now: datetime, skew: float) -> datetime:
    try:
        return desk_now + timedelta(seconds=skew)
    except OverflowError:  # a desk clock at the end of time: as it is
        return desk_now


#: How far off a measured skew may be (``Date`` has whole seconds; half the round trip).
SKEW_ERROR = timedelta(seconds=2)


class Decider:
    """The check-in service's decisions (it holds the lock; this holds no state of its own)."""

    def __init__(self, store: Store, settings: Callable[[], Settings], clock: Clock, *,
                 offline: Callable[[], bool], on_recorded: Callable[[], None]):
        self._visits = store.visits
        self._blacklist = store.blacklist
        self._keys = store.keys
        self._cursors = store.cursors
        self.settings = settings
        self.clock = clock
        self.offline = offline
        self.on_recorded = on_recorded

    def keyset(self) -> KeySet:
        stored = self._keys.keyset()
        try:
            return KeySet.from_wire(stored.to_wire())
        except KeySetError:
            log.error("the cached key set is unreadable; every token will be refused")
            return KeySet(())

    def revocations(self) -> RevocationList:
        return RevocationList(booking_ids=self._keys.revocations("booking"),
                              key_ids=self._keys.revocations("key"))

    def _platform_salt(self) -> tuple[bytes, ScryptParams] | None:
        raw = self._cursors.get(PLATFORM_CONFIG_CURSOR)
        if not raw:
            return None
        try:
            cfg = json.loads(raw)
            return b64d(cfg["blacklist_salt"]), ScryptParams.from_dict(cfg["scrypt"])
        except (ValueError, KeyError, TypeError):
            log.error("the cached platform config is unreadable")
            return None

    def presented_hash(self, case: Case) -> bytes | None:
        if case.presented_hash is None and case.id_number is not None:
            salt = self._platform_salt()
            if salt is not None:
                case.presented_hash = slow_hash(case.id_number.number, salt[0], salt[1])
        return case.presented_hash

    def skew_s(self) -> float:
        """The platform's clock minus the desk's, in seconds, as the sync worker last measured
        it (:meth:`Cursors.fresh_skew_s`); 0 when never measured, unreadable, absurd, or not
        measured in the last day: a desk clock set right while offline must not be shifted by
        the error it had, or every booking would be judged a month off."""
        skew = self._cursors.fresh_skew_s()
        return 0.0 if skew is None else skew

    def platform_now(self) -> datetime:
        """The desk's time corrected by the measured skew: the clock the platform set a ban's
        start and a booking token's times by. A desk clock that runs behind must neither hide
        a ban the platform began an hour ago nor call a token issued a minute ago not valid."""
        return _shifted(self.clock.now(), self.skew_s())

    def _blacklist_age(self, now: datetime) -> timedelta | None:
        """Age of the blacklist copy at ``now`` (the platform's time, :meth:`platform_now`): a
        desk clock that runs behind must not make a stale list look fresh."""
        raw = self._cursors.get(BLACKLIST_CHECKED_CURSOR)
        if not raw:
            return None
        try:
            age = now - datetime.fromisoformat(raw)
        except (ValueError, TypeError, OverflowError):
            return None
        if age < timedelta(seconds=-MAX_CLOCK_SKEW_S):  # "checked" in the far future: unknown
            return None
        return max(timedelta(0), age)

    def decide(self, case: Case, clerk: str) -> None:
        """Assemble the engine's input (blacklist, history, document, face), decide, and record
        the visit (with a flagged case when the verdict says so)."""
        s = self.settings()
        desk_now = self.clock.now()  # the check-in's recorded time (the contract's)
        skew = self.skew_s()
        now = _shifted(desk_now, skew)  # the rules' time: bans, token, slot are the platform's
        hit = None
        presented = self.presented_hash(case)
        if presented is not None:
            # The skew is measured to about a second (the Date header's whole seconds and the
            # round trip): a ban the platform began within that error is in force already (the
            # engine, judging at ``now``, is told it began by then).
            entry = (self._blacklist.lookup(presented, at=now)
                     or self._blacklist.lookup(presented, at=now + SKEW_ERROR))
            if entry is not None:
                hit = BlacklistHit(source=entry.source, reason=entry.reason,
                                   valid_from=min(entry.valid_from, now),
                                   valid_to=entry.valid_to)
        history = History()
        if case.booking is not None:
            prior = self._visits.for_booking(case.booking.booking_id)
            history = History(
                booking_visits=tuple(rules.prior_visit(v) for v in prior),
                person_visits_today=tuple(
                    rules.prior_visit(v) for v in self._today_visits(case, desk_now)),
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
        verdict = self._evaluate(case.inputs, s.policy, skew)
        case.verdict, case.decided_at = verdict, desk_now
        self._record(case, verdict, clerk, presented, desk_now)

    @staticmethod
    def _evaluate(inputs: CheckinInput, policy: PolicySection, skew: float) -> Verdict:
        """The engine's verdict, with a warning for IT when the desk clock is minutes off the
        platform's (the decision is made on the corrected time; the clock still wants fixing)."""
        verdict = rules.evaluate(inputs, policy)
        if abs(skew) <= CLOCK_WARN_SKEW_S:
            return verdict
        minutes = round(abs(skew) / 60)
        ahead = ("快", "ahead of") if skew < 0 else ("慢", "behind")
        warning = EngineReason(
            "desk_clock_off", "warn", Text(
                f"本机时钟比中心平台{ahead[0]} {minutes} 分钟 (已按平台时间核验), "
                "请联系信息科校准。",
                f"This desk's clock is {minutes} minutes {ahead[1]} the platform's (checked on "
                "the platform's time); please ask hospital IT to set it right."),
            "clock", Decision.ADMIT)
        return replace(verdict, reasons=(*verdict.reasons, warning))

    def _today_visits(self, case: Case, now: datetime):
        if case.id_number is None:
            return []
        day_start = datetime.combine(now.astimezone(CHINA_TZ).date(), datetime.min.time(), CHINA_TZ)
        return [v for v in self._visits.for_id_number(case.id_number.number, since=day_start)
                if case.booking is None or v.booking_id != case.booking.booking_id]

    def _record(self, case: Case, verdict: Verdict, clerk: str, presented: bytes | None,
                now: datetime) -> None:
        try:
            visit_id = self._store_visit(case, verdict, clerk, presented, now)
        except BaseException as exc:
            case.verdict = case.decided_at = None  # nothing stored: the clerk sees it, may retry
            if isinstance(exc, DeskError) or not isinstance(exc, Exception):
                raise
            log.error("the verdict could not be recorded: %s", type(exc).__name__)
            raise InternalError(Text("核验结果未能保存, 请重新核验。如反复出现, 请联系信息科。",
                                     "The verdict could not be saved; check the patient in "
                                     "again. If this keeps happening, call hospital IT."),
                                detail=f"recording the visit: {type(exc).__name__}") from exc
        case.visit_id = visit_id
        log.info("visit %s recorded: %s (%s)", visit_id, verdict.decision.value,
                 ",".join(r.code for r in verdict.reasons))
        self.on_recorded()

    def _store_visit(self, case: Case, verdict: Verdict, clerk: str, presented: bytes | None,
                     now: datetime) -> str:
        """The visit (and its flagged case) in one transaction; its id."""
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
            alert = AlertInput(id_photo=png(case.id_portrait), live_face=png(case.live_face))
        self._visits.record(visit, alert)
        return visit_id

    def redecide(self, case: Case, user: Any, now: datetime, note: str, **changes: Any
                  ) -> tuple[Verdict, Override | None]:
        """The engine's verdict again with the clerk's call in its input; when the decision
        changes it is recorded as the clerk's (an override naming them and their calls)."""
        assert case.inputs is not None and case.verdict is not None
        case.inputs = replace(case.inputs, **changes)
        new = self._evaluate(case.inputs, self.settings().policy, self.skew_s())
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

    @staticmethod
    def alert_for(case: Case, new: Verdict) -> AlertInput | None:
        """The flagged case a re-decided verdict makes: when it alerts security and the case's
        verdict did not. The caller stores it with the call that changed the verdict."""
        old = case.verdict
        if not new.alert_security or old is None or old.alert_security or case.visit_id is None:
            return None
        return AlertInput(id_photo=png(case.id_portrait), live_face=png(case.live_face),
                          codes=tuple(r.code for r in new.reasons if r.severity != "info")[:8])

    def changed(self, case: Case, new: Verdict) -> None:
        """The re-decided verdict (stored already, with its flagged case) is the case's."""
        case.verdict = new
        self.on_recorded()
