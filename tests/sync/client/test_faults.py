"""The desk's client against the real platform process, through a fault-injecting proxy.

After every kind of fault and recovery, each visit recorded on the desk is stored exactly once
on the platform (read from the platform's own database), and the desk's outbox is empty.
"""

from __future__ import annotations

import time

import pytest

from desk_app.errors import NetworkError
from sync.chaos import Fault
from sync.client import PATH_VISITS, PlatformUnavailable, TokenRevoked
from sync.worker import SyncState

from .conftest import HOSPITAL


def drain(desk, *, attempts: int = 40) -> list[type]:
    """run_once until a cycle succeeds; the error types seen on the way."""
    errors: list[type] = []
    for _ in range(attempts):
        try:
            desk.worker.run_once()
            return errors
        except NetworkError as exc:
            errors.append(type(exc))
    raise AssertionError(f"no successful cycle after {attempts} attempts: {errors}")


def assert_exactly_once(platform, desk, ids: list[str]) -> None:
    stored = platform.stored_visits(ids)
    assert sorted(stored) == sorted(ids), f"lost: {len(set(ids) - set(stored))}"
    assert set(stored.values()) == {1}
    assert desk.store.outbox.count() == 0


def wait_for(predicate, timeout: float = 15.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_round_trip_pushes_visits_and_pulls_config_and_blacklist(platform, proxy, desks):
    desk = desks(proxy.url)
    ids = desk.record(45)
    platform.service.blacklist.add("11010519491231002X", source=_source("police"),
                                   reason="scalper", days=91, created_by="test")
    report = desk.worker.run_once()
    assert report.pushed == 45 and report.stored == 45 and report.duplicates == 0
    assert_exactly_once(platform, desk, ids)
    assert desk.store.blacklist.status().active_entries >= 1
    assert desk.store.keys.keyset().keys  # the platform's signing key arrived
    assert desk.store.cursors.get("platform.config")  # blacklist salt for the services
    status = desk.worker.status()
    assert status.pending == 0
    assert status.blacklist_age_s is not None and status.blacklist_age_s < 60
    assert not status.blacklist_stale


@pytest.mark.parametrize("fault", [
    Fault.DROP_REQUEST, Fault.DROP_RESPONSE, Fault.CUT_RESPONSE, Fault.TRUNCATED_JSON,
    Fault.MALFORMED_JSON, Fault.HTTP_500, Fault.PROCESSED_500, Fault.SLOW,
])
def test_each_fault_on_a_batch_ends_with_every_visit_stored_once(platform, proxy, desks, fault):
    desk = desks(proxy.url, batch_size=10)
    ids = desk.record(25)
    # Hit the second batch twice (a retry fails again), and a pull once.
    proxy.plan(PATH_VISITS, None, fault, fault)  # type: ignore[arg-type]
    proxy.plan("/v1/blacklist", fault)
    errors = drain(desk)
    assert errors and all(issubclass(e, PlatformUnavailable) for e in errors)
    assert proxy.pending_faults() == 0
    assert_exactly_once(platform, desk, ids)
    if fault in (Fault.DROP_RESPONSE, Fault.PROCESSED_500, Fault.SLOW, Fault.CUT_RESPONSE,
                 Fault.TRUNCATED_JSON, Fault.MALFORMED_JSON):
        # The platform stored the batch but the desk never heard: the retry was a duplicate.
        forwarded = [s for s in proxy.seen if s.path == PATH_VISITS and s.status == 200]
        assert len(forwarded) > 3


def test_server_killed_in_the_middle_of_batches_and_restarted(platform, proxy, desks):
    desk = desks(proxy.url, batch_size=10)
    ids = desk.record(60)
    # The third batch is processed by the platform, whose answer is held back ...
    proxy.plan(PATH_VISITS, None, None, Fault.SLOW_RESPONSE)
    desk.worker.start()
    assert proxy.wait_seen(lambda s: s.fault is Fault.SLOW_RESPONSE, timeout=15)
    # ... and the platform dies before it could answer: the desk goes offline.
    platform.server.kill()
    assert wait_for(lambda: desk.worker.status().state == SyncState.OFFLINE)
    status = desk.worker.status()
    assert 0 < status.pending <= 40 and status.since is not None
    more = desk.record(15)  # the clerk goes on working offline
    time.sleep(0.5)
    assert desk.worker.status().state == SyncState.OFFLINE
    platform.server.start()
    desk.worker.sync_now()
    assert wait_for(lambda: desk.worker.status().state == SyncState.ONLINE
                    and desk.worker.status().pending == 0, timeout=20)
    desk.worker.stop()
    assert_exactly_once(platform, desk, ids + more)


def test_slow_platform_times_out_then_recovers(platform, proxy, desks):
    desk = desks(proxy.url, timeout_s=0.5)
    ids = desk.record(5)
    proxy.plan("/v1/blacklist", Fault.SLOW)
    with pytest.raises(PlatformUnavailable):
        desk.worker.run_once()  # visits went out, the blacklist pull timed out
    assert desk.store.outbox.count() == 0
    desk.worker.run_once()
    assert_exactly_once(platform, desk, ids)


def test_revoked_token_is_an_error_needing_an_admin_until_reenrolled(platform, proxy, desks):
    desk = desks(proxy.url)
    first = desk.record(3)
    desk.worker.run_once()
    platform.service.enrollment.revoke_desk(HOSPITAL, desk.desk_id)
    later = desk.record(4)
    with pytest.raises(TokenRevoked):
        desk.worker.run_once()
    desk.worker.start()
    assert wait_for(lambda: desk.worker.status().state == SyncState.ERROR)
    status = desk.worker.status()
    assert status.pending == 4 and "重新登记" in status.message.zh
    seen = len(proxy.seen)
    time.sleep(1.5)  # no retry storm against a platform that said no
    assert len(proxy.seen) == seen
    code = platform.service.enrollment.create_code(HOSPITAL, desk.desk_id, created_by="t").code
    desk.worker.enroll(proxy.url, code)
    assert wait_for(lambda: desk.worker.status().state == SyncState.ONLINE
                    and desk.worker.status().pending == 0)
    assert_exactly_once(platform, desk, first + later)


def test_visits_of_another_hospital_are_refused_and_kept(platform, proxy, desks):
    """Never sent (the platform would refuse the whole batch, 403): parked, kept on the desk."""
    desk = desks(proxy.url)
    ids = desk.record(2, hospital_id="H999")
    assert desk.worker.run_once().parked == 2
    assert desk.store.outbox.count() == 0 and desk.store.outbox.parked_count() == 2
    assert platform.stored_visits(ids) == {}
    assert not [s for s in proxy.seen if s.path == PATH_VISITS]


def test_unenrolled_desk_says_so(platform, proxy, desks):
    desk = desks(proxy.url, enroll=False)
    desk.record(1)
    desk.worker.start()
    assert wait_for(lambda: desk.worker.status().state == SyncState.ERROR)
    assert "登记" in desk.worker.status().message.zh
    assert desk.worker.status().pending == 1
    assert not proxy.seen  # it did not even try without a token


def test_pause_is_not_offline_and_makes_no_traffic(platform, proxy, desks):
    desk = desks(proxy.url)
    enrolled = len(proxy.seen)
    desk.worker.set_paused(True)
    desk.worker.start()
    ids = desk.record(6)
    time.sleep(1.2)
    status = desk.worker.status()
    assert status.state == SyncState.PAUSED and status.pending == 6
    assert len(proxy.seen) == enrolled
    desk.worker.sync_now()  # "sync now" while paused: one cycle, still paused after
    assert wait_for(lambda: desk.store.outbox.count() == 0)
    assert wait_for(lambda: desk.worker.status().state == SyncState.PAUSED)
    desk.worker.set_paused(False)
    assert wait_for(lambda: desk.worker.status().state == SyncState.ONLINE)
    desk.worker.stop()
    assert_exactly_once(platform, desk, ids)


def test_stop_joins_during_a_slow_request(platform, proxy, desks):
    desk = desks(proxy.url, timeout_s=2.0)
    desk.record(3)
    proxy.plan(PATH_VISITS, Fault.SLOW)
    desk.worker.start()
    assert wait_for(lambda: len(proxy._plans[0][1]) == 0)
    t0 = time.monotonic()
    desk.worker.stop(timeout=5)
    assert time.monotonic() - t0 < 3.0
    assert desk.worker._thread is None


def _source(name: str):
    from sync.protocol import BlacklistSource

    return BlacklistSource(name)


def test_enrollment_with_a_bad_code_or_address_is_refused_in_words(platform, proxy, desks):
    from desk_app.errors import UserInputError
    from sync.client import EnrollmentRefused

    desk = desks(proxy.url, enroll=False)
    with pytest.raises(EnrollmentRefused) as err:
        desk.worker.enroll(proxy.url, "ABCD-EFGH-JKLM")
    assert "登记码" in err.value.message("zh_CN")
    with pytest.raises(UserInputError):
        desk.worker.enroll("ftp://platform", "ABCD-EFGH-JKLM")
    assert desk.api.tokens.get() is None
