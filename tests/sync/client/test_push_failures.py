"""A push that cannot go through must not stop the rest of the sync: items recorded under a
former enrollment are parked instead of making the platform refuse every batch, and a failed
upload still lets the blacklist come (the real platform process, through the fault proxy)."""

from __future__ import annotations

import pytest

from desk_app.errors import NetworkError
from desk_app.settings import Settings
from sync.chaos import Fault
from sync.client import PATH_VISITS, PlatformUnavailable
from sync.protocol import BlacklistSource, EnrollRequest

from .conftest import HOSPITAL

BANNED = "11010519491231002X"


def _ban(platform) -> None:
    platform.service.blacklist.add(BANNED, source=BlacklistSource.POLICE, reason="scalper",
                                   days=91, created_by="test")


def _pulled(desk) -> bool:
    return desk.store.blacklist.status().active_entries >= 1


def _queue_report(desk, desk_id: str, note: str) -> None:
    from desk_app.services.security import queue_suspect_report

    s = Settings()
    s.desk.hospital_id, s.desk.desk_id = HOSPITAL, desk_id
    queue_suspect_report(desk.store, s, kind="scalper", note=note, booking_id=None,
                         visit_id=None, id_hash=None, id_last4=None, actor="guard1")


def test_records_of_a_former_enrollment_are_parked_and_the_rest_syncs(platform, proxy, desks):
    """IT enrolled the PC again as another desk while visits and a report of the old desk id
    waited: those are parked with the reason, the new desk's visits go, the blacklist comes."""
    desk = desks(proxy.url)
    old_id = desk.desk_id
    old = desk.record(3)
    _queue_report(desk, old_id, "seen twice this week")
    desk.desk_id = f"{old_id}-new"
    code = platform.service.enrollment.create_code(HOSPITAL, desk.desk_id, created_by="it").code
    desk.api.tokens.set(platform.service.enrollment.enroll(EnrollRequest(code=code)).token)
    new = desk.record(2)
    _ban(platform)

    report = desk.worker.run_once()

    assert report.parked == 4 and report.pushed == 2
    assert sorted(platform.stored_visits(old + new)) == sorted(new)
    assert desk.store.outbox.count() == 0
    reasons = {(i.kind, i.last_error) for i in desk.store.outbox.parked()}
    why = f"recorded as desk {HOSPITAL}/{old_id}; this desk is now enrolled as " \
          f"{HOSPITAL}/{desk.desk_id}"
    assert reasons == {("visit", why), ("suspect_report", why)}
    assert _pulled(desk)
    status = desk.worker.status()
    assert "4 record(s) were refused" in status.message.en and status.pending == 0


def test_a_push_failing_on_the_platform_does_not_stop_the_pulls(platform, proxy, desks):
    desk = desks(proxy.url)
    ids = desk.record(2)
    _ban(platform)
    proxy.plan(PATH_VISITS, Fault.HTTP_500)
    with pytest.raises(PlatformUnavailable):
        desk.worker.run_once()
    assert _pulled(desk) and desk.store.outbox.count() == 2  # pulled all the same
    desk.worker.run_once()
    assert sorted(platform.stored_visits(ids)) == sorted(ids)


def test_a_push_with_no_answer_at_all_still_ends_the_cycle(platform, proxy, desks):
    """Offline stays offline: no connection for the upload, nothing is pulled either."""
    desk = desks(proxy.url)
    desk.record(1)
    _ban(platform)
    proxy.plan(PATH_VISITS, Fault.DROP_REQUEST)
    with pytest.raises(NetworkError) as caught:
        desk.worker.run_once()
    assert not caught.value.reached and not _pulled(desk)
    assert not [s for s in proxy.seen if "/blacklist" in s.path]
