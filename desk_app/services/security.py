"""The security staff's work: flagged cases, their photos (audited), handling, reports."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence

from desk_app.alert_ids import DESK_ALERT, DESK_ALERT_DETAIL, LATE_DESK_ALERT_DETAIL
from desk_app.errors import PhotosNotHere, Text, UserInputError
from desk_app.identity.hashing import b64e
from desk_app.logs import MASKER
from desk_app.services.model import AlertView, Decision, ReasonView, Role
from desk_app.services.session import SessionService
from desk_app.services.views import alert_view, reason_view
from desk_app.settings import Settings
from desk_app.storage import NotFoundError, Reason, Store
from desk_app.storage.audit import AuditAction
from desk_app.storage.office_alerts import OfficeAlert, OfficeAlerts

log = logging.getLogger(__name__)

MAX_NOTE = 500
#: (hospital, alert id, viewer, viewer's role) -> (ID photo, live face) from the platform
RemotePhotos = Callable[[str, str, str, str], tuple[bytes | None, bytes | None]]
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


#: What each kind of the platform's alert means, for the security screen.
OFFICE_KINDS: dict[str, tuple[Text, Decision]] = {
    "desk_alert": (Text("窗口告警 (人证不符、伪造预约码等)",
                        "A window's alert (impostor, forged booking code ...)"), Decision.REJECT),
    "double_check_in": (Text("同一预约在两个窗口报到", "One booking checked in at two windows"),
                        Decision.REVIEW),
    "suspect_report": (Text("窗口上报可疑人员", "A window reported a suspect"), Decision.REVIEW),
    "blacklist_hit": (Text("黑名单人员 (平台核对)", "On the blacklist (found by the platform)"),
                      Decision.REJECT),
    "blacklist_elsewhere": (Text("本院预约患者在其他医院命中黑名单",
                                 "A patient booked here was caught on the blacklist at another "
                                 "hospital"), Decision.REJECT),
}


LATE_TEXT = Text("核验后由挂号员复核告警", "Raised after the check-in, on the clerk's later call")


def _detail_views(a: OfficeAlert) -> tuple[ReasonView, ...]:
    """The alert's detail for the screen: a window's alert names its verdict's reasons by
    code, shown in the screen's words (an unknown code as it is); other details as they are."""
    detail = a.detail.strip()
    if not detail:
        return ()
    late_prefix, prefix = LATE_DESK_ALERT_DETAIL.rstrip(), DESK_ALERT_DETAIL.rstrip()
    late = detail.startswith(late_prefix)
    if a.kind != DESK_ALERT or not (late or detail.startswith(prefix)):
        return (ReasonView(code="detail", severity="info", text=Text(detail, detail),
                           rule="office"),)
    codes = detail.removeprefix(late_prefix if late else prefix)
    views = tuple(reason_view(Reason(code=c, severity="info", rule="office"))
                  for c in (c.strip() for c in codes.split(",")) if c)
    if late:
        views = (ReasonView(code="late", severity="info", text=LATE_TEXT, rule="office"),
                 *views)
    return views


