"""The composition root: the real store, services, sync worker and screens, wired as desk-app
wires them (the platform is not running: the desk works offline)."""

from __future__ import annotations

import sys

import pytest

from desk_app import app as composition


def offline_desk(data_dir):
    """The desk as desk-app builds it, its platform address pointing where nothing listens."""
    core = composition.build_core(data_dir)
    core.settings.platform.url = "http://127.0.0.1:9"  # nothing listens: offline
    return core, composition.build_desk(core)


@pytest.fixture
def wired(qapp, data_dir):
    core, desk = offline_desk(data_dir)
    desk.store.users.create("wang", "王", "clerk", "clerk-pass-1")
    desk.store.users.create("it", "信息科", "admin", "admin-pass-1")
    desk.start()
    window = composition.build_window(desk, None, qapp)
    yield desk, window
    window.close()
    desk.close()


def _sign_in(qtbot, login, user: str, password: str) -> None:
    """Type a user name and password into the login and wait until it lets them in."""
    login.username.setText(user)
    login.password.setText(password)
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        login.submit()


def visible_screens(window):
    tabs = window.main.tabs
    return {tabs.widget(i).objectName() for i in range(tabs.count()) if tabs.isTabVisible(i)}


def test_login_shows_the_screens_of_the_role_and_the_idle_lock_logs_out(qtbot, wired):
    desk, window = wired
    login, lock = composition.wire_login(window, desk)
    assert not window.main.tabs.isVisibleTo(window.main)  # locked until someone logs in
    login.username.setText("wang")
    login.password.setText("clerk-pass-1")
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        login.submit()
    assert window.main.tabs.isVisibleTo(window.main)
    assert visible_screens(window) == {"CheckinScreen", "SecurityScreen", "AboutScreen"}
    assert desk.session.current_user().username == "wang"
    lock.locked.emit()  # as the idle timer would
    qtbot.waitUntil(lambda: desk.session.current_user() is None, timeout=10_000)
    assert not window.main.tabs.isVisibleTo(window.main)
    login.username.setText("it")
    login.password.setText("admin-pass-1")
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        login.submit()
    assert {"AuditScreen", "SettingsScreen", "StatsScreen"} <= visible_screens(window)
    actions = [e.action for e in desk.store.audit.entries(limit=10)]
    assert actions.count("login") == 2 and "logout" in actions
    lock.uninstall()


def test_saved_settings_are_audited_and_persisted(qtbot, wired):
    desk, window = wired
    new = desk.settings.get().model_copy(deep=True)
    new.ui.idle_reset_s = 42
    desk.settings.save(new)
    assert desk.settings.get().ui.idle_reset_s == 42
    entry = next(e for e in desk.store.audit.entries(limit=5) if e.action == "settings.changed")
    assert entry.detail == {"sections": ["ui"]}
    again = composition.build_core(desk.core.paths.config_dir.parent)
    assert again.settings.ui.idle_reset_s == 42


def test_settings_saved_on_a_worker_thread_keep_the_idle_lock_running(qtbot, wired):
    """The settings screen saves on a pool thread and the holder runs its listeners there: the
    idle lock's timer is still restarted on the GUI thread, and the desk still locks itself."""
    desk, window = wired
    login, lock = composition.wire_login(window, desk)
    lock.minute_ms = 150  # a settings minute, shortened
    new = desk.settings.get().model_copy(deep=True)
    new.ui.lock_after_idle_min = 2
    saved = []
    window.runner.run(desk.settings.save, new, on_success=saved.append)  # as the screen saves
    qtbot.waitUntil(lambda: bool(saved), timeout=10_000)
    try:
        assert lock.timer.isActive() and lock.timer.interval() == 300
        with qtbot.waitSignal(lock.locked, timeout=3000):
            pass
    finally:
        lock.uninstall()


