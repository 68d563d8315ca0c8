"""A simulated desktop ID-card reader speaking the SAM protocol on a pseudo-terminal.

``SimulatedSamReader().start()`` opens a pty pair; the program under test opens ``.port`` (the
slave, e.g. ``/dev/pts/7``) with pyserial exactly as it would a real ``/dev/ttyUSB0``, and the
simulator answers on the master side from its own thread. Tests and the demo put cards down
(:meth:`insert_card`), lift them (:meth:`remove_card`) and inject line faults: answers split
into small pieces, noise before a frame, a corrupted checksum, silence, a card lifted between
select and read, the cable pulled (:meth:`unplug`). POSIX only (``os.openpty``).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from devices.idcard import sam
from devices.idcard.errors import FrameChecksumError

log = logging.getLogger(__name__)

Fault = Literal["split", "noise", "corrupt", "silent", "lift_during_read", "truncate"]


@dataclass
class SimCard:
    text: sam.CardText
    photo: bytes = field(default_factory=lambda: bytes(sam.PHOTO_LEN))


class SimulatedSamReader:
    def __init__(self, *, split_chunk: int = 7, split_delay_s: float = 0.002) -> None:
        self.card: SimCard | None = None
        self.faults: deque[Fault] = deque()  # each applies to the next answer, in order
        self.split_chunk = split_chunk
        self.split_delay_s = split_delay_s
        self.commands: list[tuple[int, int]] = []
        self.bad_commands = 0
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.port = ""

    # --- life cycle ----------------------------------------------------------------------------
    def start(self) -> SimulatedSamReader:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self.port = os.ttyname(slave)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-sam-reader", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    log.debug("pty fd already closed")
        self._master = self._slave = None

    def unplug(self) -> None:
        """The cable is pulled: the port stops existing for the program that opened it."""
        self.stop()

    def __enter__(self) -> SimulatedSamReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the scene -----------------------------------------------------------------------------
    def insert_card(self, text: sam.CardText, photo: bytes | None = None) -> None:
        with self._lock:
            self.card = SimCard(text, photo if photo is not None else bytes(sam.PHOTO_LEN))

    def remove_card(self) -> None:
        with self._lock:
            self.card = None

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    # --- serving -------------------------------------------------------------------------------
    def _run(self) -> None:
        parser = sam.FrameParser(response=False)
        assert self._master is not None
        master = self._master
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(master, 4096)
            except OSError:
                return  # pty closed
            if not data:
                return
            parser.feed(data)
            while True:
                try:
                    frame = parser.next_frame()
                except FrameChecksumError:
                    self.bad_commands += 1
                    self._send(sam.build_response(sam.SW_BAD_CHECKSUM))
                    continue
                if frame is None:
                    break
                self._answer(frame.head[0], frame.head[1])

    def _answer(self, cmd: int, para: int) -> None:
        self.commands.append((cmd, para))
        with self._lock:
            fault = self.faults.popleft() if self.faults else None
            card = self.card
            if fault == "lift_during_read" and (cmd, para) == sam.CMD_READ_BASIC:
                self.card = card = None
        if fault == "silent":
            return
        if (cmd, para) == sam.CMD_FIND:
            reply = (sam.build_response(sam.SW_FOUND, bytes(4)) if card
                     else sam.build_response(sam.SW_NO_CARD))
        elif (cmd, para) == sam.CMD_SELECT:
            reply = (sam.build_response(sam.SW_OK, bytes(8)) if card
                     else sam.build_response(sam.SW_SELECT_FAILED))
        elif (cmd, para) == sam.CMD_READ_BASIC:
            if card is None:
                reply = sam.build_response(sam.SW_READ_FAILED)
            else:
                data = sam.join_basic_info(sam.encode_text_block(card.text), card.photo)
                reply = sam.build_response(sam.SW_OK, data)
        elif (cmd, para) == sam.CMD_SAM_STATUS:
            reply = sam.build_response(sam.SW_OK)
        else:
            reply = sam.build_response(sam.SW_UNKNOWN_COMMAND)
        if fault == "corrupt":
            b = bytearray(reply)
            b[len(b) // 2] ^= 0x5A
            reply = bytes(b)
        elif fault == "noise":
            reply = b"\x00\xff\xaa\x13" + reply
        elif fault == "truncate":
            reply = reply[: len(reply) // 2]
        self._send(reply, split=fault == "split")

    def _send(self, data: bytes, *, split: bool = False) -> None:
        if self._master is None:
            return
        try:
            if not split:
                os.write(self._master, data)
                return
            for i in range(0, len(data), self.split_chunk):
                os.write(self._master, data[i:i + self.split_chunk])
                time.sleep(self.split_delay_s)
        except OSError:
            log.debug("simulated reader: write after close")
