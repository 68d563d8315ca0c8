"""Staff accounts on the platform: one place for every person who signs in anywhere.

A hospital's clerks, guards and administrators (``clerk``, ``security``, ``admin``) belong to
that hospital; its desks pull them by version (``delta``) with their argon2 hashes, so a desk
signs them in offline and a person disabled here is refused at every desk after its next sync.
The police, the booking platform's operators and the health commission (``police``,
``platform``, ``commission``) belong to no hospital: they sign in to the platform's console.

Passwords are argon2id hashes (argon2-cffi defaults); five wrong passwords lock an account for a
quarter of an hour. Unknown names cost one argon2 verify as well, so names cannot be probed by
timing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, RowMapping, case, delete, literal, null, or_, select, update

from desk_platform import db as T
from desk_platform.db import Database, delta_page, next_seq
from desk_platform.errors import Conflict, NotFound, PlatformError, Unauthorized
from sync import protocol as P

MIN_PASSWORD = 8
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
_COUNTER = "staff"


class StaffRole(StrEnum):
    CLERK = "clerk"
    SECURITY = "security"
    ADMIN = "admin"  # the hospital's administrator
    POLICE = "police"
    PLATFORM = "platform"  # the booking platform's operators
    COMMISSION = "commission"  # the health commission


#: Roles that belong to one hospital (and are cached by its desks).
HOSPITAL_ROLES = frozenset({StaffRole.CLERK, StaffRole.SECURITY, StaffRole.ADMIN})


@dataclass(frozen=True)
class StaffMember:
    username: str
    display_name: str
    role: StaffRole
    hospital_id: str | None
    active: bool
    version: int
    updated_at: datetime
    updated_by: str = ""  # who made the last change (a user name, "cli", "system")


@dataclass(frozen=True)
class StaffDelta:
    """What a desk pulls: the changed accounts of its hospital (with hashes), and the version to
    ask from next time."""

    members: list[tuple[StaffMember, str]]  # (member, argon2 hash)
    version: int
    more: bool = False  # another page waits after ``version``


class Staff:
    """The staff accounts (table ``staff``)."""

    def __init__(self, db: Database, *, hasher: PasswordHasher | None = None):
        self.db = db
        self._hasher = hasher or PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    # --- managing ---------------------------------------------------------------------------------

    def add(self, username: str, display_name: str, role: StaffRole | str, password: str, *,
            hospital_id: str | None = None, actor: str = "system") -> StaffMember:
        role = StaffRole(role)
        username = _check_username(username)
        display_name = display_name.strip()
        if not display_name or len(display_name) > 200:
            raise ValueError("a display name of 1 to 200 characters is needed")
        if (role in HOSPITAL_ROLES) != bool(hospital_id):
            raise ValueError(f"a {role.value} account {'needs' if role in HOSPITAL_ROLES else 'has no'}"
                             " hospital")
        _check_password(password)
        now = datetime.now(UTC)
        with self.db.write() as conn:
            if conn.execute(select(T.staff.c.username)
                            .where(T.staff.c.username == username)).first() is not None:
                raise ValueError(f"the user name {username!r} is taken")
            conn.execute(T.staff.insert().values(
                username=username, display_name=display_name, role=role.value,
                hospital_id=hospital_id, password_hash=self._hasher.hash(password), active=True,
                version=next_seq(self.db, conn, _COUNTER), failed_logins=0, locked_until=None,
                created_at=now, updated_at=now, updated_by=actor[:200]))
            return self._get(conn, username)

    def set_active(self, username: str, active: bool, *, actor: str = "system") -> StaffMember:
        return self._change(username, actor, active=active, failed_logins=0, locked_until=None)

    def set_password(self, username: str, password: str, *, actor: str = "system",
                     keep_session: str | None = None) -> StaffMember:
        """A new password (unlocks the account). The account's console sessions end in the
        same transaction, whoever set it (the CLI, the API, an administrator), except
        ``keep_session``: the stored hash of the session a person changed their own password
        in."""
        _check_password(password)
        return self._change(username, actor, ending_sessions=True, keep_session=keep_session,
                            password_hash=self._hasher.hash(password), failed_logins=0,
                            locked_until=None)

    def _change(self, username: str, actor: str, *, ending_sessions: bool = False,
                keep_session: str | None = None, **values: object) -> StaffMember:
        with self.db.write() as conn:
            self._get(conn, username)  # NotFound first
            conn.execute(update(T.staff).where(T.staff.c.username == username).values(
                version=next_seq(self.db, conn, _COUNTER), updated_at=datetime.now(UTC),
                updated_by=actor[:200], **values))
            if ending_sessions:
                cs = T.console_sessions.c
                conn.execute(delete(T.console_sessions).where(
                    cs.username == username, cs.session_hash != (keep_session or "")))
            return self._get(conn, username)

    # --- reading ----------------------------------------------------------------------------------

    def get(self, username: str) -> StaffMember:
        with self.db.read() as conn:
            return self._get(conn, username)

    def members(self, hospital_id: str | None = None) -> list[StaffMember]:
        q = select(T.staff).order_by(T.staff.c.username)
        if hospital_id is not None:
            q = q.where(T.staff.c.hospital_id == hospital_id)
        with self.db.read() as conn:
            return [_member(r) for r in conn.execute(q).mappings()]

    def delta(self, hospital_id: str, since: int = 0, limit: int = 1000) -> StaffDelta:
        """The hospital's accounts changed after version ``since`` (disabled ones included)."""
        with self.db.read() as conn:
            rows, version, more = delta_page(
                conn, _COUNTER, select(T.staff).where(T.staff.c.hospital_id == hospital_id),
                T.staff.c.version, since, limit)
        return StaffDelta([(_member(r._mapping), r.password_hash) for r in rows], version, more)

    # --- signing in -------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> StaffMember:
        """The member when the password is right and the account active and not locked; else
        :class:`Unauthorized` (the same answer whatever was wrong).

        Each attempt is counted before its password is checked (``_count_attempt``), so guesses
        sent in parallel count one each and no more than five are ever checked before the lock.
        """
        refused = Unauthorized("wrong user name or password, or the account is locked")
        row = self._count_attempt(username.strip().lower(), datetime.now(UTC))
        try:
            ok = self._hasher.verify(row["password_hash"] if row else self._dummy,
                                     password) and row is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None:
            raise refused
        values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
        if self._hasher.check_needs_rehash(row["password_hash"]):
            values["password_hash"] = self._hasher.hash(password)
        s = T.staff.c
        with self.db.write() as conn:  # not if the password or the account changed meanwhile
            if not conn.execute(update(T.staff).where(
                    s.username == row["username"], s.version == row["version"])
                    .values(**values)).rowcount:
                raise refused
        return _member(row)

    def _count_attempt(self, username: str, now: datetime) -> RowMapping | None:
        """Count a sign-in attempt of an active, unlocked account in one atomic
        ``UPDATE ... RETURNING`` (the row lock orders parallel attempts): the fifth in a row
        locks the account until a right password clears it or the lock runs out (the count then
        starts again). The account's row, or None when it is unknown, disabled or locked."""
        s = T.staff.c
        count = case((s.locked_until.is_(None), s.failed_logins), else_=0) + 1
        until = literal(now + LOCKOUT, s.locked_until.type)
        with self.db.write() as conn:
            return conn.execute(
                update(T.staff).where(s.username == username, s.active.is_(True),
                                      or_(s.locked_until.is_(None), s.locked_until <= now))
                .values(failed_logins=count,
                        locked_until=case((count >= MAX_FAILURES, until), else_=null()))
                .returning(*T.staff.c)).mappings().first()

    @staticmethod
    def _get(conn: Connection, username: str) -> StaffMember:
        row = conn.execute(select(T.staff).where(T.staff.c.username == username)).mappings().first()
        if row is None:
            raise NotFound(f"no staff account {username!r}")
        return _member(row)


