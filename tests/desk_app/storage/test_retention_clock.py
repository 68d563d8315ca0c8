"""The retention purges judge age on the platform's time: a desk clock running months ahead (a
mis-set month, a bad time source) deletes neither a running ban, which would never come back
(the blacklist cursor is past it), nor the items the platform refused, which are the only copy."""

from __future__ import annotations

import os
from datetime import timedelta

from desk_app.settings import PrivacySection
from desk_app.storage import BlacklistEntry
from desk_app.storage.keys import SKEW_CURSOR
from desk_app.storage.retention import run_retention

from .conftest import T0, make_visit, synced

AHEAD = timedelta(days=183)


def ban(days: int) -> BlacklistEntry:
    return BlacklistEntry(entry_id="e1", id_hash=os.urandom(32), last4="1234", source="police",
                          reason="倒号", valid_from=T0, valid_to=T0 + timedelta(days=days),
                          version=1)


def test_a_clock_running_ahead_purges_no_running_ban(store, clock):
    running, ended = ban(91), ban(1)
    store.blacklist.apply_delta([running, ended], version=1)
    synced(store)
    clock.advance(seconds=AHEAD.total_seconds())  # the clock jumps; no sync since
    assert run_retention(store, PrivacySection())["blacklist"] == 0
    synced(store, skew_s=-AHEAD.total_seconds())  # a sync measures the clock 183 days ahead
    assert store.blacklist.purge_expired(timedelta(days=30)) == 0
    clock.set(T0 + timedelta(minutes=5))  # NTP sets it right
    assert store.blacklist.purge_expired(timedelta(days=30)) == 0  # the skew is stale now
    assert store.blacklist.lookup(running.id_hash) is not None
    clock.advance(days=31)
    synced(store)
    assert store.blacklist.purge_expired(timedelta(days=30)) == 1  # the one ended a month ago
    assert store.blacklist.lookup(running.id_hash) is not None
    assert [e.entry_id for e in store.blacklist.entries(running.id_hash)] == ["e1"]


def test_no_ban_is_purged_on_an_unknown_or_absurd_platform_time(store, clock):
    store.blacklist.apply_delta([ban(1)], version=1)
    clock.advance(days=60)
    assert store.blacklist.purge_expired() == 0  # never synced
    synced(store)
    store.cursors.set(SKEW_CURSOR, "nan")
    assert store.blacklist.purge_expired() == 0
    store.cursors.set(SKEW_CURSOR, str(400 * 86400.0))  # a proxy's 9999 would be worse
    assert store.blacklist.purge_expired() == 0
    clock.advance(days=2)
    synced(store)
    clock.advance(hours=25)  # the last sync more than a day ago: the clock may have moved
    assert store.blacklist.purge_expired() == 0
    synced(store)
    assert store.blacklist.purge_expired() == 1


def park_one(store, clock) -> int:
    store.visits.record(make_visit(checked_in_at=clock.now()))
    [item] = store.outbox.pending()
    store.outbox.park([item.id], "refused by the platform (HTTP 403)")
    return item.id


def purged_after(store, clock, days: float, skew_s: float = 0.0) -> int:
    """``days`` pass, a sync cycle completes, the outbox purge runs: how many went."""
    clock.advance(days=days)
    synced(store, skew_s)
    return store.outbox.purge_sent(timedelta(days=7), timedelta(days=30))


def test_a_clock_running_ahead_keeps_parked_items_their_time(store, clock):
    park_one(store, clock)
    synced(store)
    clock.advance(seconds=AHEAD.total_seconds())
    park_one(store, clock)  # stamped 183 days ahead
    assert run_retention(store, PrivacySection())["sent_outbox"] == 0  # no sync since the jump
    assert purged_after(store, clock, 0, skew_s=-AHEAD.total_seconds()) == 0
    assert store.outbox.parked_count() == 2
    clock.set(T0)  # corrected
    assert purged_after(store, clock, 29) == 0
    assert purged_after(store, clock, 2) == 2  # both parked a month ago, by the platform's time

    # Stamped on a fast clock no sync saw, then set right: it counts from when the clock was
    # right again, not half a year later.
    clock.advance(seconds=AHEAD.total_seconds())
    park_one(store, clock)
    clock.advance(seconds=-AHEAD.total_seconds())
    assert purged_after(store, clock, 0) == 0
    assert purged_after(store, clock, 29) == 0
    assert purged_after(store, clock, 2) == 1
    assert store.outbox.parked() == []
