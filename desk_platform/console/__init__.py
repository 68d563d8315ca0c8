"""The task force's web console, served by the platform under ``/console/`` (see
docs/console.md): server-rendered pages for the police, the booking platform's operators, the
health commission and hospital administrators, behind staff sign-in. Mounted with it: the two
desk endpoints its work needs (``desk_platform.desk_api``: appeals, unfreezing accounts)."""

from __future__ import annotations

from typing import Any


def mount_console(app: Any, platform: Any) -> None:
    """Mount the console on the platform's FastAPI app (``app.py`` calls this once)."""
    from desk_platform.app import principal
    from desk_platform.console.web import create_console
    from desk_platform.desk_api import desk_router

    app.include_router(desk_router(platform, principal))
    app.mount("/console", create_console(platform))
