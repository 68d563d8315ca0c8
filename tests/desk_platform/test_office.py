"""The security office on the platform, through the real server: a desk's own alert and a
blacklist hit elsewhere become alerts of the hospital, handled once for all desks (the handled
state comes in the delta), and the push (long-poll and server-sent events) delivers a new alert
within a second."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from desk_app.identity.testing import make_id_number
from sync import protocol as P

from .conftest import Server, visit

pytestmark = pytest.mark.xdist_group("platform")


def _delta(c, hospital: str = "H001", cursor: int = 0) -> P.AlertsDelta:
    r = c.get(f"/v1/hospitals/{hospital}/alerts", params={"cursor": cursor})
    assert r.status_code == 200, r.text
    return P.AlertsDelta.model_validate(r.json())


def _impostor(desk: str = "desk-01") -> dict:
    return visit(desk, verdict="reject", alert=True, face_outcome="mismatch",
                 reasons=[{"code": "face_mismatch", "severity": "block", "rule": "face"}])


def test_a_desk_alert_is_handled_once_for_all_desks(server: Server):
    one, two = server.desk_tokens["desk-01"], server.desk_tokens["desk-02"]
    with server.client(one) as d1, server.client(two) as d2:
        head = _delta(d2).cursor
        v = _impostor()
        for _ in range(2):  # sent again after a lost answer: still one alert
            r = d1.post("/v1/visits/batch", json={"visits": [v]})
            assert r.status_code == 200, r.text
        new = [a for a in _delta(d2, cursor=head).alerts if v["visit_id"] in a.visit_ids]
        assert len(new) == 1 and new[0].kind is P.AlertKind.DESK_ALERT
        assert new[0].desk_ids == ["desk-01"] and "face_mismatch" in new[0].detail
        assert new[0].handled_at is None
        seen = _delta(d1, cursor=head).cursor

        r = d2.post(f"/v1/hospitals/H001/alerts/{new[0].alert_id}/handled",
                    json={"handled_by": "guard1", "note": "本人已离开"})
        assert r.status_code == 200, r.text
        again = d1.post(f"/v1/hospitals/H001/alerts/{new[0].alert_id}/handled",
                        json={"handled_by": "guard2", "note": "x"})
        assert again.json()["handled_by"] == "guard1"  # the first handling stands
        back = [a for a in _delta(d1, cursor=seen).alerts if a.alert_id == new[0].alert_id]
        assert len(back) == 1 and back[0].handled_by == "guard1"
        assert back[0].handled_desk == "desk-02" and back[0].handled_note == "本人已离开"
        assert back[0].seq > new[0].seq
        assert d1.post("/v1/hospitals/H001/alerts/nope/handled",
                       json={"handled_by": "guard1"}).status_code == 404


def test_a_case_flagged_after_its_upload_is_the_visits_one_desk_alert(server: Server):
    one, two = server.desk_tokens["desk-01"], server.desk_tokens["desk-02"]
    with server.client(one) as d1, server.client(two) as d2:
        head = _delta(d2).cursor
        v = visit("desk-01", verdict="review", face_outcome="undecided",
                  reasons=[{"code": "face_undecided", "severity": "warn", "rule": "face"}])
        assert d1.post("/v1/visits/batch", json={"visits": [v]}).status_code == 200
        assert [a for a in _delta(d2, cursor=head).alerts if v["visit_id"] in a.visit_ids] == []
        late = {"visit_id": v["visit_id"], "at": datetime.now(UTC).isoformat(),
                "codes": ["face_judged_different"]}
        path = f"/v1/visits/{v['visit_id']}/alert"
        theirs = d2.post(path, json=late)  # another desk's visit: refused, its own code
        assert (theirs.status_code, theirs.json()["error"]) == (403, "not_own_visit")
        answers = [d1.post(path, json=late) for _ in range(2)]  # again after a lost answer
        assert [r.status_code for r in answers] == [200, 200], answers[0].text
        assert [r.json()["status"] for r in answers] == ["stored", "duplicate"]
        new = [a for a in _delta(d2, cursor=head).alerts if v["visit_id"] in a.visit_ids]
        assert len(new) == 1 and new[0].kind is P.AlertKind.DESK_ALERT
        assert new[0].alert_id == answers[0].json()["alert_id"]
        assert new[0].desk_ids == ["desk-01"] and "face_judged_different" in new[0].detail
        # The visit uploaded again, now with alert: true (the desk flagged it meanwhile):
        # still the one alert.
        assert d1.post("/v1/visits/batch", json={"visits": [dict(v, alert=True)]}
                       ).status_code == 200
        assert len([a for a in _delta(d2, cursor=head).alerts
                    if v["visit_id"] in a.visit_ids]) == 1
        unknown = dict(late, visit_id=str(uuid.uuid4()))
        assert d1.post(f"/v1/visits/{unknown['visit_id']}/alert",
                       json=unknown).status_code == 404
        assert d1.post(f"/v1/visits/{uuid.uuid4()}/alert", json=late).status_code == 400
        bad = dict(late, codes=["人名"])  # codes only: no names, no numbers
        assert d1.post(path, json=bad).status_code in (400, 422)


def test_a_blacklist_hit_here_alerts_the_hospital_where_the_person_is_booked(server: Server):
    number = make_id_number("110105", date(1980, 2, 2), 77, sex="F")
    with server.client(server.seed.admin_token) as admin:
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        r = admin.post("/v1/bookings", json={
            "hospital_id": "H002", "department_code": "OFFICE", "department_name": "测试科",
            "doctor_name": "测试", "slot_start": start.isoformat(), "slot_minutes": 15,
            "id_number": number, "account_id": f"acct-{uuid.uuid4().hex[:6]}"})
        assert r.status_code == 200, r.text
        booking_id = r.json()["booking"]["booking_id"]
        r = admin.post("/v1/blacklist", json={"id_number": number, "reason": "号贩子", "days": 1})
        assert r.status_code == 200, r.text
        id_hash = r.json()["id_hash"]
        head = _delta(admin, "H002").cursor
        with server.client(server.desk_tokens["desk-01"]) as d1:
            hit = visit("desk-01", verdict="reject", presented_id_hash=id_hash,
                        presented_id_last4=number[-4:])
            assert d1.post("/v1/visits/batch", json={"visits": [hit]}).status_code == 200
        there = [a for a in _delta(admin, "H002", head).alerts
                 if a.kind is P.AlertKind.BLACKLIST_ELSEWHERE]
        assert [a.booking_id for a in there] == [booking_id]
        assert number not in there[0].model_dump_json()


def _report_later(server: Server, delay: float) -> threading.Thread:
    def go() -> None:
        time.sleep(delay)
        with server.client(server.desk_tokens["desk-03"]) as c:
            c.post("/v1/reports", json={
                "report_id": str(uuid.uuid4()), "hospital_id": "H001", "desk_id": "desk-03",
                "reported_at": datetime.now(UTC).isoformat(), "kind": "scalper",
                "note": "push test"})
    t = threading.Thread(target=go)
    t.start()
    return t


def test_long_poll_answers_as_soon_as_an_alert_comes(server: Server):
    with server.client(server.desk_tokens["desk-02"]) as c:
        head = _delta(c).cursor
        t = _report_later(server, 0.5)
        t0 = time.monotonic()
        r = c.get("/v1/hospitals/H001/alerts/wait", params={"cursor": head, "timeout": 20})
        waited = time.monotonic() - t0
        t.join()
        d = P.AlertsDelta.model_validate(r.json())
        assert [a.kind for a in d.alerts] == [P.AlertKind.SUSPECT_REPORT]
        assert 0.4 < waited < 3.0
        quiet = c.get("/v1/hospitals/H001/alerts/wait", params={"cursor": d.cursor,
                                                                "timeout": 0.5})
        assert P.AlertsDelta.model_validate(quiet.json()).alerts == []


def test_server_sent_events_push_each_change(server: Server):
    with server.client(server.desk_tokens["desk-02"]) as c:
        head = _delta(c).cursor
        t = _report_later(server, 0.5)
        t0 = time.monotonic()
        with c.stream("GET", "/v1/hospitals/H001/alerts/stream",
                      params={"cursor": head}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                if line.startswith("data: "):
                    d = P.AlertsDelta.model_validate_json(line[6:])
                    break
        t.join()
        assert [a.kind for a in d.alerts] == [P.AlertKind.SUSPECT_REPORT]
        assert time.monotonic() - t0 < 3.0
    with server.client() as anon:
        assert anon.get("/v1/hospitals/H001/alerts/stream").status_code == 401


def test_insider_weeks_per_person_over_every_desk(server: Server):
    week = f"2031-W{uuid.uuid4().int % 50 + 1:02d}"

    def person(name: str, overrides: int) -> dict:
        return {"person": name, "decisions": 40, "overrides": overrides, "judged": 3,
                "fast_confirms": 1, "far_above": []}

    for desk, people in (("desk-01", [person("guard9", 4), person("clerk8", 1)]),
                         ("desk-02", [person("guard9", 5), person("clerk7", 2)])):
        with server.client(server.desk_tokens[desk]) as d:
            r = d.post("/v1/hospitals/H001/insiders", json={
                "hospital_id": "H001", "desk_id": desk, "week": week, "people": people})
            assert r.status_code == 200 and r.json()["stored"] == 2, r.text
    with server.client(server.desk_tokens["desk-01"]) as d:  # sent again: replaces, not adds
        d.post("/v1/hospitals/H001/insiders", json={
            "hospital_id": "H001", "desk_id": "desk-01", "week": week,
            "people": [person("guard9", 4), person("clerk8", 1)]})
        other = d.post("/v1/hospitals/H001/insiders", json={
            "hospital_id": "H001", "desk_id": "desk-02", "week": week, "people": []})
        assert other.status_code == 403  # another desk's figures
    admin, _ = server.platform().enrollment.issue_token(P.Role.HOSPITAL_ADMIN, "admin", hospital_id="H001")
    with server.client(admin) as a:
        r = a.get("/v1/hospitals/H001/insiders", params={"week": week})
        assert r.status_code == 200, r.text
        w = {p.person: p for p in P.InsiderWeek.model_validate(r.json()).people}
    assert w["guard9"].overrides == 9 and w["guard9"].desks == ["desk-01", "desk-02"]
    assert w["guard9"].far_above == ["overrides"] and w["clerk8"].far_above == []


# --- a desk alert's photos for the security office ------------------------------------------------

JPEG_A = b"\xff\xd8\xff\xe0" + b"card portrait" + b"\xff\xd9"
JPEG_B = b"\xff\xd8\xff\xe0" + b"live face" + b"\xff\xd9"


def _photos_body(visit_id: str, a: bytes = JPEG_A, b: bytes = JPEG_B) -> dict:
    import base64

    return {"visit_id": visit_id, "id_photo": base64.b64encode(a).decode(),
            "live_face": base64.b64encode(b).decode()}


def _raise_with_photos(server: Server, d1) -> str:
    v = _impostor()
    assert d1.post("/v1/visits/batch", json={"visits": [v]}).status_code == 200
    r = d1.post("/v1/hospitals/H001/alerts/photos", json=_photos_body(v["visit_id"]))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "stored"
    again = d1.post("/v1/hospitals/H001/alerts/photos", json=_photos_body(v["visit_id"]))
    assert again.json()["status"] == "duplicate"
    return r.json()["alert_id"]


def test_alert_photos_reach_the_office_encrypted_audited_and_purged(server: Server):
    from desk_platform import alert_photos
    from desk_platform.audit import Audit
    from desk_platform.db import alert_photos as photos_table

    one, two = server.desk_tokens["desk-01"], server.desk_tokens["desk-02"]
    with server.client(one) as d1, server.client(two) as d2, \
            server.client(server.seed.security_token) as sec, \
            server.client(server.seed.police_token) as police:
        alert_id = _raise_with_photos(server, d1)
        # Another desk cannot send photos for desk-01's alert; a made-up visit has none.
        other = d2.post("/v1/hospitals/H001/alerts/photos",
                        json=_photos_body(str(uuid.uuid4())))
        assert other.json()["status"] == "unknown"
        bad = d1.post("/v1/hospitals/H001/alerts/photos",
                      json=_photos_body(str(uuid.uuid4()), a=b"GIF89a not a jpeg"))
        assert bad.status_code == 400 and "JPEG" in bad.json()["detail"]

        url = f"/v1/hospitals/H001/alerts/{alert_id}/photos"
        # The office desk names its signed-in person; a clerk, or nobody, sees nothing.
        assert d2.get(url).status_code == 403
        assert d2.get(url, params={"viewer": "clerk1", "viewer_role": "clerk"}
                      ).status_code == 403
        assert police.get(url).status_code == 403
        # A person the platform knows as a clerk of the hospital cannot be passed off as a guard.
        from desk_platform.staff import Staff

        plat = server.platform()
        name = f"clerk-{uuid.uuid4().hex[:6]}"
        Staff(plat.db).add(name, "王", "clerk", "clerk-pass-123456", hospital_id="H001")
        assert d2.get(url, params={"viewer": name, "viewer_role": "security"}).status_code == 403
        r = d2.get(url, params={"viewer": "guard-office", "viewer_role": "security"})
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        got = P.AlertPhotos.model_validate(r.json())
        assert (got.id_photo, got.live_face) == (JPEG_A, JPEG_B)
        assert sec.get(url).status_code == 200  # the security staff's own token

        seen = [e for e in Audit(plat.db).entries(action=alert_photos.ACTION_VIEWED,
                                                  hospital_id="H001") if e.target == alert_id]
        assert {(e.actor, e.role, e.detail) for e in seen} >= {
            ("guard-office", "desk:security", "desk desk-02"), ("security (demo)", "security", "")}
        with plat.db.read() as conn:  # encrypted at rest: no JPEG bytes in the row
            blob = conn.execute(photos_table.select().where(
                photos_table.c.alert_id == alert_id)).one().photos_enc
        assert b"card portrait" not in blob and b"\xff\xd8" not in blob

        # Handled: still there during the grace day, gone after it (shown 404 before the purge
        # runs, deleted by it).
        assert d2.post(f"/v1/hospitals/H001/alerts/{alert_id}/handled",
                       json={"handled_by": "guard-office", "note": "已处理"}).status_code == 200
        assert alert_photos.purge(plat, datetime.now(UTC) + timedelta(hours=23)) == 0
        assert sec.get(url).status_code == 200
        assert alert_photos.purge(plat, datetime.now(UTC) + timedelta(days=1, minutes=1)) >= 1
        gone = sec.get(url)
        assert gone.status_code == 404 and "no longer kept" in gone.json()["detail"]

        # Never handled: gone after the retention (7 days by default).
        second = _raise_with_photos(server, d1)
        assert alert_photos.purge(plat, datetime.now(UTC) + timedelta(days=6)) == 0
        assert alert_photos.purge(plat, datetime.now(UTC) + timedelta(days=7, minutes=1)) >= 1
        assert sec.get(f"/v1/hospitals/H001/alerts/{second}/photos").status_code == 404
        assert any(e.action == alert_photos.ACTION_PURGED for e in Audit(plat.db).entries(
            action=alert_photos.ACTION_PURGED))