def test_without_a_reader_the_counter_camera_reads_the_card(qapp, data_dir):
    """build_devices on a one-camera desk with no reader: the card put on the counter reaches
    the check-in screen's sink as a read with a valid number."""
    import datetime as dt
    import threading

    from desk_app.identity.testing import make_id_number
    from devices.camera.scene import SceneStep, card
    from devices.idcard.synthetic import CardPerson, render_card

    number = make_id_number("110101", dt.date(1985, 3, 12), 21, sex="M")
    person = CardPerson(name="张伟", sex="男", ethnicity="汉", birth=dt.date(1985, 3, 12),
                        address="北京市东城区示范路1号", id_number=number,
                        issuer="北京市公安局东城分局", valid_from=dt.date(2020, 1, 1),
                        valid_to=dt.date(2040, 1, 1))
    scene = [SceneStep("card on the counter", 60.0,
                       (card(render_card(person, None), at=(0.5, 0.55), size=0.55),), noise=1.0)]
    core = composition.build_core(data_dir)
    assert core.settings.devices.id_by_camera and not core.settings.devices.id_reader_port
    got: list = []
    seen = threading.Event()
    devices = composition.build_devices(core.settings, scene=scene,
                                        on_card=lambda read: (got.append(read), seen.set()))
    devices.start()
    try:
        assert seen.wait(45), "the card was not read from the camera"
    finally:
        devices.stop()
    assert got[0].id_number == number and got[0].source == "camera"


def test_the_card_the_counter_camera_finds_is_outlined_on_the_counter_preview(qtbot, qapp,
                                                                              data_dir, tmp_path):
    """As desk-app wires it: the counter camera (a folder of frames) -> the card detector on the
    reader's worker -> the check-in screen -> the counter preview, in the frame's pixels; dotted
    while a card is seen whose number does not read, solid once read, gone for the next patient."""
    from desk_app.services.model import Step, StepStatus
    from tests.devices.card_frames import card_frames, corners_near

    frames = card_frames()
    folder = frames.write(tmp_path / "counter", card=False)  # only the blank card at first
    core = composition.build_core(data_dir)
    core.settings.platform.url = "http://127.0.0.1:9"
    core.settings.devices.patient_camera = "sim"
    core.settings.devices.counter_camera = str(folder)
    desk = composition.build_desk(core)
    desk.store.users.create("wang", "王", "clerk", "clerk-pass-1")
    desk.session.login("wang", "clerk-pass-1")
    holder: list = []
    devices = composition.build_devices(core.settings, **composition.card_sinks(holder))
    w = composition.build_window(desk, devices, qapp)
    holder.append(w)
    counter = w.checkin.previews[-1]
    assert len(w.checkin.previews) == 2
    desk.start()
    devices.start()
    try:
        qtbot.waitUntil(lambda: corners_near(counter._card_outline, frames.blank_corners),
                        timeout=60_000)
        assert not counter._card_read and counter._frame_size == (1280, 720)
        assert not w.checkin.previews[0]._card_outline  # not on the patient camera's picture
        frames.write(folder)  # now the readable card comes round too
        qtbot.waitUntil(lambda: counter._card_read, timeout=60_000)
        assert corners_near(counter._card_outline, frames.card_corners)
        qtbot.waitUntil(lambda: w.checkin.presenter.state is not None and any(
            v.step == Step.ID and v.status == StepStatus.OK
            for v in w.checkin.presenter.state.steps), timeout=30_000)
        w.checkin.trigger("reset")
        assert not counter._card_outline
    finally:
        devices.stop()
        w.close()
        desk.close()


def test_a_damaged_face_model_does_not_stop_the_desk(qapp, data_dir, tmp_path, monkeypatch):
    """The desk starts and says so once; check-ins go on with the clerk comparing faces
    (tests/desk_app/services/test_checkin.py covers the check-in itself)."""
    import face_recognition_models as frm

    from desk_app.faces.engine import FaceModelUnavailable

    bad = tmp_path / "net.dat"
    bad.write_bytes(b"damaged" * 100)
    monkeypatch.setattr(frm, "face_recognition_model_location", lambda: str(bad))
    core, desk = offline_desk(data_dir)
    try:
        desk.start()
        assert [type(p) for p in desk.problems] == [FaceModelUnavailable]
        assert "人工核对" in desk.problems[0].message("zh_CN")
        window = composition.build_window(desk, None, qapp)
        window.close()
    finally:
        desk.close()


