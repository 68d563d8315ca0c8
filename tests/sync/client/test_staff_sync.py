"""Staff accounts from the platform at the desk, against the real platform process: the desk
caches the hospital's accounts (argon2 hashes as the platform keeps them), signs them in with
the platform out of reach, refuses and signs out a person disabled there after its next sync,
and keeps its own bootstrap administrator."""

from __future__ import annotations

import uuid

import httpx
import pytest

from desk_app.errors import AuthError, NetworkError
from desk_app.services.session import SessionService
from desk_app.storage.staff_cache import PlatformAccount, StaffCache
from sync import protocol as P

from .conftest import HOSPITAL


@pytest.fixture(scope="module")
def hospital_admin(platform) -> httpx.Client:
    token, _ = platform.service.enrollment.issue_token(P.Role.HOSPITAL_ADMIN, "admin of H001",
                                            hospital_id=HOSPITAL)
    with httpx.Client(base_url=platform.server.url, timeout=15,
                      headers={"authorization": f"Bearer {token}"}) as c:
        yield c


def add_staff(admin: httpx.Client, role: str, password: str) -> str:
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    r = admin.post(f"/v1/hospitals/{HOSPITAL}/staff", json={
        "username": name, "display_name": "王保安" if role == "security" else "李挂号",
        "role": role, "password": password})
    assert r.status_code == 200, r.text
    return name


def test_offline_login_with_the_cached_account(platform, proxy, desks, hospital_admin):
    desk = desks(proxy.url)
    desk.store.users.create("boot", "首个管理员", "admin", "bootstrap pw 1")
    guard = add_staff(hospital_admin, "security", "guard password 1")
    desk.worker.run_once()

    src = StaffCache(desk.store).sources()
    assert (src[guard].source, src["boot"].source) == ("platform", "local")
    assert desk.store.users.get(guard).role == "security"
    with pytest.raises(PlatformAccount):  # not edited on the desk
        StaffCache(desk.store).check_local(guard)
    with pytest.raises(PlatformAccount):  # whatever path a change takes on the desk
        desk.store.users.set_password(guard, "a local password", actor="boot")
    with pytest.raises(PlatformAccount):
        desk.store.users.set_active(guard, False, actor="boot")
    assert desk.store.users.set_active("boot", True, actor="boot").active  # a local one: fine

    proxy.close()  # the platform is out of reach from now on
    with pytest.raises(NetworkError):
        desk.worker.run_once()
    session = SessionService(desk.store.users, desk.store.audit, desk.clock)
    assert session.login(guard, "guard password 1").role.value == "security"
    with pytest.raises(AuthError):
        session.login(guard, "wrong password 1")
    assert session.login("boot", "bootstrap pw 1").username == "boot"


def test_disabled_on_the_platform_is_refused_and_signed_out(platform, desks, hospital_admin):
    desk = desks(platform.server.url)
    clerk = add_staff(hospital_admin, "clerk", "clerk password 1")
    desk.worker.run_once()
    session = SessionService(desk.store.users, desk.store.audit, desk.clock)
    desk.worker.staff.add_listener(session.sign_out_if)  # as build_desk wires it
    ended: list[str] = []
    session.add_signed_out_listener(lambda u: ended.append(u.username))
    assert session.login(clerk, "clerk password 1").username == clerk

    r = hospital_admin.post(f"/v1/hospitals/{HOSPITAL}/staff/{clerk}/active",
                            json={"active": False})
    assert r.status_code == 200, r.text
    assert session.current_user() is not None  # nothing changes before the next sync
    desk.worker.run_once()
    assert session.current_user() is None and ended == [clerk]
    with pytest.raises(AuthError):
        session.login(clerk, "clerk password 1")
    actions = [(e.action, e.subject, e.detail.get("change"))
               for e in desk.store.audit.entries(50) if e.subject == clerk]
    assert ("user.changed", clerk, "platform_changed") in actions

    # enabled again with a new password: the new one works at the desk, the old one not
    hospital_admin.post(f"/v1/hospitals/{HOSPITAL}/staff/{clerk}/active", json={"active": True})
    hospital_admin.post(f"/v1/hospitals/{HOSPITAL}/staff/{clerk}/password",
                        json={"password": "clerk password 2"})
    desk.worker.run_once()
    with pytest.raises(AuthError):
        session.login(clerk, "clerk password 1")
    assert session.login(clerk, "clerk password 2").username == clerk


def test_a_second_desk_gets_every_account_from_the_start(platform, desks, hospital_admin):
    guard = add_staff(hospital_admin, "security", "guard password 2")
    first, second = desks(platform.server.url), desks(platform.server.url)
    first.worker.run_once()
    second.worker.run_once()
    names = {u.username for u in second.store.users.all()}
    assert guard in names and names == {u.username for u in first.store.users.all()}
    # the cursor moved: a cycle without changes applies nothing
    before = StaffCache(second.store).version()
    assert before > 0
    second.worker.run_once()
    assert StaffCache(second.store).version() == before
