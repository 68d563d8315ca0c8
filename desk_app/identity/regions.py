"""Region and nationality names for ID numbers, from python-stdnum's and pycountry's data.

The county table is ``stdnum/cn/loc.dat`` (GB/T 2260 codes from 1980 on, scraped from
Wikipedia), where one 4-digit county entry may carry periods: ``[-2010]崇文区`` (abolished
2010), ``[1992-]东丽区`` or several names in turn (``[-1991]东郊区,[1992-]东丽区``).
``stdnum.cn.ric`` refuses a number whose county code did not exist in the birth year. We do not:
ID numbers were assigned when a person was first registered (1984 on for most adults, at birth
since), with the code *of that moment*, and they are never changed when counties are merged or
renamed. A code that existed at any time is therefore accepted; the period only picks the name.
"""

from __future__ import annotations

import gettext
import re
from functools import lru_cache

from stdnum import numdb

_PERIOD_RE = re.compile(r"^\[(\d{4})?-(\d{4})?\](.+)$")
# Placeholders in the prefecture column that are not names ("city districts", "counties").
_NOT_A_NAME = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "省直辖行政单位"}


def _names(value: str) -> list[tuple[int | None, int | None, str]]:
    out = []
    for part in value.split(","):
        m = _PERIOD_RE.match(part.strip())
        if m:
            start, end, name = m.groups()
            out.append((int(start) if start else None, int(end) if end else None, name))
        elif part.strip():
            out.append((None, None, part.strip()))
    return out


def _pick(names: list[tuple[int | None, int | None, str]], year: int | None) -> str:
    """The name in use in ``year``, else the one whose period is nearest to it."""
    if year is None:
        return names[-1][2]

    def distance(entry: tuple[int | None, int | None, str]) -> int:
        start, end, _ = entry
        if start is not None and year < start:
            return start - year
        if end is not None and year > end:
            return year - end
        return 0

    return min(names, key=distance)[2]


@lru_cache(maxsize=1)
def _db() -> numdb.NumDB:
    return numdb.get("cn/loc")


def preload() -> None:
    """Read the division database now (25 ms here, at start-up) instead of on the first card."""
    _db()


@lru_cache(maxsize=8192)
def _lookup(code: str) -> tuple[str | None, tuple[tuple[int | None, int | None, str], ...] | None]:
    """(province name, county names with periods) for a 6-digit code; None parts when unknown."""
    province = county = None
    parts = _db().info(code)
    if len(parts) >= 1 and "province" in parts[0][1]:
        province = parts[0][1]["province"]
    if len(parts) >= 2 and "county" in parts[1][1] and len(parts[0][0]) + len(parts[1][0]) == 6:
        county = tuple(_names(parts[1][1]["county"]))
    return province, county


def province_known(code2: str) -> bool:
    return _lookup(code2 + "0000")[0] is not None


def province_name(code2: str) -> str | None:
    return _lookup(code2 + "0000")[0]


def region_known(code6: str) -> bool:
    """Whether the 6-digit code is (or was, at any time) an administrative division."""
    return _lookup(code6)[1] is not None


def region_name(code6: str, year: int | None = None) -> str | None:
    """``"河北省石家庄市长安区"`` for 130102: province, prefecture and county as named in ``year``."""
    province, county = _lookup(code6)
    if province is None or county is None:
        return None
    parts = [province]
    if code6[2:4] != "00" and code6[4:6] != "00":
        _, pref = _lookup(code6[:4] + "00")
        if pref:
            name = _pick(list(pref), year)
            if name not in _NOT_A_NAME:
                parts.append(name)
    name = _pick(list(county), year)
    if name not in _NOT_A_NAME and name != province:
        parts.append(name)
    return "".join(parts)


# --- nationalities (foreigners' permanent residence ID) ------------------------------------------


@lru_cache(maxsize=1)
def _countries() -> tuple[dict[str, str], dict[str, str]]:
    """alpha-3 -> name, numeric -> alpha-3, including historic codes (YUG, SCG, ANT ...): an old
    card keeps the code of the nationality it was issued for."""
    import pycountry

    by_alpha3: dict[str, str] = {}
    alpha3_by_numeric: dict[str, str] = {}
    for c in list(pycountry.historic_countries) + list(pycountry.countries):  # current wins
        by_alpha3[c.alpha_3] = c.name
        if getattr(c, "numeric", None):
            alpha3_by_numeric[c.numeric] = c.alpha_3
    return by_alpha3, alpha3_by_numeric


@lru_cache(maxsize=1)
def _zh() -> gettext.NullTranslations:
    import pycountry

    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    except OSError:  # the translations are data files of pycountry; English if they are missing
        return gettext.NullTranslations()


def nationality_alpha3(code: str) -> str | None:
    """The alpha-3 code for an alpha-3 or 3-digit numeric code, None when unknown."""
    by_alpha3, by_numeric = _countries()
    if code.isascii() and code.isdigit():
        return by_numeric.get(code)
    return code if code in by_alpha3 else None


def nationality_name(alpha3: str) -> str:
    """The country's Chinese name (English when no translation is known)."""
    name = _countries()[0].get(alpha3, alpha3)
    return _zh().gettext(name)


def nationality_numeric(alpha3: str) -> str | None:
    for numeric, a3 in _countries()[1].items():
        if a3 == alpha3:
            return numeric
    return None


@lru_cache(maxsize=1)
def all_region_codes() -> tuple[str, ...]:
    """Every 6-digit code in the table, historic ones included (for tests and generators)."""
    from importlib import resources

    codes: list[str] = []
    province = ""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key = line.split()[0]
        if not line.startswith(" ") and len(key) == 2:
            province = key
        elif line.startswith("  ") and len(key) == 4 and province:
            codes.append(province + key)
    return tuple(codes)
