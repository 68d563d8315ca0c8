"""Valid ID numbers on demand, for tests, the demo and the platform's seed data.

The numbers are well-formed (region, date, check character) but made up; never use one that
belongs to a real person in fixtures.
"""

from __future__ import annotations

from datetime import date

from desk_app.identity import regions
from desk_app.identity.idnumber import IdKind, check_char, icao_check_digit


def make_id_number(region: str = "110101", birth: date = date(1990, 3, 7), seq: int = 123, *,
                   sex: str | None = None, kind: IdKind | str = IdKind.RESIDENT,
                   nationality: str = "USA") -> str:
    """A valid number of ``kind``.

    ``region``: 6-digit code (resident numbers); for ``hmt_permit`` one of 810000/820000/830000
    (110101, the default, becomes 810000); for foreigners' numbers its first 2 (2023 version) or
    4 (15-character version) digits name the issuing office. ``seq``: 0-999 (0-9 for the old
    foreigner's number); ``sex`` "M"/"F" adjusts its last digit to odd/even. ``nationality``:
    alpha-3 code. ``resident_15`` returns the old 15-digit form (birth year 1900-1999).
    """
    kind = IdKind(kind)
    if kind == IdKind.FOREIGN_PERMANENT_15:
        seq %= 10
    elif not 0 <= seq <= 999:
        raise ValueError("seq must be 0..999")
    if sex is not None:
        if sex not in ("M", "F"):
            raise ValueError("sex must be 'M' or 'F'")
        if (seq % 2 == 1) != (sex == "M"):
            seq = seq + 1 if seq % 10 != 9 else seq - 1
    if kind == IdKind.RESIDENT_15:
        if not 1900 <= birth.year <= 1999:
            raise ValueError("15-digit numbers have birth years 1900-1999")
        return f"{region}{birth:%y%m%d}{seq:03d}"
    if kind == IdKind.FOREIGN_PERMANENT_15:
        body = f"{nationality}{region[:4]}{birth:%y%m%d}{seq:d}"
        return body + icao_check_digit(body)
    if kind == IdKind.FOREIGN_PERMANENT:
        numeric = regions.nationality_numeric(nationality)
        if numeric is None:
            raise ValueError(f"unknown nationality {nationality!r}")
        body = f"9{region[:2]}{numeric}{birth:%Y%m%d}{seq:03d}"
    else:
        if kind == IdKind.HMT_PERMIT and region[:2] not in ("81", "82", "83"):
            region = "810000"
        body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + check_char(body)
