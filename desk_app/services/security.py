"""The security staff's work: flagged cases, their photos (audited), handling, reports."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence

from desk_app.errors import Text, UserInputError
from desk_app.identity.hashing import b64e
from desk_app.logs import MASKER
from desk_app.services.model import AlertView, Role
from desk_app.services.session import SessionService
from desk_app.services.views import alert_view
from desk_app.settings import Settings
from desk_app.storage import Store

log = logging.getLogger(__name__)

MAX_NOTE = 500
REPORT_KINDS = ("scalper", "impersonation", "fake_id")


def check_note(note: str, *, required: bool) -> str:
    note = note.strip()
    if required and len(note) < 2:
        raise UserInputError(Text("请填写说明。", "Please write a note."))
    if len(note) > MAX_NOTE:
        raise UserInputError(Text(f"说明不能超过 {MAX_NOTE} 字。",
                                  f"The note may have at most {MAX_NOTE} characters."))
    # Notes are stored in clear and sent to the platform: mask IDs, phones and known names,
    # as override reasons are.
    return MASKER.mask(note)


def queue_suspect_report(store: Store, settings: Settings, *, kind: str, note: str,
                         booking_id: str | None, visit_id: str | None, id_hash: bytes | None,
                         id_last4: str | None, actor: str) -> str:
    """Put a suspect report in the outbox (the sync worker sends it); returns its id."""
    if kind not in REPORT_KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    report_id = str(uuid.uuid4())
    store.outbox.enqueue("suspect_report", report_id, {
        "report_id": report_id, "hospital_id": settings.desk.hospital_id,
        "desk_id": settings.desk.desk_id, "reported_at": store.now().isoformat(),
        "kind": kind, "booking_id": booking_id, "visit_id": visit_id,
        "id_hash": b64e(id_hash) if id_hash else None, "id_last4": id_last4, "note": note,
    }, visit_id=visit_id)
    store.audit.record(actor, "suspect.reported", report_id, {"visit_id": visit_id, "kind": kind})
    return report_id


class SecurityService:
    """Implements :class:`desk_app.services.api.SecurityOps` for the security role."""

    def __init__(self, store: Store, session: SessionService, settings: Callable[[], Settings],
                 reason_texts: Callable[[], dict[str, Text]] = dict,
                 on_outbox: Callable[[], None] = lambda: None):
        self.store = store
        self.session = session
        self.settings = settings
        self.reason_texts = reason_texts
        self.on_outbox = on_outbox

    def _view(self, alert) -> AlertView:  # noqa: ANN001
        booking = self.store.bookings.by_id(alert.visit.booking_id) if alert.visit.booking_id else None
        return alert_view(alert, self.reason_texts(), booking)

    def alerts(self, include_handled: bool = False) -> Sequence[AlertView]:
        self.session.require(Role.SECURITY, Role.ADMIN, Role.CLERK)
        return [self._view(a) for a in self.store.alerts.cases(include_handled)]

    def alert_photos(self, alert_id: str) -> tuple[bytes | None, bytes | None]:
        user = self.session.require(Role.SECURITY, Role.ADMIN)
        return self.store.alerts.photos(alert_id, viewer=user.username)

    def mark_handled(self, alert_id: str, note: str) -> AlertView:
        user = self.session.require(Role.SECURITY, Role.ADMIN)
        return self._view(self.store.alerts.mark_handled(alert_id, user.username,
                                                        check_note(note, required=True)))

    def report_suspect(self, alert_id: str, note: str) -> AlertView:
        user = self.session.require(Role.SECURITY, Role.ADMIN)
        alert = self.store.alerts.get(alert_id)
        v = alert.visit
        queue_suspect_report(self.store, self.settings(), kind="scalper",
                             note=check_note(note, required=True), booking_id=v.booking_id,
                             visit_id=v.visit_id, id_hash=v.presented_id_hash,
                             id_last4=v.presented_id_last4, actor=user.username)
        self.on_outbox()
        return self._view(alert)
