"""A desk clock six months ahead while the daily retention runs, then set right by NTP: the
desk still has every running ban and every item the platform refused (the real platform and
the real sync worker; the platform's time is what the worker measured)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from desk_app.clock import FixedClock
from desk_app.identity.hashing import b64d
from desk_app.settings import PrivacySection
from desk_app.storage.retention import run_retention
from sync import protocol as P


def test_retention_on_a_clock_running_ahead_loses_no_ban_and_no_refused_item(platform, desks):
    clock = FixedClock(datetime.now(UTC))
    desk = desks(platform.server.url, clock=clock)
    entry = platform.service.blacklist.add("11010519491231002X", source=P.BlacklistSource.POLICE,
                                           reason="倒号", days=91, created_by="test")
    clock.set(datetime.now(UTC))  # the ban began on the platform's clock just now
    desk.store.outbox.enqueue("no_such_kind", "k1", {"x": 1})  # refused for good: parked
    desk.worker.run_once()
    h = b64d(entry.id_hash)
    assert desk.store.blacklist.lookup(h) is not None
    assert desk.store.outbox.parked_count() == 1

    real = clock.now()
    clock.set(real + timedelta(days=183))  # a mis-set month
    counts = run_retention(desk.store, PrivacySection())  # at start: no sync yet
    assert (counts["blacklist"], counts["sent_outbox"]) == (0, 0)
    desk.worker.run_once()  # the worker measures the clock 183 days ahead
    counts = run_retention(desk.store, PrivacySection())
    assert (counts["blacklist"], counts["sent_outbox"]) == (0, 0)

    clock.set(real + timedelta(minutes=5))  # NTP sets it right
    run_retention(desk.store, PrivacySection())
    desk.worker.run_once()
    run_retention(desk.store, PrivacySection())
    assert desk.store.blacklist.lookup(h) is not None  # the ban runs 91 days on the platform
    assert desk.store.outbox.parked_count() == 1
