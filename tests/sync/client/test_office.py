"""The security office between two desks and the real platform process: an alert raised at
window 1 reaches window 2 through the push within seconds, with no photo; handled at window 2
it is handled at window 1 too (its own flagged case included) after window 1's next pull."""

from __future__ import annotations

import time
import uuid

import pytest

from desk_app.services.model import Role, UserView
from desk_app.services.security import SecurityService
from desk_app.services.session import SessionService
from desk_app.settings import Settings
from desk_app.storage import AlertInput, Reason, VisitInput
from sync.office import AlertPush

from .conftest import HOSPITAL, now


def wait_for(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def guard_service(desk) -> SecurityService:
    settings = Settings()
    settings.desk.hospital_id, settings.desk.desk_id = HOSPITAL, desk.desk_id
    session = SessionService(desk.store.users, desk.store.audit, desk.clock)
    session.act_as(UserView("guard1", "保卫科李", Role.SECURITY))
    return SecurityService(desk.store, session, lambda: settings)


@pytest.fixture
def pushes():
    made: list[AlertPush] = []
    yield made
    for p in made:
        p.stop()


def test_an_alert_at_one_window_is_live_at_another_and_handled_once(platform, desks, pushes):
    one, two = desks(platform.server.url), desks(platform.server.url)
    for d in (one, two):
        d.worker.run_once()  # both desks current
    push = AlertPush(two.worker.office, two.api.platform, two.api.tokens, HOSPITAL)
    pushes.append(push)
    heard = []
    two.worker.office.add_listener(heard.append)
    push.start()
    assert push.connected.wait(10)

    vid = str(uuid.uuid4())
    one.store.visits.record(VisitInput(
        visit_id=vid, booking_id=None, hospital_id=HOSPITAL, desk_id=one.desk_id,
        clerk="clerk1", checked_in_at=now(), verdict="reject",
        reasons=(Reason("face_mismatch", "block", "face"),), face_outcome="mismatch",
        presented_id_last4="123X", person_name="张三", id_number="110101199003070011"),
        AlertInput(id_photo=b"\x89PNG-id", live_face=b"\x89PNG-live"))
    t0 = time.monotonic()
    one.worker.run_once()  # uploads the visit marked "alert"
    sec2 = guard_service(two)
    assert wait_for(lambda: any(a.source == "office" for a in sec2.alerts()), 5.0)
    latency = time.monotonic() - t0
    [seen] = [a for a in sec2.alerts() if a.source == "office"]
    assert seen.desk_id == one.desk_id and seen.kind == "desk_alert" and seen.visit_id == vid
    assert seen.person is None and not seen.has_photos
    assert sec2.alert_photos(seen.alert_id) == (None, None)  # photos stay at window 1
    assert heard and latency < 5.0

    sec1 = guard_service(one)
    [own] = sec1.alerts()
    assert own.source == "desk" and own.has_photos  # window 1 shows its own case once

    sec2.mark_handled(seen.alert_id, "已核实, 本人已离开")
    assert [a for a in sec2.alerts() if a.source == "office"] == []  # gone at window 2 at once
    two.worker.run_once()  # the handled mark goes up
    one.worker.run_once()  # and comes down to window 1
    assert sec1.alerts() == []
    [done] = sec1.alerts(include_handled=True)
    assert done.status == "handled" and done.handled_by == "guard1"
    assert done.note == "已核实, 本人已离开"
    assert wait_for(lambda: any(a.status == "handled" and a.handled_desk == two.desk_id
                                for a in sec2.alerts(include_handled=True)), 5.0)


def test_handling_the_own_case_handles_the_platforms_alert(platform, desks):
    one, two = desks(platform.server.url), desks(platform.server.url)
    vid = str(uuid.uuid4())
    one.store.visits.record(VisitInput(
        visit_id=vid, booking_id=None, hospital_id=HOSPITAL, desk_id=one.desk_id,
        clerk="clerk1", checked_in_at=now(), verdict="reject",
        reasons=(Reason("booking_forged", "block", "code"),)), AlertInput())
    one.worker.run_once()
    two.worker.run_once()
    sec1, sec2 = guard_service(one), guard_service(two)
    assert [a.kind for a in sec2.alerts()] == ["desk_alert"]  # earlier tests': handled
    [own] = sec1.alerts()
    sec1.mark_handled(own.alert_id, "伪造预约码, 已报警")
    one.worker.run_once()
    two.worker.run_once()
    assert sec2.alerts() == []
    [done] = [a for a in sec2.alerts(include_handled=True) if a.visit_id == vid]
    assert done.handled_by == "guard1" and done.handled_desk == one.desk_id


def test_the_weeks_figures_reach_the_platform(platform, desks):
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, text

    from desk_app.clock import CHINA_TZ
    from desk_app.services import insiders
    from desk_app.storage import Override

    desk = desks(platform.server.url)
    for i in range(6):
        vid = str(uuid.uuid4())
        desk.store.visits.record(VisitInput(
            visit_id=vid, booking_id=None, hospital_id=HOSPITAL, desk_id=desk.desk_id,
            clerk="clerk1", checked_in_at=datetime.now(UTC), verdict="reject",
            reasons=(Reason("face_mismatch", "block", "face"),)))
        desk.store.visits.override(vid, Override("guard1" if i else "admin1", "核实", "admit"))
    today = datetime.now(CHINA_TZ).date()
    assert insiders.queue_weeks(desk.store, HOSPITAL, desk.desk_id, today) >= 1
    desk.worker.run_once()
    assert desk.store.outbox.count() == 0
    eng = create_engine(platform.db_url)
    try:
        with eng.connect() as c:
            rows = c.execute(text(
                "SELECT person, overrides, flagged FROM insider_weeks WHERE desk_id = :d "
                "AND week = :w"), {"d": desk.desk_id, "w": insiders.week_label(today)}).all()
    finally:
        eng.dispose()
    assert {(r[0], r[1], bool(r[2])) for r in rows} >= {("guard1", 5, True), ("admin1", 1, False)}


def test_paused_sync_closes_the_push_and_resuming_catches_up(platform, desks, pushes):
    one, two = desks(platform.server.url), desks(platform.server.url)
    push = AlertPush(two.worker.office, two.api.platform, two.api.tokens, HOSPITAL)
    pushes.append(push)
    push.start()
    assert push.connected.wait(10)
    push.set_paused(True)
    assert wait_for(lambda: not push.connected.is_set(), 5.0)
    events = push.events
    vid = str(uuid.uuid4())
    one.store.visits.record(VisitInput(
        visit_id=vid, booking_id=None, hospital_id=HOSPITAL, desk_id=one.desk_id,
        clerk="clerk1", checked_in_at=now(), verdict="reject",
        reasons=(Reason("booking_forged", "block", "code"),)), AlertInput())
    one.worker.run_once()
    time.sleep(1.0)
    assert push.events == events and not push.connected.is_set()  # no traffic while paused
    push.set_paused(False)
    sec2 = guard_service(two)
    assert wait_for(lambda: any(a.visit_id == vid for a in sec2.alerts()), 10.0)
