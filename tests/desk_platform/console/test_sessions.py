"""Console sessions and passwords, over HTTP against the real platform process (SQLite and
PostgreSQL): a password set by the command line or by an administrator ends every console session
of that account; an administrator who sets their own password stays signed in on the session
they used, and only there."""

from __future__ import annotations

import re

import httpx
import pytest

from desk_platform.staff import Staff

from .conftest import HOSPITAL, Console

pytestmark = pytest.mark.xdist_group("platform")


def signed_in(console: Console, username: str, password: str) -> httpx.Client:
    """A browser of its own (its own cookie jar) signed in to the console."""
    c = httpx.Client(base_url=console.base_url, timeout=30, follow_redirects=False)
    c.get("/console/login")
    r = c.post("/console/login", data={"username": username, "password": password,
                                        "csrf": c.cookies.get("desk_console_login"),
                                        "next": "/console/"})
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text[:300]
    return c


def live(c: httpx.Client) -> bool:
    """Whether the browser's session still opens the start page (else: sent to sign in)."""
    r = c.get("/console/")
    assert r.status_code in (200, 303)
    return r.status_code == 200


def test_a_password_set_by_the_command_line_ends_the_accounts_sessions(console: Console):
    staff = Staff(console.platform.db)
    staff.add("police-s1", "赵警官", "police", "old-password-1")
    staff.add("police-s2", "钱警官", "police", "other-password-1")
    taken, own, other = (signed_in(console, "police-s1", "old-password-1"),
                         signed_in(console, "police-s1", "old-password-1"),
                         signed_in(console, "police-s2", "other-password-1"))
    staff.set_password("police-s1", "brand-new-password-2", actor="cli")
    assert not live(taken) and not live(own)
    assert live(other)  # another account's session is untouched
    assert live(signed_in(console, "police-s1", "brand-new-password-2"))


def test_an_administrator_setting_their_own_password_stays_signed_in_there_only(
        console: Console):
    staff = Staff(console.platform.db)
    staff.add("admin-s1", "信息科甲", "admin", "admin-old-pass-1", hospital_id=HOSPITAL)
    staff.add("admin-s2", "信息科乙", "admin", "admin-two-pass-1", hospital_id=HOSPITAL)
    used, elsewhere = (signed_in(console, "admin-s1", "admin-old-pass-1"),
                       signed_in(console, "admin-s1", "admin-old-pass-1"))
    colleague = signed_in(console, "admin-s2", "admin-two-pass-1")

    def set_password(c: httpx.Client, username: str, password: str) -> None:
        page = c.get(f"/console/staff/{username}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        r = c.post(f"/console/staff/{username}/password",
                   data={"csrf": csrf, "password": password, "password2": password})
        assert r.status_code == 303, r.text[:300]

    set_password(used, "admin-s1", "admin-new-pass-2")
    assert live(used) and not live(elsewhere)
    assert live(colleague)
    set_password(used, "admin-s2", "admin-two-pass-2")  # a colleague's: their sessions end
    assert live(used) and not live(colleague)
