"""Fuzz targets shared by the atheris harnesses (``fuzz/fuzz_*.py``) and the hypothesis tests
(``tests/hardening/test_fuzz_parsers.py``).

Each target takes raw bytes, as an attacker or a broken device would send them, and must either
succeed or raise one of the typed errors listed in ``ALLOWED``; anything else escapes and is a
finding. The per-input budget (time, memory) is checked by the callers.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ValidationError

from desk_app.booking import (
    Booking,
    BookingCodeError,
    BookingRisk,
    BookingsInMemory,
    KeySet,
    KeySetError,
    RevocationList,
    booking_claims,
    new_signing_key,
    parse_booking_code,
    sign_booking_token,
)
from desk_app.errors import DeskError
from desk_app.identity import parse_id_number
from desk_app.identity.hashing import ScryptParams, b64e, slow_hash
from desk_app.identity.idnumber import InvalidIdNumber
from desk_app.identity.testing import make_id_number
from devices.idcard import sam
from devices.idcard.errors import IdCardError
from devices.idcard.serial_reader import card_read_from
from sync import protocol as P

#: Longest time one input may take (seconds); generous for a loaded 2-core machine.
TIME_BUDGET_S = 1.0
#: Highest Python allocation peak one input may cause (bytes).
MEMORY_BUDGET = 16 * 1024 * 1024

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
_KDF = ScryptParams(n=2**10, r=8, p=1)
_PATIENT = make_id_number("110101", datetime(1990, 3, 7).date(), 123)
_KID, _PRIVATE = new_signing_key("fuzz2026")
KEYSET = KeySet().with_key(_KID, _PRIVATE.public_key())


def _booking() -> Booking:
    salt = secrets.token_bytes(16)
    start = NOW + timedelta(minutes=30)
    return Booking(
        booking_id="B0001", reference="A1B2C3D4", hospital_id="H001", department_code="NEI01",
        department_name="心内科", doctor_name="王医生", slot_start=start,
        slot_end=start + timedelta(minutes=30), patient_hash=slow_hash(_PATIENT, salt, _KDF),
        patient_salt=salt, patient_last4=_PATIENT[-4:], status="active",
        risk=BookingRisk(booked_at=NOW - timedelta(days=3), account_id="acct-1"), kdf=_KDF)


BOOKING = _booking()
LOOKUP = BookingsInMemory([BOOKING])
VALID_TOKEN = sign_booking_token(booking_claims(BOOKING, NOW - timedelta(days=1),
                                                NOW + timedelta(hours=3)), _PRIVATE, _KID)
REVOKED = RevocationList.from_wire({"booking_ids": ["B0002"], "key_ids": ["old"], "version": 1})


def _sign_raw(claims: object) -> str:
    """A validly signed token around any JSON value (the platform's signer refuses bad claims,
    a forger's does not)."""
    header = b64e(json.dumps({"alg": "EdDSA", "typ": "RNB1", "kid": _KID}).encode())
    body = b64e(json.dumps(claims).encode())
    return f"RNB1:{header}.{body}.{b64e(_PRIVATE.sign(f'{header}.{body}'.encode()))}"


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")


# --- booking code ------------------------------------------------------------------------------

def booking(data: bytes) -> None:
    """First byte picks how the rest is used: raw text, spliced into a valid token, or a signed
    token around arbitrary claims (so the claim checks are reached, not only the signature)."""
    if not data:
        data = b"\x00"
    mode, rest = data[0] % 4, data[1:]
    if mode == 0:
        text = _text(rest)
    elif mode == 1:
        at = int.from_bytes(rest[:2] or b"\0", "big") % (len(VALID_TOKEN) + 1)
        text = VALID_TOKEN[:at] + _text(rest[2:]) + VALID_TOKEN[at + len(rest[2:]):]
    elif mode == 2:
        try:
            claims = json.loads(rest)
        except (ValueError, RecursionError):
            claims = _text(rest)
        text = _sign_raw(claims)
    else:
        try:
            wire = json.loads(rest)
        except (ValueError, RecursionError):
            return
        if isinstance(wire, dict):
            for parse in (KeySet.from_wire, RevocationList.from_wire):
                try:
                    parse(wire)
                except KeySetError:
                    pass
        return
    try:
        code = parse_booking_code(text, KEYSET, REVOKED, "H001", NOW, lookup=LOOKUP)
    except BookingCodeError as exc:
        assert exc.reason and exc.text.zh and exc.text.en
    else:
        assert code.booking.hospital_id == "H001"


# --- ID-card reader frames ---------------------------------------------------------------------

def idcard_frames(data: bytes) -> int:
    """Feed bytes in chunks (sizes from the data), take every frame out, decode read-basic-info
    payloads into a card read. Returns the number of whole frames seen."""
    parser = sam.FrameParser()
    frames = 0
    chunk = (data[0] % 64 + 1) if data else 1
    for i in range(0, len(data), chunk):
        parser.feed(data[i:i + chunk])
        while True:
            try:
                frame = parser.next_frame()
            except IdCardError:
                continue
            if frame is None:
                break
            frames += 1
            _decode_payload(frame.data)
        # Whatever arrives, the buffer never holds more than one frame under way.
        assert parser.pending <= sam.HEADER_LEN + sam.MAX_LEN + chunk
        assert parser.needed() >= 1
    return frames


def _decode_payload(payload: bytes) -> None:
    try:
        text, photo = sam.split_basic_info(payload)
        card = sam.decode_text_block(text)
        card_read_from(card, photo, None)
    except IdCardError:
        pass


# --- ID numbers --------------------------------------------------------------------------------

def id_number(data: bytes) -> None:
    text = _text(data)
    try:
        parsed = parse_id_number(text, today=NOW.date())
    except InvalidIdNumber as exc:
        assert exc.text.zh and exc.text.en
    else:
        assert len(parsed.number) in (15, 18) and parsed.number == parsed.number.upper()


# --- sync protocol models ----------------------------------------------------------------------

MODELS: list[type[BaseModel]] = sorted(
    (v for v in vars(P).values()
     if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == P.__name__
     and v not in (P.Request, P.Answer)),
    key=lambda m: m.__name__)


def protocol(data: bytes) -> None:
    """``model_validate_json`` of each wire model on arbitrary bytes (both ends use these)."""
    if not data:
        data = b"\x00"
    model = MODELS[data[0] % len(MODELS)]
    try:
        obj = model.model_validate_json(data[1:])
    except ValidationError:
        return
    # What validated serialises and validates again to the same value.
    again = model.model_validate_json(obj.model_dump_json())
    assert again == obj, model.__name__


TARGETS = {"booking": booking, "idcard": idcard_frames, "id_number": id_number,
           "protocol": protocol}
#: Typed errors a target may let out (beyond the ones it handles itself): none.
ALLOWED: tuple[type[BaseException], ...] = ()
assert issubclass(BookingCodeError, DeskError) and issubclass(IdCardError, DeskError)


# --- seeds: valid inputs the fuzzers start from (mutations reach deep checks sooner) -----------

def seeds(name: str) -> list[bytes]:
    if name == "booking":
        claims = booking_claims(BOOKING, NOW - timedelta(days=1), NOW + timedelta(hours=3))
        return [b"\x00" + VALID_TOKEN.encode(), b"\x00A1B2C3D4", b"\x01\x00\x10xyz",
                b"\x02" + json.dumps(claims).encode(),
                b"\x03" + json.dumps(KEYSET.to_wire()).encode(),
                b"\x03" + json.dumps(REVOKED.to_wire()).encode()]
    if name == "idcard":
        card = sam.CardText("张三", "1", "01", "19900307", "北京市东城区", _PATIENT, "公安局",
                            "20200101", "20400101")
        basic = sam.join_basic_info(sam.encode_text_block(card), bytes(sam.PHOTO_LEN))
        return [b"\x3f" + sam.build_response(sam.SW_OK, basic),
                b"\x07" + sam.build_response(sam.SW_FOUND, b"\0\0\0\0")
                + sam.build_response(sam.SW_NO_CARD)]
    if name == "id_number":
        return [_PATIENT.encode(), _PATIENT[:17].encode() + b"x", b"110101900307123"]
    if name == "protocol":
        out = []
        visit = {"visit_id": "3f1c2a56-0d4e-4a6b-9b1e-2f3a4b5c6d7e", "booking_id": "B1",
                 "hospital_id": "H001", "desk_id": "desk-01", "clerk": "c",
                 "checked_in_at": "2026-11-22T01:00:00+00:00", "verdict": "admit",
                 "reasons": [{"code": "ok", "severity": "info", "rule": "r"}],
                 "face_distance": 0.4, "face_outcome": "match", "presented_id_hash": None,
                 "presented_id_last4": "1234", "offline": False, "override": None}
        for i, m in enumerate(MODELS):
            if m is P.VisitBatch:
                out.append(bytes([i]) + json.dumps({"visits": [visit]}).encode())
            if m is P.VisitRecordWire:
                out.append(bytes([i]) + json.dumps(visit).encode())
            out.append(bytes([i]) + b"{}")
        return out
    return []
