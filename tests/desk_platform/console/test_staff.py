"""人员账号 in the console, in a real Chromium against the real platform process (SQLite and
PostgreSQL): a hospital's administrator adds a clerk, the account reaches a real desk at its next
sync and signs in there with the platform out of reach; the administrator disables it (after a
confirmation page) and after the desk's next sync the sign-in is refused. An administrator
cannot disable their own account nor see or change another hospital's accounts (404); the
police get 403. Every change is in the audit log, never a password."""

from __future__ import annotations

import re
import socket
from urllib.parse import quote

import pytest
from sqlalchemy import select

from desk_app.errors import AuthError, NetworkError
from desk_app.services.session import SessionService
from desk_app.settings import PlatformSection
from desk_platform import db as T
from desk_platform.staff import Staff
from sync.client import DeskApi

from .conftest import new_page, press_access_key, sign_in

pytestmark = [pytest.mark.xdist_group("platform"), pytest.mark.e2e]

CLERK_PW, CLERK_PW2 = "clerk-new-pass-1", "clerk-new-pass-2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def audit_rows(console, actor: str) -> list[tuple[str, str, str]]:
    with console.platform.db.read() as conn:
        rows = conn.execute(select(T.audit_log.c.action, T.audit_log.c.target,
                                   T.audit_log.c.detail)
                            .where(T.audit_log.c.actor == actor)
                            .order_by(T.audit_log.c.at)).all()
    return [tuple(r) for r in rows]


def all_audit_text(console) -> str:
    with console.platform.db.read() as conn:
        return " ".join(" ".join(str(c) for c in r) for r in conn.execute(select(T.audit_log)))


def csrf_of(page) -> str:  # noqa: ANN001
    return page.locator("input[name=csrf]").first.input_value()


def test_admin_adds_a_clerk_who_signs_in_offline_then_disabled_is_refused(console, browser, desk,
                                                                          shots):
    page = new_page(browser, console)
    sign_in(page, console, "admin1")
    page.wait_for_url(f"{console.base_url}/console/")  # (sign_in's wait also fits the login)
    # The menu has the page under Alt+R (keys unique on the page).
    link = page.locator("nav a[accesskey=r]")
    assert link.inner_text() == "人员账号"
    keys = page.eval_on_selector_all("[accesskey]", "els => els.map(e => e.accessKey)")
    assert len(keys) == len(set(keys))
    press_access_key(page, "r")
    page.wait_for_url(re.compile(r".*/console/staff$"))
    assert page.locator("h1").inner_text() == "人员账号"
    assert "clerk9" in page.locator("#accounts").inner_text()

    # Bad input: the passwords differ. Said in words; name and role kept, passwords not.
    page.fill("#username", "clerk-new")
    page.fill("#name", "挂号员新")
    page.select_option("#role", "clerk")
    page.fill("#password", CLERK_PW)
    page.fill("#password2", CLERK_PW + "x")
    with page.expect_navigation():
        page.click("#add")
    assert "不一致" in page.locator("#form-error").inner_text()
    assert page.input_value("#username") == "clerk-new"
    assert page.input_value("#name") == "挂号员新"
    assert page.input_value("#password") == ""
    # A taken user name: worded as well.
    page.fill("#username", "clerk9")
    page.fill("#password", CLERK_PW)
    page.fill("#password2", CLERK_PW)
    with page.expect_navigation():
        page.click("#add")
    assert "已被占用" in page.locator("#form-error").inner_text()

    page.fill("#username", "clerk-new")
    page.fill("#password", CLERK_PW)
    page.fill("#password2", CLERK_PW)
    page.click("#add")
    page.wait_for_url(re.compile(r".*/console/staff\?done=added$"))
    row = page.locator("#row-clerk-new").inner_text()
    assert "挂号员新" in row and "挂号员" in row and "已启用" in row and "admin1" in row
    page.screenshot(path=str(shots / "console-staff.png"), full_page=True)

    # The desk's next sync brings the account; it signs in with the platform out of reach.
    desk.sync()
    live = desk.worker.api
    dead = DeskApi(PlatformSection(url=f"http://127.0.0.1:{free_port()}", timeout_s=2),
                   desk.api.tokens)
    desk.worker.api = dead
    try:
        with pytest.raises(NetworkError):
            desk.sync()
        session = SessionService(desk.store.users, desk.store.audit, desk.session.clock)
        assert session.login("clerk-new", CLERK_PW).role.value == "clerk"
        session.logout()
    finally:
        desk.worker.api = live
        dead.close()

    # Disable, after a confirmation page (Enter confirms: the button has the focus).
    page.click("#row-clerk-new a")
    page.wait_for_url(re.compile(r".*/console/staff/clerk-new$"))
    assert page.locator("#state").inner_text() == "已启用"
    page.click("#disable")
    page.wait_for_url(re.compile(r".*/console/staff/clerk-new/active\?to=off$"))
    assert page.locator("h1").inner_text() == "确定停用该账号吗？"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/console/staff?done=disabled")
    assert "已停用" in page.locator("#row-clerk-new .state").inner_text()

    session = SessionService(desk.store.users, desk.store.audit, desk.session.clock)
    assert session.login("clerk-new", CLERK_PW).username == "clerk-new"  # until the next sync
    session.logout()
    desk.sync()
    with pytest.raises(AuthError):
        session.login("clerk-new", CLERK_PW)

    # Enabled again with a new password (typed twice): the desk takes the new one.
    page.goto(f"{console.base_url}/console/staff/clerk-new")
    page.fill("#password", CLERK_PW2)
    page.fill("#password2", CLERK_PW2 + "!")
    with page.expect_navigation():
        page.click("#set-password")
    assert "不一致" in page.locator("#form-error").inner_text()
    page.fill("#password", CLERK_PW2)
    page.fill("#password2", CLERK_PW2)
    page.click("#set-password")
    page.wait_for_url(re.compile(r".*/console/staff/clerk-new\?done=password$"))
    page.click("#enable")
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/console/staff\?done=enabled$"))
    desk.sync()
    with pytest.raises(AuthError):
        session.login("clerk-new", CLERK_PW)
    assert session.login("clerk-new", CLERK_PW2).username == "clerk-new"

    # The lock-out guard: not one's own account, neither the link nor a forged post.
    page.goto(f"{console.base_url}/console/staff/admin1")
    assert page.locator("#disable").count() == 0
    r = page.goto(f"{console.base_url}/console/staff/admin1/active?to=off")
    assert r.status == 400 and "不能停用自己的账号" in page.locator("#form-error").inner_text()
    r = page.request.post(f"{console.base_url}/console/staff/admin1/active",
                          form={"csrf": csrf_of(page), "to": "off"})
    assert r.status == 400
    assert Staff(console.platform.db).get("admin1").active
    # Without the form's CSRF token nothing changes.
    r = page.request.post(f"{console.base_url}/console/staff/clerk-new/active",
                          form={"csrf": "forged", "to": "off"})
    assert r.status == 403 and Staff(console.platform.db).get("clerk-new").active

    rows = audit_rows(console, "admin1")
    changes = [(a, t) for a, t, _ in rows if a.startswith("staff.")]
    assert changes == [("staff.add", "clerk-new"), ("staff.disable", "clerk-new"),
                       ("staff.password", "clerk-new"), ("staff.enable", "clerk-new")]
    assert ("view.staff", "H001") in [(a, t) for a, t, _ in rows]
    text = all_audit_text(console)
    assert CLERK_PW not in text and CLERK_PW2 not in text


