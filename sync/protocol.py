"""The wire protocol between the desks and the central platform: ONE set of models for both ends.

The server validates every request body with these models and declares them as response models
(so the OpenAPI document is generated from them); the desk's client validates every answer with
the same classes. The booking token claims are defined in :mod:`desk_app.booking.codes` (what
the desk verifies) and the rest here: key set, blacklist entry, visit record.

Everything that comes from outside is bounded: string lengths, list lengths (``MAX_BATCH``),
numbers, and on the server the body size and JSON nesting depth (``MAX_BODY_BYTES``,
``MAX_JSON_DEPTH``); people's free text holds no NUL (``PlainText``): so an oversized or malformed
request is a clean 4xx, never a 500 or a memory spike. Unknown fields are refused in requests (a
typo is a 422, not silently ignored) and ignored in answers (old desks work with newer platforms).

Times on the wire are ISO 8601 with an offset (aware ``datetime``); Unix seconds only where the
contract says so (key ``not_after``, token claims). Binary values are ``b64e`` (URL-safe base64
without padding, :mod:`desk_app.identity.hashing`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from desk_app.checkin.engine import BAN_NO_END
from desk_app.identity.idnumber import MAX_INPUT_CHARS, InvalidIdNumber, canonical_id_number

API_VERSION = "v1"
API_PREFIX = "/v1"
PROTOCOL_VERSION = 1

MAX_BATCH = 500  # visits per ingest request
MAX_PAGE = 5000  # items per delta page (bookings, blacklist, alerts, revocations)
DEFAULT_PAGE = 1000
MAX_BODY_BYTES = 2 * 1024 * 1024  # any request body
MAX_JSON_DEPTH = 16  # nesting of objects/arrays in any request body
MAX_REASONS = 32
MAX_NOTE = 1000

_B64 = r"^[A-Za-z0-9_-]+$"
_IDENT = r"^[A-Za-z0-9_.:-]+$"

#: People's free text (names, notes, reasons, statements): no NUL (PostgreSQL cannot store one).
PlainText = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
Ident = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_IDENT)]
ShortText = Annotated[PlainText, StringConstraints(max_length=200)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
B64Hash = Annotated[str, StringConstraints(min_length=16, max_length=128, pattern=_B64)]
B64Salt = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=_B64)]
Last4 = Annotated[str, StringConstraints(min_length=0, max_length=4, pattern=r"^[0-9Xx]*$")]
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _uuid_text(v: str) -> str:
    v = v.lower()
    if not _UUID_RE.match(v):
        raise ValueError("not a UUID in its canonical 8-4-4-4-12 form")
    return v


UuidStr = Annotated[str, StringConstraints(min_length=36, max_length=36), AfterValidator(_uuid_text)]


def _aware(v: datetime) -> datetime:
    if v.tzinfo is None or v.utcoffset() is None:
        raise ValueError("a time on the wire must carry its UTC offset")
    return v


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


def _ban_end(v: datetime) -> datetime:
    """A ban end in year 9000 or later (police send 9999-12-31) is "no end date": clamped to
    ``BAN_NO_END``, far enough from ``datetime.max`` that Beijing time or + days cannot overflow."""
    return BAN_NO_END if v.year >= BAN_NO_END.year else v


#: The end of a ban: aware, and "no end date" clamped (:func:`_ban_end`).
BanEnd = Annotated[datetime, AfterValidator(_aware), AfterValidator(_ban_end)]


def _id_number(v: str) -> str:
    try:
        return canonical_id_number(v)
    except InvalidIdNumber as exc:  # the message names the problem, never the number
        raise ValueError(f"{exc.message('en')} ({exc.reason})") from None


#: An ID number as people type it (15 or 18 digits, full-width, lower-case x, spaces, hyphens),
#: validated and turned into the canonical form the desk hashes (:func:`canonical_id_number`).
IdNumberText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_INPUT_CHARS),
                         AfterValidator(_id_number)]


class Request(BaseModel):
    """Base of what a client sends: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Answer(BaseModel):
    """Base of what the platform answers: tolerant of fields a newer platform adds."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# --- roles ----------------------------------------------------------------------------------------


class Role(StrEnum):
    DESK = "desk"
    SECURITY = "security"
    HOSPITAL_ADMIN = "hospital_admin"
    PLATFORM_ADMIN = "platform_admin"
    POLICE = "police"


# --- errors ---------------------------------------------------------------------------------------


#: The ``error`` of a 403 for a later call (override, alert) on a visit another desk uploaded:
#: this one call is refused for good, not the caller's rights (the desk parks the item).
NOT_OWN_VISIT = "not_own_visit"


class ErrorBody(Answer):
    """Every 4xx/5xx the platform makes itself: ``{"error": code, "detail": text}``.

    ``error`` is stable and machine-readable (``unauthorized``, ``forbidden``,
    ``not_own_visit`` (a 403 for a later call on another desk's visit), ``not_found``,
    ``invalid_request``, ``too_large``, ``too_deep``, ``rate_limited``, ``conflict``,
    ``enrollment_invalid``, ``internal``); ``detail`` is for the log and never holds PII.
    """

    error: str
    detail: str = ""


# --- health, enrollment, config -------------------------------------------------------------------


class Health(Answer):
    status: Literal["ok"] = "ok"
    version: str
    protocol: int = PROTOCOL_VERSION
    server_time: AwareDatetime


class EnrollRequest(Request):
    """A desk exchanges the one-time code an admin gave it for its bearer token."""

    code: Annotated[str, StringConstraints(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
    desk_label: ShortText = ""
    app_version: Annotated[str, StringConstraints(max_length=32)] = ""


class EnrollResponse(Answer):
    token: str
    token_type: Literal["bearer"] = "bearer"
    role: Role
    hospital_id: str
    desk_id: str
    expires_at: AwareDatetime | None


class EnrollmentCodeRequest(Request):
    """An admin asks for a one-time enrollment code for one desk of one hospital."""

    hospital_id: Ident
    desk_id: Ident
    ttl_hours: float = Field(24.0, gt=0, le=24 * 14)


class EnrollmentCode(Answer):
    code: str
    hospital_id: str
    desk_id: str
    expires_at: AwareDatetime


class WhoAmI(Answer):
    role: Role
    name: str
    hospital_id: str | None
    desk_id: str | None


class ScryptParamsWire(Answer):
    n: int
    r: int
    p: int
    dklen: int = 32


class DeskConfig(Answer):
    """What a desk needs besides the deltas (salt, scrypt cost, clock, limits, database epoch)."""

    hospital_id: str
    desk_id: str
    blacklist_salt: str  # b64e(16 random bytes), the same for every desk
    scrypt: ScryptParamsWire
    server_time: AwareDatetime
    timezone: str  # the platform's local time zone: booking "days" are local days there
    max_batch: int = MAX_BATCH
    max_page: int = MAX_PAGE
    max_body_bytes: int = MAX_BODY_BYTES
    keyset_version: int
    protocol: int = PROTOCOL_VERSION
    epoch: str = ""  # the platform database's id, new after a restore: the desk then pulls anew


# --- booking keys ---------------------------------------------------------------------------------


class KeyWire(Answer):
    kid: str
    alg: Literal["EdDSA"] = "EdDSA"
    x: str  # b64e(raw 32-byte Ed25519 public key)
    not_after: int | None  # Unix seconds: tokens signed with this key are not valid after it


class KeySetWire(Answer):
    keys: list[KeyWire]
    version: int


class KeyRotated(Answer):
    kid: str
    previous_kid: str | None
    previous_not_after: int | None
    version: int


# --- revocations ----------------------------------------------------------------------------------


class RevocationWire(Answer):
    kind: Literal["booking", "key"]
    item_id: str
    version: int
    revoked_at: AwareDatetime


class RevocationsDelta(Answer):
    items: list[RevocationWire]
    version: int  # pass back as ?since=
    more: bool


# --- bookings -------------------------------------------------------------------------------------


class BookingStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"


class BookingRiskWire(Answer):
    """What the booking platform knows about how this booking came about (scalper signals)."""

    booked_at: AwareDatetime
    slot_released_at: AwareDatetime | None  # when this slot (last) became bookable
    # Seconds between the slot becoming bookable and this booking (scripts book within seconds).
    booked_seconds_after_release: float | None = None
    # Minutes between a cancellation of this very slot and this booking (None: never cancelled).
    rebooked_minutes_after_cancel: float | None = None
    account_id: str
    account_patients_30d: int = 0  # distinct patients the booking account booked for in 30 days
    patient_bookings_today: int = 0  # bookings of this patient for the same day
    patient_same_department_today: int = 0
    patient_cancellations_30d: int = 0
    patient_same_doctor_today: int = 0


class BookingWire(Answer):
    booking_id: str
    reference: str
    hospital_id: str
    department_code: str
    department_name: str
    doctor_name: str
    slot_start: AwareDatetime
    slot_end: AwareDatetime
    patient_hash: str  # b64e(slow_hash(id, patient_salt, kdf))
    patient_salt: str  # b64e(16 bytes)
    patient_last4: str
    kdf: ScryptParamsWire | None = None  # None: DEFAULT_SCRYPT
    status: BookingStatus
    risk: BookingRiskWire
    seq: int  # the change sequence number of this version of the booking
    updated_at: AwareDatetime


class BookingsDelta(Answer):
    """Bookings of one hospital changed after ``cursor`` (optionally only one local day).
    A cancelled booking comes as ``status="cancelled"``; apply in order, keep ``cursor``."""

    hospital_id: str
    day: date | None
    bookings: list[BookingWire]
    cursor: int  # pass back as ?cursor=
    more: bool


class BookingRequest(Request):
    """The booking platform books a slot for a patient (platform admin only)."""

    hospital_id: Ident
    department_code: Code
    department_name: ShortText
    doctor_name: ShortText
    slot_start: AwareDatetime
    slot_minutes: int = Field(15, ge=1, le=24 * 60)
    id_number: IdNumberText  # any form a person types; the canonical 18-digit form after this
    account_id: Ident
    # What the booking platform saw of its user's client (optional): the platform's anomaly
    # rules count repeats of each (the phone is kept as an HMAC and its last 4 digits only).
    client_ip: Annotated[str, StringConstraints(max_length=64)] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    device_id: Annotated[str, StringConstraints(max_length=128)] | None = None


class IssuedBooking(Answer):
    booking: BookingWire
    token: str  # the QR text: "RNB1:" + compact JWS


class CancelResult(Answer):
    booking_id: str
    status: BookingStatus
    slot_release_at: AwareDatetime  # when the slot goes back to the pool (cooldown + random)


# --- blacklist ------------------------------------------------------------------------------------


class BlacklistSource(StrEnum):
    POLICE = "police"
    PLATFORM = "platform"
    HOSPITAL = "hospital"


class BlacklistEntryWire(Answer):
    entry_id: str
    id_hash: str  # b64e(slow_hash(id, platform salt))
    last4: str
    source: BlacklistSource
    reason: str
    valid_from: AwareDatetime
    valid_to: BanEnd  # 9999-12-31 ("no end date") arrives as BAN_NO_END
    version: int
    deleted: bool  # a tombstone: forget this entry_id


class BlacklistDelta(Answer):
    entries: list[BlacklistEntryWire]
    version: int  # pass back as ?since=
    more: bool


class BlacklistAddRequest(Request):
    """Police or the platform bans an ID number (the platform hashes it; desks get the hash)."""

    id_number: IdNumberText  # any form a person types; the canonical 18-digit form after this
    source: BlacklistSource | None = None  # default: the caller's role (police / platform)
    reason: Annotated[PlainText, StringConstraints(min_length=1, max_length=200)]
    days: float = Field(91.0, gt=0, le=3650)  # three months by default


class BlacklistPlain(Answer):
    """An entry with the plaintext ID number: police only."""

    entry: BlacklistEntryWire
    id_number: str


# --- visits ---------------------------------------------------------------------------------------


class Verdict(StrEnum):
    ADMIT = "admit"
    REVIEW = "review"
    REJECT = "reject"


class ReasonWire(Request):
    code: Code
    severity: Literal["info", "warn", "block"]
    rule: Annotated[PlainText, StringConstraints(max_length=64)] = ""


class OverrideWire(Request):
    by: Annotated[PlainText, StringConstraints(min_length=1, max_length=64)]
    reason: Annotated[PlainText, StringConstraints(max_length=500)]
    verdict: Verdict


class VisitRecordWire(Request):
    visit_id: UuidStr
    booking_id: Annotated[PlainText, StringConstraints(min_length=1, max_length=64)] | None = None
    hospital_id: Ident
    desk_id: Ident
    clerk: Annotated[PlainText, StringConstraints(max_length=64)] = ""
    checked_in_at: AwareDatetime  # desk clock
    verdict: Verdict
    reasons: list[ReasonWire] = Field(default_factory=list, max_length=MAX_REASONS)
    face_distance: float | None = Field(None, ge=0, le=10)
    face_outcome: Literal["match", "undecided", "mismatch", "declined", "unavailable"] | None = None
    presented_id_hash: B64Hash | None = None
    presented_id_last4: Last4 | None = None
    offline: bool = False
    override: OverrideWire | None = None
    alert: bool = False  # the desk's verdict alerted security: an alert for the whole hospital


class VisitBatch(Request):
    visits: list[VisitRecordWire] = Field(min_length=1, max_length=MAX_BATCH)


class VisitStatus(StrEnum):
    STORED = "stored"  # new, stored
    DUPLICATE = "duplicate"  # this visit_id was stored before (a retry): nothing changed
    CONFLICT = "conflict"  # stored, but the booking was already checked in by another visit
    REJECTED = "rejected"  # not stored; see reason (do not retry the same record)


class VisitResult(Answer):
    visit_id: str
    status: VisitStatus
    reason: str | None = None  # for rejected: "visit_id_taken"
    conflict: bool = False  # the stored visit is (now) part of a double check-in


class BatchResult(Answer):
    results: list[VisitResult]
    stored: int
    duplicates: int
    conflicts: int
    rejected: int
    server_time: AwareDatetime


# --- alerts (security view) -----------------------------------------------------------------------


class AlertKind(StrEnum):
    DOUBLE_CHECK_IN = "double_check_in"  # the same booking checked in by two visits (desks)
    SUSPECT_REPORT = "suspect_report"  # a desk reported a suspected scalper
    BLACKLIST_HIT = "blacklist_hit"  # a visit presented an ID on the platform's blacklist
    DESK_ALERT = "desk_alert"  # a desk's verdict alerted security (impostor, forged code ...)
    # A person booked at this hospital was caught on the blacklist at another hospital.
    BLACKLIST_ELSEWHERE = "blacklist_elsewhere"


class AlertWire(Answer):
    alert_id: str
    seq: int
    kind: AlertKind
    hospital_id: str
    booking_id: str | None
    visit_ids: list[str]
    desk_ids: list[str]
    created_at: AwareDatetime
    detail: str = ""
    # Handled once for all desks (the security office): who, when, the note; a handled alert
    # comes again in the delta with a new ``seq``.
    handled_by: str | None = None
    handled_at: AwareDatetime | None = None
    handled_note: str = ""
    handled_desk: str | None = None


class AlertsDelta(Answer):
    hospital_id: str
    alerts: list[AlertWire]
    cursor: int
    more: bool


# --- suspect reports ------------------------------------------------------------------------------


class ReportKind(StrEnum):
    SCALPER = "scalper"  # 号贩子 seen at the window
    IMPERSONATION = "impersonation"  # someone else's booking / ID
    FAKE_ID = "fake_id"
    OTHER = "other"


class SuspectReport(Request):
    report_id: UuidStr
    hospital_id: Ident
    desk_id: Ident
    reported_at: AwareDatetime
    kind: ReportKind
    booking_id: Annotated[PlainText, StringConstraints(min_length=1, max_length=64)] | None = None
    visit_id: UuidStr | None = None
    id_hash: B64Hash | None = None
    id_last4: Last4 | None = None
    note: Annotated[PlainText, StringConstraints(max_length=MAX_NOTE)] = ""


class ReportResult(Answer):
    report_id: str
    status: Literal["stored", "duplicate"]


class VisitOverride(Request):
    """A clerk's or security's override of a visit the platform already has (the desk sends it
    when the visit had been uploaded before the override). Idempotent: the same override again
    changes nothing."""

    visit_id: UuidStr
    override: OverrideWire
    at: AwareDatetime


class OverrideResult(Answer):
    visit_id: str
    status: Literal["stored", "unchanged"]


# --- statistics -----------------------------------------------------------------------------------


class DayStats(Answer):
    """The counts an anti-scalper task force collects, for one hospital and one local day."""

    hospital_id: str
    day: date
    visits: int  # every visit record received
    checkins: int  # visits whose final verdict was admit or review
    admitted: int
    reviewed: int
    rejected: int
    rejections_by_reason: dict[str, int]  # block-severity reason code of rejected visits
    blacklist_hits: int
    conflicts: int  # visits that are part of a double check-in
    reports: int
    offline_visits: int
    overrides: int
    desks: int  # distinct desks that sent visits


# --- desks ---------------------------------------------------------------------------------------


class DeskRevoked(Answer):
    hospital_id: str
    desk_id: str
    tokens_revoked: int


# --- appeals and account checks (the task force's console; desk_platform/desk_api.py) ------------

BlacklistHash = Annotated[str, StringConstraints(min_length=8, max_length=128,
                                                 pattern=r"^[A-Za-z0-9_+/=-]+$")]


class AppealRequest(Request):
    """A person's appeal against the blacklist, recorded by a clerk who checked their ID card.
    ``id_hash`` is the blacklist hash of the card's number (as the desk compares it), never the
    number."""

    id_hash: BlacklistHash
    clerk: Annotated[PlainText, StringConstraints(min_length=1, max_length=64)]
    statement: Annotated[PlainText, StringConstraints(min_length=1, max_length=2000)]


class AppealFiled(Answer):
    appeal_id: str
    entry_id: str
    status: str  # pending | lifted | upheld


class AppealsFiled(Answer):
    appeals: list[AppealFiled] = Field(default_factory=list)  # one per active entry of the ID


class UnfreezeRequest(Request):
    """The person's ID card was checked at the window: unfreeze the booking accounts frozen for
    them after a confirmed anomaly."""

    id_hash: BlacklistHash
    clerk: Annotated[PlainText, StringConstraints(min_length=1, max_length=64)]


class Unfrozen(Answer):
    accounts: list[str]


# Staff accounts, the office's handling, late desk alerts, insiders' weekly figures (protocol_staff)
# and alert photos (protocol_photos): the same protocol, re-exported so both ends say protocol.X.
from sync.protocol_photos import *  # noqa: E402, F403
from sync.protocol_staff import *  # noqa: E402, F403
