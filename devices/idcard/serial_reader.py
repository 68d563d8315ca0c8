"""A desktop ID-card reader on a serial port, speaking the SAM protocol (:mod:`.sam`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import serial

from desk_app.logs import MASKER
from devices.idcard import sam
from devices.idcard.errors import (
    FrameChecksumError,
    NoCard,
    ReaderNotConnected,
    ReaderProtocolError,
    ReaderTimeout,
)
from devices.idcard.types import ETHNICITIES, SEXES, IdCardRead, InvalidIdNumber
from devices.idcard.wlt import PortraitDecoder

log = logging.getLogger(__name__)

SerialFactory = Callable[..., serial.SerialBase]

try:  # pyserial lets termios.error through (e.g. tcflush on a pty whose other end is gone)
    from termios import error as _TermiosError

    PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, _TermiosError)
except ImportError:  # Windows
    PORT_ERRORS = (serial.SerialException, OSError)


class SamSerialReader:
    """One reader on one port. Not thread-safe: owned by one worker (see :mod:`.poller`).

    ``read()`` = find card, select card, read basic info; a frame that fails its checksum is
    asked for again up to ``retries`` times before :class:`FrameChecksumError` is raised.
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 115200,
        timeout_s: float = 1.0,
        read_timeout_s: float = 3.0,
        retries: int = 2,
        portrait_decoder: PortraitDecoder | None = None,
        serial_factory: SerialFactory | None = None,
    ) -> None:
        self.name = f"sam:{port}"
        self.port = port
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.read_timeout_s = read_timeout_s
        self.retries = retries
        self.portrait_decoder = portrait_decoder
        self._factory = serial_factory or serial.serial_for_url
        self._ser: serial.SerialBase | None = None
        self.checksum_errors = 0

    # --- connection ----------------------------------------------------------------------------
    def open(self) -> None:
        if self._ser is not None:
            return
        try:
            self._ser = self._factory(self.port, baudrate=self.baudrate, timeout=0.05,
                                      write_timeout=self.timeout_s)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ReaderNotConnected(detail=f"{type(exc).__name__} opening {self.port}") from exc

    def close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except PORT_ERRORS as exc:
                log.debug("closing %s: %s", self.port, type(exc).__name__)

    @property
    def is_open(self) -> bool:
        return self._ser is not None

    def __enter__(self) -> SamSerialReader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one exchange --------------------------------------------------------------------------
    def transact(self, cmd: int, para: int, data: bytes = b"", timeout_s: float | None = None
                 ) -> sam.Frame:
        """Send one command and return the checked answer (retried on checksum failure)."""
        last: FrameChecksumError | None = None
        for _ in range(self.retries + 1):
            try:
                frame = self._exchange(cmd, para, data, timeout_s or self.timeout_s)
            except FrameChecksumError as exc:
                self.checksum_errors += 1
                last = exc
                continue
            if frame.status == sam.SW_BAD_CHECKSUM:  # our command arrived damaged: resend
                self.checksum_errors += 1
                last = FrameChecksumError(detail="reader reports a bad command checksum")
                continue
            return frame
        assert last is not None
        raise last

    def _exchange(self, cmd: int, para: int, data: bytes, timeout_s: float) -> sam.Frame:
        if self._ser is None:
            self.open()
        ser = self._ser
        assert ser is not None
        parser = sam.FrameParser(response=True)
        try:
            ser.reset_input_buffer()  # drop the rest of an earlier, abandoned answer
            ser.write(sam.build_command(cmd, para, data))
            deadline = time.monotonic() + timeout_s
            while True:
                frame = parser.next_frame()  # FrameChecksumError propagates
                if frame is not None:
                    return frame
                if time.monotonic() > deadline:
                    raise ReaderTimeout(detail=f"cmd {cmd:02X}{para:02X}: {parser.pending} bytes")
                chunk = ser.read(min(max(parser.needed(), 1), 4096))
                if chunk:
                    parser.feed(chunk)
        except PORT_ERRORS as exc:
            self.close()
            raise ReaderNotConnected(detail=f"{type(exc).__name__} on {self.port}") from exc

    # --- the card ------------------------------------------------------------------------------
    def card_present(self) -> bool:
        frame = self.transact(*sam.CMD_FIND)
        if frame.status == sam.SW_FOUND:
            return True
        if frame.status == sam.SW_NO_CARD:
            return False
        raise ReaderProtocolError(frame.status)

    def read(self) -> IdCardRead:
        if not self.card_present():
            raise NoCard()
        frame = self.transact(*sam.CMD_SELECT)
        if frame.status in (sam.SW_SELECT_FAILED, sam.SW_NO_CARD):
            raise NoCard(detail="select failed")
        if frame.status != sam.SW_OK:
            raise ReaderProtocolError(frame.status)
        frame = self.transact(*sam.CMD_READ_BASIC, timeout_s=self.read_timeout_s)
        if frame.status in (sam.SW_READ_FAILED, sam.SW_NO_CARD):
            raise NoCard(detail="read failed (card moved?)")
        if frame.status != sam.SW_OK:
            raise ReaderProtocolError(frame.status)
        text, photo = sam.split_basic_info(frame.data)
        return card_read_from(sam.decode_text_block(text), photo, self.portrait_decoder)


def card_read_from(card: sam.CardText, photo: bytes, decoder: PortraitDecoder | None
                   ) -> IdCardRead:
    """The :class:`IdCardRead` for a decoded text block (chip data is trusted but re-checked)."""
    portrait = decoder.decode(photo) if decoder is not None and photo else None
    if card.name:
        MASKER.remember(card.name)
    try:
        return IdCardRead(
            id_number=card.id_number,
            name=card.name,
            sex=SEXES.get(card.sex_code, ""),
            ethnicity=ETHNICITIES.get(card.ethnicity_code, card.ethnicity_code),
            birth=sam.parse_date(card.birth),
            address=card.address,
            issuer=card.issuer,
            valid_from=sam.parse_date(card.valid_from),
            valid_to=sam.parse_date(card.valid_to),
            long_term=card.valid_to.strip() == "长期",
            portrait=portrait,
            confidence=1.0,
            source="reader",
        )
    except InvalidIdNumber as exc:  # a chip number always checks: the block is garbled
        raise FrameChecksumError(detail="ID number in the text block fails its check") from exc
