"""Alembic environment: always called from :mod:`desk_app.storage.migrate` with a connection."""

from __future__ import annotations

from alembic import context

from desk_app.storage.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER goes through copies
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
