"""The outbox: what waits for the platform (visits, overrides, suspect reports, and appeals
and unfreezes recorded at the window while offline), encrypted,
oldest first. A visit's item is added in the visit's own transaction (``add(s, ...)``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from desk_app.storage.db import Database, aad, rowcount
from desk_app.storage.records import OutboxItem, Override, VisitRecord
from desk_app.storage.schema import OutboxRow


class Outbox:
    """``store.outbox``."""

    def __init__(self, db: Database):
        self._db = db

    def add(self, s: Session, kind: str, key: str, payload: dict[str, Any], now: datetime,
            visit_id: str | None = None) -> OutboxRow:
        """Queue an item in the caller's transaction."""
        row = OutboxRow(kind=kind, dedup_key=key, visit_id=visit_id, attempts=0,
                        payload_enc=self._enc_payload(payload, key), created_at=now)
        s.add(row)
        return row

    def add_override(self, s: Session, visit_id: str, override: Override, at: datetime,
                     now: datetime) -> OutboxRow:
        """A ``visit_override`` item ({"visit_id", "override", "at"}) for a visit sent already."""
        when = at.isoformat()
        return self.add(s, "visit_override", f"{visit_id}:override:{when}",
                        {"visit_id": visit_id, "override": override.to_wire(), "at": when},
                        now, visit_id=visit_id)

    def visit_changed(self, s: Session, record: VisitRecord, now: datetime) -> None:
        """A recorded visit was overridden: its item still waiting gets the new payload, else a
        ``visit_override`` item is queued."""
        pending = s.scalars(select(OutboxRow).where(
            OutboxRow.visit_id == record.visit_id, OutboxRow.kind == "visit",
            OutboxRow.sent_at.is_(None))).first()
        if pending is not None:
            pending.payload_enc = self._enc_payload(record.to_wire(), pending.dedup_key)
        elif record.override is not None:
            self.add_override(s, record.visit_id, record.override, now, now)

    @staticmethod
    def has_visit(s: Session, visit_id: str) -> bool:
        """Whether the visit's own item is in the outbox (sent or not)."""
        return s.scalars(select(OutboxRow.id).where(
            OutboxRow.visit_id == visit_id, OutboxRow.kind == "visit")).first() is not None

    def enqueue(self, kind: str, key: str, payload: dict[str, Any],
                visit_id: str | None = None) -> int:
        """Queue any other message for the platform (e.g. ``suspect_report``); returns its id."""
        with self._db.write() as s:
            row = self.add(s, kind, key, payload, self._db.now(), visit_id=visit_id)
            s.flush()
            return row.id

    def pending(self, limit: int = 200) -> list[OutboxItem]:
        """Unsent items, oldest first."""
        with self._db.read() as s:
            rows = s.scalars(select(OutboxRow).where(OutboxRow.sent_at.is_(None))
                             .order_by(OutboxRow.id).limit(limit))
            return [self._item(r) for r in rows]

    def mark_sent(self, ids: Iterable[int]) -> int:
        ids = list(ids)
        if not ids:
            return 0
        with self._db.write() as s:
            return rowcount(s.execute(update(OutboxRow).where(OutboxRow.id.in_(ids),
                                                              OutboxRow.sent_at.is_(None))
                                      .values(sent_at=self._db.now())))

    def mark_failed(self, ids: Iterable[int], error: str) -> None:
        """Count a failed attempt (``error``: a short code or message, no personal data)."""
        ids = list(ids)
        with self._db.write() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id.in_(ids))
                      .values(attempts=OutboxRow.attempts + 1, last_error=error[:500]))

    def count(self) -> int:
        """Items not yet sent."""
        with self._db.read() as s:
            return int(s.scalar(select(func.count()).select_from(OutboxRow)
                                .where(OutboxRow.sent_at.is_(None))) or 0)

    def purge_sent(self, older_than: timedelta = timedelta(days=7)) -> int:
        with self._db.write() as s:
            return rowcount(s.execute(delete(OutboxRow).where(
                OutboxRow.sent_at.is_not(None), OutboxRow.sent_at < self._db.now() - older_than)))

    def _enc_payload(self, payload: dict[str, Any], key: str) -> bytes:
        return self._db.crypto.encrypt(json.dumps(payload, ensure_ascii=False).encode(),
                                       aad("outbox", key))

    def _item(self, r: OutboxRow) -> OutboxItem:
        payload = json.loads(self._db.crypto.decrypt(r.payload_enc, aad("outbox", r.dedup_key)))
        return OutboxItem(id=r.id, kind=r.kind, key=r.dedup_key, payload=payload,
                          created_at=r.created_at, attempts=r.attempts, last_error=r.last_error,
                          visit_id=r.visit_id)
