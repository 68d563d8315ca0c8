"""The serial protocol of desktop resident-ID-card readers (二代证阅读器, SAM V module, GA 467).

Every reader built around the police SAM module speaks it over a (USB-)serial line, 115200 8N1.

Frame layout (both directions)::

    host -> reader:  AA AA AA 96 69 | LEN1 LEN2 | CMD  PARA     | DATA... | CHK
    reader -> host:  AA AA AA 96 69 | LEN1 LEN2 | SW1  SW2  SW3 | DATA... | CHK

* preamble: 5 bytes ``AA AA AA 96 69``;
* LEN: big-endian byte count of everything after it, checksum included (command: CMD, PARA,
  DATA, CHK; response: SW1, SW2, SW3, DATA, CHK);
* CHK: XOR of every byte after the preamble and before CHK (LEN1 .. last DATA byte);
* SW3 is the operation status: 0x90 success, 0x9F card found, 0x80 no card found, 0x81 select
  failed, 0x41 read failed, 0x10 the reader received a bad checksum, 0x11 bad length,
  0x21 unknown command, 0x60 SAM self-test failed ...

Commands used here: find card ``20 01`` (-> 9F + 4 bytes, or 80), select card ``20 02``
(-> 90 + 8 bytes, or 81), read basic info ``30 01`` (-> 90, data = text length (2, BE, 256) +
photo length (2, BE, 1024) + 256-byte text block + 1024-byte WLT photo; LEN = 0x0508).

The 256-byte text block is UTF-16LE, fields padded with spaces: name 30 bytes, sex 2 (GB 2261
code), ethnicity 4 (GB 3304 code), birth 16 (YYYYMMDD), address 70, ID number 36, issuer 30,
valid from 16, valid to 16 (YYYYMMDD or "长期"), reserved 36.

Sources checked (layout and command bytes agree): the response-frame comment
"Preamble | Len1|Len2 | SW1 | SW2 | SW3 | Data |CHK_SUM ... CHK_SUM = XOR of all bytes but
preamble and checksum" in a Routon Android reader sample; the command constants
``{AA AA AA 96 69 00 03 20 01 22}`` / ``20 02 21`` / ``30 01 32`` of hev-dbus-idcard-reader;
the ``IDCARD`` struct (name[30] ... reserved[36], image[1024]) of
chenhaifeng2016/FaceRecognitionTest ``IDCardReader/src/IDReader.h``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import reduce

from devices.idcard.errors import FrameChecksumError

log = logging.getLogger(__name__)

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2
#: Longest LEN accepted; the largest real answer (read basic info + fingerprint) is ~2.3 kB.
MAX_LEN = 4096

CMD_FIND = (0x20, 0x01)
CMD_SELECT = (0x20, 0x02)
CMD_READ_BASIC = (0x30, 0x01)
CMD_SAM_STATUS = (0x11, 0xFF)

SW_OK = 0x90
SW_FOUND = 0x9F
SW_NO_CARD = 0x80
SW_SELECT_FAILED = 0x81
SW_READ_FAILED = 0x41
SW_BAD_CHECKSUM = 0x10
SW_BAD_LENGTH = 0x11
SW_UNKNOWN_COMMAND = 0x21
SW_SAM_FAILED = 0x60

TEXT_LEN = 256
PHOTO_LEN = 1024
#: (field, bytes) in the order of the text block.
TEXT_FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 30), ("sex", 2), ("ethnicity", 4), ("birth", 16), ("address", 70),
    ("id_number", 36), ("issuer", 30), ("valid_from", 16), ("valid_to", 16), ("reserved", 36),
)
assert sum(n for _, n in TEXT_FIELDS) == TEXT_LEN


def xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def build_command(cmd: int, para: int, data: bytes = b"") -> bytes:
    body = (3 + len(data)).to_bytes(2, "big") + bytes((cmd, para)) + data
    return PREAMBLE + body + bytes((xor(body),))


def build_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    body = (4 + len(data)).to_bytes(2, "big") + bytes((sw1, sw2, sw3)) + data
    return PREAMBLE + body + bytes((xor(body),))


@dataclass(frozen=True)
class Frame:
    """One checked frame: ``head`` is (CMD, PARA) for commands, (SW1, SW2, SW3) for answers."""

    head: bytes
    data: bytes

    @property
    def status(self) -> int:
        return self.head[-1]


class FrameParser:
    """Incremental frame reader: feed bytes as they arrive, take whole checked frames out.

    Bytes before a preamble are skipped (line noise, a half frame from before a reset). A frame
    whose checksum fails is dropped and reported once as :class:`FrameChecksumError`; parsing
    resumes after its preamble, so one bad frame never wedges the line.
    """

    def __init__(self, *, response: bool = True) -> None:
        self._buf = bytearray()
        self._head_len = 3 if response else 2
        self.skipped = 0

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def pending(self) -> int:
        return len(self._buf)

    def needed(self) -> int:
        """Bytes still missing for the frame under way (at least 1 when nothing is known)."""
        start = self._buf.find(PREAMBLE)
        if start < 0 or len(self._buf) - start < HEADER_LEN:
            return max(1, HEADER_LEN - max(0, len(self._buf) - max(start, 0)))
        n = int.from_bytes(self._buf[start + 5:start + 7], "big")
        return max(1, start + HEADER_LEN + n - len(self._buf))

    def next_frame(self) -> Frame | None:
        """The next complete frame, None when more bytes are needed; raises FrameChecksumError."""
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                # Keep a possible partial preamble at the end.
                keep = 0
                for k in range(len(PREAMBLE) - 1, 0, -1):
                    if self._buf.endswith(PREAMBLE[:k]):
                        keep = k
                        break
                self.skipped += len(self._buf) - keep
                del self._buf[: len(self._buf) - keep]
                return None
            if start:
                self.skipped += start
                del self._buf[:start]
            if len(self._buf) < HEADER_LEN:
                return None
            n = int.from_bytes(self._buf[5:7], "big")
            if n < self._head_len + 1 or n > MAX_LEN:
                del self._buf[: len(PREAMBLE)]  # not a real frame start: look further
                raise FrameChecksumError(detail=f"frame length {n} out of range")
            if len(self._buf) < HEADER_LEN + n:
                return None
            body = bytes(self._buf[5:HEADER_LEN + n - 1])
            chk = self._buf[HEADER_LEN + n - 1]
            if xor(body) != chk:
                del self._buf[: len(PREAMBLE)]
                raise FrameChecksumError(detail="xor mismatch")
            del self._buf[: HEADER_LEN + n]
            return Frame(body[2:2 + self._head_len], body[2 + self._head_len:])


# --- the basic-information payload -------------------------------------------------------------


@dataclass(frozen=True)
class CardText:
    """The text block as stored on the chip (codes, not yet words)."""

    name: str
    sex_code: str
    ethnicity_code: str
    birth: str  # YYYYMMDD
    address: str
    id_number: str
    issuer: str
    valid_from: str  # YYYYMMDD
    valid_to: str  # YYYYMMDD or 长期

    def __repr__(self) -> str:
        return "CardText(<personal data>)"


def _field(text: str, size: int) -> bytes:
    raw = text.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"field of {len(raw)} bytes does not fit in {size}")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def encode_text_block(card: CardText) -> bytes:
    values = (card.name, card.sex_code, card.ethnicity_code, card.birth, card.address,
              card.id_number, card.issuer, card.valid_from, card.valid_to, "")
    out = b"".join(_field(v, n) for v, (_, n) in zip(values, TEXT_FIELDS, strict=True))
    assert len(out) == TEXT_LEN
    return out


def decode_text_block(block: bytes) -> CardText:
    """Split and decode the 256-byte UTF-16LE text block (spaces and NULs trimmed)."""
    if len(block) < TEXT_LEN:
        raise FrameChecksumError(detail=f"text block of {len(block)} bytes")
    values: dict[str, str] = {}
    pos = 0
    for name, size in TEXT_FIELDS:
        raw = block[pos:pos + size]
        pos += size
        values[name] = raw.decode("utf-16-le", errors="replace").strip(" \x00\u3000")
    values.pop("reserved")
    values["sex_code"] = values.pop("sex")
    values["ethnicity_code"] = values.pop("ethnicity")
    return CardText(**values)


def split_basic_info(data: bytes) -> tuple[bytes, bytes]:
    """(text block, WLT photo) from the data of a read-basic-info answer."""
    if len(data) < 4:
        raise FrameChecksumError(detail="basic info too short")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if len(data) < 4 + text_len + photo_len or text_len < TEXT_LEN:
        raise FrameChecksumError(detail=f"basic info lengths {text_len}/{photo_len} vs {len(data)}")
    return data[4:4 + text_len], data[4 + text_len:4 + text_len + photo_len]


def join_basic_info(text: bytes, photo: bytes) -> bytes:
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


def parse_date(text: str) -> dt.date | None:
    """``YYYYMMDD`` -> date; anything else (长期, blank, garbage) -> None."""
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
