"""The desk's sync loop: push the outbox, then pull deltas by cursor, on its own thread.

One cycle (:meth:`SyncWorker.run_once`):

0. **who am I**: the desk config (``GET /v1/desk/config``: the hospital and desk this desk's
   token is enrolled as, the blacklist salt, key-set version, the platform's clock).
1. **push** (:mod:`sync.push`): pending outbox items, oldest first, in batches; items recorded
   under another enrollment (the PC enrolled again as another desk) are parked, never sent. A
   batch is marked sent only after the platform has answered for each of its visits (stored,
   duplicate or conflict). A lost answer means the batch is sent again; the platform stores each
   ``visit_id`` once, so at-least-once delivery + idempotent ingest = every visit stored once.
2. **pull** (:mod:`sync.pull`): the key set when its version moved, then revocations, bookings,
   blacklist and alerts, each a page at a time; every page is applied together with its cursor
   in one store transaction, so a crash re-pulls at most one page, which applying again leaves
   unchanged. A failed push does not stop the pulls (the blacklist keeps coming while uploads
   are refused or fail on the platform); its error is raised after them. No answer at all
   (offline), no rights (auth) or a broken setting end the cycle at once.

A network failure makes the desk *offline* (since when, how many records wait) and retries with
exponential back-off and jitter; an authorization or configuration failure is an *error needing
an admin* and waits for "sync now" (after the admin re-enrolled the desk). *Paused* is the
user's choice and makes no network traffic. Freshness is measured in the platform's time, not
the desk's: the platform's clock (``Date`` header) gives the skew, kept in the store's cursors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from desk_app.clock import MAX_CLOCK_SKEW_S, Clock, SystemClock
from desk_app.errors import (
    AuthError,
    ConfigError,
    DeskError,
    InternalError,
    NetworkError,
    Text,
    UserInputError,
    as_desk_error,
)
from desk_app.services.model import SyncStatusView
from desk_app.settings import PlatformSection, Settings, SyncSection
from desk_app.storage import Store
from desk_app.storage.staff_cache import StaffCache
from sync import protocol
from sync import staff as staff_sync
from sync.backoff import Backoff
from sync.client import DeskApi, PlatformRefused, PlatformUnavailable
from sync.office import OfficeSync
from sync.pull import CUR_BLACKLIST_CHECKED, pull_all
from sync.push import CycleReport, Push
from sync.tokens import TokenStore

log = logging.getLogger(__name__)

# Cursor names in the desk store (the pulls' own are in sync.pull).
CUR_SKEW = "platform.skew_s"  # platform clock minus desk clock, seconds
CUR_LAST_SYNC = "sync.last_at"  # platform time of the last complete cycle


class SyncState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    SYNCING = "syncing"
    PAUSED = "paused"
    ERROR = "error"


class _Interrupted(Exception):
    """Paused or stopping: leave the cycle between two units of work."""


_MESSAGES = {
    SyncState.ONLINE: Text("已连接中心平台", "Connected to the platform"),
    SyncState.SYNCING: Text("正在同步…", "Synchronizing…"),
    SyncState.PAUSED: Text("同步已暂停, 记录保存在本机。", "Sync paused; records are kept on this PC."),
}


class SyncWorker:
    """Owns the sync thread. Implements :class:`desk_app.services.api.SyncOps`.

    ``status()``, ``sync_now()``, ``set_paused()`` and ``notify_outbox()`` may be called from
    any thread and never block on the network or the disk. Listeners get every new
    :class:`SyncStatusView` on the worker thread (``sync.qt.SyncStatusSignal`` re-emits it as
    a Qt signal)."""

    def __init__(
        self,
        store: Store,
        api: DeskApi,
        settings: SyncSection,
        *,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        page_size: int = protocol.MAX_PAGE,
    ):
        self.store = store
        self.api = api
        self.settings = settings
        self.clock = clock or SystemClock()
        self.backoff = backoff or Backoff(base_s=1.0, max_s=settings.backoff_max_s)
        self.page_size = page_size
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._paused = False
        self._forced = False
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[SyncStatusView], None]] = []
        self._state = SyncState.SYNCING  # until the first cycle says otherwise
        self._since: datetime | None = None
        self._error: DeskError | None = None
        self._parked = 0  # refused for good, kept on the desk until IT puts them back (store)
        self._pending = 0
        self._skew: float | None = None
        self.staff = staff_sync.StaffPull(StaffCache(store))  # listeners: who to sign out
        self.office = OfficeSync(store)  # the hospital's alerts; listeners: the security screen
        self._load_persisted()

    # --- for the UI and the composition root ----------------------------------------------------

    def add_listener(self, fn: Callable[[SyncStatusView], None]) -> None:
        self._listeners.append(fn)

    def status(self) -> SyncStatusView:
        with self._lock:
            status = self._compute_status()
        # Freshness moves on with time even while nothing happens.
        return self._with_freshness(status)

    def sync_now(self) -> None:
        with self._lock:
            self._forced = True
        self._wake.set()

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            self._paused = paused
        log.info("sync %s by the user", "paused" if paused else "resumed")
        if paused:
            self._set_state(SyncState.PAUSED)
        self._wake.set()

    def enroll(self, platform_url: str, code: str) -> SyncStatusView:
        """Enroll this desk with a one-time code (blocking: call it off the GUI thread), then
        sync at once. A new ``platform_url`` is used from the next cycle on; keeping it in the
        settings is the caller's business."""
        url = (platform_url or self.api.platform.url).strip().rstrip("/")
        if url == self.api.base_url:
            api = self.api
        else:
            try:
                section = PlatformSection.model_validate(
                    {**self.api.platform.model_dump(), "url": url})
            except ValidationError as exc:
                raise UserInputError(Text("中心平台地址无效, 应以 https:// 开头。",
                                          "The platform address is invalid; it starts with https://."),
                                     detail="platform url") from exc
            api = DeskApi(section, self.api.tokens)
        try:
            api.enroll(code)
        except BaseException:
            if api is not self.api:
                api.close()
            raise
        if api is not self.api:
            with self._lock:
                self._next_api = api
        self.sync_now()
        return self.status()

    @property
    def paused(self) -> bool:
        with self._lock:
            return self._paused

    def notify_outbox(self) -> None:
        """A record was queued: push it soon (no-op while paused or waiting for an admin)."""
        with self._lock:
            self._pending += 1
            idle = self._state in (SyncState.ONLINE,)
        if idle:
            self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the sync worker is already started")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sync-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current request (bounded by the HTTP timeout) and join the thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("sync worker did not stop within %.0f s", timeout)
            self._thread = None

    # --- the loop -------------------------------------------------------------------------------

    def _run(self) -> None:
        log.info("sync worker started")
        self._refresh_pending()
        delay: float | None = 0.0
        while not self._stopping.is_set():
            if delay is None or delay > 0:
                self._wake.wait(delay)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                delay = self._step(delay)
            except Exception:  # noqa: BLE001 - nothing in one cycle may end the sync thread
                log.exception("sync loop failed unexpectedly; retrying later")
                delay = self.backoff.next_delay()
        log.info("sync worker stopped")

    def _step(self, delay: float | None) -> float | None:
        """One turn of the loop: a cycle, or waiting while paused or for an admin."""
        with self._lock:
            forced, self._forced = self._forced, False
            paused = self._paused
            waiting_admin = self._state is SyncState.ERROR
        if paused and not forced:
            self._set_state(SyncState.PAUSED)
            return None
        if waiting_admin and not forced and delay is None:
            return None
        return self._cycle()

    def _cycle(self) -> float | None:
        """One cycle with state changes; the delay until the next (None: wait to be woken)."""
        with self._lock:
            next_api, self._next_api = self._next_api, None
        if next_api is not None:
            self.api.close()
            self.api = next_api
        try:
            self._set_state(SyncState.SYNCING)
            with self._lock:
                # "sync now" while paused runs one whole cycle; otherwise pausing interrupts it.
                ignore_pause = self._paused
            self.run_once(ignore_pause=ignore_pause)
            self.backoff.reset()
            with self._lock:
                paused = self._paused
            self._set_state(SyncState.PAUSED if paused else SyncState.ONLINE)
            return self.settings.interval_s
        except _Interrupted:
            return 0.0  # the loop looks at pause/stop again
        except NetworkError as exc:
            wait = max(self.backoff.next_delay(), getattr(exc, "retry_after", 0.0))
            log.info("platform unreachable (%s); retry in %.1f s", exc.detail or "network", wait)
            self._refresh_pending()
            self._set_state(SyncState.OFFLINE, error=exc)
            return wait
        except (AuthError, ConfigError) as exc:
            self._refresh_pending()
            if exc is self._push_error:  # only the upload was refused; the pulls went on
                log.error("upload refused: %s (%s); tried again later", type(exc).__name__,
                          exc.detail)
                self._set_state(SyncState.ERROR, error=exc)
                return max(self.settings.interval_s, self.backoff.next_delay())
            log.error("sync needs an admin: %s (%s)", type(exc).__name__, exc.detail)
            self._set_state(SyncState.ERROR, error=exc)
            return None
        except DeskError as exc:  # e.g. the local store: say so, retry slowly
            log.error("sync failed: %s (%s)", type(exc).__name__, exc.detail)
            self._set_state(SyncState.ERROR, error=exc)
            return self.backoff.next_delay()
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the thread; shown + logged
            log.exception("sync cycle failed unexpectedly")
            self._set_state(SyncState.ERROR, error=as_desk_error(exc))
            return self.backoff.next_delay()

    def _check(self) -> None:
        if self._stopping.is_set():
            raise _Interrupted()
        with self._lock:
            if self._paused and not self._ignore_pause:
                raise _Interrupted()

    _ignore_pause = False

    # --- one cycle ------------------------------------------------------------------------------

    def run_once(self, *, ignore_pause: bool = True) -> CycleReport:
        """Fetch the desk config (who this desk is), push everything pending, then pull every
        delta, also after a failed push, whose error is raised after the pulls. Raises typed
        errors (NetworkError, AuthError, ...). Runs on the caller's thread: the loop, a test,
        the benchmark."""
        with self._lock:
            self._ignore_pause = ignore_pause
        self._push_error = None
        self._check()
        cfg = self.api.config()  # this desk's enrollment, before anything is pushed
        report, failed = CycleReport(), None
        try:
            report = self._push_all(cfg)
        except Exception as exc:  # noqa: BLE001 - raised again after the pulls
            if not _pull_anyway(exc):
                raise
            log.warning("upload failed (%s: %s); pulling all the same", type(exc).__name__,
                        getattr(exc, "detail", ""))
            failed = exc
        report = self._pull_all(report, cfg)
        self._persist_clock()
        last = self.api.last_contact
        if last is not None:
            self.store.cursors.set(CUR_LAST_SYNC, last.isoformat())
        with self._lock:
            self._last_sync = last
        self._refresh_pending()
        if failed is not None:
            self._push_error = failed
            raise failed
        return report

    def _push_all(self, cfg: protocol.DeskConfig) -> CycleReport:
        batch = max(1, min(self.settings.batch_size, protocol.MAX_BATCH))
        return Push(self.store, self.api, self.office, self._check, cfg).run(batch)

    def _pull_all(self, report: CycleReport, cfg: protocol.DeskConfig) -> CycleReport:
        pulled, timings = pull_all(
            self.store, self.api, self.page_size, self._check,
            on_alerts=lambda d: self.office.apply(d, move_cursor=False),  # the security office
            more=(self._pull_staff,), cfg=cfg)
        return replace(report, pulled=report.pulled + pulled, pull_ms=report.pull_ms + timings)

    def _pull_staff(self, hospital_id: str, page: int, timed: Callable[..., Any]) -> int:
        """The hospital's staff accounts (sync/staff.py), after the other deltas."""
        return self.staff.run(lambda v: timed(staff_sync.fetch, self.api, hospital_id, v, page))

    # --- status ---------------------------------------------------------------------------------

    def _load_persisted(self) -> None:
        skew = self.store.cursors.get(CUR_SKEW)
        last = self.store.cursors.get(CUR_LAST_SYNC)
        checked = self.store.cursors.get(CUR_BLACKLIST_CHECKED)
        with self._lock:
            self._skew = self._sane_skew(_float(skew), "saved")
            self._skew_saved = self._skew
            self._last_sync = _time(last)
            self._bl_checked = _time(checked)
            self._since = self.clock.now()
        self._refresh_pending()

    def _persist_clock(self) -> None:
        # Platform minus *this worker's* clock (the desk clock, injectable), not the system's.
        skew = None
        if self.api.last_contact is not None:
            desk_then = self.clock.now() - timedelta(
                seconds=time.monotonic() - self.api.last_contact_mono)
            skew = self._sane_skew((self.api.last_contact - desk_then).total_seconds(),
                                   "measured")
        if skew is not None and (self._skew_saved is None or abs(skew - self._skew_saved) > 1.0):
            self.store.cursors.set(CUR_SKEW, f"{skew:.3f}")
            self._skew_saved = skew
            if abs(skew) > 300:
                log.warning("desk clock is %.0f s %s the platform's", abs(skew),
                            "behind" if skew > 0 else "ahead of")
        checked = self.store.cursors.get(CUR_BLACKLIST_CHECKED)
        with self._lock:
            self._skew = skew if skew is not None else self._skew
            self._bl_checked = _time(checked)

    def _sane_skew(self, skew: float | None, how: str) -> float | None:
        """The skew, or None when absurd (more than ``MAX_CLOCK_SKEW_S``: a platform or proxy
        sending a Date of 9999-12-31), logged once."""
        if skew is None or abs(skew) <= MAX_CLOCK_SKEW_S:
            return skew
        if not self._absurd_skew_logged:
            self._absurd_skew_logged = True
            log.warning("%s platform clock skew of %.0f days ignored (more than a year)", how,
                        skew / 86400 if skew == skew else 0.0)
        return None

    def _refresh_pending(self) -> None:
        n, parked = self.store.outbox.count(), self.store.outbox.parked_count()
        with self._lock:
            self._pending, self._parked = n, parked

    def _set_state(self, state: SyncState, error: DeskError | None = None) -> None:
        with self._lock:
            if state is SyncState.SYNCING and self._state is SyncState.OFFLINE:
                return  # a retry while offline stays "offline (since ...)" until it works
            if state is not self._state:
                # "offline since" is the first failure, not the latest retry.
                self._since = self.clock.now()
            self._state = state
            self._error = error if state in (SyncState.OFFLINE, SyncState.ERROR) else None
            status = self._compute_status()
        status = self._with_freshness(status)
        for fn in list(self._listeners):
            try:
                fn(status)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop sync
                log.exception("sync status listener failed")

    def platform_now(self) -> datetime:
        """The platform's time as well as the desk knows it (desk clock + last measured skew)."""
        with self._lock:
            skew = self._skew or 0.0
        now = self.clock.now()
        try:
            return now + timedelta(seconds=skew)
        except OverflowError:  # cannot happen with a sane skew; the desk clock then
            return now

    def _compute_status(self) -> SyncStatusView:
        state = self._state
        if state is SyncState.OFFLINE:
            message = Text(
                f"离线: 无法连接中心平台, {self._pending} 条记录待上传, 恢复后自动上传。",
                f"Offline: the platform cannot be reached; {self._pending} record(s) waiting, "
                "uploaded automatically when it is back.",
            )
        elif state is SyncState.ERROR:
            err = self._error or InternalError()
            message = Text(f"{err.text.zh} ({self._pending} 条记录待上传)",
                           f"{err.text.en} ({self._pending} record(s) waiting)")
        else:
            message = _MESSAGES[state]
        if self._parked and state is not SyncState.ERROR:
            message = Text(
                message.zh + f" 另有 {self._parked} 条记录被平台拒收, 已保留在本机, 请联系信息科。",
                message.en + f" {self._parked} record(s) were refused and kept on this PC; "
                "please call hospital IT.",
            )
        return SyncStatusView(
            state=state.value, since=self._since, pending=self._pending,
            last_sync=self._last_sync, blacklist_age_s=None, blacklist_stale=True,
            message=message,
        )

    def _with_freshness(self, status: SyncStatusView) -> SyncStatusView:
        with self._lock:
            checked = self._bl_checked
        if checked is None:
            return status  # never downloaded: stale by definition
        age = (self.platform_now() - checked).total_seconds()
        if age < -MAX_CLOCK_SKEW_S:
            return status  # "checked" in the far future (an absurd clock): not known
        age = max(0.0, age)
        stale = age > self.settings.stale_blacklist_hours * 3600
        return replace(status, blacklist_age_s=age, blacklist_stale=stale)

    _next_api: DeskApi | None = None
    _push_error: BaseException | None = None  # the last cycle's push failed (pulls went on)
    _skew_saved: float | None = None
    _absurd_skew_logged = False
    _last_sync: datetime | None = None
    _bl_checked: datetime | None = None



def _pull_anyway(exc: BaseException) -> bool:
    """Whether the pulls still run after the push failed with ``exc``: not when paused or
    stopping, when no answer came at all (offline: the pulls would fail the same way), when
    this desk has no rights (auth) or a setting is wrong (a config error other than the
    platform refusing the data)."""
    if isinstance(exc, _Interrupted | AuthError):
        return False
    if isinstance(exc, NetworkError):
        return isinstance(exc, PlatformUnavailable) and exc.reached
    if isinstance(exc, ConfigError):
        return isinstance(exc, PlatformRefused)
    return True


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _time(text: str | None) -> datetime | None:
    """A saved time, or None when missing or unreadable (a damaged cursor must not stop sync)."""
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def build_worker(store: Store, settings: Settings, data_dir: Path, *,
                 clock: Clock | None = None) -> SyncWorker:
    """What the composition root calls: the token store, the HTTP client and the worker for this
    desk (not started; ``start()`` it, and ``stop()`` it at shutdown)."""
    tokens = TokenStore(data_dir, f"{settings.desk.hospital_id}-{settings.desk.desk_id}")
    return SyncWorker(store, DeskApi(settings.platform, tokens), settings.sync, clock=clock)