def test_a_damaged_database_is_recovered_at_start_and_retention_runs(qapp, data_dir):
    """The desk that found its database damaged says so once and keeps the visits; the
    retention purges run at start on their own thread (a visit past privacy.visit_pii_days
    loses its name and full number)."""
    import time
    import uuid
    from datetime import UTC, datetime, timedelta

    from desk_app.storage import Reason, VisitInput
    from desk_app.storage.errors import DatabaseRecovered
    from desk_app.storage.recovery import backup_online

    core, desk = offline_desk(data_dir)
    old = datetime.now(UTC) - timedelta(days=core.settings.privacy.visit_pii_days + 1)
    vid = str(uuid.uuid4())
    desk.store.visits.record(VisitInput(
        visit_id=vid, booking_id=None, hospital_id="H001", desk_id="desk-01", clerk="wang",
        checked_in_at=old, verdict="admit", reasons=(Reason("booking_ok", "info", "real_name"),),
        presented_id_last4="1234", id_number="110101199003071234", person_name="张三"))
    backup_online(core.paths.database_file, core.paths.backup_dir, kept=3)
    desk.close()
    core.paths.database_file.write_bytes(b"\x00" * 8192)  # the file is gone to garbage
    core.paths.database_file.with_name("desk.sqlite3-wal").unlink(missing_ok=True)

    core, desk = offline_desk(data_dir)
    try:
        desk.start()
        assert [type(p) for p in desk.problems] == [DatabaseRecovered]
        deadline = time.monotonic() + 20
        while not any(e.action == "retention.run" for e in desk.store.audit.entries(limit=20)):
            assert time.monotonic() < deadline, "retention did not run at start"
            time.sleep(0.05)
        assert {t.name for t in desk.maintenance} == {"desk-backup", "desk-retention",
                                                   "desk-insiders"}
        kept = desk.store.visits.get(vid)  # restored from the online backup, then purged
        assert kept is not None and kept.id_number is None and kept.person_name is None
    finally:
        desk.close()


def test_sign_out_hands_the_desk_to_a_colleague(qtbot, wired):
    """Ctrl+L (or the status bar button) on any screen: logged out, the login is shown empty,
    the next person's role decides the screens; the status bar names who is signed in."""
    from PySide6.QtCore import Qt

    desk, window = wired
    desk.store.users.create("guard", "保卫科李", "security", "guard-pass-1")
    login, lock = composition.wire_login(window, desk)
    window.main.show()
    login.username.setText("wang")
    login.password.setText("clerk-pass-1")
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        login.submit()
    assert "王" in window.main.user_label.text() and window.main.sign_out.isEnabled()
    window.main.activateWindow()  # a window shortcut: Qt fires it in the active window only
    qtbot.waitUntil(window.main.isActiveWindow, timeout=5000)
    qtbot.keyClick(window.main, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: desk.session.current_user() is None, timeout=10_000)
    assert login.isVisible() and login.username.text() == "" and login.locked_for is None
    assert not window.main.tabs.isVisibleTo(window.main) and window.main.user_label.text() == ""
    login.username.setText("guard")
    login.password.setText("guard-pass-1")
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        login.submit()
    assert "StatsScreen" in visible_screens(window) and "保卫科李" in window.main.user_label.text()
    actions = [e.action for e in desk.store.audit.entries(limit=20)]
    assert actions.count("login") == 2 and actions.count("logout") == 1
    lock.uninstall()


