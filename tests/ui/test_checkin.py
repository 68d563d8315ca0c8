from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox

from desk_app.errors import Text
from desk_app.services.model import Decision, Step, StepStatus, StepView
from tests.ui.helpers import RecordingCheckinOps, empty_state, show_for_keys
from ui import samples
from ui.checkin.preview import CameraPreview
from ui.checkin.screen import CheckinScreen
from ui.checkin.steps import StepStrip
from ui.checkin.verdict import VerdictPanel
from ui.dialogs import NoteDialog
from ui.sounds import SoundCues


@pytest.fixture
def ops():
    return RecordingCheckinOps()


@pytest.fixture
def screen(qtbot, ops, settings, runner):
    sounds = SoundCues(True)
    scr = CheckinScreen(ops, settings, "en", runner=runner, sounds=sounds)
    qtbot.addWidget(scr)
    show_for_keys(qtbot, scr)
    scr.start()
    qtbot.waitUntil(lambda: scr.presenter.state is not None, timeout=5000)
    yield scr
    scr.shutdown()


# --- widgets fed with real view values ----------------------------------------------------------


@pytest.mark.parametrize("make, decision, words", [
    (samples.state_admit, Decision.ADMIT, "ADMIT"),
    (samples.state_review, Decision.REVIEW, "REVIEW NEEDED"),
    (samples.state_reject, Decision.REJECT, "REJECT"),
])
def test_verdict_panel_shows_words_icon_and_every_reason(qtbot, make, decision, words):
    panel = VerdictPanel()
    qtbot.addWidget(panel)
    state = make()
    panel.set_state(state, "en")
    assert panel.banner.decision == decision  # drives the icon shape as well as the colour
    assert panel.banner.words == words
    shown = [panel.reasons.item(i).text() for i in range(panel.reasons.count())]
    assert len(shown) == len(state.verdict.reasons)
    for r, text in zip(state.verdict.reasons, shown, strict=True):
        assert r.text.en in text
    assert panel.id_photo.has_photo and panel.live_photo.has_photo
    assert panel.department.text() == "心血管内科"
    assert f"{state.face.distance:.2f}" in panel.score_words.text()


def test_verdict_panel_chinese_texts(qtbot):
    panel = VerdictPanel()
    qtbot.addWidget(panel)
    panel.set_state(samples.state_reject(), "zh_CN")
    assert "一证一号" in panel.reasons.item(0).text()


def test_an_overridden_verdict_says_what_was_decided_by_hand_and_by_whom(
        qtbot, _english_then_reset):
    """A REVIEW changed to REJECT never reads 已人工放行 (released); the words follow the decision,
    name whoever decided when the service says, and the English does not say "the clerk"."""
    panel = VerdictPanel()
    qtbot.addWidget(panel)
    review = samples.state_review()

    def overridden(decision: Decision, by: str = "") -> object:
        return replace(review, verdict=replace(review.verdict, decision=decision, overridden=True,
                                               override_reason="倒号", decided_by=by))

    _english_then_reset.set_language("zh_CN")
    panel.set_state(overridden(Decision.REJECT), "zh_CN")
    assert panel.banner.detail == "人工改判为不通过: 倒号"
    panel.set_state(overridden(Decision.ADMIT, "guard"), "zh_CN")
    assert panel.banner.detail == "人工改判为通过 (guard): 倒号"
    _english_then_reset.set_language("en")
    panel.set_state(overridden(Decision.REJECT, "guard"), "en")
    assert panel.banner.detail == "Changed by hand to REJECT (guard): 倒号"


def test_step_strip_fills_in_any_order(qtbot):
    strip = StepStrip()
    qtbot.addWidget(strip)
    base = empty_state("s")
    strip.set_state(base, "zh_CN")
    assert strip.hint.text().startswith("请扫描")
    # the card first, then the booking: each tile follows its own step
    card_first = replace(base, steps=tuple(
        StepView(v.step, StepStatus.OK if v.step == Step.ID else v.status,
                 Text("王*明", "王*明") if v.step == Step.ID else v.summary) for v in base.steps),
        hint=Text("请扫描预约二维码", "Scan the booking code"))
    strip.set_state(card_first, "zh_CN")
    assert strip.tiles[Step.ID].view.status == StepStatus.OK
    assert strip.tiles[Step.BOOKING].view.status == StepStatus.WAITING
    assert strip.tiles[Step.ID].symbol.text() == "✔"
    assert strip.hint.text() == "请扫描预约二维码"
    strip.set_state(samples.state_reject(), "en")
    assert strip.tiles[Step.FACE].symbol.text() == "✖"
    assert strip.tiles[Step.FACE].status_word.text() == "Failed"