def _member(r: RowMapping) -> StaffMember:
    return StaffMember(username=r["username"], display_name=r["display_name"],
                       role=StaffRole(r["role"]), hospital_id=r["hospital_id"],
                       active=bool(r["active"]), version=int(r["version"]),
                       updated_at=r["updated_at"], updated_by=r["updated_by"] or "")


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not (1 <= len(name) <= 64) or not all(c.isalnum() or c in "._-" for c in name):
        raise ValueError("a user name is 1 to 64 letters, digits, '.', '_' or '-'")
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")


# --- the API's view (sync.protocol models) --------------------------------------------------------


def member_wire(m: StaffMember) -> P.StaffMemberWire:
    assert m.hospital_id is not None
    return P.StaffMemberWire(username=m.username, display_name=m.display_name,
                             role=P.StaffRoleWire(m.role.value), hospital_id=m.hospital_id,
                             active=m.active, version=m.version, updated_at=m.updated_at)


def delta_wire(staff: Staff, hospital_id: str, since: int, limit: int) -> P.StaffDelta:
    d = staff.delta(hospital_id, since, limit)
    return P.StaffDelta(
        hospital_id=hospital_id, version=d.version, more=d.more,
        accounts=[P.StaffAccountWire(**member_wire(m).model_dump(), password_hash=h)
                  for m, h in d.members])


def hospital_member(staff: Staff, hospital_id: str, username: str) -> StaffMember:
    """The account ``username`` of ``hospital_id``; :class:`NotFound` for another hospital's
    (an administrator learns nothing about the accounts of other hospitals)."""
    try:
        m = staff.get(username.strip().lower())
    except NotFound:
        m = None
    if m is None or m.hospital_id != hospital_id:
        raise NotFound(f"no staff account {username!r} at hospital {hospital_id}")
    return m


def add_for_hospital(staff: Staff, hospital_id: str, req: P.StaffAddRequest, actor: str
                     ) -> StaffMember:
    try:
        return staff.add(req.username, req.display_name, req.role.value, req.password,
                         hospital_id=hospital_id, actor=actor)
    except ValueError as exc:
        if "taken" in str(exc):
            raise Conflict(str(exc)) from None
        raise PlatformError(str(exc)) from None
