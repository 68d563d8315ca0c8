"""Frozen values in and out of the store. ORM rows never leave ``desk_app.storage``.

Plain text that is personal (ID number, name, face images, face template) appears here only in
memory; on disk it is encrypted or reduced to a keyed hash (see ``schema.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from desk_app.identity.hashing import b64d, b64e

VERDICTS = ("admit", "review", "reject")
SEVERITIES = ("info", "warn", "block")
FACE_OUTCOMES = ("match", "undecided", "mismatch", "declined", "unavailable")
BLACKLIST_SOURCES = ("police", "platform", "hospital")
ROLES = ("clerk", "security", "admin")
DEFAULT_BAN = timedelta(days=91)  # "three months" when the platform gives no end


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value


def parse_time(text: str | None) -> datetime | None:
    """ISO 8601 (a trailing Z too) to an aware datetime; naive values are taken as UTC."""
    if text is None or text == "":
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- visits ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    severity: str  # "info" | "warn" | "block"
    rule: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_wire(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "rule": self.rule}


@dataclass(frozen=True)
class Override:
    by: str
    reason: str
    verdict: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")

    def to_wire(self) -> dict[str, str]:
        return {"by": self.by, "reason": self.reason, "verdict": self.verdict}


@dataclass(frozen=True)
class VisitInput:
    """One check-in as the service decided it. ``visit_id`` is made by the desk (uuid4)."""

    visit_id: str
    booking_id: str | None
    hospital_id: str
    desk_id: str
    clerk: str
    checked_in_at: datetime
    verdict: str
    reasons: tuple[Reason, ...] = ()
    face_distance: float | None = None
    face_outcome: str | None = None
    presented_id_hash: bytes | None = None  # slow_hash(id, platform salt): goes to the platform
    presented_id_last4: str | None = None
    offline: bool = False
    override: Override | None = None
    # Stay on the desk, encrypted (the number also as a keyed hash for the visit history):
    id_number: str | None = None
    person_name: str | None = None
    face_template: bytes | None = None  # e.g. the 128-d encoding as float64 bytes

    def __post_init__(self) -> None:
        _aware(self.checked_in_at, "checked_in_at")
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")
        if self.face_outcome is not None and self.face_outcome not in FACE_OUTCOMES:
            raise ValueError(f"unknown face outcome {self.face_outcome!r}")
        object.__setattr__(self, "reasons", tuple(self.reasons))


@dataclass(frozen=True)
class VisitRecord:
    visit_id: str
    booking_id: str | None
    hospital_id: str
    desk_id: str
    clerk: str
    checked_in_at: datetime
    local_day: str  # ISO date in Beijing time
    verdict: str  # as decided (before any override)
    reasons: tuple[Reason, ...]
    face_distance: float | None
    face_outcome: str | None
    presented_id_hash: bytes | None
    presented_id_last4: str | None
    offline: bool
    override: Override | None
    recorded_at: datetime
    id_number: str | None = None
    person_name: str | None = None
    face_template: bytes | None = None
    card_confirmed_by: str | None = None  # a camera-read card checked by this clerk
    card_confirmed_at: datetime | None = None

    @property
    def final_verdict(self) -> str:
        return self.override.verdict if self.override else self.verdict

    def to_wire(self) -> dict[str, Any]:
        """The visit record of the sync contract (no name, no plain ID number)."""
        return {
            "visit_id": self.visit_id,
            "booking_id": self.booking_id,
            "hospital_id": self.hospital_id,
            "desk_id": self.desk_id,
            "clerk": self.clerk,
            "checked_in_at": self.checked_in_at.isoformat(),
            "verdict": self.verdict,
            "reasons": [r.to_wire() for r in self.reasons],
            "face_distance": self.face_distance,
            "face_outcome": self.face_outcome,
            "presented_id_hash": b64e(self.presented_id_hash) if self.presented_id_hash else None,
            "presented_id_last4": self.presented_id_last4,
            "offline": self.offline,
            "override": self.override.to_wire() if self.override else None,
        }


JUDGEMENTS = ("same", "different")


@dataclass(frozen=True)
class FaceJudgement:
    """The clerk's call on an undecided face: no image, only the distance and the judgement.
    ``seconds``: from the undecided verdict on screen to the clerk's key."""

    judgement_id: str
    visit_id: str
    clerk: str
    judged_at: datetime
    distance: float | None
    judgement: str  # "same" | "different"
    seconds: float
    match_distance: float
    mismatch_distance: float
    score_basis: str = ""  # the unit of ``distance`` (cohort.score_basis); "" before revision 5

    def __post_init__(self) -> None:
        _aware(self.judged_at, "judged_at")
        if self.judgement not in JUDGEMENTS:
            raise ValueError(f"unknown judgement {self.judgement!r}")


