"""Camera-read and scanner-typed codes reach the same feed; wedge timing tells a scanner from a
person; the live QR worker reads a code from a running scene camera."""

from __future__ import annotations

import base64
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk_app.settings import DevicesSection
from devices.camera import CameraWorker, ScenePlayer, SceneStep, phone
from devices.qr.pipeline import CodeDebouncer, CodeFeed, CodeRead, QrFrameWorker, clean_code_text
from devices.scanner import Rejected, Scanned, Typed, WedgeDecoder, WedgeScanner

THRESHOLD = DevicesSection().scanner_max_interkey_ms
TOKEN = "RNB1:" + base64.urlsafe_b64encode(bytes(range(120))).decode().rstrip("=")


def burst(dec: WedgeDecoder, text: str, t0: float, gap: float) -> list:
    out = []
    t = t0
    for ch in text:
        out += dec.key(ch, t)
        t += gap
    return out + dec.key("\r", t)


def typed_text(events) -> str:
    return "".join(e.text for e in events if isinstance(e, Typed))


def test_scanner_burst_with_enter_is_a_scan():
    dec = WedgeDecoder(THRESHOLD)
    events = burst(dec, "A1B2C3D4", 1000.0, gap=8.0)
    assert events == [Scanned("A1B2C3D4", 1064.0, pytest.approx(1000 * 9 / 64))]
    assert not dec.holding


def test_person_typing_is_given_back_key_by_key_nothing_lost():
    dec = WedgeDecoder(THRESHOLD)
    events = []
    t = 0.0
    for ch in "A1B2C3D4":
        events += dec.tick(t)
        events += dec.key(ch, t)
        t += 180.0  # a quick typist: ~5 keys per second
    events += dec.key("\r", t)
    assert not any(isinstance(e, Scanned) for e in events)
    assert typed_text(events) == "A1B2C3D4\r"


def test_fast_enter_after_slow_keys_and_short_bursts_are_typing():
    dec = WedgeDecoder(THRESHOLD, min_length=4)
    assert typed_text(burst(dec, "ab", 0, 5.0)) == "ab\r"  # too short for a code
    events = dec.key("x", 100.0) + dec.key("y", 300.0) + dec.key("z", 310.0) + dec.key("\r", 315.0)
    assert typed_text(events) == "xyz\r"


def test_threshold_is_the_setting():
    just_over = THRESHOLD + 5
    assert not any(isinstance(e, Scanned) for e in burst(WedgeDecoder(THRESHOLD), "12345678",
                                                          0, just_over))
    assert any(isinstance(e, Scanned) for e in burst(WedgeDecoder(THRESHOLD), "12345678", 0,
                                                      THRESHOLD - 1))


def test_held_keys_are_released_by_tick_when_no_enter_comes():
    dec = WedgeDecoder(THRESHOLD)
    events = []
    for i, ch in enumerate("12345"):
        events += dec.key(ch, 10.0 * i)
    assert events == [] and dec.holding
    assert dec.tick(40.0 + THRESHOLD / 2) == []
    assert dec.tick(41.0 + THRESHOLD) == [Typed("12345")]
    assert not dec.holding


def test_person_then_scanner_then_person():
    dec = WedgeDecoder(THRESHOLD)
    ev = dec.key("h", 0.0) + dec.key("i", 200.0)
    ev += burst(dec, "CODE1234", 600.0, 6.0)
    ev += dec.key("!", 2000.0) + dec.tick(3000.0)
    assert [e for e in ev if isinstance(e, Scanned)][0].text == "CODE1234"
    assert typed_text(ev) == "hi!"


def test_overlong_burst_is_rejected_once_and_its_tail_ignored():
    dec = WedgeDecoder(THRESHOLD, max_length=16)
    ev = burst(dec, "X" * 40, 0.0, 2.0)
    assert ev == [Rejected("too_long", 17)]
    assert burst(dec, "GOOD1234", 500.0, 2.0)[0] == Scanned("GOOD1234", 516.0, pytest.approx(562.5))


def test_control_characters_are_not_code_text():
    dec = WedgeDecoder(THRESHOLD)
    ev = burst(dec, "AB\x1dCD12", 0.0, 3.0)
    assert [e.text for e in ev if isinstance(e, Scanned)] == ["ABCD12"]
    assert dec.key("\x08", 1000.0) == [Typed("\x08")]  # Backspace from a person passes through
    assert clean_code_text("  ok\r\n", 10) == "ok"
    assert clean_code_text("bad\x00", 10) is None and clean_code_text("x" * 11, 10) is None


