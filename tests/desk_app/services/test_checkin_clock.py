"""A desk clock that is off the platform's by a known amount (the skew the sync worker measured):
bans and booking tokens are judged on the platform's time, the check-in is recorded on the
desk's, and the verdict tells IT to set the clock. Real store, real signed tokens, real engine."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from desk_app.booking import (
    Booking,
    BookingCodeError,
    booking_claims,
    parse_booking_code,
    sign_booking_token,
)
from desk_app.identity.hashing import slow_hash
from desk_app.services.model import Decision
from desk_app.services.views import reason_view
from desk_app.storage import BlacklistEntry
from tests.desk_app.storage.conftest import synced

from .test_checkin import BIDEN, FAST_KDF, NOW, OBAMA, PLATFORM_SALT, Desk

BEHIND = timedelta(hours=3)  # the platform's clock minus the desk's
PLATFORM_NOW = NOW + BEHIND


@pytest.fixture
def desk(store, faces_dir, users):
    return Desk(store, faces_dir, users)


def behind(desk: Desk, skew: timedelta = BEHIND) -> None:
    """The desk clock runs ``skew`` behind the platform's, as a sync cycle completed just now
    measured it; the blacklist was pulled then."""
    synced(desk.store, skew.total_seconds())
    desk.store.cursors.set("blacklist.checked_at", (NOW + skew).isoformat())


def booking_token(desk: Desk, id_number: str, issued: timedelta) -> str:
    """A booking the platform signed ``issued`` ago on its clock, for a slot 20 minutes on."""
    salt = os.urandom(16)
    b = Booking(booking_id=f"BC{issued.total_seconds():.0f}", reference="", hospital_id="H001",
                department_code="CARD", department_name="心内科", doctor_name="李医生",
                slot_start=PLATFORM_NOW + timedelta(minutes=20),
                slot_end=PLATFORM_NOW + timedelta(minutes=50),
                patient_hash=slow_hash(id_number, salt, FAST_KDF), patient_salt=salt,
                patient_last4=id_number[-4:], kdf=FAST_KDF)
    claims = booking_claims(b, PLATFORM_NOW - issued, PLATFORM_NOW + timedelta(hours=4))
    return sign_booking_token(claims, desk.key, desk.kid)


def ban(desk: Desk, id_number: str, began: timedelta) -> None:
    """A police ban the platform began ``began`` ago on its clock."""
    start = PLATFORM_NOW - began
    desk.store.blacklist.apply_delta([BlacklistEntry(
        entry_id="E1", id_hash=slow_hash(id_number, PLATFORM_SALT, FAST_KDF),
        last4=id_number[-4:], source="police", reason="号贩子", version=1,
        valid_from=start, valid_to=start + timedelta(days=91))], 1)


def check_in(desk: Desk, token: str, id_number: str):
    s = desk.service.new_patient()
    s = desk.service.submit_code(s.session_id, token, "camera")
    return desk.service.submit_id_number(s.session_id, id_number)


def test_a_ban_begun_an_hour_ago_rejects_on_a_desk_clock_three_hours_behind(desk):
    behind(desk)
    ban(desk, OBAMA, began=timedelta(hours=1))
    s = check_in(desk, booking_token(desk, OBAMA, timedelta(days=1)), OBAMA)
    assert s.verdict.decision is Decision.REJECT and s.verdict.alert_security
    codes = [r.code for r in s.verdict.reasons]
    assert "blacklist_hit" in codes and "blacklist_stale" not in codes
    assert "too_early" not in codes and "too_late" not in codes  # the slot is the platform's
    clock = s.verdict.reasons[codes.index("desk_clock_off")]
    assert clock.severity == "warn" and "180 分钟" in clock.text.zh and "信息科" in clock.text.zh
    assert "180 minutes behind" in clock.text.en
    # The check-in is recorded on the desk's clock (the contract's), and the stored reason
    # has a short title for the security screen and exports.
    visit = desk.store.visits.get(s.visit_id)
    assert visit.checked_in_at == NOW
    stored = next(r for r in visit.reasons if r.code == "desk_clock_off")
    assert reason_view(stored).text.zh.startswith("本机时钟")


def test_a_desk_clock_ahead_is_named_and_a_ban_not_begun_yet_is_not_in_force(desk):
    behind(desk, -BEHIND)  # the desk runs 3 h ahead: a ban the platform begins in 1 h
    start = NOW - BEHIND + timedelta(hours=1)
    desk.store.blacklist.apply_delta([BlacklistEntry(
        entry_id="E1", id_hash=slow_hash(BIDEN, PLATFORM_SALT, FAST_KDF), last4=BIDEN[-4:],
        source="police", reason="号贩子", version=1, valid_from=start,
        valid_to=start + timedelta(days=91))], 1)
    _, token = desk.booking(BIDEN)  # issued a day ago: valid on either clock
    s = check_in(desk, token, BIDEN)
    codes = [r.code for r in s.verdict.reasons]
    assert "blacklist_hit" not in codes
    clock = s.verdict.reasons[codes.index("desk_clock_off")]
    assert "快 180 分钟" in clock.text.zh and "ahead of" in clock.text.en


@pytest.mark.parametrize("skew", [timedelta(minutes=2), timedelta(days=400)],
                         ids=["within-minutes", "absurd"])
def test_a_small_or_absurd_skew_gives_no_clock_warning(desk, skew):
    """Two minutes is no clock to call IT about; 400 days is no measurement at all (ignored,
    as for the blacklist's age: the desk's own clock decides)."""
    synced(desk.store, skew.total_seconds())
    ban(desk, OBAMA, began=BEHIND + timedelta(hours=1))  # in force at NOW on the desk clock
    _, token = desk.booking(OBAMA)
    s = check_in(desk, token, OBAMA)
    codes = [r.code for r in s.verdict.reasons]
    assert "blacklist_hit" in codes and "desk_clock_off" not in codes


def test_a_token_issued_minutes_ago_is_valid_on_the_platform_time_the_desk_knows(desk):
    """The booking token's times are the platform's: checked on ``Decider.platform_now`` a
    token issued ten minutes ago is valid on a desk three hours behind; on the desk's own
    clock it would not be valid yet."""
    behind(desk)
    token = booking_token(desk, BIDEN, timedelta(minutes=10))
    decider = desk.service.decider
    assert decider.platform_now() == PLATFORM_NOW
    code = parse_booking_code(token, decider.keyset(), decider.revocations(), "H001",
                              decider.platform_now())
    assert code.booking.patient_last4 == BIDEN[-4:]
    with pytest.raises(BookingCodeError) as exc:
        parse_booking_code(token, decider.keyset(), decider.revocations(), "H001",
                           desk.clock.now())
    assert exc.value.reason == "not_yet_valid"


def test_a_token_issued_minutes_ago_checks_in_on_a_desk_three_hours_behind(desk):
    """The check-in service reads the booking code on the platform's time: a booking made ten
    minutes ago is accepted (not "not yet valid") on a desk whose clock runs three hours behind."""
    behind(desk)
    s = desk.service.new_patient()
    s = desk.service.submit_code(s.session_id, booking_token(desk, BIDEN, timedelta(minutes=10)),
                                 "camera")
    s = desk.service.submit_id_number(s.session_id, BIDEN)
    codes = [r.code for r in s.verdict.reasons]
    assert "booking_not_yet_valid" not in codes and "id_matches_booking" in codes


@pytest.mark.parametrize(("starts_in", "hit"), [(timedelta(seconds=1), True),
                                                (timedelta(seconds=10), False)],
                         ids=["within-the-skew-error", "later"])
def test_a_ban_begun_within_the_skews_error_is_in_force(desk, starts_in, hit):
    """The skew is known to about a second (the Date header's whole seconds): a ban the platform
    began a moment "after" the desk's estimate of its clock was begun before the patient came
    (a police ban made while the patient stood at the window); ten seconds is no such error."""
    behind(desk)
    ban(desk, OBAMA, began=-starts_in)
    s = check_in(desk, booking_token(desk, OBAMA, timedelta(days=1)), OBAMA)
    assert ("blacklist_hit" in [r.code for r in s.verdict.reasons]) is hit


def test_a_skew_not_measured_in_the_last_day_is_not_trusted(app_paths, faces_dir, users):
    """The desk clock was three hours behind when a sync cycle last measured it, two days ago;
    it may have been set right since, offline. So the old skew no longer shifts the check-in:
    a ban the platform begins in an hour by the desk's own clock (two hours ago by the old
    skew) is not yet in force, and no clock warning is given."""
    from datetime import UTC, datetime

    from desk_app.clock import FixedClock
    from desk_app.storage import Store

    store_clock = FixedClock(datetime.now(UTC))
    store = Store.open(app_paths, clock=store_clock)
    try:
        desk = Desk(store, faces_dir, users)
        behind(desk)
        ban(desk, OBAMA, began=BEHIND - timedelta(hours=1))  # NOW + 1 h on the desk's clock
        first = [r.code for r in check_in(desk, desk.booking(OBAMA)[1], OBAMA).verdict.reasons]
        assert "blacklist_hit" in first and "desk_clock_off" in first  # measured just now
        store_clock.advance(days=2)
        later = [r.code for r in check_in(desk, desk.booking(OBAMA)[1], OBAMA).verdict.reasons]
        assert "blacklist_hit" not in later and "desk_clock_off" not in later
    finally:
        store.close()
