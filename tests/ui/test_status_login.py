from __future__ import annotations

import threading

from desk_app.errors import AuthError, Text
from desk_app.services.model import DeviceStatusView, Role, UserView
from ui import samples
from ui.shell.login import IdleLock, LoginDialog, screens_for
from ui.shell.main_window import MainWindow
from ui.shell.status import SyncStatusWidget


def test_status_bar_words_for_online_offline_and_devices(qtbot, settings, runner):
    w = SyncStatusWidget(None, settings, "en", runner=runner, now=lambda: samples.NOW)
    qtbot.addWidget(w)
    w.set_status(samples.sync_status(online=True))
    assert "Online" in w.sync_label.text() and "Pending upload: 0" in w.sync_label.text()
    assert "Last sync: 40 s ago" in w.sync_label.text()
    w.set_status(samples.sync_status(online=False))
    assert "Offline mode" in w.sync_label.text() and "Pending upload: 17" in w.sync_label.text()
    assert "Blacklist: 3 h ago" in w.sync_label.text()
    for d in samples.devices():
        w.set_device(d)
    assert w.device_labels["counter_camera"].text().endswith("reconnecting")
    assert w.device_labels["counter_camera"].text().startswith("◌")


def test_a_desk_without_reader_or_detectable_scanner_is_not_called_working(qtbot, settings,
                                                                           runner):
    w = SyncStatusWidget(None, settings, "en", runner=runner)
    qtbot.addWidget(w)
    w.set_device(DeviceStatusView("id_reader", "camera", Text("", "")))
    w.set_device(DeviceStatusView("scanner", "enabled", Text("", "")))
    assert w.device_labels["id_reader"].text() == "◇ ID card: read by camera (no reader)"
    assert w.device_labels["scanner"].text() == "◇ Scanner: enabled"


class Sync:
    def __init__(self):
        self.threads = []

    def status(self):
        self.threads.append(threading.get_ident())
        return samples.sync_status(online=False)

    def sync_now(self):
        self.threads.append(threading.get_ident())


def test_status_polls_off_the_gui_thread(qtbot, settings, runner):
    ops = Sync()
    w = SyncStatusWidget(ops, settings, "en", runner=runner, poll_ms=60_000)
    qtbot.addWidget(w)
    w.start()
    qtbot.waitUntil(lambda: w.status is not None, timeout=5000)
    w.sync_now()
    qtbot.waitUntil(lambda: len(ops.threads) >= 3, timeout=5000)
    assert threading.get_ident() not in ops.threads


class Session:
    def __init__(self):
        self.threads = []
        self.user = None

    def login(self, username, password):
        self.threads.append(threading.get_ident())
        if password != "right":
            raise AuthError(Text("用户名或密码错误", "Wrong user name or password"))
        self.user = UserView(username, "王护士", Role.CLERK)
        return self.user

    def logout(self):
        self.user = None

    def current_user(self):
        return self.user


def test_login_failure_then_success(qtbot, settings, runner):
    ops = Session()
    dlg = LoginDialog(ops, settings, "en", runner=runner)
    qtbot.addWidget(dlg)
    dlg.open()
    dlg.username.setText("clerk1")
    dlg.password.setText("wrong")
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.error.text() == "Wrong user name or password", timeout=5000)
    assert dlg.password.text() == ""
    dlg.reject()  # Esc does not get past the login
    assert dlg.isVisible()
    dlg.password.setText("right")
    with qtbot.waitSignal(dlg.logged_in, timeout=5000) as sig:
        dlg.submit()
    assert sig.args[0].role == Role.CLERK
    assert threading.get_ident() not in ops.threads
    assert not dlg.isVisible()


def test_idle_lock_and_role_screens(qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication, QLineEdit

    edit = QLineEdit()
    qtbot.addWidget(edit)
    lock = IdleLock(150).install()
    fired = []
    lock.locked.connect(lambda: fired.append(True))
    try:
        for _ in range(8):  # a clerk typing keeps the desk unlocked
            QApplication.sendEvent(edit, QKeyEvent(QEvent.Type.KeyPress, 0x41,
                                                   __import__("PySide6").QtCore.Qt.KeyboardModifier.NoModifier, "a"))
            qtbot.wait(40)
        assert not fired
        with qtbot.waitSignal(lock.locked, timeout=3000):
            pass
    finally:
        lock.uninstall()
    from ui.about.screen import AboutScreen

    window = MainWindow()
    qtbot.addWidget(window)
    window.add_screen(AboutScreen("1", "/tmp"))
    from PySide6.QtWidgets import QWidget

    stats = QWidget()
    stats.setObjectName("StatsScreen")  # security and admin see it, a clerk does not
    window.add_screen(stats)
    window.set_role_screens(screens_for(Role.CLERK))
    assert window.tabs.isTabVisible(0) and not window.tabs.isTabVisible(1)
    window.set_role_screens(screens_for(Role.SECURITY))
    assert window.tabs.isTabVisible(1)
    window.set_locked(True)
    assert window.tabs.isHidden()


def test_reader_hint_says_what_the_reader_did_in_both_languages(qtbot, settings, runner,
                                                                 _english_then_reset):
    """The reader not answering is a failed reader (status bar) and the clerk may type the
    number; a bad card is only "place it again", the reader still working; in Chinese too."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from devices.idcard.errors import FrameChecksumError, ReaderTimeout
    from devices.idcard.qt import ReaderSignals
    from ui.shell.reader_hint import ReaderHint

    status = SyncStatusWidget(None, settings, "en", runner=runner)
    screen = QWidget()
    QVBoxLayout(screen).addWidget(QWidget(screen))
    qtbot.addWidget(status)
    qtbot.addWidget(screen)
    signals = ReaderSignals()
    hint = ReaderHint.attach(signals, status, screen)
    assert screen.layout().itemAt(0).widget() is hint and hint.isHidden()
    assert status.devices["id_reader"].state == "running"
    signals.state_changed.emit("error", ReaderTimeout())
    assert status.devices["id_reader"].state == "failed" and "(F3)" in hint.text()
    assert "does not respond" in hint.text() and not hint.isHidden()
    signals.state_changed.emit("error", FrameChecksumError())
    assert status.devices["id_reader"].state == "running" and "place it" in hint.text()
    _english_then_reset.set_language("zh_CN")
    assert "请重新放置身份证" in hint.text()
    signals.state_changed.emit("disconnected", None)
    assert "身份证阅读器未连接" in hint.text() and "(F3)" in hint.text()
    assert "重连" in status.device_labels["id_reader"].text()
    signals.card_read.emit(object())
    assert hint.isHidden() and status.devices["id_reader"].state == "running"
