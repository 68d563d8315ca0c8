"""Engines for the desk database (SQLite in WAL mode by default, PostgreSQL by URL), and the
:class:`Database` every part of the store shares.

SQLite gets two engines on the same file. Writes begin with ``BEGIN IMMEDIATE`` so a unit of
work takes the write lock up front (no deadlock-prone read-then-upgrade, and the audit chain
appends strictly one after the other); reads begin with a plain deferred ``BEGIN`` and, thanks to
WAL, never wait for a writer: a blacklist look-up during a 100,000-entry delta stays instant.
``synchronous=FULL``: a committed check-in survives a power cut, not just a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from desk_app.clock import Clock, SystemClock
from desk_app.storage.crypto import Crypto
from desk_app.storage.errors import DuplicateError, StorageError
from desk_app.storage.schema import Meta

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30.0


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S,
                                              "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        # 32 MiB page cache (allocated only as used): the blacklist index is keyed by random
        # hashes, and with SQLite's 2 MiB default a bulk delta thrashes the disk.
        cur.execute("PRAGMA cache_size=-32768")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engines(url: str, *, schema: str | None = None) -> tuple[Engine, Engine]:
    """(write engine, read engine). ``schema``: PostgreSQL schema to work in (tests)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return _sqlite_engine(url, immediate=True), _sqlite_engine(url, immediate=False)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if schema:
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    engine = create_engine(url, **kwargs)
    return engine, engine


class Database:
    """What every part of the store shares: the engine pair, the one crypto helper, the clock,
    and the unit-of-work helpers. A part's public method is one ``write()`` or ``read()``
    session; an operation over several parts passes its session on (``outbox.add(s, ...)``),
    so it stays one transaction."""

    def __init__(self, write_engine: Engine, read_engine: Engine, crypto: Crypto,
                 clock: Clock | None = None):
        self.w = write_engine
        self.r = read_engine
        self.crypto = crypto
        self.clock = clock or SystemClock()
        self.dialect = write_engine.dialect.name
        self.insert = pg_dialect.insert if self.dialect == "postgresql" else sqlite_dialect.insert

    def now(self) -> datetime:
        return self.clock.now()

    @contextmanager
    def write(self) -> Iterator[Session]:
        try:
            with Session(self.w, expire_on_commit=False) as s, s.begin():
                yield s
        except IntegrityError as exc:
            raise DuplicateError(detail=f"integrity: {type(exc.orig).__name__}") from exc
        except SQLAlchemyError as exc:
            log.error("database write failed: %s", type(exc).__name__)
            raise StorageError(detail=type(exc).__name__) from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with Session(self.r, expire_on_commit=False) as s, s.begin():
                yield s
        except SQLAlchemyError as exc:
            log.error("database read failed: %s", type(exc).__name__)
            raise StorageError(detail=type(exc).__name__) from exc

    def close(self) -> None:
        self.w.dispose()
        if self.r is not self.w:
            self.r.dispose()


def aad(column: str, row_id: str) -> bytes:
    """The associated data binding an encrypted value to its column and row."""
    return f"{column}|{row_id}".encode()


def aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return at


def ts(at: datetime) -> int:
    return int(aware(at).timestamp())


def rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


def set_meta(s: Session, key: str, value: str) -> None:
    row = s.get(Meta, key)
    if row is None:
        s.add(Meta(key=key, value=value))
    else:
        row.value = value
