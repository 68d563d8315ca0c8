"""ID numbers as clerks type them and readers and OCR deliver them: parsed, checked, normalized.

Kinds (``IdKind``):

* ``resident``: 18-digit resident identity number (GB 11643-1999): 6-digit region code (GB/T
  2260, historic codes included, see :mod:`desk_app.identity.regions`), birth date YYYYMMDD,
  3-digit sequence (odd: male), ISO 7064 MOD 11-2 check character (0-9 or X);
* ``resident_15``: the first-generation 15-digit number (region, YYMMDD of 19YY, sequence), given
  as its 18-digit form (``19`` inserted, check character added) so the rest of the application
  sees one number per person;
* ``hmt_permit``: residence permit for Hong Kong, Macau and Taiwan residents (2018 on): the
  resident format with region 810000 / 820000 / 830000;
* ``foreign_permanent``: foreigner's permanent residence ID, 2023 version: ``9``, the 2-digit
  province of the issuing office, the 3-digit numeric nationality code (ISO 3166-1), birth date
  YYYYMMDD, 3-digit sequence (odd: male), MOD 11-2 check character;
* ``foreign_permanent_15``: the 2004 and 2017 versions, 15 characters: 3-letter nationality code
  (ISO 3166-1 alpha-3), 4-digit province+city of the issuing office, birth date YYMMDD, one digit
  (odd: male), one check digit computed as in ICAO 9303 machine-readable zones (weights 7-3-1,
  letters A=10 ... Z=35, sum mod 10). These stay in their 15-character form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from desk_app.clock import CHINA_TZ
from desk_app.errors import Text, UserInputError
from desk_app.identity import regions
from desk_app.logs import mask_id_number

#: Longer input is refused before any work is done on it (a pasted page, a runaway scanner).
MAX_INPUT_CHARS = 64
EARLIEST_BIRTH = date(1900, 1, 1)
HMT_REGIONS = {"810000": ("香港", "Hong Kong"), "820000": ("澳门", "Macau"),
               "830000": ("台湾", "Taiwan")}

_WEIGHTS = [(2 ** (17 - i)) % 11 for i in range(17)]
_CHECK = "10X98765432"
# Spaces of any kind and the hyphens/dashes people and forms put between groups of digits.
_SEPARATORS_RE = re.compile(r"[\s\u200b\u200c\u200d\ufeff\-\u2010-\u2015\u2212]+")
_RESIDENT18_RE = re.compile(r"^\d{17}[\dX]$")
_RESIDENT15_RE = re.compile(r"^\d{15}$")
_FOREIGN15_RE = re.compile(r"^[A-Z]{3}\d{12}$")


class IdKind(StrEnum):
    RESIDENT = "resident"
    RESIDENT_15 = "resident_15"
    HMT_PERMIT = "hmt_permit"
    FOREIGN_PERMANENT = "foreign_permanent"
    FOREIGN_PERMANENT_15 = "foreign_permanent_15"


KIND_TEXT: dict[IdKind, Text] = {
    IdKind.RESIDENT: Text("居民身份证", "Resident ID card"),
    IdKind.RESIDENT_15: Text("居民身份证 (15位旧号)", "Resident ID (old 15-digit number)"),
    IdKind.HMT_PERMIT: Text("港澳台居民居住证", "Residence permit (HK/Macau/Taiwan)"),
    IdKind.FOREIGN_PERMANENT: Text("外国人永久居留身份证", "Foreigner's permanent residence ID"),
    IdKind.FOREIGN_PERMANENT_15: Text("外国人永久居留身份证 (15位旧号)",
                                      "Foreigner's permanent residence ID (old 15-character)"),
}

Reason = Literal["format", "checksum", "date", "region"]

_REASON_TEXT: dict[str, Text] = {
    "format": Text("证件号码格式不对: 应为18位 (最后一位可为X), 或15位旧号。请核对后重新输入。",
                   "This is not an ID number: it should have 18 characters (the last may be X) "
                   "or be an old 15-character number. Please check and type it again."),
    "checksum": Text("证件号码校验位不符, 可能有一位输错或识别错。请对照证件逐位核对。",
                     "The ID number fails its check digit: probably one character was typed or "
                     "read wrongly. Please compare it with the card digit by digit."),
    "date": Text("证件号码中的出生日期不存在或不合理。请对照证件核对。",
                 "The birth date inside the ID number is impossible. Please compare it with "
                 "the card."),
    "region": Text("证件号码开头的地区代码 (或国籍代码) 不存在。请对照证件核对前六位。",
                   "The region (or nationality) code at the start of the ID number does not "
                   "exist. Please compare the first six characters with the card."),
}


class InvalidIdNumber(UserInputError):
    """Text that is not a valid ID number; ``reason`` in format / checksum / date / region."""

    title_text = Text("证件号码无效", "Invalid ID number")

    def __init__(self, reason: Reason, text: Text | None = None, *, detail: str = ""):
        self.reason = reason
        super().__init__(text or _REASON_TEXT[reason], detail=detail or reason)


@dataclass(frozen=True)
class IdNumber:
    """A checked ID number. ``number`` is normalized: 18 characters upper-case (15 for an old
    foreigner's number). The repr is masked and leaves out the birth date: this value travels
    through logs and tracebacks."""

    kind: IdKind
    number: str
    birth_date: date
    sex: Literal["M", "F"]
    region_name: str  # place of registration, or issuing region / nationality for permits
    region_code: str  # the 6-digit code; for foreigners the issuing province/city digits
    nationality: str | None = None  # alpha-3 for foreigners' numbers, None otherwise

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def kind_text(self) -> Text:
        return KIND_TEXT[self.kind]

    def masked(self) -> str:
        return mask_id_number(self.number)

    def age_on(self, day: date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    def __repr__(self) -> str:
        # No birth date, not even the year: the masked number keeps the region code and the check
        # character, so with the date the hidden 8 characters are the date itself (and with the
        # year alone about 33 candidates are left).
        return f"IdNumber(kind={self.kind.value!r}, number={self.masked()!r}, sex={self.sex!r})"

    __str__ = masked


def check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character of 17 digits (GB 11643)."""
    return _CHECK[sum(int(c) * w for c, w in zip(body17, _WEIGHTS, strict=True)) % 11]


def icao_check_digit(text: str) -> str:
    """ICAO 9303 check digit: weights 7, 3, 1 repeating; digits as such, A=10 ... Z=35."""
    total = 0
    for i, c in enumerate(text):
        value = int(c) if c.isdigit() else ord(c) - ord("A") + 10
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


def normalize_text(text: str) -> str:
    """Full-width to ASCII (NFKC), spaces and hyphens of any kind removed, upper case."""
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidIdNumber("format", detail="too long")
    out = _SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", text)).upper()
    if len(out) > MAX_INPUT_CHARS or not out.isascii():
        raise InvalidIdNumber("format", detail="characters")
    return out


def _date(y: int, m: int, d: int, today: date) -> date:
    try:
        born = date(y, m, d)
    except ValueError:
        raise InvalidIdNumber("date", detail="no such day") from None
    if born > today or born < EARLIEST_BIRTH:
        raise InvalidIdNumber("date", detail="out of range")
    return born


def _sex(digit: str) -> Literal["M", "F"]:
    return "M" if int(digit) % 2 else "F"


def parse_id_number(text: str, *, today: date | None = None) -> IdNumber:
    """Parse and check an ID number; raises :class:`InvalidIdNumber` (never anything else for a
    ``str``). ``today`` (Beijing date by default) bounds the birth date."""
    if not isinstance(text, str):
        raise InvalidIdNumber("format", detail="not text")
    if today is None:
        from datetime import datetime

        today = datetime.now(CHINA_TZ).date()
    n = normalize_text(text)
    if _RESIDENT18_RE.match(n):
        return _parse18(n, today)
    if _RESIDENT15_RE.match(n):
        return _parse_resident15(n, today)
    if _FOREIGN15_RE.match(n):
        return _parse_foreign15(n, today)
    raise InvalidIdNumber("format", detail=f"length {len(n)}")


def canonical_id_number(text: str, *, today: date | None = None) -> str:
    """The one form of an ID number that is stored, hashed, compared and sent, by the desk and
    the platform alike: what :func:`parse_id_number` puts in ``IdNumber.number`` (a 15-digit
    resident number becomes its 18-digit form; full-width, lower-case x, spaces and hyphens
    are normalized). Raises :class:`InvalidIdNumber` for anything that is not an ID number."""
    return parse_id_number(text, today=today).number


def legacy_15_form(number: IdNumber) -> str | None:
    """The first-generation 15-digit form of an 18-digit resident number born 1900-1999 (the
    inverse of the conversion in :func:`parse_id_number`), or None when there is none. Only
    for matching a hash made from the 15-digit form before both ends normalized the same way
    (booking QR codes issued by an older platform)."""
    n = number.number
    if number.kind not in (IdKind.RESIDENT, IdKind.RESIDENT_15) or n[6:8] != "19":
        return None
    return n[:6] + n[8:17]


def _parse18(n: str, today: date) -> IdNumber:
    if check_char(n[:17]) != n[17]:
        raise InvalidIdNumber("checksum")
    born = _date(int(n[6:10]), int(n[10:12]), int(n[12:14]), today)
    sex = _sex(n[16])
    if n[0] == "9":
        nat = regions.nationality_alpha3(n[3:6])
        if nat is None or not regions.province_known(n[1:3]):
            raise InvalidIdNumber("region", detail="foreign")
        return IdNumber(IdKind.FOREIGN_PERMANENT, n, born, sex, regions.nationality_name(nat),
                        n[1:3] + "0000", nat)
    code = n[:6]
    if code in HMT_REGIONS:
        return IdNumber(IdKind.HMT_PERMIT, n, born, sex, HMT_REGIONS[code][0], code)
    name = regions.region_name(code, born.year)
    if name is None:
        raise InvalidIdNumber("region")
    return IdNumber(IdKind.RESIDENT, n, born, sex, name, code)


def _parse_resident15(n: str, today: date) -> IdNumber:
    # First-generation numbers were issued 1984-2004 to people born in the 1900s.
    full = n[:6] + "19" + n[6:]
    full += check_char(full)
    born = _date(int(full[6:10]), int(full[10:12]), int(full[12:14]), today)
    name = regions.region_name(n[:6], born.year)
    if name is None or n[:6] in HMT_REGIONS:
        raise InvalidIdNumber("region")
    return IdNumber(IdKind.RESIDENT_15, full, born, _sex(n[14]), name, n[:6])


def _parse_foreign15(n: str, today: date) -> IdNumber:
    if icao_check_digit(n[:14]) != n[14]:
        raise InvalidIdNumber("checksum")
    yy, mm, dd = int(n[7:9]), int(n[9:11]), int(n[11:13])
    # Two-digit year: the latest century that gives a real day not after today.
    born = None
    for century in (2000, 1900):
        try:
            born = _date(century + yy, mm, dd, today)
            break
        except InvalidIdNumber:
            continue
    if born is None:
        raise InvalidIdNumber("date")
    nat = regions.nationality_alpha3(n[:3])
    if nat is None or not regions.region_known(n[3:7] + "00"):
        raise InvalidIdNumber("region", detail="foreign")
    return IdNumber(IdKind.FOREIGN_PERMANENT_15, n, born, _sex(n[13]),
                    regions.nationality_name(nat), n[3:7] + "00", nat)
