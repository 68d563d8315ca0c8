"""The platform's booking-signing keys, the revocations, and the sync cursors (where each pull
stopped: kept here, apart from the settings)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desk_app.clock import MAX_CLOCK_SKEW_S
from desk_app.storage.db import Database, set_meta
from desk_app.storage.records import StoredKey, StoredKeySet
from desk_app.storage.schema import CursorRow, KeyRow, Meta, RevocationRow

_KEYSET_VERSION = "keyset_version"
#: Written by the sync worker (``sync.worker.CUR_SKEW``, ``CUR_LAST_SYNC``): the platform's
#: clock minus the desk's, seconds; the platform's time of the last complete cycle.
SKEW_CURSOR = "platform.skew_s"
LAST_SYNC_CURSOR = "sync.last_at"
#: How long a measured skew is trusted: a desk clock moved after the last complete sync cycle is
#: off by no more than the time since it (see :meth:`Cursors.platform_now`).
PLATFORM_TIME_FRESH = timedelta(days=1)


class Cursors:
    """``store.cursors``: named positions in the platform's delta streams."""

    def __init__(self, db: Database):
        self._db = db

    def get(self, name: str) -> str | None:
        with self._db.read() as s:
            row = s.get(CursorRow, name)
            return row.value if row else None

    def set(self, name: str, value: str) -> None:
        with self._db.write() as s:
            self.put(s, name, value, self._db.now())

    def platform_now(self, fresh: timedelta = PLATFORM_TIME_FRESH) -> datetime | None:
        """The platform's time now, when the desk can tell: its clock plus the skew the sync
        worker measured (:meth:`fresh_skew_s`), else None. For deleting by age (the retention
        purges): what cannot be judged is kept."""
        skew = self.fresh_skew_s(fresh)
        return None if skew is None else self._db.now() + timedelta(seconds=skew)

    def fresh_skew_s(self, fresh: timedelta = PLATFORM_TIME_FRESH) -> float | None:
        """The platform's clock minus the desk's, seconds, as the sync worker last measured it.
        None when unknown or absurd (more than ``MAX_CLOCK_SKEW_S``), or when the last complete
        sync cycle is more than ``fresh`` ago or in the future by the desk's clock: a clock moved
        since then (a mis-set month, then NTP) would make the measured skew wrong by as much."""
        desk_now = self._db.now()
        with self._db.read() as s:
            skew_row, last = s.get(CursorRow, SKEW_CURSOR), s.get(CursorRow, LAST_SYNC_CURSOR)
        if skew_row is None or last is None:
            return None
        try:
            skew = float(skew_row.value)
            platform_then = datetime.fromisoformat(last.value)
            since = desk_now - last.updated_at
            contact_skew = abs((platform_then - last.updated_at).total_seconds())
        except (ValueError, TypeError, OverflowError):
            return None
        if not (abs(skew) <= MAX_CLOCK_SKEW_S and contact_skew <= MAX_CLOCK_SKEW_S
                and timedelta(0) <= since <= fresh):  # NaN fails too
            return None
        return skew

    @staticmethod
    def put(s: Session, name: str, value: str, now: datetime) -> None:
        """Move a cursor in the caller's transaction (with the page it stands after)."""
        row = s.get(CursorRow, name)
        if row is None:
            s.add(CursorRow(name=name, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now


class Keys:
    """``store.keys``: the key set tokens are checked with, and revoked bookings and keys."""

    def __init__(self, db: Database, cursors: Cursors):
        self._db = db
        self._cursors = cursors

    def save_keyset(self, keyset: StoredKeySet) -> None:
        """Replace the platform's signing keys with this set (a set is always sent whole)."""
        with self._db.write() as s:
            s.execute(delete(KeyRow))
            for k in keyset.keys:
                s.add(KeyRow(kid=k.kid, alg=k.alg, x=k.x, not_after=k.not_after))
            set_meta(s, _KEYSET_VERSION, str(keyset.version))

    def keyset(self) -> StoredKeySet:
        with self._db.read() as s:
            keys = tuple(StoredKey(r.kid, r.alg, r.x, r.not_after)
                         for r in s.scalars(select(KeyRow).order_by(KeyRow.kid)))
            ver = s.get(Meta, _KEYSET_VERSION)
            return StoredKeySet(keys=keys, version=int(ver.value) if ver else 0)

    def apply_revocations(self, item_ids: Iterable[str], version: int,
                          kind: str = "booking") -> int:
        """Add revoked booking ids (``kind="booking"``) or key ids (``kind="key"``); the
        ``revocations.<kind>`` cursor moves to ``version`` in the same transaction."""
        now = self._db.now()
        table = RevocationRow.__table__
        rows = [{"kind": kind, "item_id": i, "version": version, "revoked_at": now}
                for i in item_ids]
        with self._db.write() as s:
            if rows:
                stmt = self._db.insert(table)
                s.execute(stmt.on_conflict_do_nothing(
                    index_elements=[table.c.kind, table.c.item_id]), rows)
            self._cursors.put(s, f"revocations.{kind}", str(version), now)
        return len(rows)

    def revocations(self, kind: str = "booking") -> frozenset[str]:
        with self._db.read() as s:
            return frozenset(s.scalars(select(RevocationRow.item_id)
                                       .where(RevocationRow.kind == kind)))
