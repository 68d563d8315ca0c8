"""Booking codes: the signed QR token (``RNB1:`` + compact JWS, Ed25519) and plain references.

Modelled on the EU Digital COVID Certificate and SMART Health Cards: a short prefix marks the
kind of code, the platform signs with one of several keys named by ``kid``, and a desk verifies
offline against its cached key set and revocation list. The patient is in the token only as a
salted scrypt hash of the ID number (plus its last 4 characters for display): a photographed QR
costs an attacker one scrypt per guess instead of a table look-up.

Order of the checks (the first failing one is reported): size, kind of code, JWS form, key,
signature, claims, hospital, revoked or cancelled, already checked in, expiry. JWS parsing and
signature checking are PyJWT's; the times are checked here against the injected ``now`` (with a
small leeway for desk clocks that are a little off). A typed reference is checked for hospital,
status and expiry too: it ends when its token does, the slot's end plus ``TOKEN_GRACE``.
"""

from __future__ import annotations

import binascii
import hmac
import logging
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desk_app.booking.keys import KID_RE, KeySet, RevocationList
from desk_app.booking.model import Booking
from desk_app.errors import Text, UserInputError
from desk_app.identity.hashing import DEFAULT_SCRYPT, ScryptParams, b64d, b64e, slow_hash
from desk_app.identity.idnumber import IdNumber, legacy_15_form, parse_id_number

log = logging.getLogger(__name__)

PREFIX = "RNB1:"
TYP = "RNB1"
#: A QR code holds at most ~4 kB; our tokens are ~600 characters.
MAX_CODE_CHARS = 2048
MAX_CLAIM_CHARS = 128
DEFAULT_LEEWAY = timedelta(minutes=5)
#: The furthest ahead of its slot a booking is made: the platform keeps a retired signing key
#: verifying this long (``desk_platform.keys.KEY_OVERLAP``).
BOOKING_HORIZON = timedelta(days=30)
#: A booking token stays valid this long after its slot ends (``exp = slot end + grace``,
#: ``desk_platform.bookings.TOKEN_GRACE``).
TOKEN_GRACE = timedelta(hours=2)
#: The longest a booking token signed by a retired key can live: from the last moment the key
#: could sign (``not_after``), and from the token's own ``iat``.
MAX_TOKEN_LIFE = BOOKING_HORIZON + TOKEN_GRACE
REFERENCE_RE = re.compile(r"^[A-Z0-9]{6,12}$")
_JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_LAST4_RE = re.compile(r"^[0-9A-Z]{4}$")

BookingCodeReason = Literal[
    "not_booking_code", "malformed", "unknown_key", "bad_signature", "expired", "not_yet_valid",
    "other_hospital", "cancelled", "already_checked_in", "unknown_reference", "too_long"]

REASON_TEXT: dict[str, Text] = {
    "not_booking_code": Text("这不是预约二维码或预约号。请让患者出示预约成功后的二维码。",
                             "This is not a booking QR code or booking reference. Please ask "
                             "the patient for the QR code of the booking."),
    "malformed": Text("预约二维码已损坏或不完整, 无法读取。请重新扫描, 或输入预约号。",
                      "The booking QR code is damaged or incomplete. Please scan it again or "
                      "type the booking reference."),
    "unknown_key": Text("预约码的签名密钥未知或已停用。可能是伪造的预约码, 也可能本机密钥未更新: "
                        "请输入预约号核对, 并通知信息科。",
                        "The booking code is signed with an unknown or retired key. It may be "
                        "forged, or this desk's keys are out of date: check the booking "
                        "reference and tell hospital IT."),
    "bad_signature": Text("预约码签名校验失败, 内容被篡改或为伪造。请勿办理, 按流程上报。",
                          "The booking code's signature is wrong: it was altered or forged. Do "
                          "not check the patient in; report it as the procedure says."),
    "expired": Text("预约码已过期 (就诊时段已结束)。请患者重新预约或到人工窗口咨询。",
                    "The booking code has expired (the appointment is over). The patient needs "
                    "a new booking or the help desk."),
    "not_yet_valid": Text("预约码尚未生效。请核对本机日期和时间是否正确。",
                          "The booking code is not valid yet. Please check this desk's date "
                          "and time."),
    "other_hospital": Text("该预约属于其他医院, 不能在本院签到。",
                           "This booking is for another hospital and cannot be checked in here."),
    "cancelled": Text("该预约已取消或已被平台作废, 不能签到。",
                      "This booking was cancelled or revoked by the platform and cannot be "
                      "checked in."),
    "already_checked_in": Text("该预约已经签到过, 不能重复签到。",
                               "This booking has already been checked in."),
    "unknown_reference": Text("本机没有这个预约号。请核对预约号; 如刚预约, 请稍候同步后再试。",
                              "This booking reference is not known at this desk. Check it; a "
                              "very recent booking may need the next sync."),
    "too_long": Text("扫描内容过长, 不是预约码。", "The scanned text is too long for a booking code."),
}


