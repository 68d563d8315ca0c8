"""The authorization matrix, cell by cell, through the real server; enrollment and tokens."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from desk_platform.authz import MATRIX, Perm, allowed
from sync import protocol as P

from .conftest import Server, visit

pytestmark = pytest.mark.xdist_group("platform")

_slot = itertools.count(1)


def _booking_body(hospital: str) -> dict[str, Any]:
    start = datetime(2031, 1, 1, 8, tzinfo=UTC) + timedelta(minutes=15 * next(_slot))
    return {"hospital_id": hospital, "department_code": "AUTHZ", "department_name": "测试科",
            "doctor_name": "测试", "slot_start": start.isoformat(), "slot_minutes": 15,
            "id_number": "11010519491231002X", "account_id": "acct-authz"}


def _report(hospital: str, desk: str = "desk-01") -> dict[str, Any]:
    return {"report_id": str(uuid.uuid4()), "hospital_id": hospital, "desk_id": desk,
            "reported_at": datetime.now(UTC).isoformat(), "kind": "other"}


def _alert(server: Server, hospital: str) -> str:
    """A new, open alert of ``hospital`` (a suspect report made through the service)."""
    from desk_platform import office
    from desk_platform.base import Principal

    plat = server.platform()
    rep = P.SuspectReport.model_validate(_report(hospital))
    plat.alerts.report(Principal(P.Role.DESK, "desk-01", hospital, "desk-01", "x"), rep)
    return next(a.alert_id for a in office.alerts_delta(plat, hospital, 0, P.MAX_PAGE).alerts
                if a.handled_at is None and a.kind is P.AlertKind.SUSPECT_REPORT)


# (permission, method, path, body) per hospital; None for permissions without a hospital
Call = Callable[[Server, str], tuple[str, str, Any]]
CALLS: dict[Perm, Call] = {
    Perm.DESK_CONFIG: lambda s, h: ("GET", "/v1/desk/config", None),
    Perm.KEYS_READ: lambda s, h: ("GET", "/v1/keys", None),
    Perm.KEYS_ROTATE: lambda s, h: ("POST", "/v1/keys/rotate", None),
    Perm.REVOCATIONS_READ: lambda s, h: ("GET", "/v1/revocations", None),
    Perm.BOOKINGS_READ: lambda s, h: ("GET", f"/v1/hospitals/{h}/bookings?limit=1", None),
    Perm.BOOKINGS_WRITE: lambda s, h: ("POST", "/v1/bookings", _booking_body(h)),
    Perm.BLACKLIST_READ: lambda s, h: ("GET", "/v1/blacklist?limit=1", None),
    Perm.BLACKLIST_WRITE: lambda s, h: ("POST", "/v1/blacklist", {
        "id_number": "110101199003070011", "reason": "authz test", "days": 1}),
    Perm.BLACKLIST_REVEAL: lambda s, h: (
        "GET", f"/v1/blacklist/{s.seed.blacklist_entry_ids[0]}/plain", None),
    Perm.VISITS_WRITE: lambda s, h: ("POST", "/v1/visits/batch",
                                     {"visits": [visit("desk-01", hospital=h)]}),
    Perm.ALERTS_READ: lambda s, h: ("GET", f"/v1/hospitals/{h}/alerts", None),
    Perm.REPORTS_WRITE: lambda s, h: ("POST", "/v1/reports", _report(h)),
    Perm.STATS_READ: lambda s, h: ("GET", f"/v1/hospitals/{h}/stats?day=2026-01-01", None),
    Perm.ENROLL_ISSUE: lambda s, h: ("POST", "/v1/admin/enrollments",
                                     {"hospital_id": h, "desk_id": "desk-authz"}),
    Perm.DESKS_REVOKE: lambda s, h: ("POST", f"/v1/admin/hospitals/{h}/desks/desk-nobody/revoke",
                                     None),
    Perm.ALERTS_HANDLE: lambda s, h: ("POST", f"/v1/hospitals/{h}/alerts/{_alert(s, h)}/handled",
                                      {"handled_by": "guard1", "note": "authz"}),
    Perm.INSIDERS_WRITE: lambda s, h: ("POST", f"/v1/hospitals/{h}/insiders", {
        "hospital_id": h, "desk_id": "desk-01", "week": "2026-W49", "people": []}),
    Perm.INSIDERS_READ: lambda s, h: ("GET", f"/v1/hospitals/{h}/insiders?week=2026-W49", None),
    Perm.STAFF_SYNC: lambda s, h: ("GET", f"/v1/hospitals/{h}/staff?limit=1", None),
    Perm.STAFF_WRITE: lambda s, h: ("POST", f"/v1/hospitals/{h}/staff", {
        "username": f"authz-{uuid.uuid4().hex[:8]}", "display_name": "测试",
        "role": "clerk", "password": "correct horse"}),
}
HOSPITAL_SCOPED = {Perm.INSIDERS_WRITE, Perm.INSIDERS_READ, Perm.ALERTS_HANDLE, Perm.STAFF_SYNC, Perm.STAFF_WRITE, Perm.BOOKINGS_READ, Perm.BOOKINGS_WRITE, Perm.VISITS_WRITE, Perm.ALERTS_READ,
                   Perm.REPORTS_WRITE, Perm.STATS_READ, Perm.ENROLL_ISSUE, Perm.DESKS_REVOKE}


@pytest.fixture(scope="module")
def role_tokens(server: Server) -> dict[P.Role, str]:
    plat = server.platform()
    admin, _ = plat.enrollment.issue_token(P.Role.HOSPITAL_ADMIN, "hospital admin",
                                           hospital_id="H001")
    return {P.Role.DESK: server.desk_tokens["desk-01"],
            P.Role.SECURITY: server.seed.security_token,
            P.Role.HOSPITAL_ADMIN: admin,
            P.Role.PLATFORM_ADMIN: server.seed.admin_token,
            P.Role.POLICE: server.seed.police_token}


def test_every_permission_has_a_call():
    assert set(CALLS) == set(Perm) == set(MATRIX)


@pytest.mark.parametrize("role", list(P.Role), ids=lambda r: r.value)
def test_matrix(server: Server, role_tokens: dict[P.Role, str], role: P.Role):
    """Each role against each endpoint, for its own hospital (H001) and another (H002)."""
    wrong = []
    with server.client(role_tokens[role]) as c:
        for perm, call in CALLS.items():
            targets = [("H001", True), ("H002", False)] if perm in HOSPITAL_SCOPED else [
                ("H001", True)]
            for hospital, own in targets:
                method, path, body = call(server, hospital)
                r = c.request(method, path, json=body)
                expected = allowed(role, perm, own=own)
                ok = r.status_code < 400 if expected else r.status_code == 403
                if not ok:
                    wrong.append(f"{perm.value} {hospital}: {r.status_code} {r.text[:120]}")
    assert not wrong, f"{role.value}: " + "; ".join(wrong)


def test_the_statements_of_the_brief(server: Server, role_tokens: dict[P.Role, str]):
    desk = server.client(role_tokens[P.Role.DESK])
    with desk:
        # a desk cannot push visits for another hospital (even one record in a batch)...
        mixed = [visit("desk-01"), visit("desk-01", hospital="H002")]
        assert desk.post("/v1/visits/batch", json={"visits": mixed}).status_code == 403
        # ...nor as another desk of its own hospital
        assert desk.post("/v1/visits/batch",
                         json={"visits": [visit("desk-02")]}).status_code == 403
        # cannot write the blacklist, cannot read another hospital's bookings
        assert desk.post("/v1/blacklist", json={"id_number": "110101199003070011",
                                                "reason": "x"}).status_code == 403
        assert desk.get("/v1/hospitals/H002/bookings").status_code == 403
        assert desk.get("/v1/hospitals/H001/bookings").status_code == 200
    for role in (P.Role.POLICE, P.Role.PLATFORM_ADMIN):
        with server.client(role_tokens[role]) as c:
            r = c.post("/v1/blacklist", json={"id_number": "110101199003070038",
                                              "reason": f"by {role.value}", "days": 1})
            assert r.status_code == 200, r.text
            assert r.json()["source"] == ("police" if role == P.Role.POLICE else "platform")
    nothing_stored = server.platform().visits.count("H002")
    assert nothing_stored == 0


def test_missing_or_bad_tokens_are_401(server: Server):
    with server.client() as c:
        assert c.get("/v1/keys").status_code == 401
        assert c.get("/v1/keys", headers={"authorization": "Bearer rnp_nope"}).status_code == 401
        assert c.get("/v1/keys", headers={"authorization": "Basic dXNlcjpwdw=="}).status_code == 401
        r = c.get("/v1/keys", headers={"authorization": "Bearer " + "x" * 5000})
        assert r.status_code == 401
        assert r.json()["error"] == "unauthorized"


def test_enrollment_code_is_one_time_and_reenrollment_revokes(server: Server,
                                                              role_tokens: dict[P.Role, str]):
    with server.client(role_tokens[P.Role.HOSPITAL_ADMIN]) as admin:
        r = admin.post("/v1/admin/enrollments", json={"hospital_id": "H001", "desk_id": "desk-e"})
        assert r.status_code == 200, r.text
        code = P.EnrollmentCode.model_validate(r.json()).code
    with server.client() as anon:
        first = anon.post("/v1/enroll", json={"code": code, "desk_label": "窗口 E"})
        assert first.status_code == 200, first.text
        enrolled = P.EnrollResponse.model_validate(first.json())
        assert (enrolled.hospital_id, enrolled.desk_id, enrolled.role) == (
            "H001", "desk-e", P.Role.DESK)
        again = anon.post("/v1/enroll", json={"code": code})
        assert again.status_code == 400 and again.json()["error"] == "enrollment_invalid"
        typo = anon.post("/v1/enroll", json={"code": "AAAA-BBBB-CCCC"})
        assert typo.status_code == 400
    with server.client(enrolled.token) as desk:
        who = P.WhoAmI.model_validate(desk.get("/v1/whoami").json())
        assert (who.role, who.hospital_id, who.desk_id) == (P.Role.DESK, "H001", "desk-e")
    # The same desk enrolled again: the old token stops working at once.
    code2 = server.platform().enrollment.create_code("H001", "desk-e", created_by="t").code
    with server.client() as anon:
        token2 = anon.post("/v1/enroll", json={"code": code2}).json()["token"]
    with server.client(enrolled.token) as old, server.client(token2) as new:
        assert old.get("/v1/desk/config").status_code == 401
        assert new.get("/v1/desk/config").status_code == 200
    # An admin revokes the desk: gone everywhere.
    with server.client(role_tokens[P.Role.HOSPITAL_ADMIN]) as admin:
        r = admin.post("/v1/admin/hospitals/H001/desks/desk-e/revoke")
        assert r.json()["tokens_revoked"] == 1
    with server.client(token2) as new:
        assert new.get("/v1/desk/config").status_code == 401


def test_expired_enrollment_code_is_refused(server: Server):
    plat = server.platform()
    code = plat.enrollment.create_code("H001", "desk-x", created_by="t",
                                       ttl=timedelta(seconds=-1)).code
    with server.client() as anon:
        assert anon.post("/v1/enroll", json={"code": code}).status_code == 400