def test_preview_paints_latest_frame_with_face_box(qtbot):
    pv = CameraPreview("patient_camera")
    qtbot.addWidget(pv)
    pv.resize(640, 360)
    for v in range(5):
        frame = np.zeros((360, 640, 3), np.uint8)
        frame[:, :] = (v * 10, 0, 200)  # BGR: red picture
        pv.show_frame(frame)
    assert pv.frames_received == 5
    pv.set_overlays(face_boxes=[(100, 100, 300, 300)])
    img = pv.grab().toImage()
    assert pv.frames_painted <= 2  # only the newest frame was painted
    centre = QColor(img.pixel(500, 50))
    assert centre.red() > 150 and centre.blue() < 80  # BGR -> RGB converted, latest frame
    edge = QColor(img.pixel(100, 200))
    assert edge.green() > 120 and edge.red() < 120  # the face box outline


def test_a_code_just_read_is_outlined_for_a_moment_without_losing_the_face_box(qtbot):
    pv = CameraPreview("counter_camera")
    qtbot.addWidget(pv)
    pv.resize(640, 360)
    pv.show_frame(np.zeros((360, 640, 3), np.uint8))
    pv.set_face_boxes([(10, 10, 60, 60)])
    pv.flash_outline([(300, 100), (500, 100), (500, 300), (300, 300)], ms=200)
    assert pv._outlines and pv._face_boxes
    img = pv.grab().toImage()
    assert QColor(img.pixel(400, 100)) != QColor(img.pixel(400, 200))  # the outline is drawn
    qtbot.waitUntil(lambda: not pv._outlines, timeout=3000)
    assert pv._face_boxes  # the face box stays


def _amber(c: QColor) -> bool:
    return c.red() > 180 and c.green() > 130 and c.blue() < 90


def test_a_card_is_outlined_in_frame_pixels_apart_from_the_code_and_the_face_box(qtbot):
    pv = CameraPreview("counter_camera")
    qtbot.addWidget(pv)
    pv.resize(640, 360)
    pv.show_frame(np.zeros((720, 1280, 3), np.uint8))  # shown at half size
    pv.set_face_boxes([(20, 20, 120, 120)])
    pv.flash_outline([(40, 400), (240, 400), (240, 600), (40, 600)], ms=5000)
    pv.flash_card_outline([(400, 200), (1000, 200), (1000, 600), (400, 600)], read=True, ms=300)
    img = pv.grab().toImage()
    assert _amber(QColor(img.pixel(350, 100)))  # frame (700, 200): the card's top edge
    assert _amber(QColor(img.pixel(500, 200)))  # frame (1000, 400): its right edge
    assert not _amber(QColor(img.pixel(350, 200)))  # inside the card: the picture
    code = [QColor(img.pixel(x, 200)) for x in range(30, 110)]  # the code's top edge (dashed)
    assert any(c.blue() > 150 and c.red() < 120 for c in code) and not any(map(_amber, code))
    qtbot.waitUntil(lambda: not pv._card_outline, timeout=3000)
    img = pv.grab().toImage()
    assert not _amber(QColor(img.pixel(350, 100)))  # gone from the picture too
    assert pv._outlines and pv._face_boxes  # the code and the face stay


def test_a_card_seen_but_not_read_is_dotted_and_the_next_patient_clears_it(qtbot):
    pv = CameraPreview("counter_camera")
    qtbot.addWidget(pv)
    pv.resize(640, 360)
    pv.show_frame(np.zeros((720, 1280, 3), np.uint8))
    quad = [(400, 200), (1000, 200), (1000, 600), (400, 600)]

    def amber_share() -> float:
        img = pv.grab().toImage()
        return sum(_amber(QColor(img.pixel(x, 100))) for x in range(210, 490)) / 280

    pv.flash_card_outline(quad, read=True)
    assert amber_share() > 0.95  # read: solid
    pv.flash_card_outline(quad, read=False)
    assert 0.2 < amber_share() < 0.8  # seen, number not read yet: dotted
    pv.set_overlays()  # what the screen does for the next patient
    assert not pv._card_outline and amber_share() == 0


