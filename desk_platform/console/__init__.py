"""The task force's web console, served by the platform under ``/console/`` (see
docs/console.md): server-rendered pages for the police, the booking platform's operators, the
health commission and hospital administrators, behind staff sign-in."""

from __future__ import annotations

from typing import Any


def mount_console(app: Any, platform: Any) -> None:
    """Mount the console on the platform's FastAPI app (``app.py`` calls this once)."""
    from desk_platform.console.web import create_console

    app.mount("/console", create_console(platform))
