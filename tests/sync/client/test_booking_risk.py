"""What the platform says of a booking reaches the desk's rules whole: the risk counters (the
same doctor twice on one day among them) and the scrypt cost its patient hash was made with.
The real platform process, a real desk store filled by the real sync worker, the real engine."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from desk_app.booking import patient_matches
from desk_app.checkin import engine
from desk_app.checkin.model import FaceCheck, IdDocument
from desk_app.clock import CHINA_TZ
from desk_app.identity import parse_id_number
from desk_app.identity.hashing import DEFAULT_SCRYPT, ScryptParams, b64d, b64e, slow_hash
from desk_app.identity.testing import make_id_number
from desk_app.settings import PolicySection
from sync import convert
from sync import protocol as P

from .conftest import HOSPITAL

PATIENT = make_id_number("110101", date(1980, 1, 2), 11, sex="M")


def book(platform, start: datetime, doctor: str = "李医生") -> P.IssuedBooking:
    return platform.service.bookings.book(P.BookingRequest(
        hospital_id=HOSPITAL, department_code="CARD", department_name="心内科",
        doctor_name=doctor, slot_start=start, slot_minutes=15, id_number=PATIENT,
        account_id="acct-risk"))


def test_the_same_doctor_twice_today_reaches_the_desks_rule(platform, desks):
    day = datetime.now(CHINA_TZ).replace(hour=0, minute=0, second=0, microsecond=0) \
        + timedelta(days=3)
    book(platform, day.replace(hour=9))
    second = book(platform, day.replace(hour=10))
    assert second.booking.risk.patient_same_doctor_today == 2
    desk = desks(platform.server.url)
    desk.worker.run_once()
    cached = desk.store.bookings.by_id(second.booking.booking_id)
    assert cached is not None and cached.risk.patient_same_doctor_today == 2
    # Two bookings a day in one department (two doctors) are allowed; one per doctor.
    policy = PolicySection(max_same_department_per_day=2, max_same_doctor_per_day=1)
    verdict = engine.decide(
        now=cached.slot_start - timedelta(minutes=10), policy=policy, booking=cached,
        patient_matches=True, document=IdDocument(parse_id_number(PATIENT)),
        face=FaceCheck("match", 0.3, "passed"), blacklist_age=timedelta(0))
    assert "same_doctor_twice" in verdict.codes()


def test_a_bookings_scrypt_cost_is_kept(platform):
    """A platform that hashed a booking's patient with another scrypt cost says so in ``kdf``;
    the desk must hash the card with the same cost, or the genuine patient is 'not the booking's
    patient' when the booking reference is typed."""
    day = datetime.now(CHINA_TZ).replace(hour=0, minute=0, second=0, microsecond=0) \
        + timedelta(days=4)
    wire = book(platform, day.replace(hour=11), doctor="王医生").booking
    assert convert.booking(wire).kdf == DEFAULT_SCRYPT  # none sent: the default
    cheap = ScryptParams(n=2**10)
    rehashed = wire.model_copy(update={
        "kdf": P.ScryptParamsWire(**cheap.as_dict()),
        "patient_hash": b64e(slow_hash(PATIENT, b64d(wire.patient_salt), cheap))})
    booking = convert.booking(P.BookingWire.model_validate(rehashed.model_dump(mode="json")))
    assert booking.kdf == cheap and patient_matches(booking, PATIENT)
