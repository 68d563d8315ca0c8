"""Pushing the desk's outbox to the platform (the first half of a sync cycle, :mod:`sync.worker`).

Pending outbox items, oldest first, in batches. An item recorded under another enrollment than
this desk's now (its hospital or desk id differs from the desk config's: the PC was enrolled
again as another desk) is parked with that reason, never sent: the platform refuses a whole
batch holding another desk's visit (403) as if this desk had no rights. Visits go as one batch
request, marked sent only after the platform answered for each; every other kind goes on its own
endpoint after the visits. An item refused for good (a 4xx, or invalid on the desk) is parked:
kept on the desk, marked with the reason, counted, and never blocks the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from desk_app.storage import Store
from sync import convert, protocol
from sync.appeals import WINDOW_KINDS, send_queued
from sync.client import DeskApi, InvalidRequest, PlatformRefused, PlatformUnavailable
from sync.office import OfficeSync, send_insiders
from sync.pull import flag_conflict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CycleReport:
    pushed: int = 0  # outbox items the platform acknowledged
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    parked: int = 0  # refused for good (kept on the desk, marked with the reason)
    pulled: int = 0  # delta items applied
    pull_ms: tuple[float, ...] = ()  # duration of each pull request


#: The kinds checked with their wire model before they are sent (None: never valid).
_CHECKED: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
    "visit": convert.visit_payload, "suspect_report": convert.report_payload,
    "visit_override": convert.override_payload, "visit_alert": convert.visit_alert_payload,
}


class Push:
    """One push of the whole outbox. ``check`` raises to leave between two units of work
    (paused, stopping); ``cfg`` is the desk config fetched this cycle (who this desk is now)."""

    def __init__(self, store: Store, api: DeskApi, office: OfficeSync, check: Callable[[], None],
                 cfg: protocol.DeskConfig):
        self.store, self.api, self.office = store, api, office
        self._check, self.cfg = check, cfg

    def run(self, batch: int) -> CycleReport:
        report = CycleReport()
        while True:
            self._check()
            items = self.store.outbox.pending(batch)
            if not items:
                return report
            own = self._park_foreign(items)
            report = replace(report, parked=report.parked + len(items) - len(own))
            items = own
            checked: dict[str, list[tuple[Any, dict[str, Any]]]] = {k: [] for k in _CHECKED}
            parked, actions, handled = [], [], []
            for item in items:
                if item.kind in _CHECKED:  # checked on the desk with the wire model first
                    payload = _CHECKED[item.kind](item.payload)
                    (checked[item.kind].append((item, payload)) if payload else parked.append(item))
                elif item.kind in ("alert_handled", "insider_week", "alert_photos"):
                    handled.append(item)
                elif item.kind in WINDOW_KINDS:  # an appeal / unfreeze recorded offline
                    actions.append(item)
                else:
                    # Nothing on the platform takes it (e.g. an override after upload): kept on
                    # the desk, marked, so it never blocks the queue.
                    parked.append(item)
            visits, reports = checked["visit"], checked["suspect_report"]
            overrides, flagged = checked["visit_override"], checked["visit_alert"]
            if parked:
                self._park(parked, "refused by the desk: not valid for the platform")
                report = replace(report, parked=report.parked + len(parked))
            if visits:
                self.office.mark_alerts(visits)
                report = self._push_visits(visits, report)
            for item, payload in flagged:  # after the visits, before their photos
                report = self._send_one(item, report, lambda p=payload: (
                    self.api.push_visit_alert(p).status))
            for item in handled:  # after the visits: the platform has their alerts
                send = {"alert_handled": self.office.send_handled,
                        "alert_photos": self.office.send_photos}.get(item.kind, send_insiders)
                report = self._send_one(item, report, lambda i=item, f=send: (
                    f(self.api, i.payload)))
            for item, payload in reports:
                report = self._send_one(item, report, lambda p=payload: (
                    self.api.report_suspect(p).status))
            for item, payload in overrides:  # after the visits: the platform must have the visit
                report = self._send_one(item, report, lambda p=payload: (
                    self.api.push_override(p).status))
            for item in actions:
                report = self._send_one(item, report, lambda i=item: (
                    send_queued(self.api, i.kind, i.payload)))

    def _park_foreign(self, items: list[Any]) -> list[Any]:
        """Park the items recorded under another enrollment than this desk's now (hospital or
        desk id in the payload); the rest is returned, to be sent."""
        now = (self.cfg.hospital_id, self.cfg.desk_id)
        own: list[Any] = []
        other: dict[tuple[str, str], list[Any]] = {}
        for item in items:
            p = item.payload
            was = (str(p.get("hospital_id", now[0])), str(p.get("desk_id", now[1])))
            (own.append(item) if was == now else other.setdefault(was, []).append(item))
        for (hospital, desk), group in other.items():
            self._park(group, f"recorded as desk {hospital}/{desk}; this desk is now enrolled "
                              f"as {now[0]}/{now[1]}")
        return own

    def _send_one(self, item: Any, report: CycleReport, send: Callable[[], Any]) -> CycleReport:
        """One item on its own endpoint. A refusal for good (a 4xx: the visit is not on the
        platform or not this desk's, the person no longer on the blacklist, ...; or ``send``
        answering False or raising InvalidRequest: invalid on the desk) parks it: kept on the
        desk, marked, counted, and the items behind it go on."""
        self._check()
        try:
            status = send()
        except InvalidRequest:
            status = False
        except PlatformRefused as exc:
            self._park([item], f"refused by the platform (HTTP {exc.status})")
            return replace(report, parked=report.parked + 1)
        if status is False:  # the desk's own check: it can never be sent
            self._park([item], "refused by the desk: not valid for the platform")
            return replace(report, parked=report.parked + 1)
        log.info("outbox %s #%s sent: %s", item.kind, item.id, status)
        self.store.outbox.mark_sent([item.id])
        return replace(report, pushed=report.pushed + 1)

    def _push_visits(self, visits: list[tuple[Any, dict[str, Any]]], report: CycleReport
                     ) -> CycleReport:
        result = self.api.push_visits([p for _, p in visits])
        by_id = {r.visit_id: r for r in result.results}
        sent, refused, conflicts = [], [], []
        for item, payload in visits:
            r = by_id.get(payload["visit_id"])
            if r is None:
                continue
            if r.status is protocol.VisitStatus.REJECTED:
                refused.append(item)
                continue
            sent.append(item.id)
            if r.status is protocol.VisitStatus.CONFLICT or r.conflict:
                conflicts.append(payload["visit_id"])
        self.store.outbox.mark_sent(sent)
        if refused:
            self._park(refused, "refused by the platform")
        for visit_id in conflicts:
            flag_conflict(self.store, visit_id, "")
        missing = len(visits) - len(sent) - len(refused)
        report = replace(
            report, pushed=report.pushed + len(sent), stored=report.stored + result.stored,
            duplicates=report.duplicates + result.duplicates,
            conflicts=report.conflicts + result.conflicts,
            parked=report.parked + len(refused),
        )
        if missing:
            # The answer does not cover the batch (a proxy cut it?): the rest goes again.
            raise PlatformUnavailable(detail=f"answer lacks {missing} visit(s) of the batch")
        return report

    def _park(self, items: list[Any], why: str) -> None:
        ids = [i.id for i in items]
        log.warning("%d outbox item(s) %s; kept on the desk (%s)", len(ids), why,
                    ", ".join(sorted({i.kind for i in items})))
        self.store.outbox.park(ids, why)
