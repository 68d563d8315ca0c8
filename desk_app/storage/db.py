"""Engines for the desk database: SQLite in WAL mode by default, PostgreSQL by URL.

SQLite gets two engines on the same file. Writes begin with ``BEGIN IMMEDIATE`` so a unit of
work takes the write lock up front (no deadlock-prone read-then-upgrade, and the audit chain
appends strictly one after the other); reads begin with a plain deferred ``BEGIN`` and, thanks to
WAL, never wait for a writer: a blacklist look-up during a 100,000-entry delta stays instant.
``synchronous=FULL``: a committed check-in survives a power cut, not just a crash.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

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