class BookingCodeError(UserInputError):
    """A presented booking code that cannot be used; ``reason`` says why."""

    title_text = Text("预约码无效", "Booking code not accepted")

    def __init__(self, reason: BookingCodeReason, text: Text | None = None, *, detail: str = ""):
        self.reason = reason
        super().__init__(text or REASON_TEXT[reason], detail=detail or reason)


class BookingLookup(Protocol):
    """Where cached bookings are found (the desk's ``store.bookings`` implements this)."""

    def by_id(self, booking_id: str) -> Booking | None: ...

    def by_ref(self, reference: str) -> Booking | None: ...


class BookingsInMemory:
    """A :class:`BookingLookup` over a list of bookings (demo, tools, a day's snapshot)."""

    def __init__(self, bookings: Iterable[Booking] = ()):
        self._by_id = {b.booking_id: b for b in bookings}
        self._by_ref = {b.reference.upper(): b for b in self._by_id.values()}

    def by_id(self, booking_id: str) -> Booking | None:
        return self._by_id.get(booking_id)

    def by_ref(self, reference: str) -> Booking | None:
        return self._by_ref.get(reference.strip().upper())


@dataclass(frozen=True)
class BookingCode:
    """A verified booking code. ``booking`` carries the cached status and risk metadata when the
    desk has the booking cached (``cached``), else what the token alone says."""

    source: Literal["token", "reference"]
    booking: Booking
    cached: bool
    kid: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def booking_id(self) -> str:
        return self.booking.booking_id


# --- signing (the platform; tests and the demo) --------------------------------------------------


def booking_claims(booking: Booking, issued_at: datetime, expires_at: datetime) -> dict[str, Any]:
    """The token claims for a booking (contract names, Unix seconds)."""
    claims: dict[str, Any] = {
        "bid": booking.booking_id, "hos": booking.hospital_id, "dep": booking.department_code,
        "dpn": booking.department_name, "doc": booking.doctor_name,
        "sst": int(booking.slot_start.timestamp()), "sen": int(booking.slot_end.timestamp()),
        "ph": b64e(booking.patient_hash), "ps": b64e(booking.patient_salt),
        "pl4": booking.patient_last4,
        "iat": int(issued_at.timestamp()), "exp": int(expires_at.timestamp()),
    }
    if booking.kdf != DEFAULT_SCRYPT:
        claims["kdf"] = booking.kdf.as_dict()
    return claims


def sign_booking_token(claims: Mapping[str, Any], private_key: Ed25519PrivateKey,
                       kid: str) -> str:
    """``RNB1:`` + compact JWS (EdDSA/Ed25519, header ``{"alg","typ":"RNB1","kid"}``)."""
    if not KID_RE.match(kid):
        raise ValueError("invalid kid")
    missing = {"bid", "hos", "sst", "sen", "ph", "ps", "pl4", "iat", "exp"} - set(claims)
    if missing:
        raise ValueError(f"missing claims: {sorted(missing)}")
    token = jwt.encode(dict(claims), private_key, algorithm="EdDSA",
                       headers={"kid": kid, "typ": TYP})
    return PREFIX + token


# --- verifying (the desk) ------------------------------------------------------------------------


