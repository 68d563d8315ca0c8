"""The platform's own test fixtures (real server process on loopback, SQLite and PostgreSQL),
reused as they are: the hardening tests attack the same server the platform team tests."""

from tests.desk_platform.conftest import make_db, pg_databases, server  # noqa: F401
from tests.sync.client.conftest import platform, proxy  # noqa: F401,E402