def office_view(a: OfficeAlert, *, shared: bool = False) -> AlertView:
    """A view of another window's or the platform's alert (no person: the platform has none).
    ``shared``: the site shares alert photos (privacy.share_alert_photos), so a window's alert
    may have its two photos on the platform (fetched when shown, see ``alert_photos``)."""
    text, decision = OFFICE_KINDS.get(a.kind, (Text("平台告警", "Platform alert"),
                                               Decision.REVIEW))
    reasons = (ReasonView(code=a.kind, severity="block" if decision is Decision.REJECT
                          else "warn", text=text, rule="office"), *_detail_views(a))
    return AlertView(
        alert_id=a.alert_id, visit_id=a.visit_ids[0] if a.visit_ids else "",
        created_at=a.created_at, desk_id=", ".join(a.desk_ids) or "平台 / platform",
        decision=decision, reasons=reasons, person=None, booking=None,
        status="handled" if a.handled else "open", note=a.handled_note,
        handled_by=a.handled_by or "", conflict=a.kind == "double_check_in",
        has_photos=shared and a.kind == DESK_ALERT, source="office", kind=a.kind, handled_desk=a.handled_desk or "")


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
                 on_outbox: Callable[[], None] = lambda: None,
                 remote_photos: RemotePhotos | None = None):
        self.store = store
        self.session = session
        self.settings = settings
        self.reason_texts = reason_texts
        self.on_outbox = on_outbox
        self.office = OfficeAlerts(store)  # every window's alerts (the security office)
        #: another window's alert photos from the platform (sync.office.fetch_photos)
        self.remote_photos = remote_photos

    def _shared(self) -> bool:
        return self.remote_photos is not None and self.settings().privacy.share_alert_photos

    def _view(self, alert) -> AlertView:  # noqa: ANN001
        booking = self.store.bookings.by_id(alert.visit.booking_id) if alert.visit.booking_id else None
        return alert_view(alert, self.reason_texts(), booking)

    def alerts(self, include_handled: bool = False) -> Sequence[AlertView]:
        """This desk's flagged cases and the alerts of every other window of the hospital and
        of the platform (one case once: the platform's alert of our own visit is ours)."""
        self.session.require(Role.SECURITY, Role.ADMIN, Role.CLERK)
        own = [self._view(a) for a in self.store.alerts.cases(True)]
        ours = {a.visit_id for a in own}
        shared = self._shared()
        office = [office_view(a, shared=shared) for a in self.office.alerts(include_handled)
                  if not (a.kind == DESK_ALERT and set(a.visit_ids) & ours)]
        if not include_handled:
            own = [a for a in own if a.status == "open"]
        return sorted(own + office, key=lambda a: a.created_at, reverse=True)

    def _office_alert(self, alert_id: str) -> OfficeAlert | None:
        try:
            return self.office.alert(alert_id)
        except NotFoundError:
            return None

    def alert_photos(self, alert_id: str) -> tuple[bytes | None, bytes | None]:
        user = self.session.require(Role.SECURITY, Role.ADMIN)
        office = self._office_alert(alert_id)
        if office is not None:
            return self._office_photos(office, user.username, user.role.value)
        return self.store.alerts.photos(alert_id, viewer=user.username)

    def _office_photos(self, a: OfficeAlert, viewer: str, role: str
                       ) -> tuple[bytes | None, bytes | None]:
        """Another window's alert photos, from the platform, in memory only (never stored
        here); the look is audited here and, naming ``viewer``, on the platform."""
        if a.kind != DESK_ALERT or not self._shared() or self.remote_photos is None:
            raise PhotosNotHere.elsewhere()  # docs/security.md: the site keeps them there
        outcome = "shown"
        try:
            return self.remote_photos(self.settings().desk.hospital_id, a.alert_id, viewer, role)
        except PhotosNotHere as exc:
            outcome = exc.reason
            raise
        finally:
            self.store.audit.record(viewer, AuditAction.ALERT_VIEWED, a.alert_id, {
                "office": True, "desks": list(a.desk_ids), "photos": outcome})

    def mark_handled(self, alert_id: str, note: str) -> AlertView:
        """Handled once for all desks: an office alert through the platform; our own case here
        and, when it went up as an alert, on the platform too."""
        user = self.session.require(Role.SECURITY, Role.ADMIN)
        note = check_note(note, required=True)
        hospital = self.settings().desk.hospital_id
        if self._office_alert(alert_id) is not None:
            view = office_view(self.office.handle(alert_id, user.username, note, hospital),
                               shared=self._shared())
        else:
            alert = self.store.alerts.mark_handled(alert_id, user.username, note)
            if not alert.conflict:
                self.office.handle_for_visit(alert.visit_id, user.username, note, hospital)
            view = self._view(alert)
        self.on_outbox()
        return view

    def report_suspect(self, alert_id: str, note: str) -> AlertView:
        user = self.session.require(Role.SECURITY, Role.ADMIN)
        if self._office_alert(alert_id) is not None:
            raise UserInputError(Text(
                "只能上报本窗口的核验记录; 其他窗口的告警请在该窗口上报。",
                "Only this window's cases can be reported here; report another window's alert "
                "at that window."))
        alert = self.store.alerts.get(alert_id)
        v = alert.visit
        queue_suspect_report(self.store, self.settings(), kind="scalper",
                             note=check_note(note, required=True), booking_id=v.booking_id,
                             visit_id=v.visit_id, id_hash=v.presented_id_hash,
                             id_last4=v.presented_id_last4, actor=user.username)
        self.on_outbox()
        return self._view(alert)
