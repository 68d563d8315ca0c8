"""The window's actions on the real check-in screen (offscreen Qt) of a real desk against the
real platform process: F10 records a person's appeal (it reaches the platform's appeals; the
police lift the entry and the desk's next sync lets the person through), the same appeal while
the platform is unreachable waits in the outbox and is sent by the next sync, F11 unfreezes a
frozen booking account (it can book again), and the refusals are worded."""

from __future__ import annotations

import socket
import sys
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from desk_app.identity.testing import make_id_number
from desk_app.services.model import Decision
from desk_app.settings import PlatformSection
from desk_app.storage.audit import AuditAction
from desk_platform import platform_calls as ops
from desk_platform.anomaly import Anomalies
from desk_platform.appeals import Appeals
from devices.idcard.types import IdCardRead
from sync.appeals import WindowService
from sync.client import DeskApi
from sync.protocol import BlacklistSource
from tests.ui.helpers import show_for_keys
from ui.checkin.screen import CheckinScreen
from ui.operations import Operations
from ui.sounds import SoundCues

from .conftest import book

pytestmark = [pytest.mark.xdist_group("platform"), pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def window(qtbot, qapp, desk, console, monkeypatch):
    """The check-in screen over the desk's service, with the window's actions, in Chinese;
    ``apis[0]`` is the client they use (a test swaps in one to a closed port: the platform is
    unreachable). An exception escaping a slot fails the test."""
    from desk_app.settings import Settings
    from ui.i18n import Translations

    escaped: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda _t, value, _tb: escaped.append(value))
    tr = Translations(qapp)
    assert tr.set_language("zh_CN")

    apis = [desk.api]
    service = WindowService(desk.store, desk.session, lambda: apis[0], desk.service.checked_number)
    runner = Operations()
    scr = CheckinScreen(desk.service, Settings(), "zh_CN", runner=runner,
                        sounds=SoundCues(False), window_ops=service)
    qtbot.addWidget(scr)
    show_for_keys(qtbot, scr)
    scr.start()
    qtbot.waitUntil(lambda: scr.presenter.state is not None, timeout=5000)
    scr.apis = apis
    yield scr
    scr.shutdown()
    assert runner.shutdown(5000)
    for api in apis[1:]:
        api.close()
    tr.set_language("en")
    assert not escaped, f"an exception escaped a slot: {escaped!r}"


def present(qtbot, scr, token: str, number: str):
    """The booking QR, then the card on the chip reader (no photo decoder): the verdict."""
    scr.trigger("reset")
    qtbot.waitUntil(lambda: scr.presenter.state is not None, timeout=5000)
    scr.post_code(token, "scanner")
    qtbot.waitUntil(lambda: scr.presenter.state is not None
                    and scr.presenter.state.booking is not None, timeout=10000)
    scr.post_card(IdCardRead(id_number=number, name="张测试", source="reader"))
    qtbot.waitUntil(lambda: scr.presenter.state.verdict is not None, timeout=20000)
    return scr.presenter.state


def messages() -> list[str]:
    return [w.text() for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()]


def close_messages(qtbot, scr) -> None:
    """OK on every message box; the clerk is back on the check-in screen."""
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMessageBox) and w.isVisible():
            w.done(0)
    scr.activateWindow()
    scr.setFocus()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is scr, timeout=5000)


def appeal_with_keys(qtbot, scr, statement: str) -> None:
    QTest.keyClick(scr, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: scr.window_actions.dialog is not None, timeout=5000)
    dlg = scr.window_actions.dialog
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # the statement is required
    QTest.keyClicks(dlg.editor, "x" * 501)
    assert not ok.isEnabled() and "501 / 500" in dlg.count.text()  # bounded
    dlg.editor.setPlainText(statement)
    assert ok.isEnabled()
    ok.click()


def test_an_appeal_from_the_window_reaches_the_police_and_their_lift_reaches_the_desk(
        qtbot, console, desk, window):
    person = make_id_number("445202", date(1985, 1, 9), 51, sex="M")
    entry = ops.ban(console.platform, person, source=BlacklistSource.POLICE, reason="倒号",
                    days=91, created_by="police1")
    tokens = [book(console, person, minutes_ahead=m) for m in (20, 35)]
    desk.sync()

    s = present(qtbot, window, tokens[0], person)
    assert s.verdict.decision is Decision.REJECT
    assert any(r.rule == "blacklist" for r in s.verdict.reasons)
    assert window.buttons["appeal"].isEnabled() and window.buttons["appeal"].text().startswith(
        "[F10] 记录申诉")
    appeal_with_keys(qtbot, window, "本人从未倒卖号源，手机号13800138000，请核查")
    qtbot.waitUntil(lambda: window.window_actions.result_box is not None, timeout=20000)
    text = window.window_actions.result_box.text()
    assert "申诉已记录" in text and person[-4:] in text and person not in text

    (appeal,) = [a for a in Appeals(console.platform).list() if a.entry_id == entry.entry_id]
    assert appeal.hospital_id == "H001" and appeal.clerk == "clerk1"
    statement = Appeals(console.platform).statement(appeal.appeal_id)
    assert statement.startswith("本人从未倒卖号源") and "13800138000" not in statement  # masked
    [audit] = desk.store.audit.entries(action=AuditAction.APPEAL_RECORDED)
    assert audit.actor == "clerk1" and audit.detail["appeal_ids"] == [appeal.appeal_id]
    assert person not in str(audit.detail)
    window.window_actions.result_box.done(0)

    Appeals(console.platform).decide(appeal.appeal_id, "police1", lift=True, note="经核查系误列")
    desk.sync()
    again = present(qtbot, window, tokens[1], person)
    assert not any(r.rule == "blacklist" for r in again.verdict.reasons)


