"""The security office between two desks and the real platform process: an alert raised at
window 1 reaches window 2 through the push within seconds; handled at window 2 it is handled at
window 1 too (its own flagged case included) after window 1's next pull. Its two photos reach
window 2's guard through the platform (small JPEGs, audited on both sides), not a clerk, and
are said to be no longer kept once the platform purged them."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from desk_app.errors import AuthError, PhotosNotHere
from desk_app.services.model import Role, UserView
from desk_app.services.security import SecurityService
from desk_app.services.session import SessionService
from desk_app.settings import PlatformSection, Settings
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
    assert seen.person is None and not seen.has_photos  # no fetcher: photos not shared here
    with pytest.raises(PhotosNotHere) as gone:  # photos stay at window 1
        sec2.alert_photos(seen.alert_id)
    assert gone.value.reason == "elsewhere"
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


def _png(h: int, w: int, shade: int) -> bytes:
    import cv2
    import numpy as np

    img = np.full((h, w, 3), shade, np.uint8)
    img[h // 4: h // 2, w // 4: w // 2] = 255 - shade  # something to look at
    return cv2.imencode(".png", img)[1].tobytes()


def _service(desk, role: Role, *, share: bool = True, api=None) -> SecurityService:
    from sync.office import fetch_photos

    settings = Settings()
    settings.desk.hospital_id, settings.desk.desk_id = HOSPITAL, desk.desk_id
    settings.privacy.share_alert_photos = share
    session = SessionService(desk.store.users, desk.store.audit, desk.clock)
    session.act_as(UserView(f"{role.value}-{desk.desk_id}", "某人", role))
    return SecurityService(desk.store, session, lambda: settings, remote_photos=lambda h, a, w, r:
                           fetch_photos(api or desk.api, h, a, w, r))


def _impostor(desk, photos: bool = True) -> str:
    vid = str(uuid.uuid4())
    desk.store.visits.record(VisitInput(
        visit_id=vid, booking_id=None, hospital_id=HOSPITAL, desk_id=desk.desk_id,
        clerk="clerk1", checked_in_at=now(), verdict="reject",
        reasons=(Reason("face_mismatch", "block", "face"),), face_outcome="mismatch",
        presented_id_last4="123X", person_name="张三", id_number="110101199003070011"),
        AlertInput(id_photo=_png(320, 256, 40), live_face=_photos_live()) if photos
        else AlertInput())
    return vid


def _photos_live() -> bytes:
    return _png(300, 300, 90)


def test_a_windows_alert_photos_reach_the_office_guard_not_a_clerk(platform, desks):
    import cv2
    import numpy as np

    from desk_platform import alert_photos
    from desk_platform.audit import Audit
    from desk_platform.db import alert_photos as photos_table
    from sync.client import DeskApi

    one, two = desks(platform.server.url), desks(platform.server.url)
    vid = _impostor(one)
    report = one.worker.run_once()  # the visit, then its photos (one outbox item each)
    assert report.pushed == 2 and one.store.outbox.count() == 0
    two.worker.run_once()
    guard, clerk = _service(two, Role.SECURITY), _service(two, Role.CLERK)
    [seen] = [a for a in guard.alerts() if a.source == "office" and a.visit_id == vid]
    assert seen.has_photos

    id_jpeg, live_jpeg = guard.alert_photos(seen.alert_id)
    for jpeg in (id_jpeg, live_jpeg):
        assert jpeg is not None and jpeg[:3] == b"\xff\xd8\xff"
        img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.shape[0] == 240  # shrunk from 320 / 300 px
    with pytest.raises(AuthError):
        clerk.alert_photos(seen.alert_id)
    # Audited at window 2 and on the platform (naming the guard and the desk); window 1
    # recorded that it shared them.
    viewed = two.store.audit.entries(200, "alert.viewed")
    assert [(e.actor, e.subject, e.detail["photos"]) for e in viewed] == [
        (f"security-{two.desk_id}", seen.alert_id, "shown")]
    assert one.store.audit.entries(200, "alert.photos_shared")
    plat = platform.service
    seen_there = [e for e in Audit(plat.db).entries(action=alert_photos.ACTION_VIEWED)
                  if e.target == seen.alert_id]
    assert [(e.actor, e.role, e.detail) for e in seen_there] == [
        (f"security-{two.desk_id}", "desk:security", f"desk {two.desk_id}")]
    with plat.db.read() as conn:  # not in clear on the platform either
        blob = conn.execute(photos_table.select().where(
            photos_table.c.alert_id == seen.alert_id)).one().photos_enc
    assert id_jpeg not in blob

    # Offline: said so (and nothing is kept at window 2: the desk store has no copy).
    dead = DeskApi(PlatformSection(url="http://127.0.0.1:9", timeout_s=0.5), two.api.tokens)
    try:
        with pytest.raises(PhotosNotHere) as off:
            _service(two, Role.SECURITY, api=dead).alert_photos(seen.alert_id)
        assert off.value.reason == "offline"
    finally:
        dead.close()

    # Handled at window 2; a day later the platform's purge deletes them: "no longer kept".
    guard.mark_handled(seen.alert_id, "已核实, 本人已离开")
    two.worker.run_once()
    assert alert_photos.purge(plat, now() + timedelta(days=1, minutes=1)) >= 1
    with pytest.raises(PhotosNotHere) as gone:
        guard.alert_photos(seen.alert_id)
    assert gone.value.reason == "gone"


def test_a_site_that_keeps_photos_on_the_desk_sends_none(platform, desks):
    from desk_platform.db import alert_photos as photos_table

    one, two = desks(platform.server.url), desks(platform.server.url)
    one.worker.office.share_photos = lambda: False  # privacy.share_alert_photos = false
    vid = _impostor(one)
    one.worker.run_once()
    assert one.store.outbox.count() == 0  # done, not waiting: nothing to send
    two.worker.run_once()
    guard = _service(two, Role.SECURITY, share=False)
    [seen] = [a for a in guard.alerts() if a.source == "office" and a.visit_id == vid]
    assert not seen.has_photos
    with pytest.raises(PhotosNotHere) as here:
        guard.alert_photos(seen.alert_id)
    assert here.value.reason == "elsewhere"
    with platform.service.db.read() as conn:
        assert conn.execute(photos_table.select().where(
            photos_table.c.alert_id == seen.alert_id)).first() is None


def _screen(qtbot, runner, ops):
    from ui.security.screen import SecurityScreen
    from ui.sounds import SoundCues

    scr = SecurityScreen(ops, Settings(), "en", runner=runner, sounds=SoundCues(False),
                         poll_ms=60_000)
    qtbot.addWidget(scr)
    scr.resize(1280, 800)
    scr.show()
    return scr


def test_the_office_screen_shows_a_windows_photos_then_says_they_are_gone(qtbot, platform,
                                                                         desks):
    from desk_platform import alert_photos
    from ui.operations import Operations

    one, two = desks(platform.server.url), desks(platform.server.url)
    vid = _impostor(one)
    one.worker.run_once()
    two.worker.run_once()
    guard, clerk = _service(two, Role.SECURITY), _service(two, Role.CLERK)
    [seen] = [a for a in guard.alerts() if a.source == "office" and a.visit_id == vid]
    runner = Operations()
    try:
        scr = _screen(qtbot, runner, guard)
        scr.refresh()
        qtbot.waitUntil(lambda: scr.table.rowCount() >= 1, timeout=5_000)
        scr.select(seen.alert_id)
        qtbot.waitUntil(lambda: scr.id_photo.has_photo and scr.live_photo.has_photo,
                        timeout=10_000)

        by_clerk = _screen(qtbot, runner, clerk)
        by_clerk.refresh()
        qtbot.waitUntil(lambda: by_clerk.table.rowCount() >= 1, timeout=5_000)
        by_clerk.select(seen.alert_id)
        not_yours = by_clerk.tr("Photos only for security staff and administrators")
        qtbot.waitUntil(lambda: by_clerk.id_photo.text() == not_yours, timeout=10_000)
        assert not by_clerk.id_photo.has_photo and not by_clerk.live_photo.has_photo

        guard.mark_handled(seen.alert_id, "已核实")
        two.worker.run_once()
        assert alert_photos.purge(platform.service, now() + timedelta(days=1, hours=1)) >= 1
        later = _screen(qtbot, runner, guard)
        later.show_handled.setChecked(True)  # the alert is handled now
        later.refresh()
        qtbot.waitUntil(lambda: later.table.rowCount() >= 1, timeout=5_000)
        later.select(seen.alert_id)
        gone = later.tr("Photos no longer kept")  # in the language installed (zh_CN or en)
        qtbot.waitUntil(lambda: later.id_photo.text() == gone, timeout=10_000)
        assert later.live_photo.text() == gone
    finally:
        assert runner.shutdown(5000)


def test_alert_photos_go_as_small_jpegs_within_the_platforms_limit():
    import cv2
    import numpy as np

    from sync import protocol
    from sync.office import small_jpeg

    noise = np.random.default_rng(7).integers(0, 256, (600, 1600, 3), np.uint8)  # worst case
    jpeg = small_jpeg(cv2.imencode(".png", noise)[1].tobytes())
    assert jpeg is not None and len(jpeg) <= protocol.MAX_PHOTO_BYTES
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (240, 640)
    small = small_jpeg(_png(100, 80, 30))  # not enlarged
    assert cv2.imdecode(np.frombuffer(small, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (100, 80)
    assert small_jpeg(b"\x89PNG-damaged") is None and small_jpeg(None) is None
