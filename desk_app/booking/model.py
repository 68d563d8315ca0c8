"""Bookings as the desk knows them: sent by the platform, cached by storage, read by check-in.

Frozen values only; the ID number of the patient is never here, only its salted slow hash and
last 4 characters (see :mod:`desk_app.identity.hashing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from desk_app.identity.hashing import DEFAULT_SCRYPT, ScryptParams

BookingStatus = Literal["active", "cancelled", "checked_in"]
BOOKING_STATUSES: tuple[str, ...] = ("active", "cancelled", "checked_in")


@dataclass(frozen=True)
class BookingRisk:
    """What the platform knows about how the booking came about (scalper signals).

    Counts include this booking. ``None`` means "not known" (e.g. a slot that was bookable from
    the start has no release time); rules that need a missing value do not fire.
    """

    booked_at: datetime | None = None
    slot_released_at: datetime | None = None  # when this slot (last) became bookable
    rebooked_minutes_after_cancel: float | None = None  # after a cancellation of this slot
    account_id: str | None = None
    account_patients_30d: int = 0  # distinct patients this booking account booked for
    patient_bookings_today: int = 0  # this patient's bookings on the slot's day
    patient_same_department_today: int = 0
    patient_cancellations_30d: int = 0
    patient_same_doctor_today: int = 0  # optional on the wire (0: not sent)

    @property
    def booked_seconds_after_release(self) -> float | None:
        if self.booked_at is None or self.slot_released_at is None:
            return None
        return (self.booked_at - self.slot_released_at).total_seconds()


@dataclass(frozen=True)
class Booking:
    booking_id: str
    reference: str  # short plain code, e.g. "A1B2C3D4"
    hospital_id: str
    department_code: str
    department_name: str
    doctor_name: str
    slot_start: datetime  # aware
    slot_end: datetime  # aware
    patient_hash: bytes  # slow_hash(id number, patient_salt, kdf)
    patient_salt: bytes
    patient_last4: str
    status: BookingStatus = "active"
    risk: BookingRisk = field(default_factory=BookingRisk)
    kdf: ScryptParams = DEFAULT_SCRYPT

    def __post_init__(self) -> None:
        if self.status not in BOOKING_STATUSES:
            raise ValueError(f"unknown booking status {self.status!r}")
        if self.slot_start.tzinfo is None or self.slot_end.tzinfo is None:
            raise ValueError("slot times must be aware datetimes")

    def __repr__(self) -> str:  # no patient data in logs
        return (f"Booking({self.booking_id!r}, ref={self.reference!r}, {self.hospital_id}/"
                f"{self.department_code}, {self.slot_start.isoformat()}, {self.status})")