def test_offline_the_appeal_waits_in_the_outbox_and_the_next_sync_sends_it(
        qtbot, console, desk, window):
    person = make_id_number("445202", date(1979, 7, 30), 63, sex="F")
    entry = ops.ban(console.platform, person, source=BlacklistSource.POLICE, reason="倒号",
                    days=91, created_by="police1")
    token = book(console, person)
    desk.sync()
    present(qtbot, window, token, person)
    window.apis.append(DeskApi(PlatformSection(url=f"http://127.0.0.1:{free_port()}",
                                               timeout_s=2), desk.api.tokens))
    window.apis[0] = window.apis[-1]
    appeal_with_keys(qtbot, window, "我是被冒用身份的")
    qtbot.waitUntil(lambda: window.window_actions.result_box is not None, timeout=30000)
    assert "中心平台恢复连接后自动发送" in window.window_actions.result_box.text()
    assert [i.kind for i in desk.store.outbox.pending()] == ["visit", "appeal"]  # after the visit
    assert not Appeals(console.platform).of_entry(entry.entry_id)
    [audit] = desk.store.audit.entries(action=AuditAction.APPEAL_RECORDED)
    assert audit.detail["queued"] is True

    report = desk.worker.run_once()  # the sync worker's own client reaches the platform
    assert report.pushed >= 1 and desk.store.outbox.count() == 0
    (appeal,) = Appeals(console.platform).of_entry(entry.entry_id)
    assert Appeals(console.platform).statement(appeal.appeal_id) == "我是被冒用身份的"


def test_unfreeze_at_the_window_lets_the_account_book_again(qtbot, console, desk, window):
    person = make_id_number("445202", date(1992, 11, 3), 77, sex="M")
    account = "acct-freeze-me"
    for m in range(5):
        book(console, person, minutes_ahead=20 + m, account=account, client_ip="203.0.113.9")
    token = book(console, person, minutes_ahead=90, account="acct-other")
    a = Anomalies(console.platform)
    cand = next(c for c in a.scan() if c.rule == "repeat_ip" and c.key == "203.0.113.9")
    a.confirm(cand.candidate_id, "platform1")
    assert a.account(account).frozen
    desk.sync()
    present(qtbot, window, token, person)

    QTest.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: window.window_actions.dialog is not None, timeout=5000)
    window.window_actions.dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.window_actions.result_box is not None, timeout=20000)
    assert "已解冻" in window.window_actions.result_box.text()
    assert not a.account(account).frozen and a.account(account).unfrozen_via == "desk"
    book(console, make_id_number("445202", date(1993, 1, 1), 5, sex="F"), account=account)
    assert desk.store.audit.entries(action=AuditAction.ACCOUNT_UNFROZEN)
    window.window_actions.result_box.done(0)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)

    # Nothing frozen any more: a second F11 is refused in words, nothing else happens.
    QTest.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: window.window_actions.dialog is not None, timeout=5000)
    window.window_actions.dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: any("没有因此人被冻结" in m for m in messages()), timeout=20000)
    close_messages(qtbot, window)


def test_refusals_are_worded_a_typed_number_and_a_person_not_listed(qtbot, console, desk,
                                                                    window):
    person = make_id_number("445202", date(2000, 2, 2), 88, sex="F")
    token = book(console, person)
    desk.sync()
    # Not on the blacklist: the platform says there is nothing to appeal.
    present(qtbot, window, token, person)
    appeal_with_keys(qtbot, window, "误列")
    qtbot.waitUntil(lambda: any("不在黑名单" in m for m in messages()), timeout=20000)
    close_messages(qtbot, window)
    assert not desk.store.audit.entries(action=AuditAction.APPEAL_RECORDED)
    # A typed number is not a checked card.
    window.trigger("reset")
    qtbot.waitUntil(lambda: window.presenter.state is not None, timeout=5000)
    window.presenter.submit_id_number(person)
    qtbot.waitUntil(lambda: window.presenter.state is not None
                    and window.presenter.state.person is not None, timeout=10000)
    appeal_with_keys(qtbot, window, "误列")
    qtbot.waitUntil(lambda: any("身份证阅读器" in m for m in messages()), timeout=20000)
    close_messages(qtbot, window)
    assert [i.kind for i in desk.store.outbox.pending()] == ["visit"]  # no appeal queued


def test_a_queued_appeal_the_platform_refuses_is_kept_marked_and_blocks_nothing(
        qtbot, console, desk, window):
    person = make_id_number("445202", date(1996, 4, 4), 92, sex="M")  # not on the blacklist
    token = book(console, person)
    desk.sync()
    present(qtbot, window, token, person)
    window.apis.append(DeskApi(PlatformSection(url=f"http://127.0.0.1:{free_port()}",
                                               timeout_s=2), desk.api.tokens))
    window.apis[0] = window.apis[-1]
    appeal_with_keys(qtbot, window, "离线时录入的申诉")
    qtbot.waitUntil(lambda: window.window_actions.result_box is not None, timeout=30000)
    report = desk.worker.run_once()  # the visit is sent, the appeal refused (404) and parked
    assert report.parked == 1 and desk.store.outbox.count() == 0
    assert "平台拒收" in desk.worker.status().message.zh
    window.window_actions.result_box.done(0)