# --- the screen and its presenter ---------------------------------------------------------------


def test_a_card_the_camera_sees_and_reads_is_outlined_on_the_counter_preview(qtbot, ops, settings,
                                                                              runner):
    from devices.idcard.types import IdCardRead

    scr = CheckinScreen(ops, settings, "en", runner=runner, sounds=SoundCues(False), cameras=2)
    qtbot.addWidget(scr)
    scr.start()
    qtbot.waitUntil(lambda: scr.presenter.state is not None, timeout=5000)
    patient, counter = scr.previews

    def from_the_reader_thread(fn, arg) -> None:
        t = threading.Thread(target=fn, args=(arg,))
        t.start()
        t.join()

    seen = ((400, 200), (1000, 200), (1000, 600), (400, 600))
    from_the_reader_thread(scr.post_card_seen, seen)
    qtbot.waitUntil(lambda: counter._card_outline == seen, timeout=5000)
    assert not counter._card_read and not patient._card_outline
    where = ((420, 210), (1010, 230), (990, 610), (410, 590))
    card = IdCardRead(id_number="11010519491231002X", source="camera", polygon=where)
    from_the_reader_thread(scr.post_card, card)
    qtbot.waitUntil(lambda: counter._card_read, timeout=5000)
    assert counter._card_outline == where
    qtbot.waitUntil(lambda: "submit_card" in ops.names(), timeout=5000)
    assert ops.calls[ops.names().index("submit_card")][1][1] is card
    scr.trigger("reset")  # the next patient: cleared at once, not only when its time is up
    assert not counter._card_outline
    from_the_reader_thread(scr.post_card, IdCardRead(id_number="11010519491231002X"))  # chip
    qtbot.waitUntil(lambda: ops.names().count("submit_card") == 2, timeout=5000)
    assert not counter._card_outline
    scr.shutdown()


def test_codes_and_steps_run_off_the_gui_thread_in_order(qtbot, screen, ops):
    gui = threading.get_ident()
    screen.post_code("RNB1:abc", "camera")
    screen.post_code("A1B2C3D4", "scanner")
    screen.presenter.submit_card({"card": 1})
    qtbot.waitUntil(lambda: ops.names().count("submit_card") == 1, timeout=5000)
    qtbot.waitUntil(lambda: screen.runner.pending() == 0, timeout=5000)
    names = ops.names()
    assert names[names.index("submit_code"):] == ["submit_code", "submit_code", "submit_card"]
    assert all(tid != gui for _n, _a, tid in ops.calls)
    assert ops.calls[-2][1][1:] == ("A1B2C3D4", "scanner")


def test_late_answer_about_previous_patient_never_shows(qtbot, screen, ops):
    ops.gate = threading.Event()
    ops.next_state = samples.state_reject()
    screen.presenter.submit_code("RNB1:old", "camera")
    screen.trigger("reset")  # Esc while the service is still busy with the old patient
    ops.gate.set()
    qtbot.waitUntil(lambda: screen.runner.pending() == 0, timeout=5000)
    assert screen.presenter.state is not None and screen.presenter.state.verdict is None
    assert screen.verdict.banner.decision is None


def test_verdict_plays_its_sound_and_enter_starts_next_patient(qtbot, screen, ops):
    ops.next_state = samples.state_admit()
    screen.presenter.submit_code("RNB1:x", "scanner")
    qtbot.waitUntil(lambda: screen.verdict.banner.decision == Decision.ADMIT, timeout=5000)
    assert screen.sounds.played[-1] == "admit"
    sessions = ops.sessions
    ops.next_state = None
    QTest.keyClick(screen, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ops.sessions == sessions + 1, timeout=5000)
    qtbot.waitUntil(lambda: screen.verdict.banner.decision is None, timeout=5000)


