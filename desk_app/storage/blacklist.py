"""The blacklist copy: entries keyed by the platform's slow hash of the ID number, the detail
(last four, reason) encrypted; applied by delta, looked up at every check-in."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from desk_app.storage.db import Database, rowcount, set_meta, ts
from desk_app.storage.errors import StorageError
from desk_app.storage.keys import Cursors
from desk_app.storage.records import BlacklistEntry, BlacklistStatus, DeltaResult
from desk_app.storage.schema import BlacklistRow, CursorRow, Meta

log = logging.getLogger(__name__)

BLACKLIST_CURSOR = "blacklist"
#: Set while a re-pull from 0 after a platform restore runs (see :meth:`Blacklist.mark_stale`).
RESYNC_CURSOR = "blacklist.resync"
#: The version of a row kept from before the platform's restore: any version the platform
#: sends replaces it, and the end of the re-pull drops the ones it did not send.
STALE_VERSION = -1
_UPDATED = "blacklist_updated_at"
_CHUNK = 20_000
_COLS = ("id_hash", "entry_id", "source", "detail_enc", "valid_from", "valid_to", "version",
         "deleted")
_SQLITE_UPSERT = (
    f"INSERT INTO blacklist ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))}) "
    "ON CONFLICT (id_hash, entry_id) DO UPDATE SET "
    + ", ".join(f"{k} = excluded.{k}" for k in _COLS[2:])
    + " WHERE excluded.version >= blacklist.version"
)


class Blacklist:
    """``store.blacklist``."""

    def __init__(self, db: Database, cursors: Cursors):
        self._db = db
        self._cursors = cursors

    def apply_delta(self, entries: Sequence[BlacklistEntry], version: int) -> DeltaResult:
        """Upsert entries and tombstones (``deleted=True``) by (id_hash, entry_id); a row is
        only replaced by one with the same or a higher version. Records ``version`` as the
        ``blacklist`` cursor. One transaction: a crash leaves the old list whole."""
        c = self._db.crypto
        # Sorted by key, the upserts walk the clustered index in order instead of jumping
        # around it, which matters for a large delta into a large table.
        entries = sorted(entries, key=lambda e: (e.id_hash, e.entry_id))
        applied = 0
        now = self._db.now()
        with self._db.write() as s:
            conn = s.connection()
            for i in range(0, len(entries), _CHUNK):
                rows = [(e.id_hash, e.entry_id, e.source,
                         c.encrypt(_detail(e.last4, e.reason), e.id_hash + e.entry_id.encode()),
                         ts(e.valid_from), ts(e.valid_to), e.version, e.deleted)
                        for e in entries[i:i + _CHUNK]]
                if self._db.dialect == "sqlite":
                    # A million rows: straight to the driver, SQLAlchemy's per-row parameter
                    # processing would cost more than the inserts themselves.
                    rc = conn.exec_driver_sql(_SQLITE_UPSERT, rows).rowcount
                else:
                    rc = conn.execute(self._upsert(), [dict(zip(_COLS, r, strict=True))
                                                       for r in rows]).rowcount
                applied += rc if rc is not None and rc >= 0 else len(rows)
            self._cursors.put(s, BLACKLIST_CURSOR, str(version), now)
            set_meta(s, _UPDATED, now.isoformat())
        return DeltaResult(applied=applied, skipped=len(entries) - applied, version=version)

    def mark_stale(self, s: Session, now: datetime) -> int:
        """The platform's database was restored from a backup (a new epoch, every cursor back
        to 0): its versions may now be lower than ours (a lift or renewal made after the backup
        is lost there), yet the platform is the truth. In the caller's transaction (the one that
        resets the cursors) every row gets :data:`STALE_VERSION`, so the re-pull replaces it
        whatever version it brings; rows stay in force meanwhile (a look-up ignores versions),
        so the desk is never without its list. :meth:`drop_stale` ends the re-pull."""
        Cursors.put(s, RESYNC_CURSOR, "1", now)
        return rowcount(s.execute(update(BlacklistRow).values(version=STALE_VERSION)))

    def drop_stale(self) -> int:
        """After the last page of the re-pull :meth:`mark_stale` began: the rows the restored
        platform did not send again (a ban made after its backup, lost there) are deleted, in
        one transaction with the end of the re-pull. Nothing to do (one cursor read) otherwise."""
        if self._cursors.get(RESYNC_CURSOR) is None:
            return 0
        with self._db.write() as s:
            n = rowcount(s.execute(delete(BlacklistRow).where(
                BlacklistRow.version == STALE_VERSION)))
            s.execute(delete(CursorRow).where(CursorRow.name == RESYNC_CURSOR))
        if n:
            log.warning("blacklist: %d entries the restored platform no longer has removed", n)
        return n

    def _upsert(self) -> Any:
        table = BlacklistRow.__table__
        stmt = self._db.insert(table)
        return stmt.on_conflict_do_update(
            index_elements=[table.c.id_hash, table.c.entry_id],
            set_={k: stmt.excluded[k] for k in _COLS[2:]},
            where=stmt.excluded.version >= table.c.version,
        )

    def lookup(self, id_hash: bytes, at: datetime | None = None) -> BlacklistEntry | None:
        """The entry in force for this slow hash at ``at`` (the one running longest), or None."""
        t = ts(at or self._db.now())
        table = BlacklistRow.__table__
        q = (select(table).where(table.c.id_hash == id_hash, table.c.deleted.is_(False),
                                 table.c.valid_from <= t, table.c.valid_to > t)
             .order_by(table.c.valid_to.desc()).limit(1))
        try:
            with self._db.r.connect() as conn:
                row = conn.execute(q).first()
        except SQLAlchemyError as exc:
            raise StorageError(detail=type(exc).__name__) from exc
        return self._entry(row) if row else None  # type: ignore[arg-type]

    def entries(self, id_hash: bytes) -> list[BlacklistEntry]:
        """Every stored row for this hash, tombstones and expired ones included."""
        with self._db.read() as s:
            return [self._entry(r) for r in
                    s.scalars(select(BlacklistRow).where(BlacklistRow.id_hash == id_hash))]

    def status(self) -> BlacklistStatus:
        t = ts(self._db.now())
        with self._db.read() as s:
            n = s.scalar(select(func.count()).select_from(BlacklistRow).where(
                BlacklistRow.deleted.is_(False), BlacklistRow.valid_from <= t,
                BlacklistRow.valid_to > t))
            cur = s.get(CursorRow, BLACKLIST_CURSOR)
            upd = s.get(Meta, _UPDATED)
            return BlacklistStatus(version=int(cur.value) if cur else 0,
                                   updated_at=datetime.fromisoformat(upd.value) if upd else None,
                                   active_entries=int(n or 0))

    def purge_expired(self, grace: timedelta = timedelta(days=30)) -> int:
        """Drop rows removed by the platform (tombstones), and rows that ended more than
        ``grace`` ago by the platform's time (:meth:`Cursors.platform_now`). A desk clock
        running ahead must not make a running ban look ended: once deleted it never comes
        back, the ``blacklist`` cursor being past it. Ended rows stay while the platform's time
        is not known (no recent sync, an absurd skew)."""
        now = self._cursors.platform_now()
        ended = BlacklistRow.deleted.is_(True)
        if now is None:
            log.info("blacklist purge: only tombstones (the platform's time is not known)")
        else:
            ended = ended | (BlacklistRow.valid_to < ts(now - grace))
        with self._db.write() as s:
            return rowcount(s.execute(delete(BlacklistRow).where(ended)))

    def _entry(self, r: BlacklistRow) -> BlacklistEntry:
        last4, _, reason = self._db.crypto.decrypt(
            r.detail_enc, r.id_hash + r.entry_id.encode()).decode().partition("\x00")
        return BlacklistEntry(
            entry_id=r.entry_id, id_hash=r.id_hash, last4=last4, source=r.source, reason=reason,
            valid_from=datetime.fromtimestamp(r.valid_from, UTC),
            valid_to=datetime.fromtimestamp(r.valid_to, UTC), version=r.version,
            deleted=r.deleted)


def _detail(last4: str, reason: str) -> bytes:
    return f"{last4}\x00{reason}".encode()
