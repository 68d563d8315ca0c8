"""Staff accounts over the API: a hospital's administrator manages its own staff only; its desks
pull the accounts with their argon2 hashes by version, disabled ones included."""

from __future__ import annotations

import uuid

import pytest
from argon2 import PasswordHasher

from sync import protocol as P

from .conftest import Server

pytestmark = pytest.mark.xdist_group("platform")


def _name() -> str:
    return f"st-{uuid.uuid4().hex[:10]}"


def test_admin_manages_own_staff_and_desks_pull_them(server: Server):
    plat = server.platform()
    admin1, _ = plat.enrollment.issue_token(P.Role.HOSPITAL_ADMIN, "admin H001", hospital_id="H001")
    admin2, _ = plat.enrollment.issue_token(P.Role.HOSPITAL_ADMIN, "admin H002", hospital_id="H002")
    desk = server.desk_tokens["desk-01"]
    with server.client(desk) as d:
        head = P.StaffDelta.model_validate(d.get("/v1/hospitals/H001/staff").json()).version
    name = _name()
    with server.client(admin1) as a:
        r = a.post("/v1/hospitals/H001/staff", json={
            "username": name, "display_name": "保安乙", "role": "security",
            "password": "correct horse"})
        assert r.status_code == 200, r.text
        m = P.StaffMemberWire.model_validate(r.json())
        assert (m.username, m.role, m.active, m.hospital_id) == (
            name, P.StaffRoleWire.SECURITY, True, "H001")
        assert "password" not in r.text and "hash" not in r.text
        # the same name again: a conflict; a short password: a clear 400 that does not echo it
        again = a.post("/v1/hospitals/H001/staff", json={
            "username": name, "display_name": "x", "role": "clerk", "password": "correct horse"})
        assert again.status_code == 409
        short = a.post("/v1/hospitals/H001/staff", json={
            "username": _name(), "display_name": "x", "role": "clerk", "password": "pw"})
        assert short.status_code == 422 and "pw" not in short.json()["detail"].split(": ")[-1]
        # police accounts are not a hospital's to make
        police = a.post("/v1/hospitals/H001/staff", json={
            "username": _name(), "display_name": "x", "role": "police",
            "password": "correct horse"})
        assert police.status_code == 422
    with server.client(admin2) as other:  # another hospital's administrator: not found
        assert other.post(f"/v1/hospitals/H002/staff/{name}/active",
                          json={"active": False}).status_code == 404
        assert other.post(f"/v1/hospitals/H001/staff/{name}/active",
                          json={"active": False}).status_code == 403
    with server.client(desk) as d:
        delta = P.StaffDelta.model_validate(
            d.get("/v1/hospitals/H001/staff", params={"since": head}).json())
        mine = [x for x in delta.accounts if x.username == name]
        assert len(mine) == 1 and mine[0].active
        assert PasswordHasher().verify(mine[0].password_hash, "correct horse")
        assert d.get("/v1/hospitals/H002/staff").status_code == 403
    with server.client(admin1) as a:
        r = a.post(f"/v1/hospitals/H001/staff/{name}/active", json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
    with server.client(desk) as d:
        after = P.StaffDelta.model_validate(
            d.get("/v1/hospitals/H001/staff", params={"since": delta.version}).json())
        assert [(x.username, x.active) for x in after.accounts] == [(name, False)]
        assert after.version > delta.version
    with server.client(server.seed.admin_token) as pa:  # the platform's admin: any hospital
        r = pa.post(f"/v1/hospitals/H001/staff/{name}/password",
                    json={"password": "another good one"})
        assert r.status_code == 200, r.text
