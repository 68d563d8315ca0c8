"""Appeals and booking anomalies, in a real Chromium against the real platform and a real desk:
an appeal recorded at a desk is decided in the console and the desk sees the lift; an anomaly
candidate confirmed in the console blacklists the ID and freezes the booking account, and the
desk's unfreeze (the ID card checked at the window) lets the account book again."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import select

from desk_app.errors import UserInputError
from desk_app.identity.hashing import b64e
from desk_app.identity.idnumber import InvalidIdNumber
from desk_app.identity.testing import make_id_number
from desk_app.services.model import Decision
from desk_platform import db as T
from desk_platform import platform_calls as ops
from desk_platform.errors import Conflict
from sync.appeals import blacklist_hash, record_appeal, unfreeze_accounts

from .conftest import book, new_page, sign_in

pytestmark = [pytest.mark.xdist_group("platform"), pytest.mark.e2e]


def presented_hash(desk, state) -> str:
    """The blacklist hash of the number the desk read, as the desk computed it."""
    return b64e(desk.store.visits.get(state.visit_id).presented_id_hash)


def test_appeal_at_a_desk_decided_in_the_console_reaches_the_desk(console, browser, desk,
                                                                  shots):
    person = make_id_number("445281", date(1979, 11, 3), 52, sex="M")  # 普宁
    ops.ban(console.platform, person, source=_police(), reason="倒号", days=91,
            created_by="police1")
    first, second = book(console, person), book(console, person, minutes_ahead=45)
    desk.sync()
    s = desk.check_in(first, person)
    assert s.verdict.decision is Decision.REJECT

    # The clerk checks the ID card and records the appeal.
    assert blacklist_hash(desk.store, person) == presented_hash(desk, s)  # what the desk compares
    filed = record_appeal(desk.store, desk.api, person, "clerk1",
                          "本人从未倒卖号源，证件曾于2026年10月遗失")
    appeal_id = filed.appeal_ids[0]
    again = record_appeal(desk.store, desk.api, person, "clerk1", "再次申诉")
    assert again.appeal_ids == (appeal_id,)  # one pending appeal per entry

    # Words for the clerk when the number is wrong or the person is not listed.
    with pytest.raises(InvalidIdNumber):
        record_appeal(desk.store, desk.api, person[:-1] + "0" if person[-1] != "0"
                      else person[:-1] + "1", "clerk1", "x")
    with pytest.raises(UserInputError) as exc:
        record_appeal(desk.store, desk.api, make_id_number("445281", date(1990, 2, 2), 9,
                                                           sex="F"), "clerk1", "误列")
    assert "不在黑名单" in exc.value.text.zh
    with pytest.raises(UserInputError):
        unfreeze_accounts(desk.store, desk.api, person, "clerk1")  # nothing frozen for them

    page = new_page(browser, console)
    sign_in(page, console, "police1", next_="/console/appeals")
    assert person[-4:] in page.locator("#appeals").inner_text()
    assert person not in page.content()
    page.click(f"a[href='/console/appeals/{appeal_id}']")
    assert "证件曾于2026年10月遗失" in page.content()
    page.screenshot(path=str(shots / "console-appeal.png"), full_page=True)
    page.check("#d-lift")
    page.fill("#note", "核实证件遗失报案记录，属冒用")
    page.click("#decide")
    page.wait_for_url(re.compile(r".*/console/appeals\?done=lifted"))

    desk.sync()
    lifted = desk.check_in(second, person)
    assert not any(r.rule == "blacklist" for r in lifted.verdict.reasons)

    with console.platform.db.read() as conn:
        actions = set(conn.execute(select(T.audit_log.c.action).where(
            T.audit_log.c.target.in_([appeal_id]))).scalars())
    assert {"appeal.file", "view.appeal", "appeal.decide"} <= actions


def test_anomaly_confirmed_freezes_the_account_and_the_desk_unfreezes_it(console, browser,
                                                                         desk, shots):
    scalper = make_id_number("445221", date(1992, 1, 9), 63, sex="M")  # 揭东
    others = [make_id_number("445221", date(1970 + i, 5, 5), 70 + i, sex="F") for i in range(2)]
    account = "acct-bot-77"
    tokens = []
    for i, number in enumerate([scalper, scalper, scalper, *others]):
        tokens.append(book(console, number, minutes_ahead=20 + i, account=account,
                           client_ip="203.0.113.9", device_id=f"dev-{i}",
                           phone=f"1380013{i:04d}"))

    page = new_page(browser, console)
    sign_in(page, console, "platform1", next_="/console/anomalies")
    page.click("#scan")
    page.wait_for_url(re.compile(r".*done=scanned-\d+"))
    row = page.locator("#candidates tr[data-rule='repeat_ip']")
    assert row.count() == 1 and scalper[-4:] in row.inner_text() and account in row.inner_text()
    page.screenshot(path=str(shots / "console-anomalies.png"), full_page=True)
    row.locator("button[value=confirm]").click()
    page.wait_for_url(re.compile(r".*done=confirmed"))
    assert account in page.locator("#frozen").inner_text()

    # The account cannot book; the scalper's next check-in at a desk is REJECT.
    with pytest.raises(Conflict):
        book(console, others[0], minutes_ahead=50, account=account)
    desk.sync()
    s = desk.check_in(tokens[1], scalper)
    assert s.verdict.decision is Decision.REJECT
    assert any(r.rule == "blacklist" for r in s.verdict.reasons)

    # The person's ID card is checked at the window: the desk unfreezes the account.
    assert unfreeze_accounts(desk.store, desk.api, scalper, "clerk1") == [account]
    book(console, others[0], minutes_ahead=55, account=account)  # books again
    page.reload()
    assert account not in page.locator("#frozen").inner_text()


def test_police_unfreeze_in_the_console_and_desks_only(console, browser, desk):
    from desk_platform.anomaly import Anomalies

    a = Anomalies(console.platform)
    with console.platform.db.write() as conn:
        a._freeze(conn, "acct-frozen-2", "platform1", "anomaly repeat_phone", None,
                  datetime.now(UTC))
    page = new_page(browser, console)
    sign_in(page, console, "police1", next_="/console/anomalies")
    page.locator("#frozen tr[data-account='acct-frozen-2'] button").click()
    page.wait_for_url(re.compile(r".*done=unfrozen"))
    assert not a.account("acct-frozen-2").frozen and a.account("acct-frozen-2").unfrozen_via == "police"

    # The platform's operators review candidates but do not unfreeze.
    page2 = new_page(browser, console)
    sign_in(page2, console, "platform1", next_="/console/anomalies")
    assert page2.locator("#frozen button").count() == 0

    # Appeals and unfreezing are desk calls: another token is refused.
    token = ops.issue_token(console.platform, _role("police"), "p")
    r = httpx.post(f"{console.base_url}/v1/appeals", timeout=10,
                   headers={"authorization": f"Bearer {token}"},
                   json={"id_hash": "x" * 20, "clerk": "c", "statement": "s"})
    assert r.status_code == 403


def _police():
    from sync.protocol import BlacklistSource

    return BlacklistSource.POLICE


def _role(name: str):
    from sync.protocol import Role

    return Role(name)
