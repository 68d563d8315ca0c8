"""An override made after its visit was uploaded reaches the platform (and only once)."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from desk_app.storage import Override
from sync.chaos import Fault

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

    one, other = desks(proxy.url), desks(proxy.url)
    [vid] = one.record(1)
    drain(one)
    body = {"visit_id": vid, "override": {"by": "x", "reason": "y", "verdict": "admit"},
            "at": datetime.now(UTC).isoformat()}
    try:
        other.api.push_override(body)
        raise AssertionError("another desk overrode a visit that is not its own")
    except AuthError:
        pass
    missing = dict(body, visit_id=str(uuid.uuid4()))
    from sync.client import PlatformRefused

    try:
        other.api.push_override(missing)
        raise AssertionError("an override of an unknown visit was accepted")
    except PlatformRefused:
        pass
