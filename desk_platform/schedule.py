"""Periodic work of ``desk-platform serve``: the anomaly rules every N minutes
(``--anomaly-every-min``, default 15, 0 = off), in one process only.

Every API process (``--workers N``) starts a :class:`PeriodicScan` thread; at each tick it tries
to take a lease, a row of ``platform_meta`` (``lease.anomaly_scan`` = ``holder|expires``, epoch
seconds), by compare-and-swap: an ``UPDATE ... WHERE value = <what it read>`` that only one
process can win, on SQLite and PostgreSQL alike. The holder renews it at its next tick; when it
dies the lease runs out after 1.5 intervals and another process takes over. The scan runs on
this thread with its own connections: requests never wait for it. A failed scan is logged and
tried again at the next tick; it never stops the thread or the server.

:class:`PhotoPurge` (since 2026-12-03) is the same pattern for the security office's alert
photos (``desk_platform.alert_photos.purge``): at the start of ``serve`` and every
``PHOTO_PURGE_EVERY_S`` after, by the holder of ``lease.alert_photo_purge``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from desk_platform import db as T

log = logging.getLogger(__name__)

LEASE_ANOMALY = "lease.anomaly_scan"
LEASE_PHOTOS = "lease.alert_photo_purge"
PHOTO_PURGE_EVERY_S = 600.0
LAST_SCAN = "anomaly.last_scan"  # "holder|epoch seconds|candidates found"


def holder_id() -> str:
    """This process: host, pid and a random part (pids repeat across hosts and restarts)."""
    return f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def take_lease(db: Any, name: str, holder: str, ttl_s: float,
               now: Callable[[], float] = time.time) -> bool:
    """Take or renew the lease ``name`` for ``ttl_s`` seconds; False while another holder's
    lease runs. Atomic: of two processes racing for a free lease exactly one wins."""
    with db.write() as conn:
        conn.execute(db.insert(T.meta).values(key=name, value="|0")
                     .on_conflict_do_nothing(index_elements=["key"]))
    with db.read() as conn:
        old = conn.execute(select(T.meta.c.value).where(T.meta.c.key == name)).scalar() or "|0"
    who, _, until = old.rpartition("|")
    t = now()
    if who and who != holder and float(until or 0) > t:
        return False
    with db.write() as conn:
        won = conn.execute(update(T.meta).where(T.meta.c.key == name, T.meta.c.value == old)
                           .values(value=f"{holder}|{t + ttl_s:.3f}")).rowcount
    return won == 1


def lease_holder(db: Any, name: str, now: Callable[[], float] = time.time) -> str | None:
    """Who holds the lease now (None: free or run out)."""
    with db.read() as conn:
        value = conn.execute(select(T.meta.c.value).where(T.meta.c.key == name)).scalar()
    if not value:
        return None
    who, _, until = value.rpartition("|")
    return who if who and float(until or 0) > now() else None


class LeasedJob:
    """A periodic job: one thread per API process; the lease (``lease``, held for 1.5 periods)
    makes one of them do the work (``work``) each period. The first run after
    ``first_after_s``."""

    lease = ""
    thread_name = "leased-job"

    def __init__(self, platform: Any, every_s: float, *, holder: str | None = None,
                 first_after_s: float = 0.0) -> None:
        self.plat = platform
        self.every_s = every_s
        self.holder = holder or holder_id()
        self.first_after_s = first_after_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        if self.every_s <= 0 or self._thread is not None:
            return False
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()
        return True

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def tick(self) -> bool:
        """Work if this process holds the lease; True if it worked."""
        if not take_lease(self.plat.db, self.lease, self.holder, self.every_s * 1.5):
            return False
        self.work()
        return True

    def work(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        delay = self.first_after_s
        while not self._stop.wait(delay):
            delay = self.every_s
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - logged; the next tick tries again
                log.exception("%s failed; trying again at the next tick", self.thread_name)


class PeriodicScan(LeasedJob):
    """The booking anomaly rules, every ``every_min`` minutes (first after one period)."""

    lease = LEASE_ANOMALY
    thread_name = "anomaly-scan"

    def __init__(self, platform: Any, every_min: float, *, holder: str | None = None,
                 first_after_s: float | None = None) -> None:
        every_s = every_min * 60.0
        super().__init__(platform, every_s, holder=holder,
                         first_after_s=every_s if first_after_s is None else first_after_s)
        self.runs = 0  # scans this process made

    def start(self) -> bool:
        started = super().start()
        if started:
            log.info("anomaly rules every %.1f min (lease holder %s)", self.every_s / 60,
                     self.holder)
        return started

    def work(self) -> None:
        from desk_platform.anomaly import Anomalies

        found = Anomalies(self.plat).scan()
        self.runs += 1
        with self.plat.db.write() as conn:
            conn.execute(self.plat.db.insert(T.meta).values(key=LAST_SCAN, value="")
                         .on_conflict_do_nothing(index_elements=["key"]))
            conn.execute(update(T.meta).where(T.meta.c.key == LAST_SCAN).values(
                value=f"{self.holder}|{time.time():.0f}|{len(found)}"))
        if found:
            log.warning("anomaly rules: %d new candidate(s) for review", len(found))


class PhotoPurge(LeasedJob):
    """Alert photos past their time (handled + a day, or the retention) deleted. The first
    tick runs at once: at the start."""

    lease = LEASE_PHOTOS
    thread_name = "photo-purge"

    def __init__(self, platform: Any, every_s: float = PHOTO_PURGE_EVERY_S, *,
                 holder: str | None = None) -> None:
        super().__init__(platform, every_s, holder=holder, first_after_s=0.0)
        self.purged = 0  # alerts whose photos this process deleted

    def work(self) -> None:
        from desk_platform.alert_photos import purge

        n = purge(self.plat)
        self.purged += n
        if n:
            log.info("alert photos of %d alert(s) deleted (handled or past retention)", n)
