"""The operations the screens call, as Protocols. The services in this package implement them;
the screens type against them. Every call may block (disk, hashing, network) and is therefore
run off the GUI thread by ``ui.operations``; every call returns a frozen value from
``desk_app.services.model`` or raises a :class:`~desk_app.errors.DeskError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Protocol

from desk_app.services.model import (
    AlertView,
    AuditEntryView,
    AuditVerifyView,
    CheckinState,
    ClerkJudgementsView,
    Decision,
    StatsView,
    SyncStatusView,
    UserView,
    WindowActionView,
)


class CheckinOps(Protocol):
    def new_patient(self) -> CheckinState:
        """Forget the current patient; the screen shows an empty step strip."""
        ...

    def submit_code(self, session_id: str, text: str, source: str) -> CheckinState:
        """A QR / barcode text from a camera ("camera"), a handheld scanner ("scanner") or typed."""
        ...

    def submit_id_number(self, session_id: str, text: str) -> CheckinState:
        """An ID number typed by the clerk (manual entry; the card could not be read)."""
        ...

    def submit_card(self, session_id: str, card: object) -> CheckinState:
        """A card read by the desktop reader or by camera (``devices.idcard.IdCardRead``)."""
        ...

    def submit_face_frame(self, session_id: str, frame: object, timestamp: float) -> CheckinState:
        """A live camera frame (numpy BGR) for the face comparison; cheap to call often: the
        service keeps the best frames of the window and decides when it has enough."""
        ...

    def decline_face(self, session_id: str) -> CheckinState:
        """The patient does not consent to face comparison: manual verification path."""
        ...

    def judge_face(self, session_id: str, same: bool) -> CheckinState:
        """The clerk's call on an undecided face (F7 same person, F8 not the same person: the
        latter rejects and alerts security); only the distance and the call are kept."""
        ...

    def confirm_card(self, session_id: str) -> CheckinState:
        """The clerk checked the physical card of a number read by the camera (F9)."""
        ...

    def finish_face(self, session_id: str) -> CheckinState:
        """The face window is over (or the card photo never came): decide with what there is."""
        ...

    def override(self, session_id: str, decision: Decision, reason: str,
                 supervisor: tuple[str, str] | None = None) -> CheckinState:
        """Clerk / security override of a REVIEW or REJECT, with a reason (role checked). With
        ``supervisor`` (user name, password) a colleague allowed to override (security, an
        administrator) decides at the clerk's window for this one action: the override names
        them, the visit still names the clerk, the desk stays signed in as the clerk."""
        ...

    def report_suspect(self, session_id: str, note: str) -> CheckinState:
        """Report the current patient as a suspected scalper to the platform."""
        ...


class WindowOps(Protocol):
    """The window's actions on the person whose ID card was checked in the open check-in."""

    def record_appeal(self, session_id: str, statement: str) -> WindowActionView:
        """The person appeals against the blacklist; ``statement`` is theirs, typed by the clerk.
        Sent to the platform, or queued in the outbox while it is unreachable; audited."""
        ...

    def unfreeze(self, session_id: str) -> WindowActionView:
        """Unfreeze the booking accounts frozen for this person (their card was checked)."""
        ...


class SecurityOps(Protocol):
    def alerts(self, include_handled: bool = False) -> Sequence[AlertView]: ...

    def alert_photos(self, alert_id: str) -> tuple[bytes | None, bytes | None]:
        """(ID photo, live face) PNGs while retention allows; the view is audited."""
        ...

    def mark_handled(self, alert_id: str, note: str) -> AlertView: ...

    def report_suspect(self, alert_id: str, note: str) -> AlertView: ...


class SessionOps(Protocol):
    def login(self, username: str, password: str) -> UserView: ...

    def logout(self) -> None: ...

    def current_user(self) -> UserView | None: ...


class StatsOps(Protocol):
    def stats(self, start: date, end: date) -> StatsView: ...

    def clerk_judgements(self, start: date, end: date) -> Sequence[ClerkJudgementsView]:
        """Per clerk: how they judged undecided faces and how fast (the view is audited)."""
        ...

    def export(self, start: date, end: date, path: Path, fmt: str) -> Path:
        """CSV or XLSX; audited."""
        ...


class SyncOps(Protocol):
    def status(self) -> SyncStatusView: ...

    def sync_now(self) -> None: ...

    def set_paused(self, paused: bool) -> None: ...

    def enroll(self, platform_url: str, code: str) -> SyncStatusView:
        """Register this desk with the platform using the one-time enrollment code."""
        ...


class AuditOps(Protocol):
    def entries(self, limit: int, offset: int) -> Sequence[AuditEntryView]:
        """Newest first; the view itself is audited (admin role checked)."""
        ...

    def count(self) -> int: ...

    def verify(self) -> AuditVerifyView:
        """Check the hash chain of the whole log."""
        ...
