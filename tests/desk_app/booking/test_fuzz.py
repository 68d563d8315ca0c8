"""Fuzz the booking-code parser: whatever is scanned or typed, only BookingCodeError comes out."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from desk_app.booking import (
    BookingCodeError,
    BookingsInMemory,
    booking_claims,
    parse_booking_code,
    sign_booking_token,
)
from desk_app.booking.codes import MAX_CODE_CHARS
from desk_app.identity.hashing import b64e
from tests.desk_app.booking.conftest import NOW, make_booking

_BOOKING = make_booking()
_LOOKUP = BookingsInMemory([_BOOKING])
_B64 = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
               max_size=120)
# Flat values are enough to hit every type check; deep structures only cost generation time.
_JSON = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=12),
                  st.sampled_from([0.5, -1.0, 1e300, float("inf")]),
                  st.lists(st.integers(), max_size=2),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _mutations(token: str):
    """A valid token with characters flipped, cut, doubled or inserted."""
    return st.tuples(st.integers(0, len(token)), st.integers(0, 40),
                     st.sampled_from(["flip", "cut", "insert", "dup", "case"]),
                     st.text(max_size=6)).map(lambda t: _mutate(token, *t))


def _mutate(token: str, at: int, n: int, how: str, junk: str) -> str:
    if how == "flip" and at < len(token):
        return token[:at] + chr((ord(token[at]) + 1 + n) % 0x250 or 65) + token[at + 1:]
    if how == "cut":
        return token[:at] + token[at + n:]
    if how == "dup":
        return token + token[at:at + n]
    if how == "case":
        return token[:at] + token[at:at + n].swapcase() + token[at + n:]
    return token[:at] + junk + token[at:]


_CLAIM_KEYS = sorted(booking_claims(_BOOKING, NOW, NOW)) + ["kdf"]
# Strategies are built once: building them inside a draw costs more than the parse itself.
_DROP = st.lists(st.sampled_from(_CLAIM_KEYS), max_size=2)
_SET = st.dictionaries(st.sampled_from(_CLAIM_KEYS), _JSON, max_size=3)
_ONE_IN_TEN = st.integers(0, 9)
_HEADER_SET = st.dictionaries(st.sampled_from(["alg", "typ", "kid", "crit"]),
                              _JSON | st.sampled_from(["none", "HS256", "JWT"]), max_size=2)


@st.composite
def signed_garbage(draw, platform):
    """Tokens with a *valid signature* over arbitrary headers and claims: the parser must not
    trust the shape of what is signed."""
    claims: object = platform.claims(_BOOKING)
    for k in draw(_DROP):
        claims.pop(k, None)
    claims.update(draw(_SET))
    if draw(_ONE_IN_TEN) == 0:
        claims = draw(_JSON)  # not even an object
    header = {"alg": "EdDSA", "typ": "RNB1", "kid": platform.kid}
    if draw(_ONE_IN_TEN) < 2:
        header.update(draw(_HEADER_SET))
    h = b64e(json.dumps(header).encode())
    b = b64e(json.dumps(claims).encode())
    sig = platform.private.sign(f"{h}.{b}".encode())
    return f"RNB1:{h}.{b}.{b64e(sig)}"


def test_fuzz_only_typed_errors(platform):
    token = sign_booking_token(platform.claims(_BOOKING), platform.private, platform.kid)
    seen: dict[str, int] = {}

    @settings(max_examples=10_000, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(
        st.text(max_size=120),
        st.binary(max_size=120).map(lambda b: b.decode("latin-1")),
        st.builds(lambda s: "RNB1:" + s, st.text(max_size=150)),
        st.builds(lambda a, b, c: f"RNB1:{a}.{b}.{c}", _B64, _B64, _B64),
        _mutations(token),
        signed_garbage(platform),
        st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ23456789 -ｘ", min_size=4, max_size=16),
        st.integers(MAX_CODE_CHARS - 2, MAX_CODE_CHARS + 2).map(lambda n: "R" * n),
    ))
    def run(text: str) -> None:
        try:
            code = parse_booking_code(text, platform.keyset, {"B0002"}, "H001", NOW,
                                      lookup=_LOOKUP)
        except BookingCodeError as exc:
            seen[exc.reason] = seen.get(exc.reason, 0) + 1
            assert exc.text.zh and exc.text.en
        else:
            seen["ok"] = seen.get("ok", 0) + 1
            assert code.booking.hospital_id == "H001"

    run()
    # The fuzzer reached deep into the parser, not only its first check.
    assert {"not_booking_code", "malformed", "bad_signature", "too_long", "ok"} <= set(seen), seen
    assert sum(seen.values()) >= 10_000
