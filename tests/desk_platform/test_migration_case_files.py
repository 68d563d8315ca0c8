"""Migration 0006 on both databases: the police's case files, one per entry before it, keep
their data and get a key of their own, so an entry can hold several; the downgrade keeps the
newest file of each entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from desk_platform.db import Database, alembic_config, schema_revision

from .conftest import BACKENDS

pytestmark = pytest.mark.xdist_group("platform")

_AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def _to(db: Database, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config(db)
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)
        conn.commit()


def _file(entry_id: str, case_number: str, at: datetime) -> dict:
    return {"entry_id": entry_id, "case_number": case_number, "county": "榕城区",
            "evidence_enc": b"sealed", "created_at": at, "created_by": "police1",
            "lifted_at": None, "lifted_by": None, "lift_reason": None}


@pytest.mark.parametrize("backend", BACKENDS)
def test_case_files_survive_the_new_key_both_ways(backend: str, make_db):
    from desk_platform import db as T

    db = Database(make_db(backend), pool_size=1)
    try:
        _to(db, "0005")
        old = sa.Table("blacklist_cases", sa.MetaData(), autoload_with=db.engine)
        assert [c.name for c in old.primary_key.columns] == ["entry_id"]
        with db.engine.begin() as conn:
            conn.execute(old.insert(), [
                {**_file("BL1", "榕公(2026)001", _AT), "created_at": _naive(backend, _AT)},
                {**_file("BL2", "", _AT), "created_at": _naive(backend, _AT)}])
        _to(db, "head")
        assert schema_revision(db) == "0006"
        c = T.blacklist_cases.c
        with db.read() as conn:
            rows = conn.execute(sa.select(T.blacklist_cases).order_by(c.entry_id)).all()
        assert [(r.entry_id, r.case_number, r.created_at, r.evidence_enc) for r in rows] == [
            ("BL1", "榕公(2026)001", _AT, b"sealed"), ("BL2", "", _AT, b"sealed")]
        assert len({r.case_id for r in rows}) == 2
        with db.write() as conn:  # a second case of BL1, newer
            conn.execute(T.blacklist_cases.insert().values(
                case_id="second", **_file("BL1", "普公(2026)077", _AT + timedelta(days=1))))
        _to(db, "0005", down=True)
        with db.engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT entry_id, case_number FROM blacklist_cases "
                                        "ORDER BY entry_id")).all()
        assert [tuple(r) for r in kept] == [("BL1", "普公(2026)077"), ("BL2", "")]
        _to(db, "head")
        assert schema_revision(db) == "0006"
    finally:
        db.close()


def _naive(backend: str, at: datetime) -> datetime:
    """What the 0005 table takes when written without the platform's column type."""
    return at.replace(tzinfo=None) if backend == "sqlite" else at
