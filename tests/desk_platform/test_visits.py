"""Visit ingest through the real server: idempotent, conflicts, alerts, reports, statistics."""

from __future__ import annotations

import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from desk_app.identity.hashing import ScryptParams, b64d, b64e, slow_hash
from desk_app.identity.testing import make_id_number
from desk_platform import platform_calls as ops
from sync import protocol as P

from .conftest import Server, visit

pytestmark = pytest.mark.xdist_group("platform")


def push(server: Server, desk: str, visits: list[dict]) -> P.BatchResult:
    with server.client(server.desk_tokens[desk]) as c:
        r = c.post("/v1/visits/batch", json={"visits": visits})
    assert r.status_code == 200, r.text
    return P.BatchResult.model_validate(r.json())


def alerts_after(server: Server, desk: str, cursor: int = 0) -> P.AlertsDelta:
    with server.client(server.desk_tokens[desk]) as c:
        r = c.get(f"/v1/hospitals/{server.seed.hospital_id}/alerts", params={"cursor": cursor})
    assert r.status_code == 200, r.text
    return P.AlertsDelta.model_validate(r.json())


def test_same_batch_twice_is_stored_once(server: Server):
    plat = server.platform()
    before = plat.visits.count("H001")
    batch = [visit("desk-01") for _ in range(50)]
    first = push(server, "desk-01", batch)
    assert (first.stored, first.duplicates, first.rejected) == (50, 0, 0)
    assert [r.status for r in first.results] == [P.VisitStatus.STORED] * 50
    again = push(server, "desk-01", batch)
    assert (again.stored, again.duplicates) == (0, 50)
    assert all(r.status == P.VisitStatus.DUPLICATE for r in again.results)
    # a batch that repeats one visit inside itself, mixed with a new one
    mixed = push(server, "desk-01", [batch[0], batch[0], visit("desk-01")])
    assert mixed.duplicates == 1 and mixed.stored == 1 and len(mixed.results) == 2
    assert plat.visits.count("H001") == before + 51


def test_concurrent_retries_store_each_visit_once(server: Server):
    """The same batch sent by several connections at once (a desk retrying after timeouts)."""
    plat = server.platform()
    before = plat.visits.count("H001")
    batch = [visit("desk-02") for _ in range(40)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: push(server, "desk-02", batch), range(4)))
    assert sum(r.stored for r in results) == 40
    assert sum(r.duplicates for r in results) == 120
    assert plat.visits.count("H001") == before + 40


def test_visit_id_of_another_desk_is_rejected_not_overwritten(server: Server):
    v = visit("desk-01")
    assert push(server, "desk-01", [v]).stored == 1
    stolen = dict(v, desk_id="desk-02", clerk="someone")
    res = push(server, "desk-02", [stolen])
    assert res.results[0].status == P.VisitStatus.REJECTED
    assert res.results[0].reason == "visit_id_taken"


def test_double_check_in_from_two_desks_is_a_conflict_seen_by_both(server: Server):
    booking = server.seed.patient("normal").booking_id
    cursor1 = alerts_after(server, "desk-01").cursor
    cursor2 = alerts_after(server, "desk-03").cursor
    with server.client(server.desk_tokens["desk-03"]) as c:
        bcursor = c.get("/v1/hospitals/H001/bookings").json()["cursor"]

    a = visit("desk-01", booking_id=booking, offline=True)
    b = visit("desk-03", booking_id=booking, offline=True)
    ra = push(server, "desk-01", [a])
    assert ra.results[0].status == P.VisitStatus.STORED and not ra.results[0].conflict
    rb = push(server, "desk-03", [b])
    assert rb.results[0].status == P.VisitStatus.CONFLICT and rb.results[0].conflict
    assert rb.stored == 1 and rb.conflicts == 1
    # The first desk learns that its stored visit is part of the conflict when it resends...
    again = push(server, "desk-01", [a])
    assert again.results[0].status == P.VisitStatus.DUPLICATE and again.results[0].conflict
    # ...and both desks see the same alert in their next pull.
    for desk, cur in (("desk-01", cursor1), ("desk-03", cursor2)):
        delta = alerts_after(server, desk, cur)
        doubles = [x for x in delta.alerts if x.kind == P.AlertKind.DOUBLE_CHECK_IN
                   and x.booking_id == booking]
        assert len(doubles) == 1
        assert doubles[0].visit_ids == [a["visit_id"], b["visit_id"]]
        assert doubles[0].desk_ids == ["desk-01", "desk-03"]
        assert delta.cursor > cur
    # The booking itself now reads "checked_in" for every desk of the hospital.
    with server.client(server.desk_tokens["desk-02"]) as c:
        delta = P.BookingsDelta.model_validate(
            c.get("/v1/hospitals/H001/bookings", params={"cursor": bcursor}).json())
    changed = {bk.booking_id: bk for bk in delta.bookings}
    assert changed[booking].status == P.BookingStatus.CHECKED_IN