# --- outbox ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str  # "visit" | "visit_override" | "suspect_report" | ...
    key: str  # idempotency key (the visit_id for visits)
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    last_error: str | None
    visit_id: str | None
    sent_at: datetime | None = None  # when it was sent, or parked (refused for good)


# --- flagged cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertInput:
    """A flagged case created with its visit or by a later call on it. Images are encoded
    (PNG/JPEG bytes). ``codes``: the reasons of the verdict that alerted, for the platform's
    alert of a case flagged after its visit (codes only, no person)."""

    id_photo: bytes | None = None
    live_face: bytes | None = None
    conflict: bool = False
    note: str = ""
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alert:
    alert_id: str
    visit_id: str
    created_at: datetime
    status: str  # "open" | "handled"
    note: str
    handled_by: str
    handled_at: datetime | None
    conflict: bool
    has_photos: bool
    photos_purged_at: datetime | None
    visit: VisitRecord


# --- blacklist ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlacklistEntry:
    entry_id: str
    id_hash: bytes  # slow_hash(id, platform salt)
    last4: str
    source: str  # "police" | "platform" | "hospital"
    reason: str
    valid_from: datetime
    valid_to: datetime
    version: int
    deleted: bool = False  # a tombstone: the platform removed the entry

    def active_at(self, at: datetime) -> bool:
        return not self.deleted and self.valid_from <= at < self.valid_to

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> BlacklistEntry:
        """From the contract's wire form; ``valid_to`` missing or null: three months' ban."""
        source = str(d.get("source", "platform"))
        if source not in BLACKLIST_SOURCES:
            raise ValueError(f"unknown blacklist source {source!r}")
        valid_from = parse_time(d.get("valid_from")) or datetime.now(UTC)
        valid_to = parse_time(d.get("valid_to")) or valid_from + DEFAULT_BAN
        id_hash = b64d(str(d["id_hash"]))
        if not 16 <= len(id_hash) <= 64:
            raise ValueError("id_hash has a wrong length")
        return cls(
            entry_id=str(d["entry_id"]), id_hash=id_hash, last4=str(d.get("last4") or ""),
            source=source, reason=str(d.get("reason") or ""), valid_from=valid_from,
            valid_to=valid_to, version=int(d["version"]), deleted=bool(d.get("deleted", False)),
        )

    def to_wire(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id, "id_hash": b64e(self.id_hash), "last4": self.last4,
            "source": self.source, "reason": self.reason,
            "valid_from": self.valid_from.isoformat(), "valid_to": self.valid_to.isoformat(),
            "version": self.version, "deleted": self.deleted,
        }


@dataclass(frozen=True)
class BlacklistStatus:
    version: int  # the delta version last applied (0: never)
    updated_at: datetime | None  # when it was applied (for the "stale blacklist" warning)
    active_entries: int


@dataclass(frozen=True)
class DeltaResult:
    applied: int  # rows written (inserted or updated)
    skipped: int  # older than what the desk already has
    version: int


# --- booking keys ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredKey:
    kid: str
    alg: str
    x: str  # b64e(raw 32-byte Ed25519 public key)
    not_after: datetime | None


@dataclass(frozen=True)
class StoredKeySet:
    keys: tuple[StoredKey, ...]
    version: int

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> StoredKeySet:
        keys = tuple(
            StoredKey(kid=str(k["kid"]), alg=str(k.get("alg", "EdDSA")), x=str(k["x"]),
                      not_after=(datetime.fromtimestamp(int(k["not_after"]), UTC)
                                 if k.get("not_after") is not None else None))
            for k in d.get("keys", [])
        )
        return cls(keys=keys, version=int(d.get("version", 0)))

    def to_wire(self) -> dict[str, Any]:
        return {
            "keys": [{"kid": k.kid, "alg": k.alg, "x": k.x,
                      "not_after": int(k.not_after.timestamp()) if k.not_after else None}
                     for k in self.keys],
            "version": self.version,
        }


# --- users and audit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str  # "clerk" | "security" | "admin"
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    kind: str  # "edited" | "deleted" | "truncated" | "inserted"
    message: str


@dataclass(frozen=True)
class AuditReport:
    checked: int
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems
