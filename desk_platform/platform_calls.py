"""The platform operations the console's modules use, in one place (each one line over the
platform's parts: ``platform.blacklist``, ``platform.bookings``, ``platform.enrollment``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync import protocol as P


def ban(plat: Any, id_number: str, *, source: P.BlacklistSource, reason: str, days: float,
        created_by: str, valid_from: datetime | None = None) -> P.BlacklistEntryWire:
    return plat.blacklist.add(id_number, source=source, reason=reason, days=days,
                              created_by=created_by, valid_from=valid_from)


def unban(plat: Any, entry_id: str) -> P.BlacklistEntryWire:
    return plat.blacklist.remove(entry_id)


def reveal(plat: Any, entry_id: str) -> P.BlacklistPlain:
    return plat.blacklist.reveal(entry_id)


def find(plat: Any, id_number: str) -> list[Any]:
    return plat.blacklist.find(id_number)


def ensure_hospital(plat: Any, hospital_id: str, name: str) -> None:
    plat.enrollment.ensure_hospital(hospital_id, name)


def book(plat: Any, req: P.BookingRequest) -> P.IssuedBooking:
    return plat.bookings.book(req)


def cancel(plat: Any, booking_id: str) -> P.CancelResult:
    return plat.bookings.cancel(booking_id)


def open_slots(plat: Any, *args: Any, **kw: Any) -> list[str]:
    return plat.bookings.open_slots(*args, **kw)


def enroll_desk(plat: Any, hospital_id: str, desk_id: str) -> str:
    """A desk token for a new desk (tests and demos: the code is spent at once)."""
    code = plat.enrollment.create_code(hospital_id, desk_id, created_by="console").code
    return plat.enrollment.enroll(P.EnrollRequest(code=code)).token


def issue_token(plat: Any, role: P.Role, name: str) -> str:
    return plat.enrollment.issue_token(role, name)[0]


def bookings_delta(plat: Any, hospital_id: str, cursor: int, limit: int) -> P.BookingsDelta:
    return plat.bookings.delta(hospital_id, cursor, limit)
