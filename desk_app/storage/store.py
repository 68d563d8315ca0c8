"""The desk's local store: the only code that talks to the database.

:class:`Store` opens the database (recovery of a damaged file, migrations, the key) and hands out
one part per kind of record, each in its own module: ``store.visits``, ``store.outbox``,
``store.alerts``, ``store.blacklist``, ``store.bookings``, ``store.keys``, ``store.cursors``,
``store.users``, ``store.audit``. The parts share one :class:`~desk_app.storage.db.Database`
(engine pair, crypto helper, clock, units of work). Every public method of a part is one unit of
work (one session, one transaction) and takes and returns frozen values from
:mod:`desk_app.storage.records` (bookings: ``desk_app.booking.model``). Driver errors become
:class:`~desk_app.storage.errors.StorageError`. Methods may block on disk: callers run them off
the GUI thread (the desk's single database-writer executor).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from desk_app.clock import Clock
from desk_app.storage import recovery
from desk_app.storage.alerts import Alerts
from desk_app.storage.audit import AuditAction, AuditLog
from desk_app.storage.blacklist import Blacklist
from desk_app.storage.bookings import Bookings
from desk_app.storage.crypto import Crypto, KeyStore
from desk_app.storage.db import Database, make_engines
from desk_app.storage.errors import KeyMismatchError, StorageError
from desk_app.storage.keys import Cursors, Keys
from desk_app.storage.migrate import MigrationResult, upgrade
from desk_app.storage.outbox import Outbox
from desk_app.storage.schema import Meta, VisitRow
from desk_app.storage.users import Users
from desk_app.storage.visits import Visits, visit_record

if TYPE_CHECKING:
    from desk_app.paths import AppPaths

log = logging.getLogger(__name__)

_FINGERPRINT = "key_fingerprint"


class Store:
    """Build with :meth:`open`. Thread-safe: every call has its own session."""

    def __init__(self, write_engine: Engine, read_engine: Engine, crypto: Crypto, *,
                 clock: Clock | None = None, migration: MigrationResult | None = None,
                 key_location: str = ""):
        self.db = Database(write_engine, read_engine, crypto, clock)
        self.migration = migration
        self.key_location = key_location  # "keyring" | "file" | "" (key given by the caller)
        self.recovery: recovery.Recovery | None = None  # set when open() found the file damaged
        self.audit = AuditLog(self.db)
        self.cursors = Cursors(self.db)
        self.keys = Keys(self.db, self.cursors)
        self.outbox = Outbox(self.db)
        self.bookings = Bookings(self.db, self.cursors)
        self.blacklist = Blacklist(self.db, self.cursors)
        self.users = Users(self.db, self.audit)
        self.alerts = Alerts(self.db, self.audit)
        self.visits = Visits(self.db, outbox=self.outbox, alerts=self.alerts,
                             bookings=self.bookings, audit=self.audit)

    def now(self) -> datetime:
        return self.db.now()

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, paths: AppPaths | None = None, *, url: str | None = None,
             crypto: Crypto | None = None, key_store: KeyStore | None = None,
             clock: Clock | None = None, schema: str | None = None) -> Store:
        """Open (create, upgrade) the desk database.

        Default: SQLite at ``paths.database_file``, key from the OS keyring or
        ``paths.key_file``. A database that has data but no key raises ``KeyMissingError``; a
        key that does not fit the database raises ``KeyMismatchError``."""
        if url is None:
            if paths is None:
                raise ValueError("Store.open needs paths or a url")
            paths.data_dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{paths.database_file}"
        db_file: Path | None = None
        u = make_url(url)
        if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:"):
            db_file = Path(u.database)
        recovering: recovery.Recovery | None = None
        if db_file is not None and (trouble := recovery.problem(db_file)) is not None:
            recovering = _begin_recovery(db_file, paths, trouble)
        if db_file is not None and not db_file.exists():
            # Owner-only from the first byte; SQLite gives the -wal and -shm files the same mode.
            db_file.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(db_file, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            w, r = make_engines(url, schema=schema)
            if schema and w.dialect.name == "postgresql":
                with w.begin() as conn:
                    conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            stored_fp = _read_fingerprint(r)
            location = ""
            if crypto is None:
                if key_store is None:
                    if paths is None:
                        raise ValueError("Store.open needs paths, a key_store or a crypto")
                    key_store = KeyStore(paths.key_file)
                crypto = Crypto(key_store.load(create=stored_fp is None))
                location = key_store.location
            if stored_fp is not None and stored_fp != crypto.fingerprint:
                raise KeyMismatchError(detail="key fingerprint differs from the database's")
            result = upgrade(w, db_file=db_file,
                             backup_dir=paths.backup_dir if paths is not None else None)
            store = cls(w, r, crypto, clock=clock, migration=result, key_location=location)
            store._init_meta()
            if recovering is not None and db_file is not None:
                store._finish_recovery(db_file, recovering)
        except SQLAlchemyError as exc:
            raise StorageError(detail=f"open: {type(exc).__name__}") from exc
        if db_file is not None and db_file.exists():
            db_file.chmod(0o600)
        return store

    def _finish_recovery(self, db_file: Path, rec: recovery.Recovery) -> None:
        """Merge what the damaged file still holds into the database now open (the restored
        backup, or a new one) and queue again every visit the platform has not acknowledged."""
        found = recovery.salvage(rec.damaged_file, layout_from=db_file)
        merged = recovery.merge(db_file, found)
        now = self.now()
        requeued = 0
        with self.db.write() as s:
            for vid in sorted(merged.new_visits):
                row = s.get(VisitRow, vid)
                if row is None or self.outbox.has_visit(s, vid):
                    continue
                record = visit_record(self.db.crypto, row)
                if vid not in merged.acked_visits:
                    self.outbox.add(s, "visit", vid, record.to_wire(), now, visit_id=vid)
                    requeued += 1
                # An unacknowledged visit may be on the platform already (its answer lost with
                # the damage): sent again it is a duplicate there, so its override goes too.
                if record.override is not None and vid not in merged.acked_overrides:
                    self.outbox.add_override(s, vid, record.override, row.overridden_at or now,
                                             now)
                    requeued += 1
            visits = int(s.scalar(select(func.count()).select_from(VisitRow)) or 0)
            rec.method, rec.merged, rec.requeued, rec.visits = (
                found.method, merged.counts, requeued, visits)
            self.audit.append(s, "system", AuditAction.DATABASE_RECOVERED, db_file.name, {
                "damaged_file": rec.damaged_file.name,
                "backup": rec.backup_used.name if rec.backup_used else None,
                "method": found.method, "merged": merged.counts, "requeued": requeued,
                "unreadable": found.unreadable, "visits": visits}, now)
        log.error("damaged database recovered: backup %s, merged %s, %d uploads queued again; "
                  "the damaged file is kept at %s", rec.backup_used, merged.counts, requeued,
                  rec.damaged_file)
        self.recovery = rec

    def close(self) -> None:
        self.db.close()

    def _init_meta(self) -> None:
        with self.db.write() as s:
            if s.get(Meta, _FINGERPRINT) is None:
                s.add(Meta(key=_FINGERPRINT, value=self.db.crypto.fingerprint))
            self.audit.init_chain(s)


def _begin_recovery(db_file: Path, paths: AppPaths | None, trouble: str) -> recovery.Recovery:
    """Move the damaged file aside and put the newest good backup in its place (what the damaged
    file still holds is merged once the store is open: see ``Store._finish_recovery``)."""
    log.error("the desk database is damaged (%s); recovering", trouble)
    damaged = recovery.quarantine(db_file, db_file.parent / "damaged")
    base = recovery.restore_base(db_file, paths.backup_dir if paths is not None else None)
    return recovery.Recovery(damaged, trouble, base)


def _read_fingerprint(engine: Engine) -> str | None:
    """The key fingerprint stored in the database, None for a new (or empty) database."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(Meta.__tablename__):
            return None
        row = conn.execute(text("SELECT value FROM store_meta WHERE key = :k"),
                           {"k": _FINGERPRINT}).first()
        return row[0] if row else None
