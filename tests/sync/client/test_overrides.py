"""An override made after its visit was uploaded reaches the platform (and only once)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from desk_app.errors import NetworkError
from desk_app.storage import Override
from sync.chaos import Fault
from sync.worker import SyncWorker

from .test_faults import drain


def platform_row(platform, visit_id):
    eng = create_engine(platform.db_url)
    try:
        with eng.connect() as c:
            return c.execute(text("SELECT verdict, final_verdict, override_json FROM visits "
                                  "WHERE visit_id = :v"), {"v": visit_id}).one()
    finally:
        eng.dispose()


def test_override_after_upload_reaches_the_platform_through_faults(platform, proxy, desks):
    desk = desks(proxy.url)
    [vid] = desk.record(1)
    drain(desk)
    assert platform_row(platform, vid).override_json is None
    desk.store.visits.override(vid, Override(by="guard1", reason="家属代约, 保卫科核实", verdict="reject"))
    assert [i.kind for i in desk.store.outbox.pending(10)] == ["visit_override"]
    # the platform stores it, the desk never hears back, and sends it again
    proxy.plan(f"/v1/visits/{vid}/override", Fault.DROP_RESPONSE)
    errors = drain(desk)
    assert errors and proxy.pending_faults() == 0
    assert desk.store.outbox.count() == 0
    row = platform_row(platform, vid)
    assert row.verdict == "admit" and row.final_verdict == "reject"
    assert json.loads(row.override_json)["by"] == "guard1"
    assert platform.stored_visits([vid]) == {vid: 1}


def test_override_of_another_desks_visit_is_refused(platform, proxy, desks):
    import uuid
    from datetime import UTC, datetime

    from desk_app.errors import AuthError
    from sync.client import PlatformRefused

    one, other = desks(proxy.url), desks(proxy.url)
    [vid] = one.record(1)
    drain(one)
    body = {"visit_id": vid, "override": {"by": "x", "reason": "y", "verdict": "admit"},
            "at": datetime.now(UTC).isoformat()}
    # Refused for good, this one call: not an AuthError, which would stop the desk's sync.
    with pytest.raises(PlatformRefused) as theirs:
        other.api.push_override(body)
    assert theirs.value.status == 403 and "not_own_visit" in theirs.value.detail
    assert not isinstance(theirs.value, AuthError)
    with pytest.raises(PlatformRefused) as missing:
        other.api.push_override(dict(body, visit_id=str(uuid.uuid4())))
    assert missing.value.status == 404
    assert platform_row(platform, vid).override_json is None


def test_later_calls_the_platform_refuses_are_parked_and_put_back_by_it(platform, desks):
    """A desk whose queue holds later calls on another desk's visit (a PC enrolled again under a
    new desk id) parks them and goes on; an override whose visit the platform never got is
    parked too, and once hospital IT puts both back (`desk-app outbox retry`) they land."""
    one, other = desks(platform.server.url), desks(platform.server.url)
    [theirs] = one.record(1)
    drain(one)
    one.store.visits.override(theirs, Override(by="guard1", reason="核实", verdict="reject"))
    [call] = one.store.outbox.pending()
    other.store.outbox.enqueue(call.kind, call.key, call.payload)
    other.store.outbox.enqueue("visit_alert", f"{theirs}:alert", {
        "visit_id": theirs, "at": call.payload["at"], "codes": ["face_judged_different"]})

    # Its own visit whose upload was parked (refused once), then overridden: the override 404s.
    [lost] = other.record(1)
    [visit_item] = [i for i in other.store.outbox.pending() if i.kind == "visit"]
    other.store.outbox.park([visit_item.id], "refused by the platform")
    other.store.visits.override(lost, Override(by="guard2", reason="核实", verdict="reject"))
    [after] = other.record(1)

    report = other.worker.run_once()
    assert report.parked == 3 and report.pushed == 1 and other.store.outbox.count() == 0
    assert platform.stored_visits([after, lost]) == {after: 1}
    reasons = sorted((i.kind, i.last_error) for i in other.store.outbox.parked())
    assert reasons == [("visit", "refused by the platform"),
                       ("visit_alert", "refused by the platform (HTTP 403)"),
                       ("visit_override", "refused by the platform (HTTP 403)"),
                       ("visit_override", "refused by the platform (HTTP 404)")]
    assert platform_row(platform, theirs).final_verdict == "admit"  # not the other desk's call
    # The status bar says so until IT acts, also after a restart (counted in the store).
    assert "4 record(s) were refused" in other.worker.status().message.en
    assert other.worker.status().pending == 0
    restarted = SyncWorker(other.store, other.api, other.worker.settings, clock=other.clock)
    assert "4 record(s) were refused" in restarted.status().message.en

    # IT puts its own two back: the visit goes first, then its override; both land.
    own = [i.id for i in other.store.outbox.parked() if i.key.startswith(lost)]
    assert other.store.outbox.requeue(own) == 2
    report = other.worker.run_once()
    assert report.pushed == 2 and report.parked == 0
    row = platform_row(platform, lost)
    assert (row.verdict, row.final_verdict) == ("admit", "reject")
    assert json.loads(row.override_json)["by"] == "guard2"
    assert len(other.store.outbox.parked()) == 2  # another desk's calls stay parked
    assert "2 record(s) were refused" in other.worker.status().message.en


def test_override_while_the_visits_answer_is_lost_reaches_the_platform(platform, proxy, desks):
    """The platform stores the batch but the desk never hears back; the clerk overrides the
    visit while the desk waits; the visit goes again (``duplicate``) and the override after it."""
    desk = desks(proxy.url)
    [vid] = desk.record(1)
    proxy.plan("/v1/visits/batch", Fault.DROP_RESPONSE)
    with pytest.raises(NetworkError):
        desk.worker.run_once()
    assert platform.stored_visits([vid]) == {vid: 1}
    desk.store.visits.override(vid, Override(by="guard1", reason="人证不符", verdict="reject"))
    report = desk.worker.run_once()
    assert report.duplicates == 1 and desk.store.outbox.count() == 0
    row = platform_row(platform, vid)
    assert (row.verdict, row.final_verdict) == ("admit", "reject")
    assert json.loads(row.override_json)["by"] == "guard1"


def test_override_while_the_visits_batch_is_on_the_wire_reaches_the_platform(platform, proxy,
                                                                             desks):
    """The clerk overrides while the visit's batch is on the wire (answer held back): the
    override goes in the next cycle, after the visit."""
    import threading
    import time

    desk = desks(proxy.url, timeout_s=10.0)
    [vid] = desk.record(1)
    proxy.plan("/v1/visits/batch", Fault.SLOW_RESPONSE)  # stored, answer 2.5 s late
    cycle = threading.Thread(target=desk.worker.run_once)
    cycle.start()
    for _ in range(200):
        if platform.stored_visits([vid]):
            break
        time.sleep(0.02)
    assert platform.stored_visits([vid]) == {vid: 1} and cycle.is_alive()
    desk.store.visits.override(vid, Override(by="guard1", reason="人证不符", verdict="reject"))
    cycle.join()
    drain(desk)
    assert desk.store.outbox.count() == 0 and desk.store.outbox.parked_count() == 0
    row = platform_row(platform, vid)
    assert (row.verdict, row.final_verdict) == ("admit", "reject")
