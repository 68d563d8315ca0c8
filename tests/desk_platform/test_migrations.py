"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from desk_platform.db import Database, alembic_config, metadata, migrate, schema_revision

from .conftest import BACKENDS

pytestmark = pytest.mark.xdist_group("platform")


def _head(db: Database) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert head is not None
    return head


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_tables_and_are_idempotent(backend: str, make_db):
    db = Database(make_db(backend), pool_size=1)
    try:
        migrate(db)
        migrate(db)  # a second process starting: nothing to do
        assert schema_revision(db) == _head(db)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    metadata)
        assert diff == []
    finally:
        db.close()
