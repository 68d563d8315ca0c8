"""The wire models of staff accounts, of the security office's "handled" and late desk alerts,
and of the insiders' weekly figures: part of :mod:`sync.protocol` (re-exported there; kept apart for its size)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from desk_app.alert_ids import made_alert_id as _made_alert_id
from sync.protocol import (
    AlertKind,
    Answer,
    AwareDatetime,
    Code,
    Ident,
    PlainText,
    Request,
    UuidStr,
)

__all__ = [
    "AlertHandled", "InsiderPersonWeek", "InsiderPersonWire", "InsiderStored", "InsiderWeek",
    "InsiderWeekReport", "Password", "StaffAccountWire", "StaffActiveRequest", "StaffAddRequest",
    "StaffDelta", "StaffMemberWire", "StaffPasswordRequest", "StaffRoleWire", "Username",
    "VisitAlert", "VisitAlertResult", "Week", "made_alert_id",
]


def made_alert_id(kind: AlertKind, hospital_id: str, key: str) -> str:
    """The id of an alert the platform makes once per ``key`` (e.g. a desk's alert per visit:
    ``made_alert_id(DESK_ALERT, hospital, visit_id)``), known to the desk as well."""
    return _made_alert_id(kind.value, hospital_id, key)


class VisitAlert(Request):
    """A desk flagged a visit for security after the visit was recorded (the clerk judged the
    face "not the same person"): the platform makes the visit's ``desk_alert``, the same alert
    an upload with ``alert: true`` makes, so sending it again, or after such an upload, makes
    none twice. ``codes``: the reasons of the verdict that alerted (codes only, no person)."""

    visit_id: UuidStr
    at: AwareDatetime
    codes: Annotated[list[Code], Field(max_length=8)] = []


class VisitAlertResult(Answer):
    visit_id: str
    alert_id: str
    status: Literal["stored", "duplicate"]


class AlertHandled(Request):
    """A guard handled an alert (at any desk of the hospital): once for all desks."""

    handled_by: Annotated[PlainText, StringConstraints(min_length=1, max_length=64)]
    note: Annotated[PlainText, StringConstraints(max_length=500)] = ""


# --- staff accounts (the hospital's clerks, guards and administrators) ----------------------------


class StaffRoleWire(StrEnum):
    """The roles a hospital's desks sign in with (the desk's own role names)."""

    CLERK = "clerk"
    SECURITY = "security"
    ADMIN = "admin"


Username = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                            pattern=r"^[A-Za-z0-9._-]+$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]


class StaffMemberWire(Answer):
    """A staff account as its hospital's administrator sees it (never the hash)."""

    username: str
    display_name: str
    role: StaffRoleWire
    hospital_id: str
    active: bool
    version: int
    updated_at: AwareDatetime


class StaffAccountWire(StaffMemberWire):
    """What a desk caches: the account with its argon2 hash (the desk never sees a password)."""

    password_hash: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class StaffDelta(Answer):
    """The hospital's accounts changed after ``since`` (disabled ones included), and the version
    to ask from next time."""

    hospital_id: str
    accounts: list[StaffAccountWire]
    version: int
    more: bool


class StaffAddRequest(Request):
    username: Username
    display_name: Annotated[PlainText, StringConstraints(min_length=1, max_length=200)]
    role: StaffRoleWire
    password: Password


class StaffActiveRequest(Request):
    active: bool


class StaffPasswordRequest(Request):
    password: Password


# --- insiders (staff far above their colleagues) ---------------------------------------------------


class InsiderPersonWire(Request):
    person: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    decisions: int = Field(0, ge=0, le=10**6)
    overrides: int = Field(0, ge=0, le=10**6)
    judged: int = Field(0, ge=0, le=10**6)
    fast_confirms: int = Field(0, ge=0, le=10**6)
    far_above: list[Literal["overrides", "fast_confirms"]] = Field(default_factory=list,
                                                                  max_length=2)


Week = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-W[0-9]{2}$")]


class InsiderWeekReport(Request):
    """One desk's figures of one ISO week, per person (a newer report replaces the older)."""

    hospital_id: Ident
    desk_id: Ident
    week: Week
    people: list[InsiderPersonWire] = Field(max_length=500)


class InsiderStored(Answer):
    week: str
    stored: int


class InsiderPersonWeek(Answer):
    person: str
    desks: list[str]
    decisions: int
    overrides: int
    judged: int
    fast_confirms: int
    far_above: list[str]  # over the whole hospital's staff that week


class InsiderWeek(Answer):
    hospital_id: str
    week: str
    people: list[InsiderPersonWeek]
