"""What every ID-card source returns, and the Protocol a source fulfils.

A desktop reader (chip, :mod:`devices.idcard.serial_reader`) and the camera
(:mod:`devices.idcard.camera_reader`) both yield an :class:`IdCardRead`. The number in it has
always passed ``desk_app.identity.parse_id_number`` (GB 11643 check digit, date, region);
anything else never becomes an ``IdCardRead``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from desk_app.identity import InvalidIdNumber, check_char, parse_id_number
from desk_app.identity.idnumber import icao_check_digit

__all__ = ["ETHNICITIES", "SEXES", "IdCardRead", "IdCardReader", "InvalidIdNumber", "Polygon",
           "check_digit_ok", "normalize_id_number", "printed_number_ok"]

Source = Literal["reader", "camera"]
#: The foreigner's permanent residence card number of 2004/2017: nationality + 12 digits.
FOREIGN15 = re.compile(r"[A-Z]{3}\d{12}")
#: Where a card lies in a camera frame: its corners in frame pixels (x, y), in order round it.
Polygon = tuple[tuple[int, int], ...]

#: GB 3304 ethnicity codes as the chip stores them ("01" .. "56", "97", "98").
ETHNICITIES: dict[str, str] = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
    "08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
    "15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤",
    "22": "畲", "23": "高山", "24": "拉祜", "25": "水", "26": "东乡", "27": "纳西", "28": "景颇",
    "29": "柯尔克孜", "30": "土", "31": "达斡尔", "32": "仫佬", "33": "羌", "34": "布朗",
    "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌", "40": "普米",
    "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂",
    "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春",
    "53": "赫哲", "54": "门巴", "55": "珞巴", "56": "基诺", "97": "其他", "98": "外国血统",
}
ETHNICITY_CODES = {v: k for k, v in ETHNICITIES.items()}
#: GB 2261.1 sex codes.
SEXES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}


def normalize_id_number(text: str) -> str:
    """The validated, normalised number (``desk_app.identity.parse_id_number``: format, check
    digit, birth date, region), or :class:`InvalidIdNumber` with its ``reason``."""
    return parse_id_number(text).number


def check_digit_ok(number: str) -> bool:
    """Whether 17 digits + check character satisfy ISO 7064 MOD 11-2 (nothing else checked)."""
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return False
    return check_char(number[:17]) == number[17]


def printed_number_ok(number: str) -> bool:
    """The check of the number as a card prints it: 18 characters (resident card, foreigner's
    card 2023) by ISO 7064 MOD 11-2; the 15 characters of the foreigner's card 2017 (3 letters,
    12 digits) by the ICAO 9303 check digit (``desk_app.identity.idnumber``)."""
    if len(number) == 15 and FOREIGN15.fullmatch(number):
        return icao_check_digit(number[:14]) == number[14]
    return check_digit_ok(number)


@dataclass(frozen=True, eq=False)
class IdCardRead:
    """One successful read of a resident ID card.

    ``valid_to`` None with ``long_term`` True is a "长期" card. Fields a source cannot see (the
    camera reads only the number) are empty strings / None. ``portrait`` is a BGR ``uint8``
    image or None (reader without WLT decoder). ``confidence`` is 1.0 for a chip read, the
    voting confidence for the camera. ``polygon`` is where the camera saw the card (its four
    corners in the frame's pixels, for the preview to outline it); empty for a chip read.
    """

    id_number: str
    name: str = ""
    sex: str = ""  # 男 / 女 / ""
    ethnicity: str = ""  # 汉, 回, ... (without 族)
    birth: dt.date | None = None
    address: str = ""
    issuer: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    long_term: bool = False
    portrait: np.ndarray | None = None
    confidence: float = 1.0
    source: Source = "reader"
    polygon: Polygon = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "id_number", normalize_id_number(self.id_number))

    def is_expired(self, today: dt.date) -> bool:
        """True when the card's validity ended before ``today`` (unknown dates: False)."""
        return not self.long_term and self.valid_to is not None and self.valid_to < today

    def __repr__(self) -> str:  # never print the number or the name in a traceback
        from desk_app.logs import mask_id_number, mask_name

        return (f"IdCardRead({mask_id_number(self.id_number)}, {mask_name(self.name)}, "
                f"source={self.source}, confidence={self.confidence:.2f})")


class IdCardReader(Protocol):
    """A source of ID-card reads (desktop reader or camera), used by one worker thread.

    ``read`` returns the card on the device now, or raises :class:`~devices.idcard.errors.NoCard`
    (nothing there), ``ReaderNotConnected``, ``ReaderTimeout``, ``FrameChecksumError``."""

    name: str

    def open(self) -> None: ...

    def card_present(self) -> bool: ...

    def read(self) -> IdCardRead: ...

    def close(self) -> None: ...
