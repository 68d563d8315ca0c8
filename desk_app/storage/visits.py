"""The visits (check-ins) with the clerk's later calls on them: overrides, checked cards,
judged faces. Recording a visit touches four parts in one transaction: the visit, its outbox
item, the flagged case and the audit entry (and an admitted booking is marked ``checked_in``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from desk_app.clock import CHINA_TZ
from desk_app.storage.audit import AuditAction, AuditLog
from desk_app.storage.bookings import Bookings
from desk_app.storage.crypto import Crypto
from desk_app.storage.db import Database, aad, aware, rowcount
from desk_app.storage.errors import DuplicateError, NotFoundError
from desk_app.storage.outbox import Outbox
from desk_app.storage.records import (
    AlertInput,
    FaceJudgement,
    Override,
    Reason,
    VisitInput,
    VisitRecord,
)
from desk_app.storage.schema import FaceJudgementRow, VisitRow

if TYPE_CHECKING:
    from desk_app.storage.alerts import Alerts


class Visits:
    """``store.visits``."""

    def __init__(self, db: Database, *, outbox: Outbox, alerts: Alerts, bookings: Bookings,
                 audit: AuditLog):
        self._db = db
        self._outbox = outbox
        self._alerts = alerts
        self._bookings = bookings
        self._audit = audit

    def record(self, visit: VisitInput, alert: AlertInput | None = None) -> VisitRecord:
        """The visit, its outbox row, its audit entry (and a flagged case when ``alert``), in one
        transaction: either all are on disk when this returns, or none is. An admitted visit
        also marks its cached booking ``checked_in``."""
        now = self._db.now()
        c = self._db.crypto
        vid = visit.visit_id
        row = VisitRow(
            visit_id=vid, booking_id=visit.booking_id, hospital_id=visit.hospital_id,
            desk_id=visit.desk_id, clerk=visit.clerk, checked_in_at=visit.checked_in_at,
            local_day=visit.checked_in_at.astimezone(CHINA_TZ).date().isoformat(),
            verdict=visit.verdict, reasons_json=json.dumps([r.to_wire() for r in visit.reasons]),
            face_distance=visit.face_distance, face_outcome=visit.face_outcome,
            presented_id_hash=visit.presented_id_hash,
            presented_id_last4_enc=c.encrypt_text(visit.presented_id_last4, aad("v.l4", vid)),
            id_lookup=c.lookup_hash(visit.id_number) if visit.id_number else None,
            id_number_enc=c.encrypt_text(visit.id_number, aad("v.id", vid)),
            person_name_enc=c.encrypt_text(visit.person_name, aad("v.name", vid)),
            face_template_enc=(c.encrypt(visit.face_template, aad("v.tpl", vid))
                               if visit.face_template is not None else None),
            offline=visit.offline,
            override_by=visit.override.by if visit.override else None,
            override_reason=visit.override.reason if visit.override else None,
            override_verdict=visit.override.verdict if visit.override else None,
            overridden_at=now if visit.override else None,
            recorded_at=now,
        )
        record = visit_record(c, row)
        with self._db.write() as s:
            if s.get(VisitRow, vid) is not None:
                raise DuplicateError(detail="visit_id exists")
            s.add(row)
            s.flush()
            self._outbox.add(s, "visit", vid, record.to_wire(), now, visit_id=vid)
            if alert is not None:
                self._flag(s, vid, visit.hospital_id, alert, now)
            self._bookings.mark_checked_in(s, record, now)
            self._audit.append(s, visit.clerk, AuditAction.DECISION, vid, {
                "verdict": visit.verdict, "reasons": [r.code for r in visit.reasons],
                "offline": visit.offline, "booking_id": visit.booking_id,
                "override": visit.override.verdict if visit.override else None,
                "alert": alert is not None,
            }, now)
        return record

    def _flag(self, s: Session, vid: str, hospital_id: str, alert: AlertInput,
              now: datetime) -> str:
        """The flagged case in the caller's transaction, with the security office's copy of its
        photos queued (privacy.share_alert_photos: the worker reads them from the case when it
        sends, so the outbox holds no face). Returns the case's id."""
        a = self._alerts.add(s, vid, alert, now)
        if not alert.conflict and (alert.id_photo or alert.live_face):
            self._outbox.add(s, "alert_photos", f"{vid}:photos",
                             {"visit_id": vid, "alert_id": a.alert_id,
                              "hospital_id": hospital_id}, now, visit_id=vid)
        return a.alert_id

    def override(self, visit_id: str, override: Override, *,
                 at_window_of: str | None = None) -> VisitRecord:
        """Record a clerk's or security's override of a recorded verdict (audited). A
        ``visit_override`` item ({"visit_id", "override", "at"}) is queued after the visit's own
        item, sent or not (:meth:`Outbox.visit_changed`). ``at_window_of``:
        the clerk signed in at the desk when a supervisor overrode with their own credentials
        (the audit entry names both; the visit names the clerk, the override the supervisor)."""
        now = self._db.now()
        with self._db.write() as s:
            return self._override(s, self.row(s, visit_id), override, now,
                                  at_window_of=at_window_of)

    def _override(self, s: Session, row: VisitRow, override: Override, now: datetime, *,
                  at_window_of: str | None = None) -> VisitRecord:
        row.override_by, row.override_reason = override.by, override.reason
        row.override_verdict, row.overridden_at = override.verdict, now
        record = visit_record(self._db.crypto, row)
        self._outbox.visit_changed(s, record, now)
        self._bookings.mark_checked_in(s, record, now)
        detail = {"from": row.verdict, "to": override.verdict, "reason": override.reason}
        if at_window_of:
            detail["at_window_of"] = at_window_of
        self._audit.append(s, override.by, AuditAction.OVERRIDE, row.visit_id, detail, now)
        return record

    def _flag_later(self, s: Session, row: VisitRow, alert: AlertInput, actor: str,
                    now: datetime) -> None:
        """A case flagged after its visit was recorded (the clerk's "not the same person"), in
        the transaction of the call that changed the verdict. A ``visit_alert`` item always
        follows: the visit may be on the platform already, or be sent while this is written,
        with ``alert: false``; the platform makes one alert of both."""
        assert not alert.conflict  # conflicts are the platform's own alerts (Alerts.create)
        alert_id = self._flag(s, row.visit_id, row.hospital_id, alert, now)
        self._audit.append(s, actor, AuditAction.ALERT_CREATED, alert_id,
                           {"visit_id": row.visit_id, "conflict": False}, now)
        self._outbox.add(s, "visit_alert", f"{row.visit_id}:alert", {
            "visit_id": row.visit_id, "at": now.isoformat(), "codes": list(alert.codes)[:8]},
            now, visit_id=row.visit_id)

    @staticmethod
    def row(s: Session, visit_id: str) -> VisitRow:
        """The visit's row in the caller's transaction (``NotFoundError`` when there is none)."""
        row = s.get(VisitRow, visit_id)
        if row is None:
            raise NotFoundError(detail="visit")
        return row

    def confirm_card(self, visit_id: str, by: str, at: datetime,
                     override: Override | None = None, alert: AlertInput | None = None
                     ) -> VisitRecord:
        """The clerk checked the physical card of a camera-read number: who and when (``at``,
        the desk's time of the key) go into the visit and the audit log, with the verdict this
        changes (``override``, and the flagged case when it now alerts security, ``alert``) in
        the same transaction."""
        now = self._db.now()
        with self._db.write() as s:
            row = self.row(s, visit_id)
            row.card_confirmed_by, row.card_confirmed_at = by, aware(at)
            s.flush()
            self._audit.append(s, by, AuditAction.CARD_CONFIRMED, visit_id, {
                "at": at.isoformat(),
                "verdict": override.verdict if override else row.verdict}, now)
            return self._changed(s, row, by, override, alert, now)

    def _changed(self, s: Session, row: VisitRow, by: str, override: Override | None,
                 alert: AlertInput | None, now: datetime) -> VisitRecord:
        """The verdict a clerk's later call changed, and the case it flagged, if any."""
        record = (self._override(s, row, override, now) if override is not None
                  else visit_record(self._db.crypto, row))
        if alert is not None:
            self._flag_later(s, row, alert, by, now)
        return record

    def record_face_judgement(self, judgement: FaceJudgement, override: Override | None = None,
                              alert: AlertInput | None = None) -> VisitRecord:
        """The clerk's call on an undecided face (distance and judgement, no image), audited,
        with the verdict it changes (``override``, and the flagged case when it now alerts
        security, ``alert``) in the same transaction."""
        now = self._db.now()
        j = judgement
        with self._db.write() as s:
            row = self.row(s, j.visit_id)
            s.add(FaceJudgementRow(
                judgement_id=j.judgement_id, visit_id=j.visit_id, clerk=j.clerk,
                judged_at=j.judged_at, distance=j.distance, judgement=j.judgement,
                seconds=j.seconds, match_distance=j.match_distance,
                mismatch_distance=j.mismatch_distance, score_basis=j.score_basis))
            s.flush()
            self._audit.append(s, j.clerk, AuditAction.FACE_JUDGED, j.visit_id, {
                "judgement": j.judgement, "seconds": round(j.seconds, 2),
                "distance": None if j.distance is None else round(j.distance, 4)}, now)
            return self._changed(s, row, j.clerk, override, alert, now)

    def face_judgements(self, start: datetime | None = None, end: datetime | None = None
                        ) -> list[FaceJudgement]:
        """The clerks' calls on undecided faces with ``start <= judged_at < end`` (oldest
        first)."""
        q = select(FaceJudgementRow)
        if start is not None:
            q = q.where(FaceJudgementRow.judged_at >= aware(start))
        if end is not None:
            q = q.where(FaceJudgementRow.judged_at < aware(end))
        with self._db.read() as s:
            return [FaceJudgement(
                judgement_id=r.judgement_id, visit_id=r.visit_id, clerk=r.clerk,
                judged_at=r.judged_at, distance=r.distance, judgement=r.judgement,
                seconds=r.seconds, match_distance=r.match_distance,
                mismatch_distance=r.mismatch_distance, score_basis=r.score_basis)
                for r in s.scalars(q.order_by(FaceJudgementRow.judged_at))]

    def get(self, visit_id: str) -> VisitRecord | None:
        with self._db.read() as s:
            row = s.get(VisitRow, visit_id)
            return visit_record(self._db.crypto, row) if row else None

    def for_id_number(self, id_number: str, since: datetime | None = None) -> list[VisitRecord]:
        """The desk's own history of one person, found by the keyed hash (newest first)."""
        q = select(VisitRow).where(VisitRow.id_lookup == self._db.crypto.lookup_hash(id_number))
        if since is not None:
            q = q.where(VisitRow.checked_in_at >= since)
        return self._list(q.order_by(VisitRow.checked_in_at.desc()))

    def for_booking(self, booking_id: str) -> list[VisitRecord]:
        return self._list(select(VisitRow).where(VisitRow.booking_id == booking_id)
                          .order_by(VisitRow.checked_in_at))

    def between(self, start: datetime, end: datetime) -> list[VisitRecord]:
        """Visits with ``start <= checked_in_at < end`` (oldest first), for statistics."""
        return self._list(select(VisitRow).where(VisitRow.checked_in_at >= start,
                                                 VisitRow.checked_in_at < end)
                          .order_by(VisitRow.checked_in_at))

    def _list(self, q: Select[tuple[VisitRow]]) -> list[VisitRecord]:
        with self._db.read() as s:
            return [visit_record(self._db.crypto, r) for r in s.scalars(q)]

    def count(self) -> int:
        with self._db.read() as s:
            return int(s.scalar(select(func.count()).select_from(VisitRow)) or 0)

    def purge_pii(self, retention_days: int) -> int:
        """After ``retention_days`` (``privacy.visit_pii_days``, at least 1) a visit keeps only
        what the statistics need: the masked number, the platform's hash, verdict and reasons.
        The encrypted full ID number, name and face template are deleted, and so is
        ``id_lookup``: an HMAC of the full number, which with the desk's key and the kept last 4
        characters gives the number back by trial in seconds. Its one reader,
        :meth:`for_id_number`, looks back over the current Beijing day only (the person's other
        check-ins today, ``checkin_decide._today_visits``), and a visit at least a day old is
        never in it (audited)."""
        now = self._db.now()
        cutoff = now - timedelta(days=retention_days)
        with self._db.write() as s:
            n = rowcount(s.execute(update(VisitRow).where(
                VisitRow.checked_in_at < cutoff,
                VisitRow.id_number_enc.is_not(None) | VisitRow.person_name_enc.is_not(None)
                | VisitRow.face_template_enc.is_not(None) | VisitRow.id_lookup.is_not(None))
                .values(id_number_enc=None, person_name_enc=None, face_template_enc=None,
                        id_lookup=None)))
            if n:
                self._audit.append(s, "system", AuditAction.VISIT_PII_PURGED, "",
                                   {"visits": n, "retention_days": retention_days}, now)
        return n


