"""The audit log: append-only, hash-chained (see :mod:`desk_app.storage.chain`).

Other parts append their entry inside their own transaction (``audit.append(s, ...)``): a
decision, an override or a look at a face is on disk with its audit entry, or neither is.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desk_app.storage import chain
from desk_app.storage.db import Database, rowcount, set_meta
from desk_app.storage.records import AuditEntry, AuditReport
from desk_app.storage.schema import AuditRow, Meta


class AuditAction(StrEnum):
    DECISION = "checkin.decision"
    OVERRIDE = "checkin.override"
    CARD_CONFIRMED = "checkin.card_confirmed"  # a camera-read card checked by the clerk
    FACE_JUDGED = "face.judged"  # the clerk's call on an undecided face
    JUDGEMENTS_VIEWED = "stats.judgements_viewed"  # the per-clerk figures were looked at
    ALERT_CREATED = "alert.created"
    ALERT_VIEWED = "alert.viewed"  # a flagged case (and its photos) was looked at
    ALERT_HANDLED = "alert.handled"
    ALERT_PHOTOS_SHARED = "alert.photos_shared"  # sent to the platform for the security office
    EXPORT = "export"
    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGIN_REFUSED = "login.refused"  # too many failures: refused without trying the password
    LOGIN_UNLOCKED = "login.unlocked"
    DATABASE_RECOVERED = "database.recovered"
    VISIT_PII_PURGED = "visits.pii_purged"
    RETENTION_RUN = "retention.run"
    LOGOUT = "logout"
    SETTINGS_CHANGED = "settings.changed"
    USER_CHANGED = "user.changed"
    FACES_PURGED = "faces.purged"
    BACKUPS_PURGED = "backups.purged"  # database copies past retention, named (retention.py)
    AUDIT_PURGED = "audit.purged"
    APPEAL_RECORDED = "appeal.recorded"  # a person's appeal against the blacklist, at the window
    ACCOUNT_UNFROZEN = "account.unfrozen"  # booking accounts unfrozen after the card check
    OUTBOX_REQUEUED = "outbox.requeued"  # parked items put back in the queue (desk-app outbox)


class AuditLog:
    """``store.audit``."""

    def __init__(self, db: Database):
        self._db = db

    def init_chain(self, s: Session) -> None:
        """A new database: the chain's head at the genesis."""
        if s.get(Meta, chain.HEAD_KEY) is None:
            s.add(Meta(key=chain.HEAD_KEY,
                       value=chain.head_value(self._db.crypto.audit_mac, 0, chain.GENESIS)))

    def record(self, actor: str, action: str, subject: str = "",
               detail: dict[str, Any] | None = None) -> AuditEntry:
        """Append one entry (exports, logouts, settings changes ...). ``detail`` must hold no
        personal data: ids and codes, not names or ID numbers."""
        with self._db.write() as s:
            return self.append(s, actor, action, subject, detail, self._db.now())

    def append(self, s: Session, actor: str, action: str, subject: str,
               detail: dict[str, Any] | None, at: datetime) -> AuditEntry:
        """Append in the caller's transaction (the head row is locked until it commits)."""
        head = s.scalars(select(Meta).where(Meta.key == chain.HEAD_KEY).with_for_update()).one()
        seq, prev, _ = chain.parse_head(head.value)
        seq += 1
        detail_json = chain.detail_to_json(detail)
        mac = self._db.crypto.audit_mac
        h = chain.row_hash(mac, prev, seq, at, actor, str(action), subject, detail_json)
        s.add(AuditRow(seq=seq, at=at, actor=actor, action=str(action), subject=subject,
                       detail_json=detail_json, prev_hash=prev, row_hash=h))
        head.value = chain.head_value(mac, seq, h)
        return AuditEntry(seq, at, actor, str(action), subject, json.loads(detail_json))

    def purge(self, retention_days: int) -> int:
        """Delete entries older than ``retention_days`` (settings:
        ``privacy.audit_retention_days``). The chain then starts at a MAC'd anchor (the last
        deleted entry's seq and hash), so it still verifies, and the purge itself is logged."""
        now = self._db.now()
        cutoff = now - timedelta(days=retention_days)
        with self._db.write() as s:
            last = s.scalars(select(AuditRow).where(AuditRow.at < cutoff)
                             .order_by(AuditRow.seq.desc()).limit(1)).first()
            if last is None:
                return 0
            set_meta(s, chain.ANCHOR_KEY, chain.head_value(
                self._db.crypto.audit_mac, last.seq, last.row_hash, label=b"anchor"))
            s.flush()  # the delete guard reads the anchor
            n = rowcount(s.execute(delete(AuditRow).where(AuditRow.seq <= last.seq)))
            self.append(s, "system", AuditAction.AUDIT_PURGED, "",
                        {"entries": n, "up_to_seq": last.seq,
                         "retention_days": retention_days}, now)
        return n

    def entries(self, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
        """Newest first."""
        q = select(AuditRow)
        if action is not None:
            q = q.where(AuditRow.action == action)
        with self._db.read() as s:
            return [AuditEntry(r.seq, r.at, r.actor, r.action, r.subject,
                               json.loads(r.detail_json))
                    for r in s.scalars(q.order_by(AuditRow.seq.desc()).limit(limit))]

    def logins(self, username: str, limit: int) -> list[tuple[str, datetime]]:
        """The newest ``limit`` login outcomes of ``username`` (action, time), newest first:
        what the login throttle counts (failures since the last login or unlock)."""
        actions = (AuditAction.LOGIN, AuditAction.LOGIN_FAILED, AuditAction.LOGIN_UNLOCKED)
        q = (select(AuditRow.action, AuditRow.at)
             .where(AuditRow.action.in_([a.value for a in actions]), AuditRow.subject == username)
             .order_by(AuditRow.seq.desc()).limit(limit))
        with self._db.read() as s:
            return [(a, at) for a, at in s.execute(q)]

    def verify(self) -> AuditReport:
        """Recompute the whole chain; see :func:`desk_app.storage.chain.verify_chain`."""
        with self._db.read() as s:
            head = s.get(Meta, chain.HEAD_KEY)
            anchor = s.get(Meta, chain.ANCHOR_KEY)
            rows = (chain.ChainRow(r.seq, r.at, r.actor, r.action, r.subject, r.detail_json,
                                   r.prev_hash, r.row_hash)
                    for r in s.scalars(select(AuditRow).order_by(AuditRow.seq))
                    .yield_per(1000))
            return chain.verify_chain(self._db.crypto.audit_mac, rows,
                                      head.value if head else None,
                                      anchor.value if anchor else None)
