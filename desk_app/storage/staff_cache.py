"""The hospital's staff accounts as the platform manages them, cached in the desk's ``users``
table (revision 4) so a desk signs them in offline.

The platform sends each changed account with its argon2 hash (the desk never sees a password);
one page is applied together with its version cursor (``staff``) in one transaction, like every
other delta. A cached row is marked ``source = 'platform'`` and is not edited on the desk (the
platform is the one place to change it); an account made on the desk (the bootstrap
administrator) stays ``'local'`` and keeps working. An account of the platform with the name of a
local one replaces it: the hospital's administrator decides who signs in under that name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desk_app.storage.audit import AuditAction
from desk_app.storage.db import rowcount
from desk_app.storage.keys import Cursors
from desk_app.storage.records import ROLES
from desk_app.storage.schema import UserRow
from desk_app.storage.store import Store
from desk_app.storage.users import PLATFORM_SOURCE, PlatformAccount

CURSOR = "staff"
#: ``source_version`` of a cached account kept from before the platform's restore.
STALE_VERSION = -1
LOCAL = "local"
PLATFORM = PLATFORM_SOURCE


@dataclass(frozen=True)
class CachedAccount:
    """One account as the platform sent it."""

    username: str
    display_name: str
    role: str  # "clerk" | "security" | "admin"
    active: bool
    version: int
    password_hash: str  # argon2, as the platform keeps it


@dataclass(frozen=True)
class StaffApplied:
    changed: int
    # Accounts whose session must end now: disabled, or given another role.
    sign_out: frozenset[str]


@dataclass(frozen=True)
class AccountSource:
    username: str
    source: str  # "local" | "platform"
    version: int | None


class StaffCache:
    """Reads and writes the platform's accounts through the store's unit of work."""

    def __init__(self, store: Store):
        self.store = store

    def version(self) -> int:
        value = self.store.cursors.get(CURSOR)
        try:
            return int(value) if value else 0
        except ValueError:
            return 0

    def apply(self, accounts: Sequence[CachedAccount], version: int) -> StaffApplied:
        """Upsert one page of accounts and move the cursor to ``version``, in one transaction.
        An account the platform sent with an unknown role is stored disabled."""
        store = self.store
        now = store.now()
        sign_out: set[str] = set()
        changed = 0
        with store.db.write() as s:
            for a in accounts:
                usable = a.active and a.role in ROLES
                row = s.get(UserRow, a.username)
                if row is not None and row.source == PLATFORM and (
                        row.source_version or 0) >= a.version:
                    continue  # a page applied again: nothing to do
                if row is None:
                    row = UserRow(username=a.username, created_at=now)
                    s.add(row)
                    change = "platform_added"
                else:
                    change = "platform_replaced_local" if row.source != PLATFORM else (
                        "platform_changed")
                    if row.role != a.role:
                        sign_out.add(a.username)
                # A new password or an account enabled again starts the failed-login count
                # afresh, as on the platform (``desk-app users unlock`` does the same).
                unlock = usable and row.password_hash is not None and (
                    row.password_hash != a.password_hash or not row.active)
                row.display_name = a.display_name[:200]
                row.role = a.role if a.role in ROLES else "clerk"
                row.password_hash = a.password_hash
                row.active = usable
                row.source = PLATFORM
                row.source_version = a.version
                if not usable:
                    sign_out.add(a.username)
                changed += 1
                store.audit.append(s, "sync", AuditAction.USER_CHANGED, a.username, {
                    "change": change, "role": row.role, "active": usable,
                    "version": a.version}, now)
                if unlock:
                    store.audit.append(s, "sync", AuditAction.LOGIN_UNLOCKED, a.username,
                                        {"why": "platform"}, now)
            Cursors.put(s, CURSOR, str(version), now)
        return StaffApplied(changed, frozenset(sign_out))

    @staticmethod
    def mark_stale(s: Session) -> int:
        """The platform's database was restored from a backup: the versions it sends again may
        be lower than the cached ones (a disable or a new password made after the backup is
        lost there), and the platform is the truth. In the caller's transaction (the one that
        sets the ``staff`` cursor back to 0) every cached account gets :data:`STALE_VERSION`,
        so the re-pull replaces it whatever version it brings. The accounts stay as they are
        until then (sign-in keeps working offline)."""
        return rowcount(s.execute(update(UserRow).where(UserRow.source == PLATFORM)
                                  .values(source_version=STALE_VERSION)))

    def sources(self) -> dict[str, AccountSource]:
        with self.store.db.read() as s:
            return {r.username: AccountSource(r.username, r.source, r.source_version)
                    for r in s.scalars(select(UserRow))}

    def check_local(self, username: str) -> None:
        """Raise :class:`PlatformAccount` when ``username`` is the platform's (before a local
        change of its password or state)."""
        src = self.sources().get(username)
        if src is not None and src.source == PLATFORM:
            raise PlatformAccount(detail=username)
