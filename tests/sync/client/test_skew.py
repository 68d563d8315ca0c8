"""Clock skew between desk and platform: freshness is measured on the platform's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from desk_app.clock import FixedClock
from desk_app.settings import SyncSection
from sync.worker import CUR_SKEW, SyncWorker

from .test_faults import assert_exactly_once


def test_a_desk_clock_days_off_neither_hides_nor_invents_a_stale_blacklist(
        platform, proxy, desks):
    behind = FixedClock(datetime.now(UTC) - timedelta(days=3))
    desk = desks(proxy.url, clock=behind)
    ids = desk.record(5)
    desk.worker.run_once()
    assert_exactly_once(platform, desk, ids)  # desk-clock check-in times are accepted
    status = desk.worker.status()
    assert status.blacklist_age_s is not None and status.blacklist_age_s < 120
    assert not status.blacklist_stale
    skew = float(desk.store.cursors.get(CUR_SKEW))
    assert abs(skew - 3 * 86400) < 120  # the platform is three days ahead of this desk

    # 25 hours pass on the desk without reaching the platform: now the list is stale.
    behind.advance(hours=25)
    status = desk.worker.status()
    assert status.blacklist_stale and 24.9 * 3600 < status.blacklist_age_s < 25.2 * 3600

    # The measured skew is kept: a restarted worker (no network yet) says the same.
    again = SyncWorker(desk.store, desk.api, SyncSection(stale_blacklist_hours=24), clock=behind)
    assert again.status().blacklist_stale
    assert abs(again.status().blacklist_age_s - status.blacklist_age_s) < 5


def test_a_desk_clock_ahead_does_not_make_a_fresh_list_stale(platform, proxy, desks):
    ahead = FixedClock(datetime.now(UTC) + timedelta(days=2))
    desk = desks(proxy.url, clock=ahead)
    desk.worker.run_once()
    status = desk.worker.status()
    assert not status.blacklist_stale and status.blacklist_age_s < 120
    ahead.advance(hours=23)
    assert not desk.worker.status().blacklist_stale
    ahead.advance(hours=2)
    assert desk.worker.status().blacklist_stale
