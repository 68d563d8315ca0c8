"""The desk's local accounts: argon2 password hashes, roles; every change and login audited."""

from __future__ import annotations

import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from desk_app.errors import AuthError, Text
from desk_app.storage.audit import AuditAction, AuditLog
from desk_app.storage.db import Database
from desk_app.storage.errors import DuplicateError, NotFoundError
from desk_app.storage.records import ROLES, User
from desk_app.storage.schema import UserRow

PLATFORM_SOURCE = "platform"  # users.source of an account cached from the platform

_SHORT = Text("密码至少 8 位。", "The password needs at least 8 characters.")


class PlatformAccount(AuthError):
    """A platform account changed on the desk: refused (the platform is the one place)."""

    title_text = Text("平台账号", "Platform account")
    default_text = Text("该账号由中心平台管理, 请由医院管理员在平台上修改。",
                        "This account is managed on the platform; the hospital's administrator "
                        "changes it there.")


class Users:
    """``store.users``."""

    def __init__(self, db: Database, audit: AuditLog):
        self._db = db
        self._audit = audit
        self._hasher = PasswordHasher()
        self._dummy: str | None = None  # made on the first failed look-up

    def create(self, username: str, display_name: str, role: str, password: str,
               actor: str = "system") -> User:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if len(password) < 8:
            raise AuthError(_SHORT)
        now = self._db.now()
        row = UserRow(username=username, display_name=display_name, role=role,
                      password_hash=self._hasher.hash(password), active=True, created_at=now)
        with self._db.write() as s:
            if s.get(UserRow, username) is not None:
                raise DuplicateError(Text("用户名已存在。", "That user name is taken."))
            s.add(row)
            self._audit.append(s, actor, AuditAction.USER_CHANGED, username,
                               {"change": "created", "role": role}, now)
        return _user(row)

    def authenticate(self, username: str, password: str) -> User:
        """The user when the password is right (login audited); else ``AuthError`` (the failed
        attempt is audited too). Old argon2 parameters are upgraded on the way."""
        now = self._db.now()
        failed = AuthError(Text("用户名或密码错误。", "Wrong user name or password."))
        with self._db.write() as s:
            row = s.get(UserRow, username)
            ok = False
            # Unknown users cost one argon2 verify as well: no user-name probing by timing.
            known = row is not None and row.active
            if not known and self._dummy is None:
                self._dummy = self._hasher.hash(uuid.uuid4().hex)
            stored = row.password_hash if known else self._dummy
            try:
                ok = self._hasher.verify(stored, password) and known
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok:
                self._audit.append(s, username, AuditAction.LOGIN_FAILED, username, {}, now)
            else:
                assert row is not None
                if self._hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = self._hasher.hash(password)
                row.last_login_at = now
                self._audit.append(s, username, AuditAction.LOGIN, username, {}, now)
                user = _user(row)
        if not ok:
            raise failed
        return user

    def set_password(self, username: str, password: str, actor: str) -> None:
        if len(password) < 8:
            raise AuthError(_SHORT)
        now = self._db.now()
        with self._db.write() as s:
            row = s.get(UserRow, username)
            if row is None:
                raise NotFoundError(detail="user")
            if row.source == PLATFORM_SOURCE:
                raise PlatformAccount(detail=username)
            row.password_hash = self._hasher.hash(password)
            self._audit.append(s, actor, AuditAction.USER_CHANGED, username,
                               {"change": "password"}, now)

    def set_active(self, username: str, active: bool, actor: str) -> User:
        now = self._db.now()
        with self._db.write() as s:
            row = s.get(UserRow, username)
            if row is None:
                raise NotFoundError(detail="user")
            if row.source == PLATFORM_SOURCE:
                raise PlatformAccount(detail=username)
            row.active = active
            self._audit.append(s, actor, AuditAction.USER_CHANGED, username,
                               {"change": "active" if active else "disabled"}, now)
            return _user(row)

    def all(self) -> list[User]:
        with self._db.read() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def get(self, username: str) -> User | None:
        with self._db.read() as s:
            row = s.get(UserRow, username)
            return _user(row) if row else None


def _user(r: UserRow) -> User:
    return User(username=r.username, display_name=r.display_name, role=r.role, active=r.active,
                created_at=r.created_at, last_login_at=r.last_login_at)