def test_a_reader_without_photo_decoder_gets_the_portrait_from_the_counter_camera(
        qtbot, qapp, data_dir, faces_dir):
    """As desk-app wires it: a chip reader (the simulator on a pty) without the vendor's photo
    decoder gives the number; the counter camera reads the same card on the counter and its
    portrait becomes the card photo the face is compared with. The chip's read stands (no card
    check needed); the camera alone does not give the number."""
    import datetime as dt

    import cv2

    from desk_app.identity.testing import make_id_number
    from devices.camera.scene import SceneStep, card
    from devices.idcard import sam
    from devices.idcard.synthetic import CardPerson, render_card

    if sys.platform == "win32":
        pytest.skip("the reader simulator needs a POSIX pty")
    number = make_id_number("110101", dt.date(1961, 8, 4), 11, sex="M")
    person = CardPerson(name="张伟", sex="男", ethnicity="汉", birth=dt.date(1961, 8, 4),
                        address="北京市东城区示范路1号", id_number=number,
                        issuer="北京市公安局东城分局", valid_from=dt.date(2020, 1, 1),
                        valid_to=dt.date(2040, 1, 1))
    photo = cv2.imread(str(faces_dir / "obama.jpg"))
    scene = [SceneStep("card on the counter", 120.0,
                       (card(render_card(person, photo), at=(0.5, 0.55), size=0.55),), noise=1.0)]
    core = composition.build_core(data_dir)
    core.settings.platform.url = "http://127.0.0.1:9"
    core.settings.devices.id_reader_port = "sim"
    assert core.settings.devices.wlt_decoder_library == "" and core.settings.devices.id_by_camera
    desk = composition.build_desk(core)
    desk.store.users.create("wang", "王", "clerk", "clerk-pass-1")
    desk.session.login("wang", "clerk-pass-1")
    holder: list = []
    devices = composition.build_devices(core.settings, scene=scene,
                                        **composition.card_sinks(holder))
    assert devices.reader_poller is not None and devices.portrait_by_camera
    w = composition.build_window(desk, devices, qapp)
    holder.append(w)
    assert desk.checkin.camera_portrait
    desk.start()
    devices.start()
    try:
        qtbot.waitUntil(lambda: w.checkin.presenter.state is not None, timeout=10_000)
        qtbot.wait(3000)  # the camera has seen the card by now; without the chip, no number
        assert w.checkin.presenter.state.person is None
        devices.reader.simulator.insert_card(sam.CardText(
            "张伟", "1", "01", "19610804", "北京市东城区示范路1号", number, "北京市公安局东城分局",
            "20200101", "20400101"))
        qtbot.waitUntil(lambda: w.checkin.presenter.state.person is not None
                        and w.checkin.presenter.state.id_photo_png is not None, timeout=60_000)
        state = w.checkin.presenter.state
        assert state.person.source == "reader" and not state.awaiting_card_photo
    finally:
        devices.stop()
        w.close()
        desk.close()


