"""The platform's booking-signing keys, the revocations, and the sync cursors (where each pull
stopped: kept here, apart from the settings)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desk_app.storage.db import Database, set_meta
from desk_app.storage.records import StoredKey, StoredKeySet
from desk_app.storage.schema import CursorRow, KeyRow, Meta, RevocationRow

_KEYSET_VERSION = "keyset_version"


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
