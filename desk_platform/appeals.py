"""Appeals (申诉): a person who thinks they are wrongly blacklisted appeals at any hospital
window; the clerk checks their ID card and the desk sends the appeal with the blacklist hash of
the card's number (the same hash the desk compares with its blacklist copy: no ID number is
sent). The police decide in the console: lifting removes the ban through the platform's
blacklist code, so every desk drops it at its next sync; upholding keeps it. Every step is in
the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from desk_app.errors import Text
from desk_platform import db as T
from desk_platform.audit import Audit
from desk_platform.cases import Cases
from desk_platform.errors import NotFound
from desk_platform.worded import Worded, required

PENDING, LIFTED, UPHELD = "pending", "lifted", "upheld"


@dataclass(frozen=True)
class Appeal:
    appeal_id: str
    entry_id: str
    id_last4: str
    hospital_id: str
    desk_id: str | None
    clerk: str
    filed_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class Appeals:
    def __init__(self, platform):  # noqa: ANN001  (desk_platform.service.Platform)
        self.plat = platform
        self.db = platform.db

    def file(self, *, id_hash: str, hospital_id: str, desk_id: str | None, clerk: str,
             statement: str) -> list[Appeal]:
        """One appeal per active entry of this ID (police and platform entries alike)."""
        statement = required(statement, "申诉理由", "statement", limit=2000)
        clerk = required(clerk, "经办人", "clerk", limit=64)
        now = datetime.now(UTC)
        b = T.blacklist.c
        made = []
        with self.db.write() as conn:
            entries = conn.execute(select(b.entry_id, b.last4).where(
                b.id_hash == id_hash, b.deleted.is_(False), b.valid_to > now)).all()
            if not entries:
                raise Worded(Text("该证件不在黑名单中，无需申诉。",
                                  "This ID is not on the blacklist; there is nothing to appeal."),
                             status=404)
            for e in entries:
                pending = conn.execute(select(T.appeals.c.appeal_id).where(
                    T.appeals.c.entry_id == e.entry_id, T.appeals.c.status == PENDING)).scalar()
                if pending:
                    made.append(pending)
                    continue
                aid = str(uuid.uuid4())
                conn.execute(T.appeals.insert().values(
                    appeal_id=aid, entry_id=e.entry_id, id_last4=e.last4,
                    hospital_id=hospital_id, desk_id=desk_id, clerk=clerk,
                    statement_enc=self.plat.secrets.encrypt(statement.encode("utf-8")),
                    filed_at=now, status=PENDING, decided_by=None, decided_at=None,
                    decision_note=None))
                Audit(self.db).record(clerk, "desk", "appeal.file", aid,
                                      f"entry={e.entry_id} last4={e.last4}",
                                      hospital_id=hospital_id, address=desk_id or "", conn=conn)
                made.append(aid)
        return [self.get(a) for a in made]

    def decide(self, appeal_id: str, actor: str, *, lift: bool, note: str) -> Appeal:
        note = required(note, "决定说明", "note on the decision", limit=500)
        a = self.get(appeal_id)
        if a.status != PENDING:
            raise Worded(Text("该申诉已有决定。", "This appeal is already decided."))
        if lift:
            entry = Cases(self.plat).get(a.entry_id)
            if not entry.deleted:
                Cases(self.plat).lift(actor, a.entry_id, f"appeal {appeal_id}: {note}",
                                      appeal=True)
        with self.db.write() as conn:
            conn.execute(update(T.appeals).where(T.appeals.c.appeal_id == appeal_id).values(
                status=LIFTED if lift else UPHELD, decided_by=actor[:64],
                decided_at=datetime.now(UTC), decision_note=note))
        return self.get(appeal_id)

    def statement(self, appeal_id: str) -> str:
        with self.db.read() as conn:
            enc = conn.execute(select(T.appeals.c.statement_enc).where(
                T.appeals.c.appeal_id == appeal_id)).scalar()
        if enc is None:
            raise NotFound("no such appeal")
        return self.plat.secrets.decrypt(enc).decode("utf-8")

    def get(self, appeal_id: str) -> Appeal:
        with self.db.read() as conn:
            r = conn.execute(select(T.appeals).where(
                T.appeals.c.appeal_id == appeal_id)).first()
        if r is None:
            raise NotFound("no such appeal")
        return _appeal(r)

    def list(self, *, status: str | None = PENDING, limit: int = 500) -> list[Appeal]:
        q = select(T.appeals)
        if status:
            q = q.where(T.appeals.c.status == status)
        with self.db.read() as conn:
            rows = conn.execute(q.order_by(T.appeals.c.filed_at.desc()).limit(limit)).all()
        return [_appeal(r) for r in rows]

    def of_entry(self, entry_id: str) -> list[Appeal]:
        with self.db.read() as conn:
            rows = conn.execute(select(T.appeals).where(T.appeals.c.entry_id == entry_id)
                                .order_by(T.appeals.c.filed_at.desc())).all()
        return [_appeal(r) for r in rows]


def _appeal(r) -> Appeal:  # noqa: ANN001
    return Appeal(appeal_id=r.appeal_id, entry_id=r.entry_id, id_last4=r.id_last4,
                  hospital_id=r.hospital_id, desk_id=r.desk_id, clerk=r.clerk,
                  filed_at=r.filed_at, status=r.status, decided_by=r.decided_by,
                  decided_at=r.decided_at, decision_note=r.decision_note)
