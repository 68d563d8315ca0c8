"""A retired signing key whose private half leaked: ``iat`` is the signer's own claim, so a
backdated token must not outlive the key by more than one booking's life."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk_app.booking import BookingCodeError, KeySet, parse_booking_code, sign_booking_token
from desk_app.booking.codes import BOOKING_HORIZON, MAX_TOKEN_LIFE, TOKEN_GRACE
from tests.desk_app.booking.conftest import NOW, make_booking

RETIRED = NOW - timedelta(days=20)


@pytest.fixture
def retired(platform) -> KeySet:
    return KeySet().with_key(platform.kid, platform.private.public_key(), not_after=RETIRED)


def reason(token: str, keyset: KeySet) -> str:
    with pytest.raises(BookingCodeError) as exc:
        parse_booking_code(token, keyset, (), "H001", NOW)
    return exc.value.reason


def test_a_backdated_token_far_beyond_the_retired_key_is_refused(platform, retired):
    """The reviewer's forgery: iat a minute before not_after, exp a year on, a booking id the
    desk never saw. It was admitted."""
    forged = sign_booking_token(
        platform.claims(make_booking(booking_id="BFORGED0001"), iat=RETIRED - timedelta(minutes=1),
                        exp=NOW + timedelta(days=365)), platform.private, platform.kid)
    assert reason(forged, retired) == "unknown_key"


def test_a_booking_made_further_ahead_than_the_horizon_still_checks_in(platform):
    """The platform sets no booking horizon: a genuine booking made 40 days before its slot,
    signed by a key retired since, ends within a booking's life of the retirement and checks
    in (its 40-day span is no sign of forgery)."""
    ks = KeySet().with_key(platform.kid, platform.private.public_key(),
                           not_after=NOW - timedelta(days=1))
    booking = make_booking()
    token = sign_booking_token(
        platform.claims(booking, iat=NOW - timedelta(days=40),
                        exp=booking.slot_end + TOKEN_GRACE), platform.private, platform.kid)
    assert parse_booking_code(token, ks, (), "H001", NOW).booking_id == booking.booking_id


def test_a_booking_made_a_horizon_ahead_just_before_retirement_still_checks_in(platform):
    """The longest genuine token of the retired key: signed just before not_after for a slot a
    whole horizon ahead, checked in at the slot."""
    slot_start = RETIRED + BOOKING_HORIZON - timedelta(minutes=30)
    booking = make_booking(start=slot_start)
    token = sign_booking_token(
        platform.claims(booking, iat=RETIRED, exp=booking.slot_end + TOKEN_GRACE),
        platform.private, platform.kid)
    ks = KeySet().with_key(platform.kid, platform.private.public_key(), not_after=RETIRED)
    assert booking.slot_end + TOKEN_GRACE - RETIRED <= MAX_TOKEN_LIFE
    code = parse_booking_code(token, ks, (), "H001", slot_start)
    assert code.booking_id == booking.booking_id
