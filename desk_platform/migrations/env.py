"""Alembic environment: always called from :func:`desk_platform.db.migrate` with a connection."""

from __future__ import annotations

from alembic import context

from desk_platform.db import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER goes through copies
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
