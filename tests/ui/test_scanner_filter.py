"""The scanner works anywhere on the screen: keys from the window system go through the
application-wide filter into the wedge decoder; fast bursts are scans, a person's keys still
reach the focused field. Time is injected, so the tests do not depend on the machine's speed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from ui.checkin.scanner import ScannerFilter


class Clock:
    def __init__(self) -> None:
        self.ms = 1000.0

    def __call__(self) -> float:
        return self.ms


@pytest.fixture
def window(qtbot):
    w = QWidget()
    lay = QVBoxLayout(w)
    w.edit = QLineEdit(w)
    lay.addWidget(w.edit)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.edit.setFocus()
    return w


@pytest.fixture
def scanner(qtbot):
    clock = Clock()
    f = ScannerFilter(35.0, clock_ms=clock).install()
    f.clock = clock
    yield f
    f.uninstall()


def type_text(window, scanner, text: str, gap_ms: float) -> None:
    handle = window.windowHandle()
    for ch in text:
        scanner.clock.ms += gap_ms
        if ch == "\r":
            QTest.keyClick(handle, Qt.Key.Key_Return)
        else:
            QTest.keyClick(handle, ch)


def test_fast_burst_is_a_scan_and_not_typed_into_the_field(qtbot, window, scanner):
    got = []
    scanner.scanned.connect(got.append)
    type_text(window, scanner, "A1B2C3D4\r", gap_ms=5)
    assert got == ["A1B2C3D4"]
    assert window.edit.text() == ""


def test_a_person_typing_reaches_the_focused_field(qtbot, window, scanner):
    got = []
    scanner.scanned.connect(got.append)
    type_text(window, scanner, "110101", gap_ms=200)
    scanner.clock.ms += 200
    qtbot.waitUntil(lambda: window.edit.text() == "110101", timeout=3000)
    assert got == []


def test_scan_while_a_field_has_focus_still_goes_to_the_scanner(qtbot, window, scanner):
    got = []
    scanner.scanned.connect(got.append)
    type_text(window, scanner, "12", gap_ms=300)
    scanner.clock.ms += 300
    qtbot.waitUntil(lambda: window.edit.text() == "12", timeout=3000)
    type_text(window, scanner, "RNB1:eyJhbGciOi\r", gap_ms=3)
    assert got == ["RNB1:eyJhbGciOi"]
    assert window.edit.text() == "12"


def test_screen_submits_scans_of_its_own_filter_once(qtbot, window, settings, runner):
    from tests.ui.helpers import RecordingCheckinOps
    from ui.checkin.screen import CheckinScreen

    ops = RecordingCheckinOps()
    screen = CheckinScreen(ops, settings, "en", runner=runner)
    qtbot.addWidget(screen)
    clock = Clock()
    screen.scanner._clock = clock
    screen.start()
    try:
        screen.scanner.clock = clock
        type_text(window, screen.scanner, "A1B2C3D4\r", gap_ms=5)
        qtbot.waitUntil(lambda: "submit_code" in ops.names(), timeout=5000)
        qtbot.waitUntil(lambda: screen.runner.pending() == 0, timeout=5000)
        assert ops.names().count("submit_code") == 1
    finally:
        screen.shutdown()


def test_a_scanner_passed_in_is_routed_by_its_owner(qtbot, settings, runner):
    from tests.ui.helpers import RecordingCheckinOps
    from ui.checkin.screen import CheckinScreen

    ops = RecordingCheckinOps()
    own = ScannerFilter(35.0)
    screen = CheckinScreen(ops, settings, "en", runner=runner, scanner=own)
    qtbot.addWidget(screen)
    own.scanned.emit("A1B2C3D4")  # the owner decides where scans go
    qtbot.wait(50)
    assert "submit_code" not in ops.names()
