from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desk_app.booking import (
    BookingCodeError,
    BookingRisk,
    BookingsInMemory,
    KeySet,
    KeySetError,
    RevocationList,
    new_signing_key,
    parse_booking_code,
    patient_matches,
    sign_booking_token,
)
from desk_app.errors import UserInputError
from desk_app.identity import parse_id_number
from desk_app.identity.hashing import DEFAULT_SCRYPT, b64d, b64e
from desk_app.identity.testing import make_id_number
from tests.desk_app.booking.conftest import FAST_KDF, NOW, PATIENT, make_booking


def parse(text, platform, *, revoked=(), hospital="H001", now=NOW, **kw):
    return parse_booking_code(text, platform.keyset, revoked, hospital, now, **kw)


def reason_of(fn, *args, **kw) -> str:
    with pytest.raises(BookingCodeError) as info:
        fn(*args, **kw)
    err = info.value
    assert isinstance(err, UserInputError)
    assert err.message("zh_CN") and err.message("en") and err.title("en")
    return err.reason


# --- the happy path and the wire format ----------------------------------------------------------


def test_sign_and_verify_round_trip(platform):
    booking = make_booking()
    token = sign_booking_token(platform.claims(booking), platform.private, platform.kid)
    assert token.startswith("RNB1:") and token.count(".") == 2 and len(token) < 800
    header = jwt.get_unverified_header(token[5:])
    assert header == {"alg": "EdDSA", "typ": "RNB1", "kid": "k2026a"}
    claims = json.loads(b64d(token[5:].split(".")[1]))
    assert set(claims) == {"bid", "hos", "dep", "dpn", "doc", "sst", "sen", "ph", "ps", "pl4",
                           "iat", "exp", "kdf"}
    assert PATIENT not in token and PATIENT[:-4] not in json.dumps(claims)

    code = parse(token, platform)
    assert code.source == "token" and code.kid == "k2026a" and not code.cached
    b = code.booking
    assert (b.booking_id, b.hospital_id, b.department_code, b.doctor_name) == (
        "B0001", "H001", "NEI01", "王医生")
    assert b.slot_start == booking.slot_start and b.slot_end == booking.slot_end
    assert b.patient_hash == booking.patient_hash and b.kdf == FAST_KDF
    assert code.expires_at == booking.slot_end + timedelta(hours=2)
    assert patient_matches(code, PATIENT)
    assert not patient_matches(code, make_id_number(seq=125))


def test_token_made_without_pyjwt_verifies(platform):
    """The contract, not our library, is the format: a JWS assembled by hand (as the platform's
    fallback signer does) must verify, with the default scrypt parameters (no ``kdf``)."""
    booking = make_booking(kdf=DEFAULT_SCRYPT)
    claims = platform.claims(booking)
    assert "kdf" not in claims
    header = b64e(json.dumps({"alg": "EdDSA", "typ": "RNB1", "kid": platform.kid}).encode())
    body = b64e(json.dumps(claims, separators=(",", ":")).encode())
    sig = platform.private.sign(f"{header}.{body}".encode())
    code = parse(f"RNB1:{header}.{body}.{b64e(sig)}", platform)
    assert code.booking.kdf == DEFAULT_SCRYPT
    assert patient_matches(code, PATIENT)  # the one real-cost scrypt of this suite


def test_prefix_and_surrounding_whitespace(platform):
    token = sign_booking_token(platform.claims(make_booking()), platform.private, platform.kid)
    assert parse(f"  {token}\r\n", platform).booking_id == "B0001"
    assert parse("rnb1:" + token[5:], platform).booking_id == "B0001"


def test_cached_booking_supplies_status_reference_and_risk(platform):
    risk = BookingRisk(booked_at=NOW - timedelta(days=1), account_id="acct-9",
                       account_patients_30d=12)
    cached = make_booking(risk=risk, reference="ZX81QW7P")
    token = sign_booking_token(platform.claims(cached), platform.private, platform.kid)
    code = parse(token, platform, lookup=BookingsInMemory([cached]))
    assert code.cached and code.booking.risk == risk and code.booking.reference == "ZX81QW7P"


# --- every failure has its own reason ------------------------------------------------------------


def _signed(platform, claims, header=None, key=None):
    hdr = header or {"alg": "EdDSA", "typ": "RNB1", "kid": platform.kid}
    h = b64e(json.dumps(hdr).encode())
    b = b64e(json.dumps(claims).encode()) if not isinstance(claims, bytes) else b64e(claims)
    sig = (key or platform.private).sign(f"{h}.{b}".encode())
    return f"RNB1:{h}.{b}.{b64e(sig)}"


