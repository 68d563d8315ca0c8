from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from desk_app.booking import Booking, BookingRisk, KeySet, booking_claims, new_signing_key
from desk_app.identity.hashing import ScryptParams, slow_hash
from desk_app.identity.testing import make_id_number

#: Cheap scrypt for tests (the token carries it in ``kdf``); one test uses the default.
FAST_KDF = ScryptParams(n=2**10, r=8, p=1)
NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 Beijing
PATIENT = make_id_number("110101", datetime(1990, 3, 7).date(), 123)


def make_booking(number: str = PATIENT, *, booking_id: str = "B0001", reference: str = "A1B2C3D4",
                 hospital_id: str = "H001", status: str = "active", kdf: ScryptParams = FAST_KDF,
                 start: datetime = NOW + timedelta(minutes=30), minutes: int = 30,
                 risk: BookingRisk | None = None) -> Booking:
    salt = secrets.token_bytes(16)
    return Booking(
        booking_id=booking_id, reference=reference, hospital_id=hospital_id,
        department_code="NEI01", department_name="心内科", doctor_name="王医生",
        slot_start=start, slot_end=start + timedelta(minutes=minutes),
        patient_hash=slow_hash(number, salt, kdf), patient_salt=salt, patient_last4=number[-4:],
        status=status, risk=risk or BookingRisk(booked_at=NOW - timedelta(days=3),
                                                account_id="acct-1"),
        kdf=kdf)


@dataclass
class Platform:
    kid: str
    private: object
    keyset: KeySet

    def claims(self, booking: Booking, *, iat: datetime | None = None,
               exp: datetime | None = None) -> dict:
        return booking_claims(booking, iat or NOW - timedelta(days=3),
                              exp or booking.slot_end + timedelta(hours=2))


@pytest.fixture(scope="session")
def platform() -> Platform:
    kid, private = new_signing_key("k2026a")
    return Platform(kid, private, KeySet().with_key(kid, private.public_key()))