def _str_claim(claims: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = claims.get(name, None if required else "")
    if not isinstance(value, str) or len(value) > MAX_CLAIM_CHARS or (required and not value):
        raise BookingCodeError("malformed", detail=f"claim {name}")
    return value


def _int_claim(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    # bool is an int in Python; 2**40 s is year 36812: bounds keep datetime from overflowing.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**37:
        raise BookingCodeError("malformed", detail=f"claim {name}")
    return value


def _bytes_claim(claims: Mapping[str, Any], name: str, lo: int, hi: int) -> bytes:
    text = _str_claim(claims, name)
    try:
        value = b64d(text)
    except (binascii.Error, ValueError):
        raise BookingCodeError("malformed", detail=f"claim {name}") from None
    if not lo <= len(value) <= hi:
        raise BookingCodeError("malformed", detail=f"claim {name} length")
    return value


def _ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _booking_from_claims(claims: Mapping[str, Any]) -> Booking:
    kdf = DEFAULT_SCRYPT
    if "kdf" in claims:
        try:
            kdf = ScryptParams.from_dict(claims["kdf"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BookingCodeError("malformed", detail="claim kdf") from None
    sst, sen = _int_claim(claims, "sst"), _int_claim(claims, "sen")
    last4 = _str_claim(claims, "pl4")
    if sen < sst or not _LAST4_RE.match(last4):
        raise BookingCodeError("malformed", detail="slot or last4")
    bid = _str_claim(claims, "bid")
    return Booking(
        booking_id=bid, reference="", hospital_id=_str_claim(claims, "hos"),
        department_code=_str_claim(claims, "dep", required=False),
        department_name=_str_claim(claims, "dpn", required=False),
        doctor_name=_str_claim(claims, "doc", required=False),
        slot_start=_ts(sst), slot_end=_ts(sen),
        patient_hash=_bytes_claim(claims, "ph", 16, 64),
        patient_salt=_bytes_claim(claims, "ps", 8, 64),
        patient_last4=last4, kdf=kdf,
    )


def _revoked(revoked: RevocationList | Collection[str]) -> tuple[Collection[str], Collection[str]]:
    if isinstance(revoked, RevocationList):
        return revoked.booking_ids, revoked.key_ids
    return revoked, ()


def _check_status(booking: Booking, revoked_ids: Collection[str], allow_checked_in: bool) -> None:
    if booking.status == "cancelled" or booking.booking_id in revoked_ids:
        raise BookingCodeError("cancelled")
    if booking.status == "checked_in" and not allow_checked_in:
        raise BookingCodeError("already_checked_in")


def parse_booking_code(text: str, keyset: KeySet, revoked_ids: RevocationList | Collection[str],
                       hospital_id: str, now: datetime, *, lookup: BookingLookup | None = None,
                       leeway: timedelta = DEFAULT_LEEWAY,
                       allow_checked_in: bool = False) -> BookingCode:
    """Verify a scanned or typed booking code; :class:`BookingCodeError` when it cannot be used.

    ``revoked_ids``: revoked booking ids, or a :class:`RevocationList` (whose revoked key ids are
    refused too). ``lookup``: cached bookings, needed for plain references and used for the
    status and risk metadata of tokens. ``allow_checked_in``: return a booking already checked in
    instead of refusing it (the caller lets the decision engine judge the duplicate, e.g. to
    record the attempt and alert)."""
    if not isinstance(text, str):
        raise BookingCodeError("not_booking_code", detail="not text")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if len(text) > MAX_CODE_CHARS:
        raise BookingCodeError("too_long", detail=f"{len(text)} chars")
    stripped = text.strip()
    if stripped[: len(PREFIX)].upper() == PREFIX:
        return _parse_token(stripped[len(PREFIX):], keyset, revoked_ids, hospital_id, now,
                            lookup, leeway, allow_checked_in)
    ref = re.sub(r"[\s-]+", "", unicodedata.normalize("NFKC", stripped)).upper()
    if REFERENCE_RE.match(ref) and ref.isascii():
        return _parse_reference(ref, revoked_ids, hospital_id, now, lookup, leeway,
                                allow_checked_in)
    raise BookingCodeError("not_booking_code")


def _parse_reference(ref: str, revoked: RevocationList | Collection[str], hospital_id: str,
                     now: datetime, lookup: BookingLookup | None, leeway: timedelta,
                     allow_checked_in: bool) -> BookingCode:
    booking = lookup.by_ref(ref) if lookup is not None else None
    if booking is None:
        raise BookingCodeError("unknown_reference")
    if booking.hospital_id != hospital_id:
        raise BookingCodeError("other_hospital")
    _check_status(booking, _revoked(revoked)[0], allow_checked_in)
    # The token's expiry is the slot's end plus the grace; a typed reference (kept cached for
    # days after its slot) ends at the same moment.
    if now > booking.slot_end + TOKEN_GRACE + leeway:
        raise BookingCodeError("expired")
    return BookingCode("reference", booking, cached=True)


def _check_retired_key(not_after: datetime, iat: datetime, exp: datetime,
                       leeway: timedelta) -> None:
    """A retired key signs nothing new. ``iat`` is the signer's word, so a leaked key could
    backdate it: its tokens must also end within a booking's life of ``not_after``. (How long a
    token spans is not limited: a genuine booking may be made further ahead than the horizon,
    and a backdated ``iat`` gains a forger nothing the bound on ``exp`` does not already stop.)"""
    if iat > not_after + leeway:
        raise BookingCodeError("unknown_key", detail="key retired before the token was issued")
    if exp > not_after + MAX_TOKEN_LIFE + leeway:
        raise BookingCodeError("unknown_key", detail="token outlives its retired key")


def _parse_token(token: str, keyset: KeySet, revoked: RevocationList | Collection[str],
                 hospital_id: str, now: datetime, lookup: BookingLookup | None,
                 leeway: timedelta, allow_checked_in: bool) -> BookingCode:
    if not _JWS_RE.match(token):
        raise BookingCodeError("malformed", detail="not a compact JWS")
    revoked_bookings, revoked_keys = _revoked(revoked)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise BookingCodeError("malformed", detail="header") from None
    kid = header.get("kid")
    if header.get("alg") != "EdDSA" or header.get("typ") != TYP or not isinstance(kid, str):
        raise BookingCodeError("malformed", detail="header fields")
    key = keyset.get(kid)
    if key is None or kid in revoked_keys:
        raise BookingCodeError("unknown_key", detail="kid not in key set")
    try:
        claims = jwt.decode(token, key.public_key, algorithms=["EdDSA"], options={
            "verify_signature": True, "verify_exp": False, "verify_nbf": False,
            "verify_iat": False, "verify_aud": False, "verify_iss": False, "require": []})
    except jwt.InvalidSignatureError:
        raise BookingCodeError("bad_signature") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise BookingCodeError("malformed", detail="payload") from None
    booking = _booking_from_claims(claims)
    iat, exp = _int_claim(claims, "iat"), _int_claim(claims, "exp")
    if key.not_after is not None:
        _check_retired_key(key.not_after, _ts(iat), _ts(exp), leeway)
    if booking.hospital_id != hospital_id:
        raise BookingCodeError("other_hospital")
    cached = lookup.by_id(booking.booking_id) if lookup is not None else None
    if cached is not None:
        booking = replace(booking, reference=cached.reference, status=cached.status,
                          risk=cached.risk)
    _check_status(booking, revoked_bookings, allow_checked_in)
    if now > _ts(exp) + leeway:
        raise BookingCodeError("expired")
    if now < _ts(iat) - leeway:
        raise BookingCodeError("not_yet_valid")
    return BookingCode("token", booking, cached=cached is not None, kid=kid,
                       issued_at=_ts(iat), expires_at=_ts(exp))


# --- the patient -------------------------------------------------------------------------------


def patient_matches(booking_or_code: Booking | BookingCode, id_number: IdNumber | str) -> bool:
    """Whether the ID number is the booking's patient: scrypt with the booking's salt, compared
    in constant time. The last 4 characters (shown on the QR anyway) are compared first, so a
    card that is plainly someone else's costs no scrypt."""
    booking = booking_or_code.booking if isinstance(booking_or_code, BookingCode) else booking_or_code
    parsed = id_number if isinstance(id_number, IdNumber) else parse_id_number(id_number)
    # The canonical (18-digit) form; then the old 15-digit form of the same number, which
    # platforms before 2026-12 hashed as typed into QR codes still in patients' hands.
    for number in (parsed.number, legacy_15_form(parsed)):
        if number is None or not hmac.compare_digest(
                number[-4:].encode(), booking.patient_last4.upper().encode()):
            continue
        digest = slow_hash(number, booking.patient_salt, replace(booking.kdf,
                                                                 dklen=len(booking.patient_hash)))
        if hmac.compare_digest(digest, booking.patient_hash):
            return True
    return False
