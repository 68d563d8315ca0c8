from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from tests.ui.helpers import RecordingSecurityOps
from ui import samples
from ui.security.screen import SecurityScreen
from ui.sounds import SoundCues


@pytest.fixture
def ops():
    return RecordingSecurityOps()


@pytest.fixture
def screen(qtbot, ops, settings, runner):
    scr = SecurityScreen(ops, settings, "en", runner=runner, sounds=SoundCues(True), poll_ms=60_000)
    qtbot.addWidget(scr)
    scr.resize(1280, 800)
    scr.show()
    return scr


def test_alert_list_photos_and_reasons(qtbot, screen, ops):
    with qtbot.waitSignal(screen.open_alerts_changed, timeout=5000) as sig:
        screen.start()
    assert sig.args == [2]
    assert screen.table.rowCount() == 2  # handled ones hidden by default
    assert screen.selected().alert_id == "al-1"  # newest first
    qtbot.waitUntil(lambda: screen.id_photo.has_photo and screen.live_photo.has_photo, timeout=5000)
    gui = threading.get_ident()
    assert all(tid != gui for _n, _a, tid in ops.calls)
    assert screen.reasons.count() == 3
    assert "desk-03" == screen.fields["desk"].text()
    screen.select("al-2")
    assert "another desk" in screen.reasons.item(screen.reasons.count() - 1).text()
    assert not screen.id_photo.has_photo  # no photos kept for this one
    screen.show_handled.setChecked(True)
    qtbot.waitUntil(lambda: screen.table.rowCount() == 3, timeout=5000)


def test_refresh_does_not_fetch_photos_again(qtbot, screen, ops):
    screen.start()
    qtbot.waitUntil(lambda: screen.id_photo.has_photo, timeout=5000)
    for _ in range(3):
        screen.refresh()
    qtbot.waitUntil(lambda: screen.runner.pending() == 0, timeout=5000)
    assert [c[0] for c in ops.calls].count("alert_photos") == 1  # viewing photos is audited


def test_new_alert_plays_sound_once(qtbot, screen, ops):
    screen.set_alerts(ops.alerts())
    assert "alert" not in screen.sounds.played  # the first load is not news
    fresh = replace(samples.alerts()[0], alert_id="al-9", created_at=samples.NOW)
    with qtbot.waitSignal(screen.new_alert, timeout=1000) as sig:
        screen.set_alerts([*ops.alerts(), fresh])
    assert sig.args[0].alert_id == "al-9"
    assert screen.sounds.played.count("alert") == 1


def test_mark_handled_with_note(qtbot, screen, ops):
    screen.start()
    qtbot.waitUntil(lambda: screen.table.rowCount() == 2, timeout=5000)
    screen.mark_handled()
    dlg = screen.dialog
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dlg.set_text("已带至保卫科")
    ok.click()
    qtbot.waitUntil(lambda: "mark_handled" in [c[0] for c in ops.calls], timeout=5000)
    qtbot.waitUntil(lambda: screen.alerts and screen.alerts[0].status == "handled", timeout=5000)
    assert screen.fields["note"].text() == "已带至保卫科"
    assert not screen.handle_button.isEnabled()


def test_report_suspect(qtbot, screen, ops):
    screen.start()
    qtbot.waitUntil(lambda: screen.table.rowCount() == 2, timeout=5000)
    screen.report_suspect()
    screen.dialog.set_text("多次代他人报到")
    screen.dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: "report_suspect" in [c[0] for c in ops.calls], timeout=5000)
    assert [c for c in ops.calls if c[0] == "report_suspect"][0][1] == ("al-1", "多次代他人报到")


def test_not_allowed_to_see_alerts_empties_the_badge_without_a_dialog(qtbot, screen, ops):
    from PySide6.QtWidgets import QMessageBox

    from desk_app.errors import AuthError

    screen.set_alerts(ops.alerts())

    def refused(include_handled=False):
        raise AuthError()

    ops.alerts = refused
    with qtbot.waitSignal(screen.open_alerts_changed, timeout=5000) as sig:
        screen.refresh()
    assert sig.args == [0]
    assert screen.table.rowCount() == 0
    assert not screen.findChildren(QMessageBox)


def test_hidden_screen_fetches_no_photos_until_shown(qtbot, ops, settings, runner):
    """Polling behind another tab must not view photos (each view is audited)."""
    scr = SecurityScreen(ops, settings, "en", runner=runner, sounds=SoundCues(True), poll_ms=60_000)
    qtbot.addWidget(scr)
    with qtbot.waitSignal(scr.open_alerts_changed, timeout=5000):
        scr.start()
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=5000)
    assert scr.selected() is not None
    assert "alert_photos" not in [c[0] for c in ops.calls]
    scr.show()
    qtbot.waitUntil(lambda: scr.id_photo.has_photo, timeout=5000)
    assert [c[0] for c in ops.calls].count("alert_photos") == 1


class ClerkSecurityOps(RecordingSecurityOps):
    """What the real SecurityService answers a clerk: the alerts, but not their photos."""

    def alert_photos(self, alert_id):
        from desk_app.services.model import Role, UserView
        from desk_app.services.session import SessionService

        self._rec("alert_photos", alert_id)
        session = SessionService(users=None, audit=None, clock=None)
        session.act_as(UserView("clerk", "clerk", Role.CLERK))
        session.require(Role.SECURITY, Role.ADMIN)  # raises AuthError, as alert_photos does


def test_clerk_sees_why_there_are_no_photos_and_no_dialog(qtbot, settings, runner):
    from PySide6.QtWidgets import QMessageBox

    ops = ClerkSecurityOps()
    scr = SecurityScreen(ops, settings, "en", runner=runner, sounds=SoundCues(True), poll_ms=60_000)
    qtbot.addWidget(scr)
    scr.show()
    scr.start()
    qtbot.waitUntil(lambda: "alert_photos" in [c[0] for c in ops.calls], timeout=10_000)
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=5000)
    qtbot.waitUntil(lambda: "security staff" in scr.id_photo.text(), timeout=5000)
    assert not scr.findChildren(QMessageBox)
    scr.refresh()  # the next poll asks again for nothing
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=5000)
    assert [c[0] for c in ops.calls].count("alert_photos") == 1
    assert not scr.findChildren(QMessageBox)
