"""Schema upgrades at open: Alembic run from code (no alembic.ini for anyone to keep), with a
consistent copy of the SQLite file taken first (``backups/desk-<from rev>-<time>.sqlite3``). The copy
holds all the personal data the database held; the retention run deletes it after the shortest
retention of that data (:func:`desk_app.storage.retention.purge_database_copies`)."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from desk_app.errors import Text
from desk_app.storage.errors import DatabaseTooNewError, MigrationError

log = logging.getLogger(__name__)

SCRIPT_LOCATION = str(Path(__file__).resolve().parent / "migrations")


@dataclass(frozen=True)
class MigrationResult:
    from_revision: str | None  # None: a new, empty database
    to_revision: str
    backup: Path | None


def _config(connection: object | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup_sqlite(db_file: Path, backup_dir: Path, label: str) -> Path:
    """A consistent copy through SQLite's backup API (safe with WAL and with readers open)."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    target = backup_dir / f"desk-{label}-{time.strftime('%Y%m%d-%H%M%S')}.sqlite3"
    n = 1
    while target.exists():
        target = backup_dir / f"desk-{label}-{time.strftime('%Y%m%d-%H%M%S')}-{n}.sqlite3"
        n += 1
    src = sqlite3.connect(db_file)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    target.chmod(0o600)
    return target


def upgrade(engine: Engine, *, db_file: Path | None, backup_dir: Path | None,
            target: str = "head") -> MigrationResult:
    """Bring the schema to ``target``; back the file up first when it already holds a schema."""
    scripts = script_directory()
    current = current_revision(engine)
    wanted = scripts.get_current_head() if target == "head" else target
    assert wanted is not None
    if current is not None:
        try:
            scripts.get_revision(current)
        except CommandError as exc:
            raise DatabaseTooNewError(detail=f"unknown revision {current}") from exc
    if current == wanted:
        return MigrationResult(current, wanted, None)
    backup = None
    if current is not None and db_file is not None and backup_dir is not None:
        backup = backup_sqlite(db_file, backup_dir, current)
        log.info("database backed up to %s before upgrading from %s", backup, current)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            if sqlite:
                # Batch migrations copy tables; foreign keys must be off for that, and the
                # pragma only works outside a transaction. Checked again before commit.
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    command.upgrade(_config(conn), target)
                    if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                        raise MigrationError(detail="foreign key check failed after upgrade")
            finally:
                if sqlite:
                    raw.execute("PRAGMA foreign_keys=ON")
    except (SQLAlchemyError, CommandError) as exc:
        log.error("database upgrade %s -> %s failed: %s", current, wanted, type(exc).__name__)
        where = f" ({backup})" if backup else ""
        raise MigrationError(
            Text(f"本地数据库升级失败, 原文件已备份{where}, 请联系信息科。",
                 f"The local database could not be upgraded. The original file was backed up"
                 f"{where}. Please call hospital IT."),
            detail=type(exc).__name__,
        ) from exc
    log.info("database upgraded from %s to %s", current, wanted)
    return MigrationResult(current, wanted, backup)