def test_override_needs_a_reason(qtbot, screen, ops):
    ops.next_state = samples.state_reject()
    screen.presenter.submit_code("RNB1:x", "scanner")
    qtbot.waitUntil(lambda: screen.verdict.banner.decision == Decision.REJECT, timeout=5000)
    assert screen.sounds.played[-1] == "reject"
    QTest.keyClick(screen, Qt.Key.Key_F2)
    dlg = screen.dialog
    assert isinstance(dlg, NoteDialog) and dlg.kind == "override"
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dlg.set_text("证件照较旧, 已人工核对")
    assert ok.isEnabled()
    assert dlg.chosen_decision() == Decision.ADMIT
    ok.click()
    qtbot.waitUntil(lambda: "override" in ops.names(), timeout=5000)
    name, args, _tid = ops.calls[ops.names().index("override")]
    assert args[1:] == (Decision.ADMIT, "证件照较旧, 已人工核对")
    qtbot.waitUntil(lambda: screen.verdict.banner.decision == Decision.ADMIT, timeout=5000)


def test_manual_id_error_is_shown_as_words(qtbot, screen, ops):
    from PySide6.QtWidgets import QMessageBox

    QTest.keyClick(screen, Qt.Key.Key_F3)
    dlg = screen.dialog
    assert dlg is not None and dlg.kind == "manual_id"
    dlg.set_text("ABCDEFG")
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: any(b.text() == "Invalid ID number"
                                for b in screen.findChildren(QMessageBox)), timeout=5000)


def test_decline_face_and_suspect_keys(qtbot, screen, ops):
    QTest.keyClick(screen, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: "decline_face" in ops.names(), timeout=5000)
    QTest.keyClick(screen, Qt.Key.Key_F6)
    assert screen.dialog is not None and screen.dialog.kind == "suspect"
    screen.dialog.set_text("同一人一周内三次代挂专家号")
    screen.dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: "report_suspect" in ops.names(), timeout=5000)


def test_face_frames_one_in_flight_others_dropped(qtbot, screen, ops):
    ops.gate = threading.Event()
    frame = np.zeros((120, 160, 3), np.uint8)
    for _i in range(10):
        screen.on_camera_frame(0, frame)
    assert screen.presenter.face_frames_sent == 1
    assert screen.presenter.face_frames_dropped == 9
    assert screen.previews[0].frames_received == 10
    ops.gate.set()
    qtbot.waitUntil(lambda: screen.runner.pending() == 0, timeout=5000)
    screen.on_camera_frame(0, frame)
    assert screen.presenter.face_frames_sent == 2


def test_idle_reset_clears_a_patient(qtbot, screen, ops):
    ops.next_state = samples.state_review()
    screen.presenter.submit_code("RNB1:x", "scanner")
    qtbot.waitUntil(lambda: screen.verdict.banner.decision == Decision.REVIEW, timeout=5000)
    sessions = ops.sessions
    screen.idle_timer.setInterval(50)
    screen.idle_timer.start()
    qtbot.waitUntil(lambda: ops.sessions == sessions + 1, timeout=5000)


def test_alert_badge(qtbot, screen):
    screen.set_alert_count(2)
    assert screen.alert_badge.isVisible() and "2" in screen.alert_badge.text()
    assert "alert" not in screen.sounds.played  # played once, by the security screen
    screen.set_alert_count(0)
    assert not screen.alert_badge.isVisible()


def test_language_switch_at_run_time(qtbot, screen, ops, _english_then_reset):
    ops.next_state = samples.state_reject()
    screen.presenter.submit_code("RNB1:x", "scanner")
    qtbot.waitUntil(lambda: screen.verdict.banner.decision == Decision.REJECT, timeout=5000)
    _english_then_reset.set_language("zh_CN")
    assert screen.windowTitle() == "报到核验"
    assert screen.buttons["next"].text() == "[Enter] 下一位"
    assert screen.verdict.banner.words == "不通过"
    assert "一证一号" in screen.verdict.reasons.item(0).text()
    _english_then_reset.set_language("en")
    assert screen.verdict.banner.words == "REJECT"
    assert "one ID, one booking" in screen.verdict.reasons.item(0).text()


def test_settings_saved_at_run_time_reach_the_screen(qtbot, screen, settings):
    from desk_app.settings import update_settings

    new = update_settings(settings, {"ui": {"idle_reset_s": 120, "sounds": False},
                                     "devices": {"scanner_max_interkey_ms": 50.0}})
    screen.apply_settings(new)
    assert screen.idle_timer.interval() == 120_000
    assert not screen.sounds.enabled
    assert screen.scanner.decoder.max_interkey_ms == 50.0
