"""The console's 人员账号 / Staff accounts page: a hospital's administrator manages the clerk,
guard and administrator accounts of their own hospital (its desks pull them at their next sync).

Least privilege: only the role ``admin`` opens it, and only for ``v.hospital_id``; another
hospital's account is answered 404 (as the API does, :func:`desk_platform.staff.hospital_member`);
the police, the booking platform and the health commission get 403. Every change goes through
:class:`desk_platform.staff.Staff` (the rules of the CLI and the API) and is audited with who
changed which account; a password never reaches the audit log, a log line or a page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from desk_app.errors import Text
from desk_platform.console.sessions import session_hash
from desk_platform.staff import HOSPITAL_ROLES, MIN_PASSWORD, Staff, StaffRole, hospital_member
from desk_platform.worded import Worded

#: The roles an administrator may give, in the order of the form.
ROLES = (StaffRole.CLERK, StaffRole.SECURITY, StaffRole.ADMIN)
assert set(ROLES) == HOSPITAL_ROLES
DONE = ("added", "disabled", "enabled", "password")  # the ?done= notes a page shows


def _worded(exc: ValueError) -> Text:
    """Staff's rule (a ValueError in English) in the console's words."""
    msg = str(exc)
    if "taken" in msg:
        return Text("该用户名已被占用，请换一个。", "That user name is taken; choose another.")
    if "user name" in msg:
        return Text("用户名为 1 到 64 个字母、数字或 . _ -。",
                    "A user name is 1 to 64 letters, digits, '.', '_' or '-'.")
    if "display name" in msg:
        return Text("请填写姓名（最多 200 个字）。", "Please fill in the name (at most 200 characters).")
    if "password" in msg:
        return Text(f"密码至少 {MIN_PASSWORD} 个字符。",
                    f"The password needs at least {MIN_PASSWORD} characters.")
    return Text("输入有误：" + msg, "Not accepted: " + msg)


def _password(password: str, again: str) -> None:
    if password != again:
        raise Worded(Text("两次输入的密码不一致，请重新输入。",
                          "The two passwords differ; please type them again."))
    if len(password) < MIN_PASSWORD:
        raise Worded(Text(f"密码至少 {MIN_PASSWORD} 个字符。",
                          f"The password needs at least {MIN_PASSWORD} characters."))


def add_routes(app: FastAPI, plat: Any, *, viewer: Any, check_csrf: Any, record: Any,
               page: Any, see_other: Any) -> None:
    staff = Staff(plat.db)

    def listing(request: Request, v: Any, *, status: int = 200, error: Text | None = None,
                form: dict[str, str] | None = None, done: str = "") -> HTMLResponse:
        members = staff.members(v.hospital_id)
        record(v, "view.staff", v.hospital_id or "", f"{len(members)} accounts")
        return page(request, "staff.html", v, status, members=members, roles=ROLES,
                    error=error, form=form or {"role": "clerk"},
                    done=done if done in DONE else "", tz=plat.tz)

    def account(request: Request, v: Any, username: str, *, status: int = 200,
                error: Text | None = None, done: str = "") -> HTMLResponse:
        m = hospital_member(staff, v.hospital_id or "", username)
        record(v, "view.staff_account", m.username)
        return page(request, "staff_account.html", v, status, m=m, error=error,
                    done=done if done in DONE else "", tz=plat.tz, me=m.username == v.name)

    @app.get("/staff", response_class=HTMLResponse)
    def staff_page(request: Request, done: str = "") -> HTMLResponse:
        return listing(request, viewer(request, "staff"), done=done)

    @app.post("/staff")
    def staff_add(request: Request, csrf: Annotated[str, Form()] = "",
                  username: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                  role: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                  password2: Annotated[str, Form()] = "") -> Response:
        v = viewer(request, "staff")
        check_csrf(v, csrf)
        form = dict(username=username[:64], name=name[:200], role=role)  # never the passwords
        try:
            if role not in {r.value for r in ROLES}:
                raise Worded(Text("请选择角色：挂号员、安保或医院管理员。",
                                  "Choose a role: clerk, security or hospital administrator."))
            _password(password, password2)
            try:
                m = staff.add(username, name, role, password, hospital_id=v.hospital_id,
                              actor=v.name)
            except ValueError as exc:
                raise Worded(_worded(exc)) from None
        except Worded as exc:
            return listing(request, v, status=400, error=exc.text, form=form)
        record(v, "staff.add", m.username, f"role={m.role.value}")
        return see_other("/console/staff?done=added")

    @app.get("/staff/{username}", response_class=HTMLResponse)
    def staff_account(request: Request, username: str, done: str = "") -> HTMLResponse:
        return account(request, viewer(request, "staff"), username, done=done)

    @app.post("/staff/{username}/password")
    def staff_password(request: Request, username: str, csrf: Annotated[str, Form()] = "",
                       password: Annotated[str, Form()] = "",
                       password2: Annotated[str, Form()] = "") -> Response:
        v = viewer(request, "staff")
        check_csrf(v, csrf)
        m = hospital_member(staff, v.hospital_id or "", username)
        try:
            _password(password, password2)
            try:
                staff.set_password(m.username, password, actor=v.name, keep_session=(
                    session_hash(v.token) if m.username == v.name else None))
            except ValueError as exc:
                raise Worded(_worded(exc)) from None
        except Worded as exc:
            return account(request, v, m.username, status=400, error=exc.text)
        record(v, "staff.password", m.username, "new password set")
        return see_other(f"/console/staff/{m.username}?done=password")

    @app.get("/staff/{username}/active", response_class=HTMLResponse)
    def staff_confirm(request: Request, username: str, to: str = "off") -> HTMLResponse:
        """The confirmation before disabling or enabling (no JavaScript: a page of its own)."""
        v = viewer(request, "staff")
        m = hospital_member(staff, v.hospital_id or "", username)
        if to == "off" and m.username == v.name:
            return account(request, v, m.username, status=400, error=_SELF)
        record(v, "view.staff_account", m.username, f"confirm active={to}")
        return page(request, "staff_confirm.html", v, m=m, to="on" if to == "on" else "off")

    @app.post("/staff/{username}/active")
    def staff_active(request: Request, username: str, csrf: Annotated[str, Form()] = "",
                     to: Annotated[str, Form()] = "") -> Response:
        v = viewer(request, "staff")
        check_csrf(v, csrf)
        m = hospital_member(staff, v.hospital_id or "", username)
        if to not in ("on", "off"):
            raise Worded(Text("请选择启用或停用。", "Choose to enable or to disable."))
        if to == "off" and m.username == v.name:  # the lock-out guard
            return account(request, v, m.username, status=400, error=_SELF)
        staff.set_active(m.username, to == "on", actor=v.name)
        record(v, "staff.enable" if to == "on" else "staff.disable", m.username,
               f"role={m.role.value}")
        return see_other(f"/console/staff?done={'enabled' if to == 'on' else 'disabled'}")


_SELF = Text("您不能停用自己的账号（否则将无法再登录）。请由本院另一位管理员操作。",
             "You cannot disable your own account (you could not sign in again). Ask another "
             "administrator of your hospital.")
