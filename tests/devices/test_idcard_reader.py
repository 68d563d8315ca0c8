"""The serial reader against the simulator on a real pseudo-terminal, and the poll loop."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time

import numpy as np
import pytest

from devices.idcard import sam
from devices.idcard.errors import (
    FrameChecksumError,
    NoCard,
    ReaderNotConnected,
    ReaderTimeout,
)
from devices.idcard.poller import ReaderEvent, ReaderPoller
from devices.idcard.serial_reader import SamSerialReader
from devices.idcard.simulator import SimulatedSamReader
from devices.idcard.synthetic import random_person
from devices.idcard.types import IdCardRead, InvalidIdNumber

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="pty simulator is POSIX only"),
              pytest.mark.timeout(60)]

CARD = sam.CardText(name="李小龙", sex_code="1", ethnicity_code="03", birth="19850615",
                    address="上海市黄浦区南京东路100号", id_number="310101198506150016",
                    issuer="上海市公安局黄浦分局", valid_from="20100101", valid_to="20200101")


@pytest.fixture
def sim():
    s = SimulatedSamReader().start()
    yield s
    s.stop()


@pytest.fixture
def reader(sim):
    r = SamSerialReader(sim.port, timeout_s=0.5, read_timeout_s=1.5)
    r.open()
    yield r
    r.close()


def test_reads_every_field_of_the_card(sim, reader):
    sim.insert_card(CARD)
    read = reader.read()
    assert read.id_number == "310101198506150016"
    assert (read.name, read.sex, read.ethnicity) == ("李小龙", "男", "回")
    assert read.birth == dt.date(1985, 6, 15)
    assert read.address == "上海市黄浦区南京东路100号"
    assert read.issuer == "上海市公安局黄浦分局"
    assert (read.valid_from, read.valid_to) == (dt.date(2010, 1, 1), dt.date(2020, 1, 1))
    assert read.source == "reader" and read.portrait is None  # no WLT decoder configured
    assert sim.commands == [sam.CMD_FIND, sam.CMD_SELECT, sam.CMD_READ_BASIC]


def test_expired_and_long_term_cards(sim, reader):
    sim.insert_card(CARD)
    read = reader.read()
    assert read.is_expired(dt.date(2026, 1, 1))
    assert not read.is_expired(dt.date(2019, 12, 31))
    sim.insert_card(sam.CardText(**{**CARD.__dict__, "valid_to": "长期"}))
    read = reader.read()
    assert read.long_term and read.valid_to is None and not read.is_expired(dt.date(2090, 1, 1))


def test_no_card(sim, reader):
    assert reader.card_present() is False
    with pytest.raises(NoCard):
        reader.read()


def test_answers_in_small_pieces_and_after_noise(sim, reader):
    sim.insert_card(CARD)
    sim.inject("noise", "split", "split")
    assert reader.read().name == "李小龙"
    assert reader.checksum_errors == 0


def test_one_corrupt_frame_is_asked_for_again(sim, reader):
    sim.insert_card(CARD)
    sim.inject("split", "split", "corrupt")  # the read-basic-info answer is damaged once
    read = reader.read()
    assert read.id_number == CARD.id_number
    assert reader.checksum_errors == 1
    assert sim.commands.count(sam.CMD_READ_BASIC) == 2


def test_persistently_corrupt_frames_raise(sim, reader):
    sim.insert_card(CARD)
    sim.inject("corrupt", "corrupt", "corrupt")
    with pytest.raises(FrameChecksumError):
        reader.card_present()


def test_silence_and_truncated_answers_time_out(sim, reader):
    sim.inject("silent")
    t0 = time.monotonic()
    with pytest.raises(ReaderTimeout):
        reader.card_present()
    assert time.monotonic() - t0 < 2
    sim.inject("truncate")
    with pytest.raises(ReaderTimeout):
        reader.card_present()
    assert reader.card_present() is False  # the line recovers


def test_card_lifted_during_the_read(sim, reader):
    sim.insert_card(CARD)
    sim.inject("split", "split", "lift_during_read")
    with pytest.raises(NoCard):
        reader.read()


def test_damaged_command_is_resent(sim, reader):
    # A command damaged on the way makes the reader answer 0x10; the reader resends it.
    sim.insert_card(CARD)
    reader._ser.write(b"\xaa\xaa\xaa\x96\x69\x00\x03\x20\x01\x00")  # wrong checksum
    time.sleep(0.1)
    assert reader.card_present() is True  # the stale 0x10 answer is discarded first
    assert sim.bad_commands == 1


def test_unplugged_reader(sim, reader):
    sim.insert_card(CARD)
    assert reader.card_present()
    sim.unplug()
    with pytest.raises((ReaderNotConnected, ReaderTimeout)):
        reader.card_present()
        reader.card_present()


def test_missing_port():
    r = SamSerialReader("/dev/does-not-exist-idcard")
    with pytest.raises(ReaderNotConnected):
        r.open()


def test_chip_number_with_bad_check_digit_is_a_frame_error(sim, reader):
    sim.insert_card(sam.CardText(**{**CARD.__dict__, "id_number": "310101198506150017"}))
    with pytest.raises(FrameChecksumError):
        reader.read()


def test_id_card_read_validates_its_number():
    with pytest.raises(InvalidIdNumber):
        IdCardRead(id_number="310101198506150017")
    read = IdCardRead(id_number="11010519491231002x")
    assert read.id_number == "11010519491231002X"
    assert "11010519491231002X" not in repr(read)


class Events:
    def __init__(self) -> None:
        self.items: list[ReaderEvent] = []
        self.cond = threading.Condition()

    def __call__(self, e: ReaderEvent) -> None:
        with self.cond:
            self.items.append(e)
            self.cond.notify_all()

    def kinds(self) -> list[str]:
        return [e.kind for e in self.items]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 5.0) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: self.kinds().count(kind) >= count, timeout)
        assert ok, f"no {kind} x{count} in {self.kinds()}"


def test_poller_reads_once_per_placement(sim):
    events = Events()
    poller = ReaderPoller(SamSerialReader(sim.port, timeout_s=0.5), events, interval_s=0.05)
    poller.start()
    try:
        events.wait_for("connected")
        person = random_person(np.random.default_rng(3))
        sim.insert_card(person.card_text())
        events.wait_for("card")
        time.sleep(0.4)  # still lying there: not read again
        assert events.kinds().count("card") == 1
        sim.remove_card()
        events.wait_for("removed")
        sim.insert_card(CARD)
        events.wait_for("card", 2)
        cards = [e.read for e in events.items if e.kind == "card"]
        assert cards[0].id_number == person.id_number and cards[1].name == "李小龙"
        assert poller.reads == 2
    finally:
        poller.stop()
    assert not poller.running


def test_poller_survives_line_faults_and_reports_unplugging(sim):
    events = Events()
    poller = ReaderPoller(SamSerialReader(sim.port, timeout_s=0.3, retries=0), events,
                          interval_s=0.05, backoff_s=(0.05, 0.2))
    poller.start()
    try:
        events.wait_for("connected")
        sim.inject(*["corrupt"] * 5)
        events.wait_for("error")
        sim.insert_card(CARD)
        events.wait_for("card")
        assert events.kinds().count("error") == 1  # five bad frames in a row: said once
        sim.unplug()
        events.wait_for("disconnected")
        assert "removed" in events.kinds()
    finally:
        poller.stop()


def test_poller_says_a_bad_card_once_and_when_the_reader_works_again(sim):
    """A card whose chip data fails its check lies on the reader: one "error" (not one per
    poll); the card lifted, the next clean poll says "connected", so the hint can go."""
    events = Events()
    poller = ReaderPoller(SamSerialReader(sim.port, timeout_s=0.5), events, interval_s=0.05)
    poller.start()
    try:
        events.wait_for("connected")
        sim.insert_card(sam.CardText(**{**CARD.__dict__, "id_number": "310101198506150017"}))
        events.wait_for("error")
        time.sleep(0.5)  # still lying there, read again and again: said once
        assert events.kinds() == ["connected", "error"]
        assert isinstance(events.items[1].error, FrameChecksumError)
        sim.remove_card()
        events.wait_for("connected", 2)
        sim.insert_card(CARD)
        events.wait_for("card")
        assert events.kinds() == ["connected", "error", "connected", "card"]
    finally:
        poller.stop()


def test_factory_builds_the_configured_reader():
    from desk_app.settings import DevicesSection
    from devices.idcard.factory import make_reader

    assert make_reader(DevicesSection(id_reader_port="")) is None
    setup = make_reader(DevicesSection(id_reader_port="sim"))
    assert setup is not None and setup.simulator is not None
    try:
        setup.simulator.insert_card(CARD)
        assert setup.reader.read().name == "李小龙"
    finally:
        setup.close()
    setup = make_reader(DevicesSection(id_reader_port="/dev/ttyUSB-none"))
    with pytest.raises(ReaderNotConnected):
        setup.reader.open()


def test_qt_signals_arrive_in_the_gui_thread(sim, qtbot):
    from PySide6.QtCore import QThread

    from devices.idcard.qt import ReaderSignals

    signals = ReaderSignals()
    seen_threads = []
    signals.card_read.connect(lambda read: seen_threads.append(QThread.currentThread()))
    poller = ReaderPoller(SamSerialReader(sim.port, timeout_s=0.5), signals, interval_s=0.05)
    with qtbot.waitSignal(signals.state_changed, timeout=5000) as state:
        poller.start()
    try:
        assert state.args[0] == "connected"
        with qtbot.waitSignal(signals.card_read, timeout=5000) as got:
            sim.insert_card(CARD)
        assert got.args[0].name == "李小龙"
        assert seen_threads == [signals.thread()]
        with qtbot.waitSignal(signals.card_removed, timeout=5000):
            sim.remove_card()
    finally:
        poller.stop()


def test_a_bad_card_after_the_reader_is_plugged_in_again_is_said_again(tmp_path):
    """The "connected" of a reader plugged in again clears the clerk's hint, so the same error
    as before the unplugging (a bad card still lying on it) must be said again, not kept back
    as already said."""
    import os

    bad = sam.CardText(**{**CARD.__dict__, "id_number": "310101198506150017"})
    port = tmp_path / "ttyUSB0"
    first = SimulatedSamReader().start()
    os.symlink(first.port, port)
    events = Events()
    poller = ReaderPoller(SamSerialReader(str(port), timeout_s=0.3, retries=0), events,
                          interval_s=0.05, backoff_s=(0.05, 0.2))
    poller.start()
    second = SimulatedSamReader()
    try:
        events.wait_for("connected")
        first.insert_card(bad)
        events.wait_for("error")
        first.unplug()
        events.wait_for("disconnected")
        port.unlink()
        os.symlink(second.start().port, port)  # plugged in again, the bad card still on it
        second.insert_card(bad)
        events.wait_for("connected", 2)
        events.wait_for("error", 2)  # said again after the new "connected"
    finally:
        poller.stop()
        second.stop()
        first.stop()
