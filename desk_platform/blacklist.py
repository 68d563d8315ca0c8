"""The shared blacklist: bans by the police and the platform. Desks get the scrypt hash of the
ID number and its last 4 digits (deltas by version, tombstones included); the plaintext is kept
sealed with the data key for the police alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from desk_platform import db as T
from desk_platform.audit import Audit
from desk_platform.base import Part, Principal, normalize_id_number
from desk_platform.db import delta_page, next_seq
from desk_platform.errors import Forbidden, NotFound
from sync import protocol as P

ACTION_REVEAL = "blacklist.reveal"  # the audit action of a look at an entry's plaintext number


@dataclass(frozen=True)
class BlacklistRecord:
    """A blacklist entry as the CLI lists it (last 4 only; never the number)."""

    entry: P.BlacklistEntryWire
    created_by: str


class Blacklist(Part):
    def add(self, id_number: str, *, source: P.BlacklistSource, reason: str,
            days: float = 91.0, created_by: str,
            valid_from: datetime | None = None) -> P.BlacklistEntryWire:
        """Ban an ID number (or renew its ban). Desks get the scrypt hash and the last 4.

        One entry per (person, source): an entry of another source is never touched. Renewing an
        active entry never shortens it (the later end wins) and keeps its start and its
        ``created_by``; a lifted or ended entry is banned afresh."""
        number = normalize_id_number(id_number)
        id_hash = self.ctx.blacklist_hash(number)  # ~60 ms, outside the transaction
        now = self.now()
        valid_from = valid_from or now
        valid_to = valid_from + timedelta(days=days)
        b = T.blacklist.c
        with self.db.write() as conn:
            version = next_seq(self.db, conn, "blacklist")
            existing = conn.execute(select(b.entry_id, b.valid_from, b.valid_to, b.deleted,
                                           b.created_by).where(
                b.id_hash == id_hash, b.source == source.value)).first()
            values = dict(last4=number[-4:], reason=reason[:200], valid_from=valid_from,
                          valid_to=valid_to, version=version, deleted=False,
                          id_number_enc=self.secrets.encrypt(number.encode("ascii")),
                          created_by=created_by[:200], updated_at=now)
            if existing:
                entry_id = existing.entry_id
                if not existing.deleted and existing.valid_to > now:  # a renewal
                    values.update(valid_from=min(existing.valid_from, valid_from),
                                  valid_to=max(existing.valid_to, valid_to),
                                  created_by=existing.created_by)
                conn.execute(update(T.blacklist).where(b.entry_id == entry_id).values(**values))
            else:
                entry_id = "BL" + uuid.uuid4().hex[:20].upper()
                conn.execute(T.blacklist.insert().values(entry_id=entry_id, id_hash=id_hash,
                                                         source=source.value, **values))
            row = conn.execute(select(T.blacklist).where(b.entry_id == entry_id)).one()
        return self._blacklist_wire(row)

    def remove(self, entry_id: str, *, source: P.BlacklistSource | None = None
               ) -> P.BlacklistEntryWire:
        """Lift a ban: the entry becomes a tombstone with a new version (desks drop it). With
        ``source`` (the caller's own), an entry of another source is refused (403)."""
        now = self.now()
        b = T.blacklist.c
        with self.db.write() as conn:
            owner = conn.execute(select(b.source).where(b.entry_id == entry_id,
                                                        b.deleted.is_(False))).scalar()
            if owner is None:
                raise NotFound("no such active blacklist entry")
            if source is not None and owner != source.value:
                raise Forbidden(f"a {owner} blacklist entry is removed by its owner only, "
                                f"not by {source.value}")
            version = next_seq(self.db, conn, "blacklist")
            r = conn.execute(update(T.blacklist).where(b.entry_id == entry_id,
                                                       b.deleted.is_(False))
                             .values(deleted=True, version=version, updated_at=now))
            if r.rowcount != 1:
                raise NotFound("no such active blacklist entry")
            row = conn.execute(select(T.blacklist).where(b.entry_id == entry_id)).one()
        return self._blacklist_wire(row)

    def find(self, id_number: str) -> list[BlacklistRecord]:
        id_hash = self.ctx.blacklist_hash(id_number)
        with self.db.read() as conn:
            rows = conn.execute(select(T.blacklist).where(T.blacklist.c.id_hash == id_hash)
                                .order_by(T.blacklist.c.version)).all()
        return [BlacklistRecord(self._blacklist_wire(r), r.created_by) for r in rows]

    def entries(self, *, include_deleted: bool = False,
                limit: int = 1000) -> list[BlacklistRecord]:
        with self.db.read() as conn:
            q = select(T.blacklist)
            if not include_deleted:
                q = q.where(T.blacklist.c.deleted.is_(False))
            rows = conn.execute(q.order_by(T.blacklist.c.version.desc()).limit(limit)).all()
        return [BlacklistRecord(self._blacklist_wire(r), r.created_by) for r in rows]

    def reveal(self, entry_id: str, *, viewer: Principal | None = None,
               address: str = "") -> P.BlacklistPlain:
        """The entry with its plaintext number. For a person (``viewer``) the look is audited
        (``blacklist.reveal``) in the transaction that reads the number: no row, no number."""
        with self.db.write() if viewer else self.db.read() as conn:
            row = conn.execute(select(T.blacklist).where(
                T.blacklist.c.entry_id == entry_id)).first()
            if row is None:
                raise NotFound("no such blacklist entry")
            if viewer is not None:
                Audit(self.db).record(viewer.name, viewer.role.value, ACTION_REVEAL, entry_id,
                                      f"last4={row.last4} source={row.source}",
                                      hospital_id=viewer.hospital_id, address=address,
                                      conn=conn)
        return P.BlacklistPlain(entry=self._blacklist_wire(row),
                                id_number=self.secrets.decrypt(row.id_number_enc).decode())

    def delta(self, since: int, limit: int) -> P.BlacklistDelta:
        with self.db.read() as conn:
            rows, version, more = delta_page(conn, "blacklist", select(T.blacklist),
                                             T.blacklist.c.version, since, limit)
        return P.BlacklistDelta(entries=[self._blacklist_wire(r) for r in rows],
                                version=version, more=more)

    @staticmethod
    def _blacklist_wire(r: Any) -> P.BlacklistEntryWire:
        return P.BlacklistEntryWire(
            entry_id=r.entry_id, id_hash=r.id_hash, last4=r.last4,
            source=P.BlacklistSource(r.source), reason=r.reason, valid_from=r.valid_from,
            valid_to=r.valid_to, version=r.version, deleted=r.deleted)

