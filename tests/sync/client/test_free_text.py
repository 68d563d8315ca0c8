"""A NUL character in a person's free text (a note pasted from a form) can never be stored by
PostgreSQL: the wire models refuse it, so the desk parks the item instead of sending it again
every cycle, and the platform answers 422 to anyone who sends it (the real platform process)."""

from __future__ import annotations

import uuid

import pytest

from desk_app.settings import Settings
from sync.client import PATH_REPORTS, PATH_VISITS, InvalidRequest, PlatformRefused
from sync.protocol import BlacklistSource

from .conftest import HOSPITAL, now

PARKED = "refused by the desk: not valid for the platform"


def test_a_report_with_a_nul_in_its_note_is_parked_and_the_sync_goes_on(platform, proxy, desks):
    from desk_app.services.security import queue_suspect_report

    desk = desks(proxy.url)
    s = Settings()
    s.desk.hospital_id, s.desk.desk_id = HOSPITAL, desk.desk_id
    queue_suspect_report(desk.store, s, kind="scalper", note="pasted from a form\x00",
                         booking_id=None, visit_id=None, id_hash=None, id_last4=None,
                         actor="guard1")
    ids = desk.record(3)
    platform.service.blacklist.add("11010519491231002X", source=BlacklistSource.POLICE,
                                   reason="scalper", days=91, created_by="test")

    report = desk.worker.run_once()

    assert report.parked == 1 and report.pushed == 3
    assert [(i.kind, i.last_error) for i in desk.store.outbox.parked()] == [
        ("suspect_report", PARKED)]
    assert not [x for x in proxy.seen if x.path == PATH_REPORTS]  # never sent
    assert sorted(platform.stored_visits(ids)) == sorted(ids)
    assert desk.store.blacklist.status().active_entries >= 1


def test_the_platform_answers_422_to_a_nul_in_free_text(platform, desks):
    desk = desks(platform.server.url)
    report = {"report_id": str(uuid.uuid4()), "hospital_id": HOSPITAL, "desk_id": desk.desk_id,
              "reported_at": now().isoformat(), "kind": "scalper", "note": "a\x00b"}
    with pytest.raises(PlatformRefused) as caught:
        desk.api.request("POST", PATH_REPORTS, json_body=report)
    assert caught.value.status == 422
    visit = {"visit_id": str(uuid.uuid4()), "hospital_id": HOSPITAL, "desk_id": desk.desk_id,
             "clerk": "clerk\x00", "checked_in_at": now().isoformat(), "verdict": "admit"}
    with pytest.raises(PlatformRefused) as caught:
        desk.api.request("POST", PATH_VISITS, json_body={"visits": [visit]})
    assert caught.value.status == 422
    assert platform.stored_visits([visit["visit_id"]]) == {}


def test_a_queued_appeal_with_a_nul_is_parked_on_the_desk(platform, proxy, desks):
    desk = desks(proxy.url)
    with pytest.raises(InvalidRequest):  # checked on the desk: nothing sent
        desk.api.file_appeal("A" * 43, "clerk1", "not me\x00")
    desk.store.outbox.enqueue("appeal", str(uuid.uuid4()),
                              {"id_hash": "A" * 43, "clerk": "clerk1", "statement": "x\x00"})
    report = desk.worker.run_once()
    assert report.parked == 1 and desk.store.outbox.count() == 0
    assert [i.last_error for i in desk.store.outbox.parked()] == [PARKED]
    assert not [x for x in proxy.seen if "/appeals" in x.path]