def test_scanner_and_camera_feed_the_same_pipeline_with_debounce():
    feed = CodeFeed(CodeDebouncer(repeat_s=3.0))
    got: list[CodeRead] = []
    feed.connect(got.append)
    scanner = WedgeScanner(feed, THRESHOLD)
    for _ in range(2):  # the clerk scans twice
        t = 0.0
        for ch in "A1B2C3D4\r":
            scanner.key(ch, t)
            t += 5
    assert [(r.text, r.source, r.decoder) for r in got] == [("A1B2C3D4", "scanner", "scanner")]
    assert feed.submit(CodeRead("A1B2C3D4", "camera", "zxing", got[0].timestamp + 10))
    assert not feed.submit(CodeRead("  \r\n", "camera", "zxing", 0.0))
    assert len(got) == 2 and got[1].source == "camera"


def test_live_qr_worker_reads_a_code_from_a_running_scene_camera():
    script = [SceneStep("empty", 0.3, (), noise=2.0),
              SceneStep("shows QR", 3.0, (phone(TOKEN, at=(0.5, 0.5), to=(0.55, 0.5)),),
                        blur=0.6, noise=3.0)]
    cam = CameraWorker(ScenePlayer(script, width=1280, height=720, fps=30))
    feed = CodeFeed()
    got: list[CodeRead] = []
    done = threading.Event()
    feed.connect(lambda r: (got.append(r), done.set()))
    worker = QrFrameWorker(cam, feed)
    cam.start()
    worker.start()
    try:
        assert done.wait(10), "the code was not read within 10 s"
    finally:
        worker.stop()
        cam.stop()
    assert got[0].text == TOKEN and got[0].source == "camera"
    assert got[0].decoder in ("pyzbar", "zxing") and got[0].stage
    xs = [x for x, _ in got[0].polygon]
    assert len(got[0].polygon) >= 4 and 300 < sum(xs) / len(xs) < 1000  # where the phone is
    assert len(got) == 1  # seen in many frames, reported once
    assert worker.frames_decoded >= 1 and worker.ms_median > 0


def test_qt_scanner_adapter_emits_scanned(qtbot):
    from devices.scanner.qt import WedgeScannerQt

    feed = CodeFeed()
    got: list[CodeRead] = []
    feed.connect(got.append)
    qs = WedgeScannerQt(feed, THRESHOLD)
    typed: list[str] = []
    qs.typed.connect(typed.append)
    with qtbot.waitSignal(qs.scanned, timeout=1000) as sig:
        for i, ch in enumerate("REF-0042\r"):
            qs.feed_key(ch, 5000.0 + 4 * i)
    assert sig.args == ["REF-0042"] and [r.text for r in got] == ["REF-0042"]
    qs.feed_key("q", None)  # a person: released by the adapter's own timer
    qtbot.waitUntil(lambda: typed == ["q"], timeout=1000)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("AB12-x \r"), st.floats(0, 300)), max_size=60))
def test_wedge_never_loses_or_invents_a_key(keys):
    """Whatever the timing: typed keys + scanned codes (each with its Enter) == what was typed."""
    dec = WedgeDecoder(THRESHOLD)
    out = []
    t = 0.0
    for ch, gap in keys:
        t += gap
        out += dec.tick(t)
        out += dec.key(ch, t)
    out += dec.tick(t + 10_000)
    rebuilt = "".join(e.text if isinstance(e, Typed) else e.text + "\r" for e in out)
    assert rebuilt == "".join(ch for ch, _ in keys)
    for e in out:
        if isinstance(e, Scanned):
            assert len(e.text) >= dec.min_length and "\r" not in e.text


def test_code_signals_deliver_worker_thread_codes_in_the_gui_thread(qtbot):
    from PySide6.QtCore import QThread

    from devices.qr.qt import CodeSignals

    feed = CodeFeed()
    signals = CodeSignals()
    feed.connect(signals.sink)
    seen: list[tuple[str, object]] = []
    signals.code_read.connect(lambda r: seen.append((r.text, QThread.currentThread())))
    t = threading.Thread(target=lambda: feed.submit(CodeRead("RNB1:x", "camera", "zxing", 1.0)))
    t.start()
    t.join()
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=1000)
    assert seen[0] == ("RNB1:x", QThread.currentThread())
