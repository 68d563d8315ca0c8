"""A typed booking reference ends when the booking's signed token does: the slot's end plus the
token's grace (the desk keeps bookings cached for days after their slot)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk_app.booking import (
    BookingCodeError,
    BookingsInMemory,
    parse_booking_code,
    sign_booking_token,
)
from desk_app.booking.codes import DEFAULT_LEEWAY, TOKEN_GRACE
from tests.desk_app.booking.conftest import NOW, make_booking

YESTERDAY = NOW - timedelta(days=1)


def reason(text, platform, lookup, now):
    with pytest.raises(BookingCodeError) as exc:
        parse_booking_code(text, platform.keyset, (), "H001", now, lookup=lookup)
    return exc.value.reason


def test_yesterdays_booking_is_expired_typed_as_it_is_scanned(platform):
    """The reviewer's case: the QR was refused as expired, the typed reference went on to the
    time-window rule (a review the clerk admits with one key)."""
    booking = make_booking(reference="OLDREF01", start=YESTERDAY)
    lookup = BookingsInMemory([booking])
    token = sign_booking_token(platform.claims(booking, exp=booking.slot_end + TOKEN_GRACE),
                               platform.private, platform.kid)
    assert reason(token, platform, lookup, NOW) == "expired"
    assert reason("OLDREF01", platform, lookup, NOW) == "expired"


def test_a_reference_is_valid_up_to_the_tokens_end_and_expired_after(platform):
    booking = make_booking(reference="K7M2P9QX")
    lookup = BookingsInMemory([booking])
    end = booking.slot_end + TOKEN_GRACE + DEFAULT_LEEWAY
    code = parse_booking_code("K7M2P9QX", platform.keyset, (), "H001", end, lookup=lookup)
    assert code.source == "reference" and code.booking is booking
    assert reason("K7M2P9QX", platform, lookup, end + timedelta(seconds=1)) == "expired"


def test_a_cancelled_old_reference_still_says_cancelled(platform):
    """Status before expiry, as for the token: the clerk is told the booking was cancelled."""
    booking = make_booking(reference="CANC0001", start=YESTERDAY, status="cancelled")
    assert reason("CANC0001", platform, BookingsInMemory([booking]), NOW) == "cancelled"
