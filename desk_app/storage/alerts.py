"""Flagged cases for security, with the two face images (encrypted) while retention allows;
every look at the images is audited in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desk_app.storage.audit import AuditAction, AuditLog
from desk_app.storage.db import Database, aad, rowcount
from desk_app.storage.errors import NotFoundError
from desk_app.storage.records import Alert, AlertInput
from desk_app.storage.schema import AlertRow, VisitRow
from desk_app.storage.visits import visit_record


class Alerts:
    """``store.alerts``."""

    def __init__(self, db: Database, audit: AuditLog):
        self._db = db
        self._audit = audit

    def add(self, s: Session, visit_id: str, alert: AlertInput, now: datetime) -> AlertRow:
        """Flag a visit in the caller's transaction (the visit's own, when it is recorded)."""
        aid = str(uuid.uuid4())
        c = self._db.crypto
        row = AlertRow(
            alert_id=aid, visit_id=visit_id, created_at=now, status="open", note=alert.note,
            handled_by="", conflict=alert.conflict,
            id_photo_enc=(c.encrypt(alert.id_photo, aad("a.id", aid))
                          if alert.id_photo is not None else None),
            live_face_enc=(c.encrypt(alert.live_face, aad("a.live", aid))
                           if alert.live_face is not None else None),
        )
        s.add(row)
        return row

    def create(self, visit_id: str, alert: AlertInput, actor: str = "system") -> Alert:
        """Flag an already recorded visit (e.g. the platform reports a conflict)."""
        now = self._db.now()
        with self._db.write() as s:
            visit = s.get(VisitRow, visit_id)
            if visit is None:
                raise NotFoundError(detail="visit")
            row = self.add(s, visit_id, alert, now)
            self._audit.append(s, actor, AuditAction.ALERT_CREATED, row.alert_id,
                               {"visit_id": visit_id, "conflict": alert.conflict}, now)
            return self._alert(row, visit)

    def cases(self, include_handled: bool = False) -> list[Alert]:
        """Flagged cases, newest first (open ones only unless ``include_handled``)."""
        q = select(AlertRow, VisitRow).join(VisitRow, VisitRow.visit_id == AlertRow.visit_id)
        if not include_handled:
            q = q.where(AlertRow.status == "open")
        with self._db.read() as s:
            return [self._alert(a, v) for a, v in s.execute(q.order_by(AlertRow.created_at.desc()))]

    def get(self, alert_id: str) -> Alert:
        with self._db.read() as s:
            a = s.get(AlertRow, alert_id)
            if a is None:
                raise NotFoundError(detail="alert")
            return self._alert(a, s.get(VisitRow, a.visit_id))  # type: ignore[arg-type]

    def photos(self, alert_id: str, viewer: str) -> tuple[bytes | None, bytes | None]:
        """(ID photo, live face) while retention allows. The view is written to the audit log
        in the same transaction: no one sees a face without leaving a trace."""
        now = self._db.now()
        with self._db.write() as s:
            a = s.get(AlertRow, alert_id)
            if a is None:
                raise NotFoundError(detail="alert")
            self._audit.append(s, viewer, AuditAction.ALERT_VIEWED, alert_id,
                               {"visit_id": a.visit_id, "photos": a.id_photo_enc is not None
                                or a.live_face_enc is not None}, now)
            c = self._db.crypto
            return (c.decrypt(a.id_photo_enc, aad("a.id", alert_id)) if a.id_photo_enc else None,
                    c.decrypt(a.live_face_enc, aad("a.live", alert_id))
                    if a.live_face_enc else None)

    def photos_to_share(self, alert_id: str) -> tuple[bytes | None, bytes | None]:
        """The photos the outbox sends to the platform for the security office (None, None once
        purged here); the sending is written to the audit log."""
        now = self._db.now()
        with self._db.write() as s:
            a = s.get(AlertRow, alert_id)
            if a is None or (a.id_photo_enc is None and a.live_face_enc is None):
                return None, None
            self._audit.append(s, "system", AuditAction.ALERT_PHOTOS_SHARED, alert_id,
                               {"visit_id": a.visit_id}, now)
            c = self._db.crypto
            return (c.decrypt(a.id_photo_enc, aad("a.id", alert_id)) if a.id_photo_enc else None,
                    c.decrypt(a.live_face_enc, aad("a.live", alert_id))
                    if a.live_face_enc else None)

    def mark_handled(self, alert_id: str, by: str, note: str) -> Alert:
        now = self._db.now()
        with self._db.write() as s:
            a = s.get(AlertRow, alert_id)
            if a is None:
                raise NotFoundError(detail="alert")
            a.status, a.note, a.handled_by, a.handled_at = "handled", note, by, now
            self._audit.append(s, by, AuditAction.ALERT_HANDLED, alert_id,
                               {"visit_id": a.visit_id}, now)
            return self._alert(a, s.get(VisitRow, a.visit_id))  # type: ignore[arg-type]

    def purge_face_images(self, retention_days: int) -> int:
        """Delete face images of flagged cases older than ``retention_days`` (settings:
        ``privacy.face_retention_days``). Templates and scores stay with the visit."""
        now = self._db.now()
        cutoff = now - timedelta(days=retention_days)
        with self._db.write() as s:
            n = rowcount(s.execute(update(AlertRow).where(
                AlertRow.created_at < cutoff,
                (AlertRow.id_photo_enc.is_not(None)) | (AlertRow.live_face_enc.is_not(None)))
                .values(id_photo_enc=None, live_face_enc=None, photos_purged_at=now)))
            if n:
                self._audit.append(s, "system", AuditAction.FACES_PURGED, "",
                                   {"alerts": n, "retention_days": retention_days}, now)
        if n and self._db.dialect == "sqlite":
            # The images were ciphertext, but do not keep old copies of their pages in the WAL.
            with self._db.w.connect() as conn:
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return n

    def _alert(self, a: AlertRow, v: VisitRow) -> Alert:
        return Alert(alert_id=a.alert_id, visit_id=a.visit_id, created_at=a.created_at,
                     status=a.status, note=a.note, handled_by=a.handled_by,
                     handled_at=a.handled_at, conflict=a.conflict,
                     has_photos=a.id_photo_enc is not None or a.live_face_enc is not None,
                     photos_purged_at=a.photos_purged_at,
                     visit=visit_record(self._db.crypto, v))
