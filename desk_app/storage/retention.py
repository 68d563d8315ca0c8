"""Every purge, on schedule: at the desk's start and once a day while it runs (the
composition root drives :func:`run_retention` with a :class:`Periodic`). PIPL: sensitive data is
kept only as long as the case needs it.

| what | kept | setting |
|---|---|---|
| face images of flagged cases | ``face_retention_days`` (30) | ``privacy.face_retention_days`` |
| a visit's full ID number, name, face template, keyed look-up hash (``id_lookup``) | ``visit_pii_days`` (30) | ``privacy.visit_pii_days`` |
| audit entries | ``audit_retention_days`` (3 years); the chain restarts at a MAC'd anchor | ``privacy.audit_retention_days`` |
| outbox items the platform acknowledged | 7 days | |
| outbox items the platform refused for good (parked; ``desk-app outbox retry`` puts them back) | ``visit_pii_days`` (30) | ``privacy.visit_pii_days`` |
| cached bookings | 7 days after their slot | |
| blacklist entries that ended or were lifted | 30 days | |
| other windows' alerts, once handled (the security office) | ``visit_pii_days`` (30) | ``privacy.visit_pii_days`` |
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from desk_app.settings import PrivacySection

log = logging.getLogger(__name__)

SENT_OUTBOX_KEPT = timedelta(days=7)
BOOKINGS_KEPT = timedelta(days=7)
BLACKLIST_GRACE = timedelta(days=30)


def run_retention(store, privacy: PrivacySection) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Run every purge once; the counts (also one audit entry, ``retention.run``)."""
    from desk_app.storage.audit import AuditAction
    from desk_app.storage.office_alerts import OfficeAlerts

    counts = {
        "face_images": store.alerts.purge_face_images(privacy.face_retention_days),
        "visit_pii": store.visits.purge_pii(privacy.visit_pii_days),
        "audit": store.audit.purge(privacy.audit_retention_days),
        "sent_outbox": store.outbox.purge_sent(SENT_OUTBOX_KEPT,
                                               timedelta(days=privacy.visit_pii_days)),
        "bookings": store.bookings.purge(store.now() - BOOKINGS_KEPT),
        "blacklist": store.blacklist.purge_expired(BLACKLIST_GRACE),
        "office_alerts": OfficeAlerts(store).purge_handled(privacy.visit_pii_days),
    }
    store.audit.record("system", AuditAction.RETENTION_RUN, "", counts)
    log.info("retention: %s", counts)
    return counts


class Periodic:
    """A daemon thread that runs ``task`` every ``every_s()`` seconds (and once at start when
    ``at_start``) until stopped. A failure is logged and tried again at the next tick; it never
    stops the desk."""

    def __init__(self, name: str, task: Callable[[], object], every_s: Callable[[], float], *,
                 at_start: bool = False, errors: tuple[type[BaseException], ...] = (Exception,)):
        self.name = name
        self._task = task
        self._every_s = every_s
        self._at_start = at_start
        self._errors = errors
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def _once(self) -> None:
        try:
            self._task()
            self.runs += 1
        except self._errors as exc:  # logged with its type; tried again at the next tick
            log.error("%s failed: %s: %s", self.name, type(exc).__name__, exc)

    def _run(self) -> None:
        if self._at_start and not self._stop.is_set():
            self._once()
        while not self._stop.wait(self._every_s()):
            self._once()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