@pytest.mark.parametrize(("text", "reason"), [
    ("", "not_booking_code"),
    ("https://example.com/pay?order=1", "not_booking_code"),
    ("11010519491231002X", "not_booking_code"),  # an ID number scanned by mistake
    ("HC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK", "not_booking_code"),  # EU DCC
    ("AB12", "not_booking_code"),  # too short for a reference
    ("RNB1:", "malformed"),
    ("RNB1:abc", "malformed"),
    ("RNB1:a.b", "malformed"),
    ("RNB1:a.b.c.d", "malformed"),
    ("RNB1:!!!.???.***", "malformed"),
    ("RNB1:" + "A" * 3000, "too_long"),
    ("X" * 2049, "too_long"),
])
def test_not_codes_malformed_and_too_long(platform, text, reason):
    assert reason_of(parse, text, platform) == reason


def test_malformed_headers_and_claims(platform):
    good = platform.claims(make_booking())
    cases = [
        _signed(platform, good, {"alg": "EdDSA", "typ": "JWT", "kid": platform.kid}),
        _signed(platform, good, {"alg": "EdDSA", "typ": "RNB1"}),  # no kid
        _signed(platform, good, {"alg": "EdDSA", "typ": "RNB1", "kid": 7}),
        _signed(platform, b"not json", None),
        _signed(platform, b"[1, 2, 3]", None),
        _signed(platform, {**good, "sst": "yesterday"}),
        _signed(platform, {**good, "exp": True}),
        _signed(platform, {**good, "iat": -5}),
        _signed(platform, {**good, "sen": good["sst"] - 60}),
        _signed(platform, {**good, "ph": "%%%"}),
        _signed(platform, {**good, "ps": b64e(b"short")}),
        _signed(platform, {**good, "pl4": "12"}),
        _signed(platform, {**good, "bid": ""}),
        _signed(platform, {**good, "doc": "x" * 500}),
        _signed(platform, {**good, "kdf": {"n": 2**30, "r": 8, "p": 1}}),  # memory bomb
        _signed(platform, {**good, "kdf": "fast"}),
        _signed(platform, {k: v for k, v in good.items() if k != "hos"}),
    ]
    for token in cases:
        assert reason_of(parse, token, platform) == "malformed", token


def test_alg_none_and_hmac_confusion_are_refused(platform):
    claims = platform.claims(make_booking())
    none_token = jwt.encode(claims, None, algorithm="none", headers={"kid": platform.kid,
                                                                      "typ": "RNB1"})
    assert reason_of(parse, "RNB1:" + none_token, platform) == "malformed"
    x = platform.keyset.get(platform.kid).x
    hs = jwt.encode(claims, x, algorithm="HS256", headers={"kid": platform.kid, "typ": "RNB1"})
    assert reason_of(parse, "RNB1:" + hs, platform) == "malformed"


def test_unknown_and_revoked_keys(platform):
    booking = make_booking()
    kid, other = new_signing_key("k-unknown")
    token = sign_booking_token(platform.claims(booking), other, kid)
    assert reason_of(parse, token, platform) == "unknown_key"
    token = sign_booking_token(platform.claims(booking), platform.private, platform.kid)
    revoked = RevocationList(key_ids=frozenset({platform.kid}), version=3)
    assert reason_of(parse, token, platform, revoked=revoked) == "unknown_key"


def test_a_retired_key_cannot_sign_new_tokens(platform):
    retired = NOW - timedelta(days=10)
    ks = KeySet().with_key(platform.kid, platform.private.public_key(), not_after=retired)
    booking = make_booking()
    old = sign_booking_token(platform.claims(booking, iat=retired - timedelta(days=1)),
                             platform.private, platform.kid)
    assert parse_booking_code(old, ks, (), "H001", NOW).booking_id == "B0001"
    new = sign_booking_token(platform.claims(booking, iat=NOW - timedelta(days=1)),
                             platform.private, platform.kid)
    assert reason_of(parse_booking_code, new, ks, (), "H001", NOW) == "unknown_key"


