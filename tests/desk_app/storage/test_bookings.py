"""Bookings cached from the platform, with their risk data."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from desk_app.booking.model import Booking, BookingRisk
from desk_app.identity.hashing import ScryptParams, slow_hash

from .conftest import T0


def booking(bid: str = "BK-1", ref: str = "A1B2C3D4", **kw) -> Booking:
    salt = b"per-booking-salt"
    base = dict(
        booking_id=bid, reference=ref, hospital_id="H001", department_code="0301",
        department_name="心内科", doctor_name="李医生", slot_start=T0 + timedelta(hours=1),
        slot_end=T0 + timedelta(hours=1, minutes=30),
        patient_hash=slow_hash("110101199003071234", salt, ScryptParams(n=2**10)),
        patient_salt=salt, patient_last4="1234",
        risk=BookingRisk(booked_at=T0 - timedelta(days=2),
                         slot_released_at=T0 - timedelta(days=2, seconds=2),
                         rebooked_minutes_after_cancel=3.5, account_id="acct-9",
                         account_patients_30d=7, patient_bookings_today=2,
                         patient_same_department_today=1, patient_cancellations_30d=4),
        kdf=ScryptParams(n=2**10),
    )
    base.update(kw)
    return Booking(**base)


def test_bookings_delta_round_trip_and_cursor(store):
    b1, b2 = booking(), booking("BK-2", "ZZ99ZZ99", status="cancelled")
    assert store.bookings.apply_delta([b1, b2], cursor="c-17") == 2
    assert store.bookings.by_id("BK-1") == b1
    assert store.bookings.by_ref(" a1b2c3d4 ") == b1
    assert store.bookings.by_id("BK-2").status == "cancelled"
    assert store.bookings.by_id("nope") is None and store.bookings.by_ref("nope") is None
    assert store.cursors.get("bookings") == "c-17"
    changed = booking(doctor_name="王医生", risk=BookingRisk())
    store.bookings.apply_delta([changed], cursor="c-18")
    assert store.bookings.by_id("BK-1") == changed


def test_local_status_change_and_purge(store):
    store.bookings.apply_delta([booking()], cursor=None)
    store.bookings.set_status("BK-1", "checked_in")
    assert store.bookings.by_id("BK-1").status == "checked_in"
    assert store.bookings.purge(T0 + timedelta(days=1)) == 1
    assert store.bookings.by_id("BK-1") is None


def test_patient_last4_not_in_clear(store, app_paths):
    store.bookings.apply_delta([booking(patient_last4="9X7Q")], cursor=None)
    store.close()
    blob = b"".join(p.read_bytes() for p in app_paths.data_dir.glob("desk.sqlite3*"))
    assert b"9X7Q" not in blob
    con = sqlite3.connect(app_paths.database_file)
    assert con.execute("SELECT count(*) FROM bookings").fetchone() == (1,)
    con.close()


def test_admitted_visit_marks_its_booking_checked_in(store):
    from desk_app.storage import Override

    from .conftest import make_visit

    store.bookings.apply_delta([booking(), booking("BK-2", "B2")], cursor=None)
    store.visits.record(make_visit(booking_id="BK-1", verdict="admit"))
    assert store.bookings.by_id("BK-1").status == "checked_in"
    v = store.visits.record(make_visit(booking_id="BK-2", verdict="reject"))
    assert store.bookings.by_id("BK-2").status == "active"
    store.visits.override(v.visit_id, Override("sec1", "checked by hand", "admit"))
    assert store.bookings.by_id("BK-2").status == "checked_in"