def test_an_unplugged_reader_is_shown_and_comes_back_and_a_bad_card_asks_to_place_it_again(
        qtbot, qapp, data_dir, tmp_path):
    """As desk-app wires it, the real serial reader on a port that is not there (unplugged): the
    status bar does not say "working" and the check-in screen tells the clerk to check the cable
    or type the number (F3). The reader plugged in (the simulator's pty appears at that port):
    both back to normal. A card whose chip data fails its check (a bad check digit): "place it
    again", the reader still working; the card lifted, the hint goes."""
    import os

    from devices.idcard import sam
    from devices.idcard.simulator import SimulatedSamReader
    from ui.shell.reader_hint import ReaderHint
    from ui.shell.status import SyncStatusWidget

    if sys.platform == "win32":
        pytest.skip("the reader simulator needs a POSIX pty")
    port = tmp_path / "ttyUSB9"
    core = composition.build_core(data_dir)
    core.settings.platform.url = "http://127.0.0.1:9"
    core.settings.devices.id_reader_port = str(port)
    core.settings.devices.id_by_camera = False
    desk = composition.build_desk(core)
    holder: list = []
    devices = composition.build_devices(core.settings, **composition.card_sinks(holder))
    w = composition.build_window(desk, devices, qapp)
    holder.append(w)
    status = w.main.findChild(SyncStatusWidget)
    hint = w.checkin.findChild(ReaderHint)
    sim = SimulatedSamReader()

    def reader_state() -> str:
        return status.devices["id_reader"].state

    devices.start()
    try:
        qtbot.waitUntil(lambda: reader_state() == "reconnecting" and not hint.isHidden(),
                        timeout=5000)
        assert "(F3)" in hint.text() and status.devices["id_reader"].message.zh
        assert status.device_labels["id_reader"].text() != status.device_labels["scanner"].text()
        os.symlink(sim.start().port, port)  # plugged in
        qtbot.waitUntil(lambda: reader_state() == "running" and hint.isHidden(), timeout=20_000)
        sim.insert_card(sam.CardText("李小龙", "1", "03", "19850615", "上海市黄浦区示范路1号",
                                     "310101198506150017", "上海市公安局黄浦分局", "20150101",
                                     "20350101"))  # the check digit is wrong: 7, not 6
        qtbot.waitUntil(lambda: not hint.isHidden(), timeout=5000)
        assert hint.kind == "error" and reader_state() == "running"
        assert hint.text() != "" and "(F3)" not in hint.text()
        sim.remove_card()
        qtbot.waitUntil(hint.isHidden, timeout=5000)
    finally:
        devices.stop()
        sim.stop()
        w.close()
        desk.close()


def test_with_camera_card_reading_off_a_reader_desk_expects_no_camera_portrait(qapp, data_dir):
    """The service then decides at once, saying the reader has no decoder and the camera does
    not read cards (tests/desk_app/services/test_clerk_calls.py)."""
    core = composition.build_core(data_dir)
    core.settings.devices.id_reader_port = "sim"
    core.settings.devices.id_by_camera = False
    devices = composition.build_devices(core.settings)
    try:
        assert devices.reader_poller is not None and not devices.portrait_by_camera
    finally:
        devices.stop()


def test_an_account_disabled_on_the_platform_ends_the_session_on_screen(qtbot, wired):
    """The sync thread applies a page of accounts in which the signed-in clerk is disabled (as
    the platform sends it): as build_desk and wire_login wire it, the session ends, the screens
    hide, and the login says why; the clerk cannot sign in again."""
    import threading
    from datetime import UTC, datetime

    from argon2 import PasswordHasher

    from desk_app.errors import AuthError
    from sync import protocol as P

    desk, window = wired
    login, lock = composition.wire_login(window, desk)
    login.username.setText("wang")
    login.password.setText("clerk-pass-1")
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        login.submit()
    page = P.StaffDelta(hospital_id="H001", version=7, more=False, accounts=[P.StaffAccountWire(
        username="wang", display_name="王", role=P.StaffRoleWire.CLERK, hospital_id="H001",
        active=False, version=7, updated_at=datetime.now(UTC),
        password_hash=PasswordHasher().hash("clerk-pass-1"))])
    t = threading.Thread(target=desk.sync.staff.run, args=(lambda _since: page,))
    t.start()
    t.join(10)
    qtbot.waitUntil(lambda: login.isVisible() and login.account_ended, timeout=10_000)
    assert desk.session.current_user() is None
    assert not window.main.tabs.isVisibleTo(window.main) and window.main.user_label.text() == ""
    assert "disabled" in login.banner.text() or "停用" in login.banner.text()
    with pytest.raises(AuthError):
        desk.session.login("wang", "clerk-pass-1")
    lock.uninstall()


