"""Bookings: the cached booking values (:mod:`.model`), the platform's keys and revocations
(:mod:`.keys`), and the booking codes patients present (:mod:`.codes`)."""

from desk_app.booking.codes import (
    DEFAULT_LEEWAY,
    MAX_CODE_CHARS,
    PREFIX,
    BookingCode,
    BookingCodeError,
    BookingLookup,
    BookingsInMemory,
    booking_claims,
    parse_booking_code,
    patient_matches,
    sign_booking_token,
)
from desk_app.booking.keys import KeySet, KeySetError, RevocationList, VerifyKey, new_signing_key
from desk_app.booking.model import Booking, BookingRisk

__all__ = [
    "DEFAULT_LEEWAY", "MAX_CODE_CHARS", "PREFIX", "Booking", "BookingCode", "BookingCodeError",
    "BookingLookup", "BookingRisk", "BookingsInMemory", "KeySet", "KeySetError", "RevocationList",
    "VerifyKey", "booking_claims", "new_signing_key", "parse_booking_code", "patient_matches",
    "sign_booking_token",
]
