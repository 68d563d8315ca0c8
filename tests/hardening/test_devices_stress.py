"""Devices under stress: a camera source that delivers garbage, stops and changes resolution; an
ID-card reader line full of junk and half frames; a keyboard-wedge scanner sending binary junk
and huge bursts. Every consumer survives: typed errors or skipped frames, never a dead thread,
and a good input after the junk is still read."""

from __future__ import annotations

import os
import sys
import threading
import time
import unicodedata

import numpy as np
import pytest
import segno
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk_app.errors import DeskError
from desk_app.faces.engine import BadFrame, shared_model, to_rgb
from desk_app.faces.quality import QualityLimits
from desk_app.faces.verify import judge_frame
from devices.camera import CameraWorker
from devices.camera.errors import CameraError
from devices.camera.types import CameraState
from devices.idcard import sam
from devices.idcard.errors import IdCardError
from devices.qr.pipeline import CodeFeed, CodeRead, QrFrameWorker
from devices.qr.reader import BadImageError, QrReader
from devices.scanner import Rejected, Scanned, Typed, WedgeScanner

pytestmark = pytest.mark.timeout(120)


def _qr_frame(text: str, width: int, height: int) -> np.ndarray:
    """A grey frame with a readable QR code in the middle."""
    code = np.array(segno.make(text, error="m").matrix, dtype=np.uint8)
    scale = max(3, min(width, height) // (2 * (code.shape[0] + 8)))
    mod = np.kron(1 - code, np.ones((scale, scale), np.uint8)) * 255
    mod = np.pad(mod, 4 * scale, constant_values=255)
    frame = np.full((height, width, 3), 128, np.uint8)
    y, x = (height - mod.shape[0]) // 2, (width - mod.shape[1]) // 2
    frame[y:y + mod.shape[0], x:x + mod.shape[1]] = mod[..., None]
    return frame


GARBAGE: list[object] = [
    None, np.zeros(100, np.uint8), np.random.default_rng(1).random((480, 640, 3)),
    np.zeros((0, 0, 3), np.uint8), np.zeros((480, 640, 2), np.uint8),
    np.array([[1, "a"]], dtype=object), np.zeros((2, 2, 2, 2, 2), np.uint8), "frame",
    np.zeros((480, 640, 3), np.int16), np.full((48, 64, 3), np.nan),
]


class _HostileSource:
    """Good frames, then garbage, a resolution change, a huge frame, a lost device, and good
    frames with a QR code at a new resolution."""

    name = "hostile"
    pace_fps = 60.0

    def __init__(self, token: str) -> None:
        self.script: list[object] = (
            [np.full((480, 640, 3), 90, np.uint8)] * 5 + GARBAGE * 3
            + [np.full((720, 1280, 3), 90, np.uint8)] * 3
            + [np.zeros((3000, 4000, 3), np.uint8)]
            + [np.ones((1, 1, 3), np.uint8)] + [CameraError(detail="unplugged")]
            + [np.zeros((240, 320, 3), np.uint8)] * 2)
        self.tail = _qr_frame(token, 1280, 720)
        self.i = 0
        self.opens = 0

    def open(self) -> None:
        self.opens += 1

    def read(self) -> np.ndarray:
        item = self.script[self.i] if self.i < len(self.script) else self.tail
        self.i += 1
        if isinstance(item, Exception):
            raise item
        return item  # type: ignore[return-value]

    def close(self) -> None:
        pass


def test_camera_qr_and_face_gate_survive_a_hostile_source():
    token = "RNB1:hardening-camera-test-1234567890"
    cam = CameraWorker(_HostileSource(token), backoff_initial_s=0.05, backoff_max_s=0.1)
    feed = CodeFeed()
    got: list[CodeRead] = []
    read = threading.Event()
    feed.connect(lambda r: (got.append(r), read.set()))
    qr = QrFrameWorker(cam, feed)
    model = shared_model()
    face_errors: list[BaseException] = []
    face_frames = [0]
    stop = threading.Event()

    def face_gate() -> None:  # what the check-in face worker does with each newest frame
        sub = cam.subscribe()
        while not stop.is_set():
            f = sub.get(timeout=0.2)
            if f is None:
                continue
            try:
                judge_frame(to_rgb(f.image), model, QualityLimits(), 320)
                face_frames[0] += 1
            except DeskError:
                pass
            except BaseException as exc:  # noqa: BLE001 - recorded, the assertion reports it
                face_errors.append(exc)

    gate = threading.Thread(target=face_gate, name="face-gate", daemon=True)
    cam.start()
    qr.start()
    gate.start()
    try:
        assert read.wait(30), f"no code read after the junk (state {cam.state})"
        assert cam.is_alive() and cam.state is CameraState.RUNNING
        assert qr._thread is not None and qr._thread.is_alive() and gate.is_alive()
    finally:
        stop.set()
        qr.stop()
        cam.stop()
        gate.join(5)
    assert got[0].text == token
    assert cam.bad_frames >= len(GARBAGE) * 3 - 3  # garbage skipped, not published
    assert cam.reconnects >= 1 and cam.source.opens >= 2  # the lost device came back
    assert not face_errors, face_errors[:3]
    assert face_frames[0] >= 1


@pytest.mark.parametrize("image", GARBAGE, ids=lambda g: type(g).__name__ + str(
    getattr(g, "shape", "")))
def test_qr_reader_and_face_input_refuse_garbage_with_typed_errors(image):
    try:
        QrReader().read(image)  # type: ignore[arg-type]
    except BadImageError:
        pass
    try:
        to_rgb(image)  # type: ignore[arg-type]
    except BadFrame as exc:
        assert exc.text.zh and exc.detail


# --- the ID-card reader line -----------------------------------------------------------------

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="pty simulator is POSIX only")

