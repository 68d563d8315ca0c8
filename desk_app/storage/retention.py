"""Every purge, on schedule: at the desk's start and once a day while it runs (the
composition root drives :func:`run_retention` with a :class:`Periodic`). PIPL: sensitive data is
kept only as long as the case needs it.

| what | kept | setting |
|---|---|---|
| face images of flagged cases | ``face_retention_days`` (30) | ``privacy.face_retention_days`` |
| a visit's full ID number, name, face template, keyed look-up hash (``id_lookup``) | ``visit_pii_days`` (30) | ``privacy.visit_pii_days`` |
| audit entries | ``audit_retention_days`` (3 years); the chain restarts at a MAC'd anchor | ``privacy.audit_retention_days`` |
| outbox items the platform acknowledged | 7 days | |
| outbox items the platform refused for good (parked; ``desk-app outbox retry`` puts them back) | ``visit_pii_days`` (30), by the platform's time | ``privacy.visit_pii_days`` |
| cached bookings | 7 days after their slot | |
| blacklist entries that ended (by the platform's time) or were lifted | 30 days | |
| other windows' alerts, once handled (the security office) | ``visit_pii_days`` (30) | ``privacy.visit_pii_days`` |
| database copies the desk made: before a schema upgrade (``backups/desk-*.sqlite3``), online (``backups/live/``), a damaged file moved aside (``damaged/``) | the shorter of ``face_retention_days`` and ``visit_pii_days`` (30), by the file's time | both |

A database copy holds what the database held when it was made: every visit's full number, name
and face template and every alert's face images, which the purges above remove from the live
database only. So a copy goes once it is older than the shortest of the periods that apply to
that content (face images, and a visit's full number / name / template). Only files named as the
desk names them are touched; anything hospital IT put there stays.

A desk clock running ahead (a mis-set month, a bad time source) must not delete what cannot come
back: a ban still running (the ``blacklist`` cursor is past it, no pull brings it again) and the
items the platform refused (the only copy). Those two ages count on the platform's time, the
desk's clock plus the skew the sync worker measured (``Cursors.platform_now``), and they wait
while it is not known (no complete sync within a day, an absurd skew). Other outbox ages count on
the earlier of both clocks, and a ``sent_at`` in the future (stamped on a fast clock) becomes now.
Resetting the blacklist cursor after each purge instead would pull the whole list (up to a
million rows) every day.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

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
        "backups": purge_database_copies(store, min(privacy.face_retention_days,
                                                    privacy.visit_pii_days)),
    }
    store.audit.record("system", AuditAction.RETENTION_RUN, "", counts)
    log.info("retention: %s", counts)
    return counts


def database_copies(db_file: Path) -> list[Path]:
    """Every copy of the database the desk made beside ``db_file`` (AppPaths: ``backups/`` is
    ``backup_dir``, ``damaged/`` is where :func:`desk_app.storage.recovery.quarantine` moves a
    damaged file): upgrade backups (:func:`desk_app.storage.migrate.backup_sqlite`), online
    backups and their unfinished ``.partial`` files, damaged files with their -wal/-shm."""
    backups = db_file.parent / "backups"
    found = [*backups.glob(f"{db_file.stem}-*{db_file.suffix}"),
             *(backups / "live").glob(f"{db_file.stem}-*{db_file.suffix}"),
             *(backups / "live").glob(f"{db_file.stem}-*.partial")]
    for suffix in ("", "-wal", "-shm"):
        found += (db_file.parent / "damaged").glob(f"{db_file.stem}-*{db_file.suffix}{suffix}")
    return sorted(p for p in found if p.is_file())


def purge_database_copies(store, retention_days: int) -> int:  # type: ignore[no-untyped-def]
    """Delete the database copies (:func:`database_copies`) last written more than
    ``retention_days`` ago (audited, naming the files); the count. Nothing for a database
    that is not a SQLite file."""
    name = store.db.w.url.database if store.db.dialect == "sqlite" else None
    if not name or name == ":memory:":
        return 0
    cutoff = (store.now() - timedelta(days=retention_days)).timestamp()
    gone = []
    for copy in database_copies(Path(name)):
        try:
            if copy.stat().st_mtime < cutoff:
                copy.unlink()
                gone.append(copy.name)
        except FileNotFoundError:
            continue  # an online backup rotated it away meanwhile
    if gone:
        from desk_app.storage.audit import AuditAction

        store.audit.record("system", AuditAction.BACKUPS_PURGED, "",
                           {"files": gone, "retention_days": retention_days})
    return len(gone)


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