def test_rejected_visits_do_not_check_a_booking_in(server: Server):
    booking = server.seed.patient("impostor").booking_id
    r1 = push(server, "desk-01", [visit("desk-01", booking_id=booking, verdict="reject",
                                        reasons=[{"code": "face_mismatch", "severity": "block",
                                                  "rule": "faces"}])])
    r2 = push(server, "desk-02", [visit("desk-02", booking_id=booking, verdict="reject")])
    assert r1.results[0].status == r2.results[0].status == P.VisitStatus.STORED
    bk, _token = server.platform().bookings.get(booking)
    assert bk.status == P.BookingStatus.ACTIVE


def test_override_counts_as_the_final_verdict(server: Server):
    booking = server.seed.patient("blacklisted_platform").booking_id
    first = visit("desk-02", booking_id=booking, verdict="reject",
                  override={"by": "supervisor", "reason": "ID checked by hand",
                            "verdict": "admit"})
    assert push(server, "desk-02", [first]).results[0].status == P.VisitStatus.STORED
    second = push(server, "desk-01", [visit("desk-01", booking_id=booking)])
    assert second.results[0].status == P.VisitStatus.CONFLICT


def test_blacklist_hit_is_detected_by_the_platform_and_alerted(server: Server):
    hit_person = server.seed.patient("blacklisted_police")
    with server.client(server.desk_tokens["desk-02"]) as c:
        cfg = P.DeskConfig.model_validate(c.get("/v1/desk/config").json())
    presented = b64e(slow_hash(hit_person.id_number, b64d(cfg.blacklist_salt),
                               ScryptParams(**cfg.scrypt.model_dump())))
    cur = alerts_after(server, "desk-02").cursor
    v = visit("desk-02", verdict="reject", presented_id_hash=presented,
              presented_id_last4=hit_person.id_number[-4:],
              reasons=[{"code": "blacklisted", "severity": "block", "rule": "blacklist"}])
    push(server, "desk-02", [v])
    hits = [a for a in alerts_after(server, "desk-02", cur).alerts
            if a.kind == P.AlertKind.BLACKLIST_HIT]
    assert [a.visit_ids for a in hits] == [[v["visit_id"]]]


def test_suspect_reports_are_idempotent_and_alerted(server: Server):
    cur = alerts_after(server, "desk-01").cursor
    report = {"report_id": str(uuid.uuid4()), "hospital_id": "H001", "desk_id": "desk-01",
              "reported_at": datetime.now(UTC).isoformat(), "kind": "scalper",
              "note": "same man, third booking today"}
    with server.client(server.desk_tokens["desk-01"]) as c:
        assert c.post("/v1/reports", json=report).json()["status"] == "stored"
        assert c.post("/v1/reports", json=report).json()["status"] == "duplicate"
        other = dict(report, report_id=str(uuid.uuid4()), desk_id="desk-02")
        assert c.post("/v1/reports", json=other).status_code == 403
    with server.client(server.seed.security_token) as c:  # security staff of H001 may report
        r = c.post("/v1/reports", json=dict(report, report_id=str(uuid.uuid4()),
                                             desk_id="desk-01", kind="impersonation"))
        assert r.status_code == 200, r.text
    kinds = [a.kind for a in alerts_after(server, "desk-02", cur).alerts]
    assert kinds.count(P.AlertKind.SUSPECT_REPORT) == 2


