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