def visit_record(c: Crypto, r: VisitRow) -> VisitRecord:
    """A visit row as the frozen value (decrypted in memory)."""
    vid = r.visit_id
    override = (Override(r.override_by or "", r.override_reason or "", r.override_verdict)
                if r.override_verdict else None)
    return VisitRecord(
        visit_id=vid, booking_id=r.booking_id, hospital_id=r.hospital_id, desk_id=r.desk_id,
        clerk=r.clerk, checked_in_at=r.checked_in_at, local_day=r.local_day,
        verdict=r.verdict,
        reasons=tuple(Reason(d["code"], d["severity"], d.get("rule", ""))
                      for d in json.loads(r.reasons_json)),
        face_distance=r.face_distance, face_outcome=r.face_outcome,
        presented_id_hash=r.presented_id_hash,
        presented_id_last4=c.decrypt_text(r.presented_id_last4_enc, aad("v.l4", vid)),
        offline=r.offline, override=override, recorded_at=r.recorded_at,
        id_number=c.decrypt_text(r.id_number_enc, aad("v.id", vid)),
        person_name=c.decrypt_text(r.person_name_enc, aad("v.name", vid)),
        face_template=(c.decrypt(r.face_template_enc, aad("v.tpl", vid))
                       if r.face_template_enc is not None else None),
        card_confirmed_by=r.card_confirmed_by, card_confirmed_at=r.card_confirmed_at,
    )