def test_bad_signatures(platform):
    booking = make_booking()
    token = sign_booking_token(platform.claims(booking), platform.private, platform.kid)
    # another key using our kid (a forger who knows the kid)
    forged = sign_booking_token(platform.claims(booking), Ed25519PrivateKey.generate(),
                                platform.kid)
    assert reason_of(parse, forged, platform) == "bad_signature"
    # a changed claim (another hospital's booking moved here, another slot ...)
    h, b, s = token[5:].split(".")
    claims = json.loads(b64d(b))
    claims["sst"] -= 3600
    tampered = f"RNB1:{h}.{b64e(json.dumps(claims).encode())}.{s}"
    assert reason_of(parse, tampered, platform) == "bad_signature"
    # a flipped bit in the signature
    sig = bytearray(b64d(s))
    sig[5] ^= 1
    assert reason_of(parse, f"RNB1:{h}.{b}.{b64e(bytes(sig))}", platform) == "bad_signature"


def test_expiry_and_not_yet_valid_with_leeway(platform):
    booking = make_booking()
    exp = booking.slot_end + timedelta(hours=2)
    token = sign_booking_token(platform.claims(booking, exp=exp), platform.private, platform.kid)
    assert parse(token, platform, now=exp + timedelta(minutes=4)).booking_id == "B0001"
    assert reason_of(parse, token, platform, now=exp + timedelta(minutes=6)) == "expired"
    assert reason_of(parse, token, platform, now=exp + timedelta(seconds=30),
                     leeway=timedelta(0)) == "expired"
    iat = NOW + timedelta(minutes=10)  # the platform's clock is ahead of the desk's
    future = sign_booking_token(platform.claims(booking, iat=iat), platform.private,
                                platform.kid)
    assert reason_of(parse, future, platform) == "not_yet_valid"
    assert parse(future, platform, now=NOW + timedelta(minutes=6)).booking_id == "B0001"


def test_other_hospital(platform):
    token = sign_booking_token(platform.claims(make_booking(hospital_id="H999")),
                               platform.private, platform.kid)
    assert reason_of(parse, token, platform) == "other_hospital"
    lookup = BookingsInMemory([make_booking(hospital_id="H999")])
    assert reason_of(parse, "A1B2C3D4", platform, lookup=lookup) == "other_hospital"


def test_cancelled_by_revocation_list_or_cached_status(platform):
    booking = make_booking()
    token = sign_booking_token(platform.claims(booking), platform.private, platform.kid)
    assert reason_of(parse, token, platform, revoked={"B0001"}) == "cancelled"
    assert reason_of(parse, token, platform,
                     revoked=RevocationList(frozenset({"B0001"}), version=8)) == "cancelled"
    lookup = BookingsInMemory([replace(booking, status="cancelled")])
    assert reason_of(parse, token, platform, lookup=lookup) == "cancelled"
    assert reason_of(parse, "a1b2c3d4", platform, lookup=lookup) == "cancelled"
    assert reason_of(parse, "A1B2C3D4", platform, lookup=BookingsInMemory([booking]),
                     revoked={"B0001"}) == "cancelled"


def test_already_checked_in_unless_the_caller_wants_to_judge_it(platform):
    booking = make_booking(status="checked_in")
    token = sign_booking_token(platform.claims(booking), platform.private, platform.kid)
    lookup = BookingsInMemory([booking])
    assert reason_of(parse, token, platform, lookup=lookup) == "already_checked_in"
    assert reason_of(parse, "A1B2C3D4", platform, lookup=lookup) == "already_checked_in"
    code = parse(token, platform, lookup=lookup, allow_checked_in=True)
    assert code.booking.status == "checked_in"


def test_plain_references(platform):
    booking = make_booking(reference="K7M2P9QX")
    lookup = BookingsInMemory([booking])
    for typed in ("K7M2P9QX", " k7m2 p9qx ", "K7M2-P9QX", "Ｋ７Ｍ２Ｐ９ＱＸ"):
        code = parse(typed, platform, lookup=lookup)
        assert code.source == "reference" and code.cached and code.booking is booking
    assert reason_of(parse, "K7M2P9QY", platform, lookup=lookup) == "unknown_reference"
    assert reason_of(parse, "K7M2P9QX", platform) == "unknown_reference"  # nothing cached


# --- rotation, key sets, revocations ---------------------------------------------------------


def test_rotation_two_keys_at_once(platform):
    kid2, key2 = new_signing_key("k2026b")
    ks = platform.keyset.with_key(kid2, key2.public_key())
    assert ks.kids == ("k2026a", "k2026b") and ks.version == platform.keyset.version + 1
    booking = make_booking()
    old = sign_booking_token(platform.claims(booking), platform.private, platform.kid)
    new = sign_booking_token(platform.claims(booking), key2, kid2)
    for token in (old, new):
        assert parse_booking_code(token, ks, (), "H001", NOW).booking_id == "B0001"
    dropped = ks.without(["k2026a"])
    assert reason_of(parse_booking_code, old, dropped, (), "H001", NOW) == "unknown_key"
    assert parse_booking_code(new, dropped, (), "H001", NOW).kid == "k2026b"


