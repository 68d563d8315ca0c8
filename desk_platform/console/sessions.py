"""Console sign-ins: staff accounts (:class:`desk_platform.staff.Staff`) with a session cookie.

The cookie holds a random 256-bit token, HttpOnly, SameSite=Strict, Path=/console (Secure
behind TLS); the table ``console_sessions`` keeps only its sha256, the account and the CSRF token
of its forms. A session ends after ``IDLE`` without a request, after ``ABSOLUTE`` in any case, at
sign-out, at once when the account is disabled (checked on every request), and when its
password is set (:meth:`desk_platform.staff.Staff.set_password` deletes the account's sessions,
all but the one a person changed their own password in).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from desk_platform import db as T
from desk_platform.db import Database
from desk_platform.staff import StaffMember, StaffRole, _member

COOKIE = "desk_console"
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=30)

#: Who may sign in to the console (hospital clerks and guards use their desk).
CONSOLE_ROLES = frozenset({StaffRole.POLICE, StaffRole.PLATFORM, StaffRole.COMMISSION,
                           StaffRole.ADMIN})


@dataclass(frozen=True)
class ConsoleSession:
    member: StaffMember
    csrf: str
    expires_at: datetime


def session_hash(token: str) -> str:
    """What ``console_sessions`` keeps of a session's cookie token."""
    return hashlib.sha256(("console:" + token).encode()).hexdigest()


class Sessions:
    def __init__(self, db: Database, *, idle: timedelta = IDLE, absolute: timedelta = ABSOLUTE):
        self.db = db
        self.idle = idle
        self.absolute = absolute

    def start(self, member: StaffMember) -> str:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.db.write() as conn:
            conn.execute(delete(T.console_sessions).where(
                T.console_sessions.c.last_seen_at < now - self.idle))
            conn.execute(T.console_sessions.insert().values(
                session_hash=session_hash(token), username=member.username,
                csrf=secrets.token_urlsafe(24), created_at=now, last_seen_at=now))
        return token

    def resume(self, token: str | None) -> ConsoleSession | None:
        """The live session of this cookie (its idle clock restarted), else None."""
        if not token or len(token) > 100:
            return None
        now = datetime.now(UTC)
        s = T.console_sessions.c
        with self.db.read() as conn:
            row = conn.execute(select(T.console_sessions).where(
                s.session_hash == session_hash(token))).first()
            if row is None:
                return None
            staff = conn.execute(select(T.staff).where(
                T.staff.c.username == row.username)).mappings().first()
        expired = (row.last_seen_at + self.idle <= now or row.created_at + self.absolute <= now)
        if expired or staff is None or not staff["active"] \
                or StaffRole(staff["role"]) not in CONSOLE_ROLES:
            self.end(token)
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            with self.db.write() as conn:
                conn.execute(update(T.console_sessions).where(s.session_hash == session_hash(token))
                             .values(last_seen_at=now))
            last = now
        else:
            last = row.last_seen_at
        return ConsoleSession(_member(staff), row.csrf,
                              min(last + self.idle, row.created_at + self.absolute))

    def end(self, token: str | None) -> None:
        if not token:
            return
        with self.db.write() as conn:
            conn.execute(delete(T.console_sessions).where(
                T.console_sessions.c.session_hash == session_hash(token)))