def test_statistics_per_hospital_and_day(server: Server):
    # A hospital of its own, so the counts are exact whatever other tests stored.
    plat = server.platform()
    code = plat.enrollment.create_code("H777", "desk-s", created_by="test").code
    with server.client() as c:
        token = c.post("/v1/enroll", json={"code": code}).json()["token"]
    block = [{"code": "face_mismatch", "severity": "block", "rule": "faces"},
             {"code": "booking_late", "severity": "warn", "rule": "time"}]
    visits = (
        [visit("desk-s", hospital="H777") for _ in range(3)]
        + [visit("desk-s", hospital="H777", verdict="review", offline=True)]
        + [visit("desk-s", hospital="H777", verdict="reject", reasons=block) for _ in range(2)]
        + [visit("desk-s", hospital="H777", verdict="reject",
                 reasons=[{"code": "blacklisted", "severity": "block", "rule": "bl"}])]
        + [visit("desk-s", hospital="H777", verdict="reject",
                 override={"by": "boss", "reason": "known patient", "verdict": "admit"})]
    )
    with server.client(token) as c:
        assert c.post("/v1/visits/batch", json={"visits": visits}).status_code == 200
        report = {"report_id": str(uuid.uuid4()), "hospital_id": "H777", "desk_id": "desk-s",
                  "reported_at": datetime.now(UTC).isoformat(), "kind": "other"}
        assert c.post("/v1/reports", json=report).status_code == 200
    day = plat.local_day(datetime.now(UTC))
    with server.client(server.seed.police_token) as c:
        r = c.get("/v1/hospitals/H777/stats", params={"day": day})
    assert r.status_code == 200, r.text
    s = P.DayStats.model_validate(r.json())
    assert (s.visits, s.admitted, s.reviewed, s.rejected, s.checkins) == (8, 4, 1, 3, 5)
    assert s.rejections_by_reason == {"blacklisted": 1, "face_mismatch": 2}
    assert (s.blacklist_hits, s.offline_visits, s.overrides, s.reports, s.desks) == (1, 1, 1, 1, 1)
    with server.client(token) as c:
        empty = c.get("/v1/hospitals/H777/stats", params={"day": "2020-01-01"}).json()
    assert empty["visits"] == 0 and empty["rejections_by_reason"] == {}


def test_another_hospitals_booking_is_stored_but_not_checked_in(server: Server):
    other = server.seed.patient("other_hospital").booking_id
    r = push(server, "desk-01", [visit("desk-01", booking_id=other)])
    assert r.results[0].status == P.VisitStatus.STORED
    assert server.platform().bookings.get(other)[0].status == P.BookingStatus.ACTIVE


def fresh_booking(server: Server) -> str:
    """A booking of its own at H001 (a new patient), so a test owns its check-in."""
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    issued = ops.book(server.platform(), P.BookingRequest(
        hospital_id="H001", department_code="CARD", department_name="心内科",
        doctor_name=f"周医生{uuid.uuid4().hex[:4]}", slot_start=start,
        id_number=make_id_number("445202", date(1975, 5, 5), secrets.randbelow(900) + 100),
        account_id=f"acct-{uuid.uuid4().hex[:8]}"))
    return issued.booking.booking_id


def late_override(server: Server, desk: str, v: dict, verdict: str) -> str:
    """The desk's visit_override outbox item for a visit it uploaded before; the answer."""
    body = {"visit_id": v["visit_id"], "at": datetime.now(UTC).isoformat(),
            "override": {"by": "guard-1", "reason": "clerk's call", "verdict": verdict}}
    with server.client(server.desk_tokens[desk]) as c:
        r = c.post(f"/v1/visits/{v['visit_id']}/override", json=body)
    assert r.status_code == 200, r.text
    return r.json()["status"]