def test_key_set_wire_form_round_trip_and_storage_form(platform):
    kid2, key2 = new_signing_key("k2026b")
    ks = platform.keyset.with_key(kid2, key2.public_key(),
                                  not_after=datetime(2027, 1, 1, tzinfo=UTC))
    wire = ks.to_wire()
    assert wire["version"] == ks.version and wire["keys"][1]["not_after"] == 1798761600
    assert all(len(b64d(k["x"])) == 32 and k["alg"] == "EdDSA" for k in wire["keys"])
    back = KeySet.from_wire(json.loads(json.dumps(wire)))
    assert back.to_wire() == wire
    from desk_app.storage.records import StoredKeySet

    assert KeySet.from_wire(StoredKeySet.from_wire(wire).to_wire()).to_wire() == wire


@pytest.mark.parametrize("bad", [
    {},
    {"keys": "nope"},
    {"keys": [{"kid": "a", "x": "AAAA"}]},
    {"keys": [{"kid": "a b", "x": b64e(bytes(32))}]},
    {"keys": [{"kid": "a", "alg": "RS256", "x": b64e(bytes(32))}]},
    {"keys": [{"kid": "a", "x": b64e(bytes(32)), "not_after": "soon"}]},
    {"keys": [{"kid": "a", "x": b64e(bytes(32))}, {"kid": "a", "x": b64e(bytes(32))}]},
    {"keys": [], "version": -1},
])
def test_bad_key_sets_are_typed_errors(bad):
    with pytest.raises(KeySetError):
        KeySet.from_wire(bad)


def test_revocation_list_versions():
    r = RevocationList().apply(["B1"], 5)
    assert "B1" in r and r.version == 5
    assert r.apply(["B2"], 5) is r  # same version: already applied
    assert r.apply(["B2"], 4) is r
    r2 = r.apply(["B2"], 6, key_ids=["k-old"])
    assert r2.booking_ids == {"B1", "B2"} and r2.key_ids == {"k-old"} and r2.version == 6
    assert RevocationList.from_wire(r2.to_wire()) == r2
    with pytest.raises(KeySetError):
        RevocationList.from_wire({"booking_ids": "B1"})


# --- the patient -------------------------------------------------------------------------------


def test_patient_matches_accepts_text_and_id_numbers():
    booking = make_booking()
    assert patient_matches(booking, PATIENT)
    assert patient_matches(booking, PATIENT.lower())
    assert patient_matches(booking, parse_id_number(PATIENT))
    other = make_id_number(seq=200)
    assert not patient_matches(booking, other)
    # same last 4, different person: needs the slow hash to tell
    same_tail = next(n for d in range(1, 28)
                     if (n := make_id_number("110101", datetime(1990, 3, d).date(), 123))
                     [-4:] == PATIENT[-4:] and n != PATIENT)
    assert same_tail[-4:] == PATIENT[-4:] and not patient_matches(booking, same_tail)
    legacy = make_booking(make_id_number("110105", datetime(1949, 12, 31).date(), 2))
    assert patient_matches(legacy, "110105491231002")  # old 15-digit card, same person


def test_booking_hashed_from_the_15_digit_form_admits_the_18_digit_card():
    """QR codes an older platform issued for a number typed in 15 digits hash that form (and
    carry its last 4); the card at the window says 18 digits."""
    n15 = make_id_number("110105", datetime(1949, 12, 31).date(), 2, kind="resident_15")
    n18 = parse_id_number(n15).number
    old_token = make_booking(n15)  # as hashed as typed, before the platform normalized
    assert old_token.patient_last4 == n15[-4:] != n18[-4:]
    assert patient_matches(old_token, n18) and patient_matches(old_token, n15)
    # someone else whose 15-digit form ends the same way is still told apart by the hash
    other = next(n for d in range(1, 29)
                 if (n := make_id_number("110105", datetime(1949, 11, d).date(), 2)))
    assert not patient_matches(old_token, other)
    # a canonical booking is not matched by the 15-digit form of another number
    assert not patient_matches(make_booking(PATIENT), n18)


def test_booking_repr_has_no_patient_data():
    b = make_booking()
    assert b.patient_last4 not in repr(b).replace("B0001", "")
    with pytest.raises(ValueError):
        replace(b, status="lost")
