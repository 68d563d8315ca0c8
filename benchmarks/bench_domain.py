"""Domain core: ID number parsing, booking-token verification, the patient hash, the decision.

Figures are CPU time (``time.thread_time``) so other load on the machine does not count:
* ``id_parse_us``: one ``parse_id_number`` (mixed kinds, warm caches), microseconds;
* ``token_verify_ms``: one ``parse_booking_code`` of a signed token (Ed25519 + claim checks);
* ``patient_match_ms``: one ``patient_matches`` with the contract's default scrypt (the cost a
  check-in pays once, and an attacker pays per guess of a photographed QR);
* ``decide_us``: one ``evaluate`` with ``patient_matches`` precomputed (all ten rules).
"""

from __future__ import annotations

import secrets
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from desk_app.booking import (
    Booking,
    BookingRisk,
    KeySet,
    booking_claims,
    new_signing_key,
    parse_booking_code,
    patient_matches,
    sign_booking_token,
)
from desk_app.checkin import CheckinInput, FaceCheck, IdDocument, evaluate
from desk_app.identity import parse_id_number
from desk_app.identity.hashing import slow_hash
from desk_app.identity.testing import make_id_number
from desk_app.settings import PolicySection


def _per_call(fn, n: int) -> float:
    """Median CPU seconds per call over 5 rounds of n calls."""
    rounds = []
    for _ in range(5):
        t = time.thread_time()
        for _ in range(n):
            fn()
        rounds.append((time.thread_time() - t) / n)
    return statistics.median(rounds)


def run() -> dict:
    numbers = [make_id_number("110101", date(1990, 3, 7), 123),
               make_id_number("120110", date(1970, 5, 5), 8),
               make_id_number("130102", date(1960, 1, 1), 5, kind="resident_15"),
               make_id_number("810000", date(1988, 8, 8), 44, kind="hmt_permit"),
               make_id_number("310000", date(1980, 2, 29), 7, kind="foreign_permanent",
                              nationality="DEU"),
               make_id_number("440100", date(1975, 10, 2), 4, kind="foreign_permanent_15")]
    i = iter(range(10**9))
    id_parse = _per_call(lambda: parse_id_number(numbers[next(i) % len(numbers)]), 2000)

    now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    number = numbers[0]
    salt = secrets.token_bytes(16)
    booking = Booking("B1", "A1B2C3D4", "H001", "NEI01", "心内科", "王医生",
                      now + timedelta(minutes=30), now + timedelta(hours=1),
                      slow_hash(number, salt), salt, number[-4:],
                      risk=BookingRisk(booked_at=now - timedelta(days=1), account_id="a"))
    kid, key = new_signing_key("k1")
    keyset = KeySet().with_key(kid, key.public_key())
    token = sign_booking_token(booking_claims(booking, now - timedelta(days=1),
                                              now + timedelta(hours=3)), key, kid)
    verify = _per_call(lambda: parse_booking_code(token, keyset, (), "H001", now), 300)
    match = _per_call(lambda: patient_matches(booking, number), 3)

    inp = CheckinInput(now=now, booking=booking, patient_matches=True,
                       document=IdDocument(parse_id_number(number), date(2030, 1, 1)),
                       face=FaceCheck("match", 0.4), blacklist_age=timedelta(hours=1))
    policy = PolicySection()
    decide = _per_call(lambda: evaluate(inp, policy), 2000)
    return {"id_parse_us": id_parse * 1e6, "token_verify_ms": verify * 1e3,
            "token_chars": len(token), "patient_match_ms": match * 1e3,
            "decide_us": decide * 1e6}
