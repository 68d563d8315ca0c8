"""Alembic migrations of the desk database, run by :func:`desk_app.storage.migrate.upgrade`."""
