"""The outbox: what waits for the platform (visits, overrides, suspect reports, and appeals
and unfreezes recorded at the window while offline), encrypted,
oldest first. A visit's item is added in the visit's own transaction (``add(s, ...)``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from desk_app.storage.db import Database, aad, rowcount
from desk_app.storage.keys import Cursors
from desk_app.storage.records import OutboxItem, Override, VisitRecord
from desk_app.storage.schema import OutboxRow

#: Kinds sent again after a platform restore (:meth:`Outbox.requeue_sent`).
REPLAYABLE = ("visit", "visit_override", "suspect_report")


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
        """A ``visit_override`` item ({"visit_id", "override", "at"}), queued after the visit's
        own item (the worker sends visits before overrides; the ids keep the order)."""
        when = at.isoformat()
        return self.add(s, "visit_override", f"{visit_id}:override:{when}",
                        {"visit_id": visit_id, "override": override.to_wire(), "at": when},
                        now, visit_id=visit_id)

    def visit_changed(self, s: Session, record: VisitRecord, now: datetime) -> None:
        """A recorded visit was overridden: a ``visit_override`` item is always queued, even
        while the visit's own item waits. That item is never rewritten: "not marked sent" does
        not mean the platform lacks the visit (its batch may be on the wire, its answer lost,
        the desk killed after the platform stored it), and a visit sent again is answered
        ``duplicate`` and changes nothing there, so an override folded into its payload would
        be lost. The platform takes the same override twice as ``unchanged``."""
        if record.override is not None:
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
        """The platform took these items (a parked item put back and sent is an ordinary sent one)."""
        ids = list(ids)
        if not ids:
            return 0
        with self._db.write() as s:
            return rowcount(s.execute(update(OutboxRow).where(OutboxRow.id.in_(ids),
                                                              OutboxRow.sent_at.is_(None))
                                      .values(sent_at=self._db.now(), last_error=None)))

    def park(self, ids: Iterable[int], why: str) -> int:
        """Take items refused for good out of the queue, with the reason (a short message, no
        personal data): kept on the desk, listed by :meth:`parked`, back with :meth:`requeue`."""
        ids = list(ids)
        if not ids:
            return 0
        with self._db.write() as s:
            return rowcount(s.execute(
                update(OutboxRow).where(OutboxRow.id.in_(ids), OutboxRow.sent_at.is_(None))
                .values(attempts=OutboxRow.attempts + 1, last_error=why[:500],
                        sent_at=self._db.now())))

    def count(self) -> int:
        """Items not yet sent."""
        with self._db.read() as s:
            return int(s.scalar(select(func.count()).select_from(OutboxRow)
                                .where(OutboxRow.sent_at.is_(None))) or 0)

    def purge_sent(self, older_than: timedelta = timedelta(days=7),
                   parked_older_than: timedelta = timedelta(days=30)) -> int:
        """Delete items the platform acknowledged ``older_than`` ago, and parked ones (refused
        for good) ``parked_older_than`` ago: until then hospital IT can put them back.

        Ages count on the earlier of the desk's clock and the platform's time
        (:meth:`Cursors.platform_now`), so a desk clock running ahead does not age them; a
        ``sent_at`` in the future (stamped while the clock ran ahead, since corrected) becomes
        now, so the item is kept its full time from here, no longer. Parked items are kept
        while the platform's time is not known: a clock moved since the last sync could make
        them look old, and they are the only copy."""
        platform_now = Cursors(self._db).platform_now()
        now = self._db.now() if platform_now is None else min(self._db.now(), platform_now)
        done = OutboxRow.sent_at.is_not(None)
        old = and_(OutboxRow.last_error.is_(None), OutboxRow.sent_at < now - older_than)
        if platform_now is not None:
            old = or_(old, OutboxRow.sent_at < now - parked_older_than)
        with self._db.write() as s:
            s.execute(update(OutboxRow).where(done, OutboxRow.sent_at > now).values(sent_at=now))
            return rowcount(s.execute(delete(OutboxRow).where(done, old)))

    def parked_count(self) -> int:
        """Items refused for good and kept (see :meth:`parked`)."""
        with self._db.read() as s:
            return int(s.scalar(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.sent_at.is_not(None), OutboxRow.last_error.is_not(None))) or 0)

    def parked(self, limit: int = 500) -> list[OutboxItem]:
        """Items taken out of the queue because they were refused for good (``last_error`` says
        why; ``sent_at`` is when), newest first. The payload is not decrypted: it is not needed
        to list them, and it holds personal data."""
        with self._db.read() as s:
            rows = s.scalars(select(OutboxRow).where(
                OutboxRow.sent_at.is_not(None), OutboxRow.last_error.is_not(None))
                .order_by(OutboxRow.id.desc()).limit(limit))
            return [OutboxItem(id=r.id, kind=r.kind, key=r.dedup_key, payload={},
                               created_at=r.created_at, attempts=r.attempts,
                               last_error=r.last_error, visit_id=r.visit_id, sent_at=r.sent_at)
                    for r in rows]

    def requeue(self, ids: Iterable[int] | None = None) -> int:
        """Put parked items back in the queue (all of them when ``ids`` is None): the next sync
        cycle sends them again. Items never parked, or still waiting, are left alone."""
        cond = [OutboxRow.sent_at.is_not(None), OutboxRow.last_error.is_not(None)]
        if ids is not None:
            cond.append(OutboxRow.id.in_(list(ids)))
        with self._db.write() as s:
            return rowcount(s.execute(update(OutboxRow).where(*cond)
                                      .values(sent_at=None, last_error=None)))

    @staticmethod
    def requeue_sent(s: Session) -> int:
        """Put the records the platform acknowledged and the desk still keeps (7 days, see
        :meth:`purge_sent`) back in the queue, in the caller's transaction: the platform was
        restored from a backup and may have lost them. Only :data:`REPLAYABLE` kinds, records
        keyed by an id the desk made: a visit sent again is answered ``duplicate``, an override
        ``unchanged``, a suspect report is ignored by its ``report_id``. Actions (appeals,
        unfreezes, handled alerts) are not replayed: days later one could undo a later
        decision. Parked items stay parked; the ids keep the order (a visit before its
        override)."""
        return rowcount(s.execute(
            update(OutboxRow).where(OutboxRow.sent_at.is_not(None), OutboxRow.last_error.is_(None),
                                    OutboxRow.kind.in_(REPLAYABLE))
            .values(sent_at=None)))

    def _enc_payload(self, payload: dict[str, Any], key: str) -> bytes:
        return self._db.crypto.encrypt(json.dumps(payload, ensure_ascii=False).encode(),
                                       aad("outbox", key))

    def _item(self, r: OutboxRow) -> OutboxItem:
        payload = json.loads(self._db.crypto.decrypt(r.payload_enc, aad("outbox", r.dedup_key)))
        return OutboxItem(id=r.id, kind=r.kind, key=r.dedup_key, payload=payload,
                          created_at=r.created_at, attempts=r.attempts, last_error=r.last_error,
                          visit_id=r.visit_id)