def sign_in_with(page, console, username: str, password: str, next_: str) -> None:  # noqa: ANN001
    page.goto(f"{console.base_url}/console/login?next={quote(next_, safe='/')}")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_another_hospitals_admin_sees_and_changes_nothing_and_police_are_refused(console,
                                                                                browser):
    staff = Staff(console.platform.db)
    if "admin2" not in {m.username for m in staff.members("H002")}:
        staff.add("admin2", "二院信息科", "admin", "admin-pass-2", hospital_id="H002")
        staff.add("clerk2", "二院挂号员", "clerk", "clerk-pass-2", hospital_id="H002")
    page = new_page(browser, console)
    sign_in_with(page, console, "admin2", "admin-pass-2", "/console/staff")
    listed = page.locator("#accounts").inner_text()
    assert "clerk2" in listed and "admin2" in listed
    assert "clerk9" not in listed and "admin1" not in listed
    token = csrf_of(page)

    r = page.goto(f"{console.base_url}/console/staff/clerk9")
    assert r.status == 404 and "没有找到" in page.content()
    assert page.goto(f"{console.base_url}/console/staff/clerk9/active?to=off").status == 404
    for path, form in (("active", {"to": "off"}),
                       ("password", {"password": "taken-over-1", "password2": "taken-over-1"})):
        r = page.request.post(f"{console.base_url}/console/staff/clerk9/{path}",
                              form={"csrf": token, **form})
        assert r.status == 404, path
    # What the browser's own checks would stop, the server refuses in words too.
    before = staff.members("H002")
    for form, words in (({"username": "王 芳!", "password": "long-enough-1"}, "用户名为"),
                        ({"username": "shorty", "password": "short"}, "至少 8 个字符"),
                        ({"username": "cop2", "role": "police", "password": "long-enough-1"},
                         "请选择角色")):
        form = {"csrf": token, "name": "某人", "role": "clerk", **form}
        r = page.request.post(f"{console.base_url}/console/staff",
                              form={**form, "password2": form["password"]})
        assert r.status == 400 and words in r.text(), form
    assert staff.members("H002") == before
    clerk9 = staff.get("clerk9")
    assert clerk9.active and clerk9.updated_by != "admin2"
    assert staff.authenticate("clerk9", "clerk-pass-9").username == "clerk9"

    # English as well.
    page.goto(f"{console.base_url}/console/lang?to=en&next=/console/staff")
    assert page.locator("h1").inner_text() == "Staff accounts"
    assert "Clerk" in page.locator("#row-clerk2").inner_text()

    police = new_page(browser, console)
    sign_in(police, console, "police1")
    police.wait_for_url(f"{console.base_url}/console/")
    police_token = csrf_of(police)
    assert police.locator("nav a[accesskey=r]").count() == 0
    assert police.goto(f"{console.base_url}/console/staff").status == 403
    assert police.goto(f"{console.base_url}/console/staff/clerk9").status == 403
    r = police.request.post(f"{console.base_url}/console/staff/clerk9/active",
                            form={"csrf": police_token, "to": "off"})
    assert r.status == 403 and staff.get("clerk9").active