def test_the_security_office_window_shows_only_the_alerts_to_guards_and_admins(qtbot, wired):
    """desk-app run --security-office: a clerk is refused at the login with a reason, a guard
    sees the security screen only (and About)."""
    desk, window = wired
    desk.store.users.create("guard", "保卫科李", "security", "guard-pass-1")
    window.main.set_office_mode()
    login, lock = composition.wire_login(window, desk, office=True)
    login.username.setText("wang")
    login.password.setText("clerk-pass-1")
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        login.submit()
    qtbot.waitUntil(lambda: desk.session.current_user() is None, timeout=10_000)
    qtbot.waitUntil(lambda: login.isVisible() and login.error.text() != "", timeout=5_000)
    assert not window.main.tabs.isVisibleTo(window.main)
    login.username.setText("guard")
    login.password.setText("guard-pass-1")
    with qtbot.waitSignal(login.logged_in, timeout=10_000):
        login.submit()
    assert visible_screens(window) == {"SecurityScreen", "AboutScreen"}
    assert window.main.tabs.isVisibleTo(window.main)

    # Another window's security alert: its photos are on the platform (shared by default), but
    # this desk cannot reach it: the photo boxes say so, without a dialog.
    from datetime import UTC, datetime

    from desk_app.storage.office_alerts import OfficeAlert

    tabs = window.main.tabs
    [screen] = [tabs.widget(i) for i in range(tabs.count())
                if tabs.widget(i).objectName() == "SecurityScreen"]
    desk.security.office.apply([OfficeAlert(
        alert_id="a-window-7", seq=1, kind="desk_alert", booking_id=None, visit_ids=("v-7",),
        desk_ids=("desk-07",), created_at=datetime.now(UTC), detail="desk alert: face_mismatch")])
    tabs.setCurrentWidget(screen)
    window.main.show()
    screen.refresh()
    qtbot.waitUntil(lambda: screen.table.rowCount() == 1, timeout=5_000)
    screen.select("a-window-7")
    offline = ("离线: 照片在发出告警的窗口", "Offline: photos at the window that raised it")
    qtbot.waitUntil(lambda: screen.id_photo.text() in offline, timeout=10_000)
    assert screen.live_photo.text() in offline and not screen.id_photo.has_photo
    looked = desk.store.audit.entries(10, "alert.viewed")
    assert [(e.actor, e.subject, e.detail["photos"]) for e in looked] == [
        ("guard", "a-window-7", "offline")]
    lock.uninstall()


def test_a_guards_alert_photos_leave_the_screen_when_a_clerk_takes_over(qtbot, wired):
    """A guard views an alert's face photos (audited), then signs out; the clerk who signs in
    next opens the same alert: the photos are fetched again through the role check, so the
    clerk sees none of them and the only audited view is the guard's."""
    import uuid
    from datetime import UTC, datetime

    import cv2
    import numpy as np

    from desk_app.storage import AlertInput, VisitInput

    def png(shade: int) -> bytes:
        img = np.full((126, 102, 3), shade, np.uint8)
        img[40:80, 30:70] = 255 - shade
        return cv2.imencode(".png", img)[1].tobytes()

    desk, window = wired
    desk.store.users.create("guard", "保卫科李", "security", "guard-pass-1")
    desk.store.visits.record(VisitInput(
        visit_id=str(uuid.uuid4()), booking_id=None, hospital_id="H001", desk_id="desk-01",
        clerk="wang", checked_in_at=datetime.now(UTC), verdict="reject",
        presented_id_last4="002X", id_number="11010519491231002X", person_name="欧阳建国"),
        AlertInput(id_photo=png(90), live_face=png(160)))
    login, lock = composition.wire_login(window, desk)
    window.main.show()
    tabs = window.main.tabs
    screen = window.security

    def sign_in(user: str, password: str) -> None:
        _sign_in(qtbot, login, user, password)

    def photo_views() -> list[tuple[str, str]]:
        return [(e.actor, e.action) for e in desk.store.audit.entries(limit=50)
                if e.action == "alert.viewed"]

    sign_in("guard", "guard-pass-1")
    tabs.setCurrentWidget(screen)
    screen.refresh()
    qtbot.waitUntil(lambda: screen.id_photo.has_photo and screen.live_photo.has_photo,
                    timeout=10_000)
    assert photo_views() == [("guard", "alert.viewed")]

    window.main.sign_out_requested.emit()  # Ctrl+L
    qtbot.waitUntil(lambda: desk.session.current_user() is None, timeout=10_000)
    assert not screen.id_photo.has_photo and not screen.live_photo.has_photo
    sign_in("wang", "clerk-pass-1")
    tabs.setCurrentWidget(screen)
    screen.refresh()
    refused = screen.tr("Photos only for security staff and administrators")
    qtbot.waitUntil(lambda: screen.id_photo.text() == refused, timeout=10_000)
    assert screen.isVisible() and screen.selected() is not None
    assert not screen.id_photo.has_photo and not screen.live_photo.has_photo
    assert photo_views() == [("guard", "alert.viewed")]
    lock.uninstall()


