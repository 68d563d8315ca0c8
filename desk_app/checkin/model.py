"""The values the decision engine takes and gives: frozen, plain, no storage or device types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from desk_app.booking.model import Booking
from desk_app.errors import Text
from desk_app.identity.idnumber import IdNumber

FaceOutcome = Literal["match", "undecided", "mismatch", "declined", "unavailable"]
Liveness = Literal["passed", "failed", "not_run"]
ReadMethod = Literal["reader", "camera", "manual"]
Severity = Literal["info", "warn", "block"]
FaceJudgement = Literal["same", "different"]

FACE_OUTCOMES: tuple[str, ...] = ("match", "undecided", "mismatch", "declined", "unavailable")


class Decision(StrEnum):
    ADMIT = "admit"
    REVIEW = "review"
    REJECT = "reject"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Decision.ADMIT: 0, Decision.REVIEW: 1, Decision.REJECT: 2}


@dataclass(frozen=True)
class IdDocument:
    """The ID document as read: the checked number, the card's validity and how it was read."""

    number: IdNumber
    valid_to: date | None = None  # None: unknown (typed) or long-term
    long_term: bool = False  # "长期" cards (issued at 46 and over) never expire
    source: str = "reader"  # "reader" | "camera" | "manual" (anything else counts as manual)
    # A number read by the camera is not chip-verified: the clerk who checked the physical card
    # (a key on the check-in screen), and when. Empty / None: not confirmed.
    confirmed_by: str = ""
    confirmed_at: datetime | None = None

    @property
    def read_by(self) -> ReadMethod:
        return self.source if self.source in ("reader", "camera") else "manual"  # type: ignore[return-value]


@dataclass(frozen=True)
class FaceCheck:
    """The face comparison (``desk_app.faces`` makes it). ``liveness`` None or "pending" (not
    enough frames) count as "not_run"."""

    outcome: FaceOutcome
    distance: float | None = None
    liveness: Liveness | str | None = "not_run"
    # The clerk's call on an undecided face ("same" / "different") and their account.
    judgement: FaceJudgement | None = None
    judged_by: str = ""
    # Why no comparison was made (outcome "unavailable"), when the desk knows exactly:
    # "reader_no_decoder" (a chip reader without the photo decoder and no camera card reading),
    # "camera_no_portrait" (the counter camera did not capture the card's portrait either).
    missing: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in FACE_OUTCOMES:
            raise ValueError(f"unknown face outcome {self.outcome!r}")
        if self.liveness not in ("passed", "failed"):
            object.__setattr__(self, "liveness", "not_run")
        if self.judgement not in (None, "same", "different"):
            raise ValueError(f"unknown face judgement {self.judgement!r}")


@dataclass(frozen=True)
class BlacklistHit:
    """The desk's blacklist entry for the presented ID (found by its platform-salted hash)."""

    source: str  # "police" | "platform" | "hospital"
    reason: str
    valid_to: datetime
    valid_from: datetime | None = None
    entry_id: str = ""

    def active_at(self, now: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= now) and now <= self.valid_to


@dataclass(frozen=True)
class PriorVisit:
    """An earlier check-in attempt known locally (this desk's, or another desk's once synced)."""

    visit_id: str
    booking_id: str | None
    desk_id: str
    checked_in_at: datetime
    verdict: str  # the final verdict (after any override): "admit" | "review" | "reject"

    @property
    def checked_in(self) -> bool:
        """Counted as a check-in as the platform counts them: admitted or sent to review."""
        return self.verdict in ("admit", "review")


@dataclass(frozen=True)
class History:
    booking_visits: tuple[PriorVisit, ...] = ()  # earlier attempts with this booking, any desk
    person_visits_today: tuple[PriorVisit, ...] = ()  # this person's other check-ins today


@dataclass(frozen=True)
class CheckinInput:
    """Everything one decision looks at. Missing parts are None: the rules that need them do
    not run (or say what is missing)."""

    now: datetime
    booking: Booking | None = None
    booking_error: str | None = None  # BookingCodeError.reason when the code was refused
    document: IdDocument | None = None
    patient_matches: bool | None = None  # computed from booking + document when None
    face: FaceCheck | None = None
    blacklist: BlacklistHit | None = None
    blacklist_age: timedelta | None = None  # age of the desk's copy; None: never synced
    blacklist_known: bool = True  # False: the presented ID could not be looked up at all
    history: History = field(default_factory=History)


@dataclass(frozen=True)
class Reason:
    """Why a verdict is what it is. ``effect``: the decision this reason calls for (the verdict
    is the strongest); ``severity`` is the contract's word for it (block/warn/info)."""

    code: str
    severity: Severity
    text: Text
    rule: str
    effect: Decision = Decision.ADMIT
    alert: bool = False


@dataclass(frozen=True)
class ClerkOverride:
    by: str
    role: str
    reason: str
    decision: Decision  # the decision after the override
    previous: Decision  # the engine's decision
    at: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: tuple[Reason, ...]
    alert_security: bool = False
    override: ClerkOverride | None = None

    @property
    def decided(self) -> Decision:
        """The engine's decision, before any override."""
        return self.override.previous if self.override is not None else self.decision

    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def reason(self, code: str) -> Reason | None:
        return next((r for r in self.reasons if r.code == code), None)
