"""The platform operations the console's modules use, in one place.

``Platform`` is being split into parts (``platform.blacklist.add`` instead of
``platform.blacklist_add`` ...); these functions work with either shape, so the console does not
care which one it runs against. Once the split has landed everywhere, each becomes one line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync import protocol as P


def _part(plat: Any, name: str) -> Any:
    part = getattr(plat, name, None)
    return None if part is None or callable(part) else part


def ban(plat: Any, id_number: str, *, source: P.BlacklistSource, reason: str, days: float,
        created_by: str, valid_from: datetime | None = None) -> P.BlacklistEntryWire:
    part = _part(plat, "blacklist")
    add = part.add if part is not None else plat.blacklist_add
    return add(id_number, source=source, reason=reason, days=days, created_by=created_by,
               valid_from=valid_from)


def unban(plat: Any, entry_id: str) -> P.BlacklistEntryWire:
    part = _part(plat, "blacklist")
    return part.remove(entry_id) if part is not None else plat.blacklist_remove(entry_id)


def reveal(plat: Any, entry_id: str) -> P.BlacklistPlain:
    part = _part(plat, "blacklist")
    return part.reveal(entry_id) if part is not None else plat.blacklist_reveal(entry_id)


def find(plat: Any, id_number: str) -> list[Any]:
    part = _part(plat, "blacklist")
    return part.find(id_number) if part is not None else plat.blacklist_find(id_number)


def ensure_hospital(plat: Any, hospital_id: str, name: str) -> None:
    part = _part(plat, "enrollment")
    (part.ensure_hospital if part is not None else plat.ensure_hospital)(hospital_id, name)


def book(plat: Any, req: P.BookingRequest) -> P.IssuedBooking:
    part = _part(plat, "bookings")
    return part.book(req) if part is not None else plat.book(req)


def cancel(plat: Any, booking_id: str) -> P.CancelResult:
    part = _part(plat, "bookings")
    return part.cancel(booking_id) if part is not None else plat.cancel_booking(booking_id)


def open_slots(plat: Any, *args: Any, **kw: Any) -> list[str]:
    part = _part(plat, "bookings")
    return (part.open_slots if part is not None else plat.open_slots)(*args, **kw)


def enroll_desk(plat: Any, hospital_id: str, desk_id: str) -> str:
    """A desk token for a new desk (tests and demos: the code is spent at once)."""
    part = _part(plat, "enrollment")
    if part is not None:
        code = part.create_code(hospital_id, desk_id, created_by="console").code
        return part.enroll(P.EnrollRequest(code=code)).token
    code = plat.create_enrollment_code(hospital_id, desk_id, created_by="console").code
    return plat.enroll(P.EnrollRequest(code=code)).token


def issue_token(plat: Any, role: P.Role, name: str) -> str:
    part = _part(plat, "enrollment")
    return (part.issue_token if part is not None else plat.issue_token)(role, name)[0]


def bookings_delta(plat: Any, hospital_id: str, cursor: int, limit: int) -> P.BookingsDelta:
    part = _part(plat, "bookings")
    return (part.delta(hospital_id, cursor, limit) if part is not None
            else plat.bookings_delta(hospital_id, cursor, limit))
