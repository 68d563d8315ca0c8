"""The platform's audit log: who viewed or changed what through the console, and when.

A row never holds an ID number, a name or a face: targets are entry ids, booking ids or the
last 4 digits. Writing the row is part of the request (its own short transaction): a page that
shows personal data is only rendered after its audit row is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from desk_platform import db as T
from desk_platform.db import Database


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    role: str
    hospital_id: str | None
    action: str
    target: str
    detail: str
    address: str


class Audit:
    """Table ``audit_log``."""

    def __init__(self, db: Database):
        self.db = db

    def record(self, actor: str, role: str, action: str, target: str = "", detail: str = "", *,
               hospital_id: str | None = None, address: str = "", conn=None) -> None:  # noqa: ANN001
        row = dict(audit_id=str(uuid.uuid4()), at=datetime.now(UTC), actor=actor[:64],
                   role=role[:16], hospital_id=hospital_id, action=action[:64],
                   target=target[:200], detail=detail[:2000], address=address[:64])
        if conn is not None:
            conn.execute(T.audit_log.insert().values(**row))
            return
        with self.db.write() as c:
            c.execute(T.audit_log.insert().values(**row))

    def entries(self, *, actor: str | None = None, action: str | None = None,
                hospital_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
        a = T.audit_log.c
        q = select(T.audit_log)
        if actor:
            q = q.where(a.actor == actor)
        if action:
            q = q.where(a.action.startswith(action))
        if hospital_id:
            q = q.where(a.hospital_id == hospital_id)
        with self.db.read() as conn:
            rows = conn.execute(q.order_by(a.at.desc()).limit(limit)).mappings().all()
        return [AuditEntry(at=r["at"], actor=r["actor"], role=r["role"],
                           hospital_id=r["hospital_id"], action=r["action"], target=r["target"],
                           detail=r["detail"], address=r["address"]) for r in rows]
