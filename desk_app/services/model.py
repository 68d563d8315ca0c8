"""What the services hand to the screens: small frozen values, never ORM objects.

Every text a person reads is a :class:`~desk_app.errors.Text` (zh_CN + en); personal data is
already masked here, so a screen cannot show more than it should. Images are encoded (PNG/JPEG
bytes) so these values stay plain data that crosses threads safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from desk_app.errors import Text


class Step(StrEnum):
    BOOKING = "booking"
    ID = "id"
    FACE = "face"
    CHECKS = "checks"


class StepStatus(StrEnum):
    WAITING = "waiting"  # nothing yet: the hint says what to present
    WORKING = "working"  # being read or compared
    OK = "ok"
    WARN = "warn"  # usable, but a clerk must look (e.g. face undecided, face declined)
    FAILED = "failed"
    SKIPPED = "skipped"


class Decision(StrEnum):
    ADMIT = "admit"
    REVIEW = "review"
    REJECT = "reject"


class Role(StrEnum):
    CLERK = "clerk"
    SECURITY = "security"
    ADMIN = "admin"


@dataclass(frozen=True)
class StepView:
    step: Step
    status: StepStatus
    summary: Text


@dataclass(frozen=True)
class ReasonView:
    code: str
    severity: str  # "info" | "warn" | "block"
    text: Text
    rule: str


@dataclass(frozen=True)
class BookingView:
    booking_id: str
    reference: str
    department: str
    doctor: str
    slot_start: datetime
    slot_end: datetime
    patient_last4: str


@dataclass(frozen=True)
class PersonView:
    id_masked: str
    name_masked: str
    sex: str  # "M" | "F" | ""
    card_valid_to: str  # ISO date, "长期" for long-term cards, "" when unknown
    source: str  # "reader" | "camera" | "manual"
    # years, from the ID number's birth date on the day of the check-in (None when unknown):
    # with ``sex``, what the clerk compares with the person in front when the face is unsure
    # (a relative with the patient's card is often of another sex or generation)
    age: int | None = None


@dataclass(frozen=True)
class FaceView:
    outcome: str  # "match" | "undecided" | "mismatch" | "declined" | "unavailable"
    distance: float | None
    match_below: float
    mismatch_above: float


@dataclass(frozen=True)
class VerdictView:
    decision: Decision
    reasons: tuple[ReasonView, ...]
    alert_security: bool
    overridden: bool = False
    override_reason: str = ""
    # Who decided when the clerk's call (face judged, card checked) changed the engine's
    # verdict: their account, and what they decided.
    decided_by: str = ""
    decision_note: Text | None = None


@dataclass(frozen=True)
class CheckinState:
    """The whole check-in screen for one patient, as the service sees it."""

    session_id: str
    steps: tuple[StepView, ...]
    hint: Text
    booking: BookingView | None = None
    person: PersonView | None = None
    face: FaceView | None = None
    verdict: VerdictView | None = None
    visit_id: str | None = None
    id_photo_png: bytes | None = None
    live_face_png: bytes | None = None
    errors: tuple[Text, ...] = ()
    # Where the face was found in the last frame given to submit_face_frame, in that frame's
    # pixels (left, top, right, bottom); None when no face was found. For the preview overlay.
    face_box: tuple[int, int, int, int] | None = None
    # The clerk's calls this case waits for: an undecided face to judge (F7 / F8), a card read
    # by the camera to check (F9); a chip read without a photo waiting for the counter camera
    # to capture the card's portrait.
    face_to_judge: bool = False
    card_to_confirm: bool = False
    card_confirmed_by: str = ""
    awaiting_card_photo: bool = False

    def step(self, step: Step) -> StepView:
        return next(s for s in self.steps if s.step == step)


@dataclass(frozen=True)
class AlertView:
    alert_id: str
    visit_id: str
    created_at: datetime
    desk_id: str
    decision: Decision
    reasons: tuple[ReasonView, ...]
    person: PersonView | None
    booking: BookingView | None
    status: str  # "open" | "handled"
    note: str = ""
    handled_by: str = ""
    conflict: bool = False  # the same booking checked in at another desk
    has_photos: bool = False
    # "desk": this desk's flagged case (photos here); "office": another window's or the
    # platform's alert (the security office; photos only on the desk that raised it)
    source: str = "desk"
    kind: str = ""  # office alerts: desk_alert, suspect_report, blacklist_hit ...
    handled_desk: str = ""  # where it was handled (office alerts)


@dataclass(frozen=True)
class SyncStatusView:
    state: str  # "online" | "offline" | "syncing" | "paused" | "error"
    since: datetime | None
    pending: int
    last_sync: datetime | None
    blacklist_age_s: float | None
    blacklist_stale: bool
    message: Text


@dataclass(frozen=True)
class DeviceStatusView:
    device: str  # "patient_camera" | "counter_camera" | "id_reader" | "scanner"
    state: str  # "running" | "reconnecting" | "failed" | "stopped" | "simulated" | "absent"
    message: Text


@dataclass(frozen=True)
class UserView:
    username: str
    display_name: str
    role: Role


@dataclass(frozen=True)
class StatsView:
    """Counts for one period, for the statistics screen and its exports."""

    period_start: datetime
    period_end: datetime
    checkins: int
    by_decision: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    blacklist_hits: int = 0
    by_hour: dict[int, int] = field(default_factory=dict)  # 0..23 -> check-ins
    by_day: dict[str, int] = field(default_factory=dict)  # ISO date -> check-ins
    # Words for the reason codes of by_reason (from the engine), so the screen need not know them.
    reason_text: dict[str, Text] = field(default_factory=dict)


@dataclass(frozen=True)
class ClerkJudgementsView:
    """One clerk's calls on undecided faces in a period. ``rubber_stamp``: nearly every case
    confirmed as the same person, nearly always within a second (not looked at)."""

    clerk: str
    judged: int
    same: int
    different: int
    within_1s: int  # "same" calls made within a second of the undecided verdict
    median_seconds: float
    rubber_stamp: bool
    # Insiders (since 2026-12-03): verdicts this person overrode in the period, and which of
    # their figures are far above their colleagues' ("overrides", "fast_confirms").
    overrides: int = 0
    far_above: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditEntryView:
    """One line of the audit log, for the viewer (details already masked by the service)."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str  # the entry's details as one readable line


@dataclass(frozen=True)
class AuditVerifyView:
    """The result of checking the audit hash chain."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    message: Text
    problems: tuple[str, ...] = ()  # one line per edited / deleted / inserted entry


@dataclass(frozen=True)
class WindowActionView:
    """A window action on the person at the counter (an appeal against the blacklist, or
    unfreezing their booking account), as the desk did it: sent, or queued while offline."""

    action: str  # "appeal" | "unfreeze"
    id_masked: str  # 110101********1234
    queued: bool  # the platform was unreachable: in the outbox, sent when it is back
    appeal_ids: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