CARD = sam.CardText(name="李小龙", sex_code="1", ethnicity_code="03", birth="19850615",
                    address="上海市黄浦区南京东路100号", id_number="310101198506150016",
                    issuer="上海市公安局黄浦分局", valid_from="20100101", valid_to="20200101")


def _junk(rng: np.random.Generator) -> bytes:
    """Line noise of several kinds: random bytes, fake preambles with absurd lengths, half
    frames, a whole frame with a wrong checksum, a valid frame nobody asked for."""
    kind = int(rng.integers(0, 5))
    if kind == 0:
        return rng.bytes(int(rng.integers(1, 300)))
    if kind == 1:
        return sam.PREAMBLE + int(rng.integers(0, 65536)).to_bytes(2, "big") + rng.bytes(5)
    good = sam.build_response(sam.SW_OK, rng.bytes(int(rng.integers(0, 64))))
    if kind == 2:
        return good[:int(rng.integers(1, len(good)))]
    if kind == 3:
        return good[:-1] + bytes([good[-1] ^ 0xFF])
    return good


@posix_only
def test_serial_reader_survives_a_line_full_of_junk_and_recovers():
    from devices.idcard.serial_reader import SamSerialReader
    from devices.idcard.simulator import SimulatedSamReader

    rng = np.random.default_rng(20261122)
    sim = SimulatedSamReader().start()
    reader = SamSerialReader(sim.port, timeout_s=0.3, read_timeout_s=0.8)
    reader.open()
    outcomes: dict[str, int] = {}
    try:
        sim.insert_card(CARD)
        spewing = threading.Event()
        spewing.set()
        junk = [_junk(rng) for _ in range(500)]

        spewed = [0]

        def spew() -> None:  # junk arrives while answers are under way, not only before
            i = 0
            while spewing.is_set():
                try:
                    spewed[0] += os.write(sim._master, junk[i % len(junk)])
                except OSError:
                    return
                i += 1
                time.sleep(0.004)

        spewer = threading.Thread(target=spew, daemon=True)
        spewer.start()
        deadline = time.monotonic() + 8
        n = 0
        while time.monotonic() < deadline and n < 40:
            n += 1
            try:
                r = reader.read() if n % 3 == 0 else reader.card_present()
                outcomes["ok"] = outcomes.get("ok", 0) + 1
                if n % 3 == 0:
                    assert r.id_number == CARD.id_number  # never a wrong card
            except IdCardError as exc:
                outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
        spewing.clear()
        spewer.join(2)
        # the junk stops: the line recovers within a few tries
        for _ in range(5):
            try:
                assert reader.read().id_number == CARD.id_number
                break
            except IdCardError:
                time.sleep(0.2)
        else:
            pytest.fail(f"reader did not recover after the junk: {outcomes}")
        # the cable is pulled mid-conversation: a typed error, not a crash
        os.write(sim._master, sam.PREAMBLE + b"\x05\x08" + b"\x00" * 100)
        sim.unplug()
        with pytest.raises(IdCardError):
            reader.read()
            reader.read()
    finally:
        reader.close()
        sim.stop()
    print("serial junk outcomes:", outcomes)
    assert sum(outcomes.values()) == n
    # the junk flowed all along (how often it hit an answer depends on timing: skipped bytes
    # before a preamble cost nothing, a hit is a typed error and a retry)
    assert spewed[0] > 0, spewed


# --- the keyboard-wedge scanner --------------------------------------------------------------

@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.one_of(st.binary(max_size=8).map(lambda b: b.decode("latin-1")),
                                    st.characters(), st.sampled_from("\r\n\t\x00\x1b\x7f\x08")),
                          st.floats(0, 80, allow_nan=False)), max_size=80))
def test_scanner_binary_junk_and_control_characters(keys):
    feed = CodeFeed()
    got: list[CodeRead] = []
    feed.connect(got.append)
    typed: list[str] = []
    scanner = WedgeScanner(feed, on_typed=typed.append)
    t = 0.0
    for text, gap in keys:
        t += gap
        for e in scanner.tick(t) + scanner.key(text, t):
            assert isinstance(e, (Scanned, Typed, Rejected))
    scanner.tick(t + 10_000)
    for r in got:  # what reaches the code pipeline: no control characters, bounded length
        assert not any(unicodedata.category(c) == "Cc" for c in r.text), repr(r.text)
        assert 0 < len(r.text) <= 4096
    # and a real scan afterwards still gets through
    token = "RNB1:after-the-junk-0123456789"
    t += 10_000
    for ch in token + "\r":
        t += 5
        scanner.key(ch, t)
    assert got and got[-1].text == token


def test_scanner_huge_burst_is_rejected_once_and_bounded():
    feed = CodeFeed()
    got: list[CodeRead] = []
    feed.connect(got.append)
    rejected: list[Rejected] = []
    scanner = WedgeScanner(feed, on_rejected=rejected.append)
    t = 0.0
    t0 = time.perf_counter()
    for i in range(200_000):  # a stuck key or a hostile HID device
        t += 1
        scanner.key("A" if i % 7 else "\x00", t)
    scanner.key("\r", t + 1)
    took = time.perf_counter() - t0
    assert not got and len(rejected) == 1
    assert len(scanner.decoder._buf) <= scanner.decoder.max_length
    assert took < 10, took
    for ch in "RNB1:ok-after-burst\r":
        t += 1000
        scanner.key(ch, t)
    assert not got  # slow typing is typing, not a scan
