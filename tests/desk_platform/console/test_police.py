"""The police in the console, in a real Chromium: a person added to the blacklist is rejected at
a desk's next check-in; extend, lift (the desk lets the person through again), where seen; the
audit log holds every step; bad input keeps the form."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from desk_app.identity.testing import make_id_number
from desk_app.services.model import Decision
from desk_platform import db as T

from .conftest import book, new_page, press_access_key, sign_in

pytestmark = [pytest.mark.xdist_group("platform"), pytest.mark.e2e]


def audit_actions(console, actor: str) -> list[tuple[str, str]]:
    with console.platform.db.read() as conn:
        rows = conn.execute(select(T.audit_log.c.action, T.audit_log.c.target)
                            .where(T.audit_log.c.actor == actor)
                            .order_by(T.audit_log.c.at)).all()
    return [(a, t) for a, t in rows]


def test_police_add_reaches_the_desk_then_lift_lets_the_person_through(console, browser, desk,
                                                                       shots):
    scalper = make_id_number("445202", date(1988, 3, 14), 37, sex="M")  # 揭阳 榕城
    bystander = make_id_number("445202", date(1990, 6, 2), 41, sex="F")
    token_s, token_b = book(console, scalper), book(console, bystander, minutes_ahead=25)
    token_s2 = book(console, scalper, minutes_ahead=40)

    page = new_page(browser, console)
    sign_in(page, console, "police1", next_="/console/blacklist")
    assert page.locator("h1").inner_text() == "黑名单"

    # Bad input first: a wrong check digit is explained and nothing typed is lost.
    bad = scalper[:-1] + ("0" if scalper[-1] != "0" else "1")
    page.fill("#id_number", bad)
    page.fill("#case_number", "揭公(榕)刑字[2026]118号")
    page.fill("#county", "榕城区")
    page.fill("#reason", "倒卖专家号")
    page.fill("#evidence", "监控录像及微信转账记录")
    assert page.input_value("#days") == "91"  # three months by default
    with page.expect_navigation():
        page.click("#add")
    assert "校验位" in page.locator("#form-error").inner_text()
    assert page.input_value("#case_number") == "揭公(榕)刑字[2026]118号"
    assert page.input_value("#evidence") == "监控录像及微信转账记录"

    page.fill("#id_number", scalper)
    page.click("#add")
    page.wait_for_url(re.compile(r".*/console/blacklist/BL\w+\?done=added"))
    entry_id = re.search(r"/blacklist/(BL\w+)", page.url).group(1)
    assert page.locator("#state").inner_text() == "限制中"
    assert scalper not in page.content() and scalper[-4:] in page.locator("h1").inner_text()
    page.screenshot(path=str(shots / "console-blacklist-entry.png"), full_page=True)

    desk.sync()
    rejected = desk.check_in(token_s, scalper)
    assert rejected.verdict.decision is Decision.REJECT
    assert any(r.rule == "blacklist" for r in rejected.verdict.reasons)
    passed = desk.check_in(token_b, bystander)
    assert passed.verdict.decision is not Decision.REJECT  # the same desk, another person
    desk.sync()  # the visits reach the platform

    # Where was the person seen? The rejected visit at H001, audited.
    page.click("#seen")
    page.wait_for_url(re.compile(r".*/seen$"))
    rows = page.locator("#sightings tbody tr")
    assert rows.count() >= 1 and "H001" in rows.first.inner_text()
    assert "不通过" in page.locator("#sightings").inner_text()
    page.screenshot(path=str(shots / "console-where-seen.png"), full_page=True)

    # Extend by 30 days: the same entry, a later end.
    page.goto(f"{console.base_url}/console/blacklist/{entry_id}")
    before = page.locator("#valid-to").inner_text()
    page.fill("#extend-days", "30")
    page.click("#extend")
    page.wait_for_url(re.compile(r".*done=extended"))
    assert page.locator("#valid-to").inner_text() > before

    # Lift: the desk's next sync drops the entry; the person is no longer rejected.
    page.fill("#lift-reason", "经复核系误列")
    page.click("#lift")
    page.wait_for_url(re.compile(r".*done=lifted"))
    assert page.locator("#state").inner_text() == "已解除"
    desk.sync()
    again = desk.check_in(token_s2, scalper)
    assert not any(r.rule == "blacklist" for r in again.verdict.reasons)

    actions = [a for a, _ in audit_actions(console, "police1")]
    for expected in ("console.login", "blacklist.add", "view.where_seen", "blacklist.extend",
                     "blacklist.lift"):
        assert expected in actions, actions
    with console.platform.db.read() as conn:
        details = " ".join(conn.execute(select(T.audit_log.c.detail)).scalars())
    assert scalper not in details  # last 4 at most


def test_signing_in_roles_expiry_and_csrf(console, browser):
    page = new_page(browser, console, lang="en")
    page.goto(f"{console.base_url}/console/blacklist")
    assert "/console/login" in page.url  # no session: the sign-in page
    assert page.locator("h1").inner_text() == "Sign in"
    page.fill("#username", "police1")
    page.fill("#password", "wrong-password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Wrong user name or password" in page.locator(".error").inner_text()
    assert page.input_value("#username") == "police1"

    # A desk clerk's account does not open the console.
    page.fill("#password", "clerk-pass-9")
    page.fill("#username", "clerk9")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "registration desk" in page.locator(".error").inner_text()

    # The commission sees statistics but not the blacklist.
    sign_in(page, console, "commission1", next_="/console/stats")
    assert page.locator("h1").inner_text() == "Statistics"
    nav = page.locator("nav").inner_text()
    assert "Blacklist" not in nav and "Summary table" in nav
    page.goto(f"{console.base_url}/console/blacklist")
    assert page.locator("h1").inner_text() == "Not done"

    cookies = {c["name"]: c for c in page.context.cookies()}
    s = cookies["desk_console"]
    assert s["httpOnly"] and s["sameSite"] == "Strict" and s["path"] == "/console"

    # A form posted without the session's CSRF token is refused and changes nothing.
    r = page.request.post(f"{console.base_url}/console/taskforce/figures",
                          form={"county": "榕城区", "campaigns": "5", "csrf": "forged"})
    assert r.status == 403

    # Sessions expire: an idle session older than 30 minutes is gone.
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    with console.platform.db.write() as conn:
        conn.execute(update(T.console_sessions).where(T.console_sessions.c.username ==
                                                      "commission1")
                     .values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31)))
    page.goto(f"{console.base_url}/console/stats")
    assert "/console/login" in page.url

    # Signing out ends the session on the server.
    sign_in(page, console, "police1", next_="/console/")
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r".*/console/login"))
    page.goto(f"{console.base_url}/console/")
    assert "/console/login" in page.url


def test_the_add_form_works_with_the_keyboard_alone(console, browser):
    page = new_page(browser, console)
    sign_in(page, console, "police1", next_="/console/blacklist")
    keys = page.eval_on_selector_all("[accesskey]", "els => els.map(e => e.accessKey)")
    assert len(keys) == len(set(keys)) and {"b", "p", "n", "s", "t", "u", "i"} <= set(keys)
    # From the top of the page: the skip link, then the form in order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    order = []
    values = [make_id_number("445224", date(1975, 7, 7), 88, sex="F"), "惠公刑字[2026]3号",
              "惠来县", "倒号", "现场抓获"]
    for value in values:
        order.append(page.evaluate("document.activeElement.id"))
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    order.append(page.evaluate("document.activeElement.id"))  # the ban period: keep 91
    page.keyboard.press("Tab")
    order.append(page.evaluate("document.activeElement.id"))
    assert order == ["id_number", "case_number", "county", "reason", "evidence", "days", "add"]
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#done").inner_text() == "已列入黑名单。"
    # The next entry: Alt+B back to the blacklist, Alt+I into the form's first field, typing
    # nothing there.
    press_access_key(page, "b")
    page.wait_for_url(re.compile(r".*/console/blacklist$"))
    press_access_key(page, "i")
    assert page.evaluate("document.activeElement.id") == "id_number"
    assert page.input_value("#id_number") == ""


def test_the_menus_access_keys_open_their_pages(console, browser):
    """Alt+key through Chromium's key input, as a police officer's keyboard would: every page of
    the menu, the start page, the other language and signing out."""
    page = new_page(browser, console)
    sign_in(page, console, "police1")
    page.wait_for_url(f"{console.base_url}/console/")  # (sign_in's wait also fits the login)
    menu = page.eval_on_selector_all("nav a[accesskey]", "els => els.map(e => [e.accessKey, "
                                     "new URL(e.href).pathname])")
    assert {k for k, _ in menu} == {"b", "p", "n", "s", "t", "u"}  # no staff page (admins')
    for key, path in menu:
        press_access_key(page, key)
        page.wait_for_url(lambda url, path=path: url.split("?")[0].endswith(path))
    press_access_key(page, "h")
    page.wait_for_url(f"{console.base_url}/console/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    press_access_key(page, "l")
    page.wait_for_function("document.documentElement.lang == 'en'")
    press_access_key(page, "l")  # and back
    page.wait_for_function("document.documentElement.lang == 'zh-CN'")
    press_access_key(page, "q")
    page.wait_for_url(lambda url: "/console/login" in url)
    page.goto(f"{console.base_url}/console/")
    assert "/console/login" in page.url