def booking_status(server: Server, booking: str) -> P.BookingStatus:
    return server.platform().bookings.get(booking)[0].status


def doubles_of(server: Server, booking: str, cursor: int) -> list[list[str]]:
    return [a.visit_ids for a in alerts_after(server, "desk-03", cursor).alerts
            if a.kind == P.AlertKind.DOUBLE_CHECK_IN and a.booking_id == booking]


def uploaded_then_overridden(server: Server, verdict: str, then: str
                             ) -> tuple[str, int, dict]:
    """A fresh booking's visit uploaded by desk-01 with ``verdict``, then overridden to ``then``
    (twice: the second is unchanged); the booking's status follows each. The booking, the
    alerts cursor from before, the visit."""
    status = {"admit": P.BookingStatus.CHECKED_IN, "review": P.BookingStatus.CHECKED_IN,
              "reject": P.BookingStatus.ACTIVE}
    booking, cur = fresh_booking(server), alerts_after(server, "desk-03").cursor
    v1 = visit("desk-01", booking_id=booking, verdict=verdict)
    push(server, "desk-01", [v1])
    assert booking_status(server, booking) == status[verdict]
    assert late_override(server, "desk-01", v1, then) == "stored"
    assert late_override(server, "desk-01", v1, then) == "unchanged"
    assert booking_status(server, booking) == status[then]
    return booking, cur, v1


def test_a_late_override_to_admit_checks_the_booking_in(server: Server):
    """REJECT uploaded, the override to ADMIT sent afterwards: the visit now holds the check-in,
    so the same booking admitted at another desk is a double check-in."""
    booking, cur, v1 = uploaded_then_overridden(server, "reject", "admit")
    v2 = visit("desk-02", booking_id=booking)
    r = push(server, "desk-02", [v2]).results[0]
    assert r.status == P.VisitStatus.CONFLICT and r.conflict
    assert push(server, "desk-01", [v1]).results[0].conflict  # the first desk learns it too
    assert doubles_of(server, booking, cur) == [[v1["visit_id"], v2["visit_id"]]]


def test_a_late_override_to_reject_gives_the_check_in_up(server: Server):
    """REVIEW uploaded, the override to REJECT sent afterwards (not the booking's patient): the
    booking is active again and the real patient admitted later is no conflict."""
    booking, cur, v1 = uploaded_then_overridden(server, "review", "reject")
    r = push(server, "desk-02", [visit("desk-02", booking_id=booking)]).results[0]
    assert r.status == P.VisitStatus.STORED and not r.conflict
    assert booking_status(server, booking) == P.BookingStatus.CHECKED_IN
    assert doubles_of(server, booking, cur) == []


def test_a_late_reject_of_the_first_of_two_check_ins_leaves_the_second_holding_it(
        server: Server):
    """Two desks admitted one booking (a conflict); the first visit is then overridden to REJECT:
    the second holds the check-in alone (no conflict now, the booking stays checked in), and a
    third admission is a double check-in with the second."""
    booking, cur = fresh_booking(server), alerts_after(server, "desk-03").cursor
    v1, v2 = visit("desk-01", booking_id=booking), visit("desk-02", booking_id=booking)
    push(server, "desk-01", [v1])
    assert push(server, "desk-02", [v2]).results[0].conflict
    assert late_override(server, "desk-01", v1, "reject") == "stored"
    assert booking_status(server, booking) == P.BookingStatus.CHECKED_IN
    assert not push(server, "desk-01", [v1]).results[0].conflict
    assert not push(server, "desk-02", [v2]).results[0].conflict
    v3 = visit("desk-03", booking_id=booking)
    assert push(server, "desk-03", [v3]).results[0].status == P.VisitStatus.CONFLICT
    assert doubles_of(server, booking, cur) == [[v1["visit_id"], v2["visit_id"]],
                                                [v2["visit_id"], v3["visit_id"]]]
