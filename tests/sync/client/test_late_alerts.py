"""A case flagged after its visit was uploaded (the clerk's "not the same person" a minute after
the verdict) is the platform's alert too, once, with its photos: through a real platform process,
a fault proxy that drops the answer, and a second window that sees it."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from desk_app.services.security import LATE_TEXT
from desk_app.storage import AlertInput, FaceJudgement, Override, Reason, VisitInput
from desk_platform import db as T
from sync.chaos import Fault
from sync.client import PlatformRefused

from .conftest import HOSPITAL, now
from .test_faults import drain
from .test_office import guard_service


def undecided(desk) -> str:
    vid = str(uuid.uuid4())
    desk.store.visits.record(VisitInput(
        visit_id=vid, booking_id=None, hospital_id=HOSPITAL, desk_id=desk.desk_id,
        clerk="clerk1", checked_in_at=now(), verdict="review",
        reasons=(Reason("face_undecided", "warn", "face"),), face_outcome="undecided",
        face_distance=0.5, presented_id_last4="123X", person_name="张三",
        id_number="110101199003070011"))
    return vid


def judged_different(desk, vid: str, photos: bool = True) -> None:
    """What ``CheckinService.judge_face(same=False)`` stores (tests/desk_app/services/
    test_clerk_calls.py runs it on real photos): the call, the override and the case."""
    at = now()
    desk.store.visits.record_face_judgement(
        FaceJudgement(judgement_id=str(uuid.uuid4()), visit_id=vid, clerk="clerk1",
                      judged_at=at, distance=0.5, judgement="different", seconds=6.0,
                      match_distance=0.451, mismatch_distance=0.637, score_basis="cohort"),
        Override(by="clerk1", reason="人脸核对: 不是同一人", verdict="reject"),
        AlertInput(id_photo=_png(40) if photos else None, live_face=_png(90) if photos else None,
                   codes=("face_judged_different",)))


def _png(shade: int) -> bytes:
    import cv2
    import numpy as np

    img = np.full((200, 160, 3), shade, np.uint8)
    img[50:100, 40:80] = 255 - shade
    return cv2.imencode(".png", img)[1].tobytes()


def platform_alerts(platform, vid: str) -> list:
    a = T.alerts.c
    with platform.service.db.read() as conn:
        return conn.execute(select(T.alerts).where(
            a.visit_ids_json == json.dumps([vid]))).all()


def has_photos(platform, alert_id: str) -> bool:
    with platform.service.db.read() as conn:
        return conn.execute(select(T.alert_photos.c.alert_id).where(
            T.alert_photos.c.alert_id == alert_id)).first() is not None


def test_a_case_flagged_after_upload_is_one_platform_alert_with_its_photos(platform, proxy,
                                                                            desks):
    one, two = desks(proxy.url), desks(platform.server.url)
    vid = undecided(one)
    drain(one)
    assert platform.stored_visits([vid]) == {vid: 1} and platform_alerts(platform, vid) == []

    judged_different(one, vid)
    assert sorted(i.kind for i in one.store.outbox.pending(10)) == [
        "alert_photos", "visit_alert", "visit_override"]
    # The platform makes the alert, the desk never hears back and sends it again.
    proxy.plan(f"/v1/visits/{vid}/alert", Fault.DROP_RESPONSE)
    errors = drain(one)
    assert errors and proxy.pending_faults() == 0 and one.store.outbox.count() == 0
    [alert] = platform_alerts(platform, vid)
    assert alert.kind == "desk_alert" and json.loads(alert.desk_ids_json) == [one.desk_id]
    assert "face_judged_different" in alert.detail and "张三" not in alert.detail
    assert has_photos(platform, alert.alert_id)
    with platform.service.db.read() as conn:
        assert conn.execute(select(T.visits.c.final_verdict).where(
            T.visits.c.visit_id == vid)).scalar_one() == "reject"

    # Window 2 sees it; window 1's guard sees one case (its own, with the photos).
    two.worker.run_once()
    assert [a.visit_id for a in guard_service(two).alerts() if a.kind == "desk_alert"] == [vid]
    [seen] = [a for a in guard_service(two).alerts() if a.visit_id == vid]
    assert [r.text.zh for r in seen.reasons[1:]] == [LATE_TEXT.zh, "挂号员核对为非本人"]
    assert seen.reasons[2].text.en == "The clerk judged the face not the same person"
    [own] = [a for a in guard_service(one).alerts() if a.visit_id == vid]
    assert own.source != "office"

    # Sent once more by hand: the same alert, not a second one.
    again = one.api.push_visit_alert({"visit_id": vid, "at": now().isoformat(), "codes": []})
    assert (again.status, again.alert_id) == ("duplicate", alert.alert_id)
    assert len(platform_alerts(platform, vid)) == 1


def test_a_case_flagged_before_its_upload_is_one_alert_too(platform, desks):
    desk = desks(platform.server.url)
    vid = undecided(desk)
    judged_different(desk, vid, photos=False)  # the visit still waits: it goes with alert: true
    assert [i.kind for i in desk.store.outbox.pending(10)] == [
        "visit", "visit_override", "visit_alert"]  # the verdict it changed: its own item
    report = desk.worker.run_once()
    assert report.pushed == 3 and report.parked == 0 and desk.store.outbox.count() == 0
    [alert] = platform_alerts(platform, vid)
    assert alert.detail.startswith("desk alert: ")  # made by the upload; the late one found it


def test_a_late_alert_for_a_visit_the_platform_lacks_or_another_desks_is_refused(platform,
                                                                                 desks):
    from desk_app.errors import AuthError

    one, other = desks(platform.server.url), desks(platform.server.url)
    vid = undecided(one)
    one.worker.run_once()
    body = {"visit_id": vid, "at": now().isoformat(), "codes": ["face_judged_different"]}
    with pytest.raises(PlatformRefused) as theirs:  # this call refused, not the desk's rights
        other.api.push_visit_alert(body)
    assert theirs.value.status == 403 and not isinstance(theirs.value, AuthError)
    with pytest.raises(PlatformRefused) as missing:
        one.api.push_visit_alert(dict(body, visit_id=str(uuid.uuid4())))
    assert missing.value.status == 404
    assert platform_alerts(platform, vid) == []

    # A case of a visit the platform does not have (its upload refused and parked) is parked
    # too, and the queue goes on: it never blocks the items behind it.
    lost = str(uuid.uuid4())
    one.store.outbox.enqueue("visit_alert", f"{lost}:alert", dict(body, visit_id=lost))
    one.store.outbox.enqueue("alert_handled", "broken", {"alert_id": 7})  # invalid on the desk
    [after] = one.record(1)
    report = one.worker.run_once()
    assert report.parked == 2 and one.store.outbox.count() == 0
    assert sorted(i.last_error for i in one.store.outbox.parked()) == [
        "refused by the desk: not valid for the platform", "refused by the platform (HTTP 404)"]
    assert platform.stored_visits([after]) == {after: 1}
