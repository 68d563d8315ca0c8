"""The security office on the desk: the alerts of every window of the hospital and the
platform's own, as the platform's alerts delta and its push bring them (table
``office_alerts``, revision 4), and handling them once for all desks.

An alert handled here is marked at once (``handled_here``) and an ``alert_handled`` outbox item
tells the platform; the platform's answer comes back in the delta with the handler's name, and
every desk (this one too) then shows it handled. A desk's own flagged case (``alerts``, with the
photos) and the platform's alert of it (``desk_alert``, same visit) are one case: handling
either handles both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from desk_app.alert_ids import DESK_ALERT, made_alert_id
from desk_app.storage.audit import AuditAction
from desk_app.storage.errors import NotFoundError
from desk_app.storage.keys import Cursors
from desk_app.storage.schema import AlertRow, OfficeAlertRow, VisitRow
from desk_app.storage.store import Store

CURSOR = "alerts.office"
OUTBOX_KIND = "alert_handled"


@dataclass(frozen=True)
class OfficeAlert:
    alert_id: str
    seq: int
    kind: str  # double_check_in | suspect_report | blacklist_hit | desk_alert | blacklist_elsewhere
    booking_id: str | None
    visit_ids: tuple[str, ...]
    desk_ids: tuple[str, ...]
    created_at: datetime
    detail: str
    handled_by: str | None = None
    handled_at: datetime | None = None
    handled_note: str = ""
    handled_desk: str | None = None
    handled_here: bool = False  # handled at this desk, the platform not told yet

    @property
    def handled(self) -> bool:
        return self.handled_at is not None


@dataclass(frozen=True)
class OfficeApplied:
    new_open: tuple[str, ...]  # alerts seen for the first time and open
    handled: tuple[str, ...]  # alerts that are now handled (elsewhere or confirmed)


def _aad(column: str, alert_id: str) -> bytes:
    return f"office.{column}|{alert_id}".encode()


class OfficeAlerts:
    def __init__(self, store: Store):
        self.store = store

    def cursor(self) -> int:
        value = self.store.cursors.get(CURSOR)
        try:
            return int(value) if value else 0
        except ValueError:
            return 0

    def apply(self, alerts: Sequence[OfficeAlert], cursor: int | None = None) -> OfficeApplied:
        """Store a page of the platform's alerts (a newer ``seq`` replaces the row; an older or
        equal one is ignored, so the delta and the push may bring the same page twice) and
        move the cursor, in one transaction. A desk alert of our own visit handled elsewhere
        marks our flagged case handled too."""
        store, c = self.store, self.store.db.crypto
        now = store.now()
        new_open: list[str] = []
        handled: list[str] = []
        with store.db.write() as s:
            for a in alerts:
                row = s.get(OfficeAlertRow, a.alert_id)
                if row is not None and row.seq >= a.seq:
                    continue
                if row is None:
                    row = OfficeAlertRow(alert_id=a.alert_id, handled_here=False)
                    s.add(row)
                    if a.handled_at is None:
                        new_open.append(a.alert_id)
                was_handled = row.handled_at is not None and not row.handled_here
                row.seq, row.kind, row.booking_id = a.seq, a.kind, a.booking_id
                row.visit_ids_json = json.dumps(list(a.visit_ids))
                row.desk_ids_json = json.dumps(list(a.desk_ids))
                row.created_at = a.created_at
                row.detail_enc = c.encrypt(a.detail.encode(), _aad("detail", a.alert_id))
                if a.handled_at is not None:
                    row.handled_by, row.handled_at, row.handled_desk = (
                        a.handled_by, a.handled_at, a.handled_desk)
                    row.handled_note_enc = c.encrypt_text(a.handled_note,
                                                          _aad("note", a.alert_id))
                    row.handled_here = False
                    if not was_handled:
                        handled.append(a.alert_id)
                        if a.kind == DESK_ALERT:
                            self._handle_local_cases(s, a, now)
            if cursor is not None:
                Cursors.put(s, CURSOR, str(cursor), now)
        return OfficeApplied(tuple(new_open), tuple(handled))

    def _handle_local_cases(self, s, a: OfficeAlert, now: datetime) -> None:  # noqa: ANN001
        for vid in a.visit_ids:
            for local in s.scalars(select(AlertRow).where(AlertRow.visit_id == vid,
                                                          AlertRow.status == "open",
                                                          AlertRow.conflict.is_(False))):
                local.status, local.handled_by, local.handled_at = (
                    "handled", a.handled_by or "", a.handled_at or now)
                local.note = a.handled_note
                self.store.audit.append(s, a.handled_by or "platform",
                                         AuditAction.ALERT_HANDLED, local.alert_id,
                                         {"visit_id": vid, "at_desk": a.handled_desk}, now)

    def alerts(self, include_handled: bool = False) -> list[OfficeAlert]:
        q = select(OfficeAlertRow).order_by(OfficeAlertRow.created_at.desc())
        if not include_handled:
            q = q.where(OfficeAlertRow.handled_at.is_(None))
        with self.store.db.read() as s:
            return [self._alert(r) for r in s.scalars(q)]

    def alert(self, alert_id: str) -> OfficeAlert:
        with self.store.db.read() as s:
            row = s.get(OfficeAlertRow, alert_id)
            if row is None:
                raise NotFoundError(detail="office alert")
            return self._alert(row)

    def handle(self, alert_id: str, by: str, note: str, hospital_id: str) -> OfficeAlert:
        """Handled at this desk: marked now, the platform told through the outbox (one
        transaction). Our own flagged case of the same visit is handled with it."""
        store = self.store
        now = store.now()
        with store.db.write() as s:
            row = s.get(OfficeAlertRow, alert_id)
            if row is None:
                raise NotFoundError(detail="office alert")
            if row.handled_at is None:
                self._mark_here(s, row, by, note, now, hospital_id)
                if row.kind == DESK_ALERT:
                    a = self._alert(row)
                    self._handle_local_cases(s, a, now)
            return self._alert(row)

    def handle_for_visit(self, visit_id: str, by: str, note: str, hospital_id: str) -> None:
        """Our flagged case of ``visit_id`` was handled here: tell the platform its alert of
        that visit is handled (it has one when the visit went up with ``alert``)."""
        store = self.store
        now = store.now()
        alert_id = made_alert_id(DESK_ALERT, hospital_id, visit_id)
        with store.db.write() as s:
            row = s.get(OfficeAlertRow, alert_id)
            if row is not None:
                if row.handled_at is None:
                    self._mark_here(s, row, by, note, now, hospital_id)
                return
            store.outbox.add(s, OUTBOX_KIND, f"{alert_id}:handled", {
                "hospital_id": hospital_id, "alert_id": alert_id, "handled_by": by,
                "note": note}, now)

    def _mark_here(self, s, row: OfficeAlertRow, by: str, note: str, now: datetime,  # noqa: ANN001
                   hospital_id: str) -> None:
        row.handled_by, row.handled_at, row.handled_here = by, now, True
        row.handled_note_enc = self.store.db.crypto.encrypt_text(note, _aad("note", row.alert_id))
        self.store.outbox.add(s, OUTBOX_KIND, f"{row.alert_id}:handled", {
            "hospital_id": hospital_id, "alert_id": row.alert_id, "handled_by": by,
            "note": note}, now)
        self.store.audit.append(s, by, AuditAction.ALERT_HANDLED, row.alert_id,
                                 {"office": True, "kind": row.kind}, now)

    def purge_handled(self, days: int) -> int:
        """Delete alerts handled more than ``days`` ago (their notes may name people); open
        ones stay. The platform keeps its own record."""
        from sqlalchemy import delete

        cutoff = self.store.now() - timedelta(days=days)
        with self.store.db.write() as s:
            r = s.execute(delete(OfficeAlertRow).where(OfficeAlertRow.handled_at.is_not(None),
                                                       OfficeAlertRow.handled_at < cutoff,
                                                       OfficeAlertRow.handled_here.is_(False)))
            return int(r.rowcount or 0)

    def alerting_visits(self, visit_ids: Iterable[str]) -> set[str]:
        """Which of these visits alerted security at this desk (a flagged case that is not a
        double check-in found by the platform): what the upload marks ``alert``."""
        ids = sorted(set(visit_ids))
        if not ids:
            return set()
        with self.store.db.read() as s:
            return set(s.scalars(select(AlertRow.visit_id).where(
                AlertRow.visit_id.in_(ids), AlertRow.conflict.is_(False))))

    def local_visits(self, visit_ids: Iterable[str]) -> set[str]:
        ids = sorted(set(visit_ids))
        if not ids:
            return set()
        with self.store.db.read() as s:
            return set(s.scalars(select(VisitRow.visit_id).where(VisitRow.visit_id.in_(ids))))

    def _alert(self, r: OfficeAlertRow) -> OfficeAlert:
        c = self.store.db.crypto
        return OfficeAlert(
            alert_id=r.alert_id, seq=r.seq, kind=r.kind, booking_id=r.booking_id,
            visit_ids=tuple(json.loads(r.visit_ids_json)),
            desk_ids=tuple(json.loads(r.desk_ids_json)), created_at=r.created_at,
            detail=c.decrypt(r.detail_enc, _aad("detail", r.alert_id)).decode(),
            handled_by=r.handled_by, handled_at=r.handled_at,
            handled_note=c.decrypt_text(r.handled_note_enc, _aad("note", r.alert_id)) or "",
            handled_desk=r.handled_desk, handled_here=r.handled_here)