def test_after_each_sign_in_the_clerks_keys_reach_the_check_in_screen(qtbot, wired):
    """The lock hides the screens (Qt moves the focus to the status bar): once the login closes,
    the check-in screen has the focus again, so F3 pressed on the keyboard opens the manual
    entry, after the first sign-in and after Ctrl+L and a sign-in."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    desk, window = wired
    login, lock = composition.wire_login(window, desk)
    window.main.show()
    checkin = window.checkin

    def sign_in_and_press_f3() -> None:
        login.username.setText("wang")
        login.password.setText("clerk-pass-1")
        with qtbot.waitSignal(login.logged_in, timeout=10_000):
            login.submit()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                        and not login.isVisible(), timeout=5000)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F3)
        qtbot.waitUntil(lambda: checkin.dialog is not None, timeout=5000)
        assert checkin.dialog.objectName() == "NoteDialog_manual_id"
        qtbot.keyClick(checkin.dialog, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: checkin.dialog is None, timeout=5000)

    sign_in_and_press_f3()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: desk.session.current_user() is None and login.isVisible(),
                    timeout=10_000)
    sign_in_and_press_f3()
    lock.uninstall()


def test_nothing_of_the_last_patient_is_left_for_the_next_person_to_sign_in(qtbot, wired):
    """A clerk's case half done (the card's number typed, a dialog open) when the desk is
    locked: the next person signs in to an empty check-in, in the service as on the screen, and
    has nothing of that patient to decide."""
    import datetime as dt

    from desk_app.identity.testing import make_id_number

    desk, window = wired
    desk.store.users.create("guard", "保卫科李", "security", "guard-pass-1")
    login, lock = composition.wire_login(window, desk)
    window.main.show()
    checkin = window.checkin

    def sign_in(user: str, password: str) -> None:
        _sign_in(qtbot, login, user, password)

    sign_in("wang", "clerk-pass-1")
    checkin.presenter.submit_id_number(make_id_number("110101", dt.date(1985, 3, 12), 21))
    qtbot.waitUntil(lambda: checkin.presenter.state is not None
                    and checkin.presenter.state.person is not None, timeout=10_000)
    assert checkin.verdict.person_id.text() != "—"
    checkin.trigger("suspect")  # a dialog about this patient is open
    assert checkin.dialog is not None
    old_session = checkin.presenter.session_id

    window.main.sign_out_requested.emit()  # Ctrl+L
    qtbot.waitUntil(lambda: desk.session.current_user() is None, timeout=10_000)
    qtbot.waitUntil(lambda: checkin.presenter.state is not None
                    and checkin.presenter.session_id != old_session, timeout=10_000)
    assert checkin.dialog is None
    assert checkin.presenter.state.person is None and checkin.verdict.person_id.text() == "—"
    assert desk.checkin.current().person is None  # the service's open case is a new one too
    sign_in("guard", "guard-pass-1")
    assert checkin.presenter.state.person is None and checkin.presenter.state.verdict is None
    assert not checkin.buttons["not_same_person"].isEnabled()
    lock.uninstall()


def test_behind_the_login_no_patient_is_processed_and_no_error_opens(qtbot, qapp, data_dir):
    """As desk-app wires it, signed out: a scanned code, a card from the reader's thread and the
    patient camera's frames do not reach the check-in (nothing to decide, no 请先登录 box over
    the login); signed in, the same inputs do."""
    import datetime as dt
    import threading
    import time

    from PySide6.QtWidgets import QApplication, QMessageBox

    from desk_app.identity.testing import make_id_number
    from desk_app.services.model import Step, StepStatus
    from devices.camera.scene import SceneStep
    from devices.idcard.types import IdCardRead
    from devices.qr.pipeline import CodeRead

    core, desk = offline_desk(data_dir)
    desk.store.users.create("wang", "王", "clerk", "clerk-pass-1")
    holder: list = []
    devices = composition.build_devices(core.settings, scene=[
        SceneStep("empty desk", 60.0, (), noise=2.0)], **composition.card_sinks(holder))
    w = composition.build_window(desk, devices, qapp)
    holder.append(w)
    presenter = w.checkin.presenter
    number = make_id_number("110101", dt.date(1985, 3, 12), 21)

    def present(code: str) -> None:
        devices.feed.submit(CodeRead(code, "scanner", "scanner", time.monotonic()))
        reader = threading.Thread(target=composition.card_sinks(holder)["on_card"],
                                  args=(IdCardRead(number, name="张伟"),))
        reader.start()
        reader.join()

    def booking_step() -> StepStatus:
        return presenter.state.step(Step.BOOKING).status

    def boxes() -> list:
        return [b for b in QApplication.topLevelWidgets()
                if isinstance(b, QMessageBox) and b.isVisible()]

    desk.start()
    devices.start()
    login, lock = composition.wire_login(w, desk)
    w.main.show()
    try:
        qtbot.waitUntil(lambda: presenter.state is not None, timeout=10_000)
        present("NOT-A-BOOKING-CODE-1")
        qtbot.wait(1500)
        assert presenter.state.person is None and booking_step() == StepStatus.WAITING
        assert presenter.face_frames_sent == presenter.face_frames_dropped == 0
        assert not boxes() and login.isVisible()
        login.username.setText("wang")
        login.password.setText("clerk-pass-1")
        with qtbot.waitSignal(login.logged_in, timeout=10_000):
            login.submit()
        present("NOT-A-BOOKING-CODE-2")
        qtbot.waitUntil(lambda: presenter.state is not None and presenter.state.person is not None
                        and booking_step() == StepStatus.FAILED, timeout=10_000)
        qtbot.waitUntil(lambda: presenter.face_frames_sent + presenter.face_frames_dropped > 0,
                        timeout=10_000)
    finally:
        lock.uninstall()
        devices.stop()
        w.close()
        desk.close()


def test_without_a_reader_the_status_bar_says_cards_are_read_by_the_camera(qapp, data_dir):
    """The default desk (no reader port, cards read by the counter camera): the status bar never
    says a card reader works, and the scanner, which cannot be detected, is "enabled"."""
    from devices.camera.scene import SceneStep
    from ui.shell.status import SyncStatusWidget

    core, desk = offline_desk(data_dir)
    assert not core.settings.devices.id_reader_port and core.settings.devices.id_by_camera
    assert core.settings.desk.language == "zh_CN" and core.settings.devices.scanner_enabled
    holder: list = []
    devices = composition.build_devices(core.settings, scene=[
        SceneStep("empty desk", 5.0, (), noise=2.0)], **composition.card_sinks(holder))
    w = composition.build_window(desk, devices, qapp)
    try:
        labels = w.main.findChild(SyncStatusWidget).device_labels
        assert labels["id_reader"].text() == "◇ 身份证: 摄像头识读 (无阅读器)"
        assert labels["scanner"].text() == "◇ 扫码枪: 已启用"
    finally:
        devices.stop()
        w.close()
        desk.close()
