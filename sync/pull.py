"""Pulling the platform's deltas into the desk store (the second half of a sync cycle).

The desk config first (blacklist salt, key-set version, the platform's clock, the database's
epoch: when it changed, every cursor starts over and the platform's state replaces the desk's,
see :func:`follow_epoch`), the key set when its version moved, then
revocations, bookings, blacklist and alerts, each a page at a time; every page is applied
together with its cursor in one store transaction, so a crash re-pulls at most one page, which
applying again leaves unchanged. The platform's double check-in alerts become
local flagged cases (:func:`flag_conflict`, also used when a push answers "conflict").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from desk_app.storage import AlertInput, Store
from desk_app.storage.blacklist import BLACKLIST_CURSOR
from desk_app.storage.bookings import BOOKINGS_CURSOR
from desk_app.storage.keys import Cursors
from desk_app.storage.staff_cache import CURSOR as STAFF_CURSOR
from desk_app.storage.staff_cache import StaffCache
from sync import convert, protocol
from sync.client import DeskApi

log = logging.getLogger(__name__)

# Cursor names in the desk store, besides the store's own "blacklist" and "bookings".
CUR_CONFIG = "platform.config"  # JSON DeskConfig: blacklist salt and scrypt cost for services
CUR_BLACKLIST_CHECKED = "blacklist.checked_at"  # platform time the blacklist was last current
CUR_ALERTS = "alerts"
CUR_REV_BOOKING = "revocations.booking"
CUR_REV_KEY = "revocations.key"
CUR_EPOCH = "platform.epoch"  # DeskConfig.epoch last seen (the platform database's id)
#: Every delta's cursor: back to 0 when the platform's database epoch changed.
PULL_CURSORS = (CUR_REV_BOOKING, CUR_REV_KEY, BOOKINGS_CURSOR, BLACKLIST_CURSOR, CUR_ALERTS,
                STAFF_CURSOR)


def pull_all(store: Store, api: DeskApi, page_size: int, check: Callable[[], None], *,
             on_alerts: Callable[[protocol.AlertsDelta], Any] | None = None,
             more: Iterable[Callable[[str, int, Callable[..., Any]], int]] = (),
             cfg: protocol.DeskConfig | None = None) -> tuple[int, tuple[float, ...]]:
    """Every delta, a page at a time, each page applied with its cursor in one transaction.
    Returns (items applied, the duration of each request in ms). ``check`` raises to leave
    between two units of work (paused, stopping). ``on_alerts`` gets every alerts page (the
    security office, sync/office.py); each of ``more`` (hospital id, page size, the timed
    call) pulls one more delta after these (the staff accounts, sync/staff.py). ``cfg``: the
    desk config the caller fetched this cycle (the worker does, before its push), else fetched."""
    timings: list[float] = []

    def timed(fn: Callable[..., Any], *args: Any) -> Any:
        check()
        t0 = time.perf_counter()
        out = fn(*args)
        timings.append((time.perf_counter() - t0) * 1000)
        return out

    pulled = 0
    cfg = cfg or timed(api.config)
    follow_epoch(store, cfg.epoch)
    # Only what changed is written: an idle cycle should not be a row of fsyncs.
    cfg_json = cfg.model_dump_json(exclude={"server_time"})
    if store.cursors.get(CUR_CONFIG) != cfg_json:
        store.cursors.set(CUR_CONFIG, cfg_json)
    if cfg.keyset_version != store.keys.keyset().version:
        ks = timed(api.keys)
        store.keys.save_keyset(convert.keyset(ks))
        pulled += len(ks.keys)
    page = max(1, min(page_size, cfg.max_page))

    # Revocations: one stream of two kinds; both cursors move together.
    since = min(_int_cursor(store, CUR_REV_BOOKING), _int_cursor(store, CUR_REV_KEY))
    while True:
        d = timed(api.revocations, since, page)
        if d.items or d.version != since:
            for kind in ("booking", "key"):
                store.keys.apply_revocations([i.item_id for i in d.items if i.kind == kind],
                                             d.version, kind)
        pulled += len(d.items)
        since = d.version
        if not d.more:
            break

    cursor = _int_cursor(store, BOOKINGS_CURSOR)
    for d in _pages(lambda c: timed(api.bookings, cfg.hospital_id, c, page),
                         cursor, lambda d: d.cursor):
        if d.bookings or d.cursor != cursor:
            store.bookings.apply_delta([convert.booking(b) for b in d.bookings],
                                            str(d.cursor))
        pulled += len(d.bookings)
        cursor = d.cursor

    since = store.blacklist.status().version
    for d in _pages(lambda v: timed(api.blacklist, v, page), since,
                         lambda d: d.version):
        if d.entries or d.version != since:
            store.blacklist.apply_delta([convert.blacklist_entry(e) for e in d.entries],
                                             d.version)
        pulled += len(d.entries)
        since = d.version
    # The whole list came again since a restore (follow_epoch): what it did not bring goes.
    store.blacklist.drop_stale()
    # Current as of the platform's clock when it said "nothing more".
    if api.last_contact is not None:
        store.cursors.set(CUR_BLACKLIST_CHECKED, api.last_contact.isoformat())

    cursor = _int_cursor(store, CUR_ALERTS)
    while True:
        d = timed(api.alerts, cfg.hospital_id, cursor, page)
        if on_alerts is not None:
            on_alerts(d)
        for alert in d.alerts:
            if alert.kind is protocol.AlertKind.DOUBLE_CHECK_IN:
                for vid in alert.visit_ids:
                    flag_conflict(store, vid, alert.detail)
        if d.cursor != cursor:
            store.cursors.set(CUR_ALERTS, str(d.cursor))
        pulled += len(d.alerts)
        cursor = d.cursor
        if not d.more:
            break
    for part in more:
        pulled += part(cfg.hospital_id, page, timed)
    return pulled, tuple(timings)



def follow_epoch(store: Store, epoch: str) -> bool:
    """A platform database restored from a backup hands out again sequence numbers this desk
    already has: a cursor kept from before would skip the new bans, bookings and revocations
    numbered up to it. The platform then has a new epoch (``desk-platform restored``); seeing it
    change (not the first time one is seen), in one transaction: every pull cursor goes back to
    0; the blacklist rows and cached staff accounts are marked stale, so the re-pull replaces
    them whatever their version (the restored platform's may be lower: a lift, renewal or
    disable made after the backup is lost there, and the platform is the truth; the blacklist
    rows it no longer sends are dropped at the end of the re-pull, see :func:`pull_all`); the
    visits and reports it acknowledged are queued again (it may have lost them); and the
    epoch is saved. Returns whether the cursors were reset."""
    seen = store.cursors.get(CUR_EPOCH)
    if not epoch or seen == epoch:
        return False
    now = store.now()
    with store.db.write() as s:
        Cursors.put(s, CUR_EPOCH, epoch, now)
        if not seen:
            return False
        for name in PULL_CURSORS:
            Cursors.put(s, name, "0", now)
        stale = store.blacklist.mark_stale(s, now)
        accounts = StaffCache.mark_stale(s)
        requeued = store.outbox.requeue_sent(s)
    log.warning("the platform's database epoch changed (restored from a backup): every delta "
                "is pulled again from the start (%d blacklist rows and %d accounts to be "
                "replaced), %d sent items queued again", stale, accounts, requeued)
    return True


def flag_conflict(store: Store, visit_id: str, note: str) -> bool:
    """A local flagged case for our visit that is part of a double check-in (once)."""
    if store.visits.get(visit_id) is None:
        return False  # another desk's visit
    for a in store.alerts.cases(include_handled=True):
        if a.visit_id == visit_id and a.conflict:
            return False
    store.alerts.create(visit_id, AlertInput(conflict=True, note=note[:500]),
                            actor="sync")
    return True


def _pages(fetch: Callable[[int], Any], start: int, next_of: Callable[[Any], int]
           ) -> Iterator[Any]:
    """The pages of a delta in order; the next page is fetched while the caller applies the
    current one (the platform's time and the store's overlap). Pages are still applied
    one after the other, each with its cursor, so a crash never skips one."""
    with ThreadPoolExecutor(1, thread_name_prefix="sync-prefetch") as ex:
        future = ex.submit(fetch, start)
        while True:
            d = future.result()
            if d.more:
                future = ex.submit(fetch, next_of(d))
            yield d
            if not d.more:
                return


def _int_cursor(store: Store, name: str) -> int:
    value = store.cursors.get(name)
    try:
        return int(value) if value else 0
    except ValueError:
        log.warning("cursor %s unreadable; pulling from the start", name)
        return 0
