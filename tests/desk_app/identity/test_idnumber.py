from __future__ import annotations

import argparse
import io
import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from desk_app.errors import UserInputError
from desk_app.identity import IdKind, InvalidIdNumber, parse_id_number
from desk_app.identity import evaluate as ev
from desk_app.identity.idnumber import (
    canonical_id_number,
    check_char,
    icao_check_digit,
    legacy_15_form,
)
from desk_app.identity.regions import all_region_codes
from desk_app.identity.testing import make_id_number

TODAY = date(2026, 11, 22)


def parse(text: str):
    return parse_id_number(text, today=TODAY)


# --- valid numbers ----------------------------------------------------------------------------

VALID = [
    # (input, kind, normalized number, birth date, sex, region name)
    ("11010519491231002X", IdKind.RESIDENT, "11010519491231002X", date(1949, 12, 31), "F",
     "北京市朝阳区"),
    ("360426199101010071", IdKind.RESIDENT, "360426199101010071", date(1991, 1, 1), "M", None),
    # spaces around and inside, lower-case x, full-width digits (IME input, OCR)
    ("  110105 19491231 002x ", IdKind.RESIDENT, "11010519491231002X", date(1949, 12, 31), "F",
     None),
    ("１１０１０５１９４９１２３１００２Ｘ", IdKind.RESIDENT, "11010519491231002X",
     date(1949, 12, 31), "F", None),
    ("1101 0519\u30004912 3100 2x\t", IdKind.RESIDENT, "11010519491231002X", date(1949, 12, 31),
     "F", None),
    # legacy 15-digit number, converted to 18
    ("110105491231002", IdKind.RESIDENT_15, "11010519491231002X", date(1949, 12, 31), "F",
     "北京市朝阳区"),
    # hyphens between the groups (forms, spreadsheets), ASCII and full-width/Unicode dashes
    ("110105-19491231-002x", IdKind.RESIDENT, "11010519491231002X", date(1949, 12, 31), "F",
     None),
    ("110105－491231－002", IdKind.RESIDENT_15, "11010519491231002X", date(1949, 12, 31), "F",
     None),
    ("１１０１０５\u2010４９１２３１ ００２", IdKind.RESIDENT_15, "11010519491231002X",
     date(1949, 12, 31), "F", None),
]


@pytest.mark.parametrize(("text", "kind", "number", "born", "sex", "region"), VALID)
def test_valid_numbers(text, kind, number, born, sex, region):
    n = parse(text)
    assert (n.kind, n.number, n.birth_date, n.sex) == (kind, number, born, sex)
    if region is not None:
        assert n.region_name == region
    assert n.last4 == number[-4:]
    assert n.masked() == number[:6] + "*" * 8 + number[-4:]


def test_repr_and_str_are_masked():
    n = parse("11010519491231002X")
    assert "19491231" not in repr(n) and "19491231" not in str(n)
    assert str(n) == "110105********002X"


@pytest.mark.parametrize("text", ["11010519491231002X", "USA110081050350"])
def test_repr_leaves_out_the_birth_date_the_mask_hides(text):
    # the mask keeps the region and the check character: next to the birth date (or its year,
    # ~33 candidates) it gives the number back
    n = parse(text)
    assert n.masked() in repr(n)
    for part in ("1949", "1231", "12-31", "1981", "1981-05-03", "birth"):
        assert part not in repr(n), repr(n)


@pytest.mark.parametrize(("code", "born", "name"), [
    # abolished 2010 (merged into 东城区): a person born 2009 keeps the number for life, and
    # babies registered in early 2010 still got it; the name is the one of the birth year.
    ("110103", date(2009, 6, 1), "北京市崇文区"),
    ("110103", date(2015, 6, 1), "北京市崇文区"),
    # created 1997: somebody born 1980 and registered there when issued an ID after 1997
    ("110112", date(1980, 6, 1), "北京市通州区"),
    # renamed 1992: the name in the birth year
    ("120110", date(1970, 6, 1), "天津市东郊区"),
    ("120110", date(1995, 6, 1), "天津市东丽区"),
    # prefecture-level names are included
    ("130102", date(1990, 6, 1), "河北省石家庄市长安区"),
])
def test_historic_region_codes_are_accepted(code, born, name):
    number = make_id_number(code, born, 101)
    n = parse(number)
    assert n.kind == IdKind.RESIDENT and n.region_code == code and n.region_name == name


def test_stdnum_alone_would_reject_a_real_card_we_accept():
    # stdnum.cn.ric refuses a county code that did not exist in the birth year; we must not.
    number = make_id_number("110112", date(1980, 6, 1), 101)
    assert not ric.is_valid(number)
    assert parse(number).region_name == "北京市通州区"


@pytest.mark.parametrize(("region", "name"), [("810000", "香港"), ("820000", "澳门"),
                                               ("830000", "台湾")])
def test_hk_macau_taiwan_residence_permits(region, name):
    n = parse(make_id_number(region, date(1988, 8, 8), 44, kind="hmt_permit"))
    assert n.kind == IdKind.HMT_PERMIT and n.region_name == name and n.sex == "F"


def test_foreign_permanent_residence_new_format():
    number = make_id_number("310000", date(1980, 2, 29), 7, kind="foreign_permanent",
                            nationality="DEU")
    assert number.startswith("931276")  # 9, Shanghai 31, Germany 276
    n = parse(number)
    assert n.kind == IdKind.FOREIGN_PERMANENT and n.nationality == "DEU"
    assert n.region_name == "德国" and n.birth_date == date(1980, 2, 29) and n.sex == "M"


def test_foreign_permanent_residence_old_15_characters():
    number = make_id_number("440100", date(1975, 10, 2), 4, kind="foreign_permanent_15",
                            nationality="CAN")
    assert len(number) == 15 and number.startswith("CAN4401751002")
    n = parse(number.lower())
    assert n.kind == IdKind.FOREIGN_PERMANENT_15 and n.number == number
    assert n.nationality == "CAN" and n.birth_date == date(1975, 10, 2) and n.sex == "F"
    assert n.last4 == number[-4:]
    # two-digit year: the latest century that is not in the future
    young = parse(make_id_number("440100", date(2019, 1, 1), 1, kind="foreign_permanent_15"))
    assert young.birth_date == date(2019, 1, 1)


def test_icao_check_digit_reference_values():
    # ICAO 9303 part 3 worked example: document number L898902C3 -> check digit 6
    assert icao_check_digit("L898902C3") == "6"
    assert icao_check_digit("740812") == "2"  # date of birth example from the same document


def test_check_char_reference_value():
    # GB 11643-1999 appendix example 11010519491231002X
    assert check_char("11010519491231002") == "X"


# --- invalid numbers --------------------------------------------------------------------------

INVALID = [
    ("", "format"),
    ("   ", "format"),
    ("hello", "format"),
    ("1101051949123100", "format"),  # 16 digits
    ("11010519491231002X1", "format"),
    ("1101051949123100X2", "format"),  # X not last
    ("110105-19491231-002", "format"),  # hyphens go, but the number is still 17 digits
    ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "format"),  # Arabic-Indic digits are digits, but not ours
    ("1" * 500, "format"),
    ("11010519491231002" + "1", "checksum"),
    ("110105194912310021", "checksum"),
    ("USA440185020330", "checksum"),
    (make_id_number("110105", date(1990, 1, 1), 1)[:6] + "19900230" + "0011", "checksum"),
]


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_invalid_numbers(text, reason):
    with pytest.raises(InvalidIdNumber) as info:
        parse(text)
    assert info.value.reason == reason
    assert isinstance(info.value, UserInputError)
    assert info.value.message("zh_CN") and info.value.message("en")
    assert text.strip()[:10] not in str(info.value) or not text.strip()  # no PII in the error


def _with_check(body17: str) -> str:
    return body17 + check_char(body17)


@pytest.mark.parametrize(("number", "reason"), [
    (_with_check("11010519900230123"), "date"),  # 30 February
    (_with_check("11010519901301123"), "date"),  # month 13
    (_with_check("11010518991231123"), "date"),  # before 1900
    (_with_check("11010520261123123"), "date"),  # tomorrow
    ("110105990230123", "date"),  # 15-digit with 1999-02-30
    (_with_check("99999919900101123"), "region"),  # 9 + province 99: no such province
    (_with_check("91199919900101123"), "region"),  # nationality 999 unknown
    (_with_check("11999919900101123"), "region"),  # Beijing 9999: no such county
    (_with_check("00000019900101123"), "region"),
    (_with_check("81010019900101123"), "region"),  # Hong Kong has only 810000
    ("119999900101123", "region"),  # 15-digit, unknown county
    ("USA110190010113", "checksum"),
])
def test_invalid_dates_and_regions(number, reason):
    with pytest.raises(InvalidIdNumber) as info:
        parse(number)
    assert info.value.reason == reason


def test_foreign_15_unknown_nationality_or_office_is_a_region_error():
    body = "ZZZ1101900101" + "1"
    with pytest.raises(InvalidIdNumber) as info:
        parse(body + icao_check_digit(body))
    assert info.value.reason == "region"
    body = "USA9999900101" + "1"
    with pytest.raises(InvalidIdNumber) as info:
        parse(body + icao_check_digit(body))
    assert info.value.reason == "region"


def test_today_defaults_to_the_beijing_date():
    tomorrow = date.today() + timedelta(days=2)
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(make_id_number("110101", date(2000, 1, 1), 1)[:6]
                        + _with_check("110101" + f"{tomorrow:%Y%m%d}" + "123")[6:])
    assert info.value.reason == "date"
    assert parse_id_number(make_id_number()).kind == IdKind.RESIDENT


def test_non_text_is_a_format_error():
    with pytest.raises(InvalidIdNumber):
        parse_id_number(None)  # type: ignore[arg-type]


# --- properties -------------------------------------------------------------------------------

CODES = [c for c in all_region_codes() if c[:2] not in ("81", "82")]


@st.composite
def valid_numbers(draw):
    kind = draw(st.sampled_from(list(IdKind)))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    seq = draw(st.integers(0, 999))
    region = draw(st.sampled_from(CODES))
    if kind == IdKind.RESIDENT_15:
        born = born.replace(year=1900 + born.year % 100) if born.year >= 2000 else born
        if born.month == 2 and born.day == 29:
            born = born.replace(day=28)
    if kind == IdKind.HMT_PERMIT:
        region = draw(st.sampled_from(["810000", "820000", "830000"]))
    if kind in (IdKind.FOREIGN_PERMANENT, IdKind.FOREIGN_PERMANENT_15):
        region = region[:4] + "00"
        if region not in all_region_codes():
            region = region[:2] + "0000"
    nat = draw(st.sampled_from(["USA", "DEU", "JPN", "KOR", "GBR", "FRA", "RUS", "PAK", "BRA"]))
    number = make_id_number(region, born, seq, kind=kind, nationality=nat)
    return kind, born, number


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_numbers(), st.sampled_from(["plain", "spaced", "lower", "fullwidth"]))
def test_every_valid_number_parses(case, form):
    kind, born, number = case
    text = {"plain": number, "spaced": f"  {number[:6]} {number[6:]} ",
            "lower": number.lower(),
            "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in number)}[form]
    n = parse(text)
    assert n.kind == kind
    if kind == IdKind.FOREIGN_PERMANENT_15:
        assert n.number == number
        assert n.birth_date.strftime("%y%m%d") == born.strftime("%y%m%d")
    else:
        assert len(n.number) == 18 and n.birth_date == born
    assert n.sex in ("M", "F") and n.region_name


def test_a_single_wrong_digit_is_always_caught():
    number = make_id_number("440305", date(1985, 5, 5), 321)
    for i in range(18):
        for d in "0123456789X":
            if d == number[i] or (d == "X" and i != 17):
                continue
            wrong = number[:i] + d + number[i + 1:]
            with pytest.raises(InvalidIdNumber):
                parse(wrong)


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.text(max_size=80),
    st.text(alphabet="0123456789Xx １２３Ｘ \u3000\t", max_size=25),
    st.from_regex(r"\A[A-Z]{3}\d{12}\Z"),
    st.from_regex(r"\A\d{17}[\dX]\Z"),
    st.from_regex(r"\A\d{15}\Z"),
))
def test_any_text_raises_only_invalid_id_number(text):
    try:
        n = parse(text)
    except InvalidIdNumber as exc:
        assert exc.reason in ("format", "checksum", "date", "region")
    else:
        assert parse(n.number) == n


# --- eval ids ---------------------------------------------------------------------------------


def test_eval_ids_json_and_plain(tmp_path, capsys, monkeypatch):
    good = make_id_number("110101", date(1990, 3, 7), 123)
    f = tmp_path / "ids.txt"
    f.write_text(f"# a comment\n{good}\n\nnot a number\n{good[:-1]}0\n", encoding="utf-8")
    assert ev.main(argparse.Namespace(file=str(f), json=True, lang="en")) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["valid"] for r in rows] == [True, False, False]
    assert rows[0]["line"] == 2 and rows[0]["kind"] == "resident"
    assert rows[0]["number"] == "110101********1233" and good not in out  # masked
    assert [r.get("reason") for r in rows[1:]] == ["format", "checksum"]
    assert "3 checked" in err
    # no birth date next to the mask (the mask hides exactly the date): not in full, not the year
    assert "birth_date" not in rows[0] and "1990" not in out and "0307" not in out

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{good}\nabc\n"))
    assert ev.main(argparse.Namespace(file=None, json=False, lang="zh_CN")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[:3] == ["1", "OK", "resident"]
    assert "1990" not in lines[0] and "03-07" not in lines[0], lines[0]
    assert lines[1].split("\t")[:3] == ["2", "INVALID", "format"]


def test_eval_ids_missing_file_is_a_typed_error(tmp_path):
    with pytest.raises(UserInputError):
        ev.main(argparse.Namespace(file=str(tmp_path / "nope.txt"), json=False, lang="zh_CN"))


def test_eval_ids_through_the_cli(tmp_path, capsys):
    from desk_app.cli import main

    f = tmp_path / "ids.txt"
    f.write_text(make_id_number() + "\n", encoding="utf-8")
    assert main(["eval", "ids", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


# --- the builder others use ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(IdKind))
@pytest.mark.parametrize("sex", ["M", "F"])
def test_make_id_number_sets_the_sex_for_every_kind(kind, sex):
    n = parse(make_id_number("110101", date(1966, 6, 6), 120, sex=sex, kind=kind))
    assert n.sex == sex and n.kind == kind


def test_make_id_number_refuses_what_no_card_can_be():
    with pytest.raises(ValueError):
        make_id_number(seq=1000)
    with pytest.raises(ValueError):
        make_id_number(birth=date(2005, 1, 1), kind="resident_15")
    with pytest.raises(ValueError):
        make_id_number(kind="foreign_permanent", nationality="XYZ")


def test_id_number_is_a_frozen_value():
    import dataclasses

    n = parse(make_id_number())
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.number = "x"  # type: ignore[misc]
    assert n == parse(" " + make_id_number().lower())
    assert n.age_on(date(2026, 3, 6)) == 35 and n.age_on(date(2026, 3, 7)) == 36


# --- the canonical form both ends store and hash -----------------------------------------------

@pytest.mark.parametrize("text", [
    "11010519491231002X", "11010519491231002x", "110105491231002", " 110105 491231 002 ",
    "110105-491231-002", "１１０１０５４９１２３１００２", "１１０１０５１９４９１２３１００２ｘ",
    "110105\u300019491231\u3000002X", "110105—19491231—002X",
])
def test_every_form_of_one_number_is_one_canonical_number(text):
    assert canonical_id_number(text, today=TODAY) == "11010519491231002X"


def test_legacy_15_form_inverts_the_conversion():
    n15 = make_id_number("310104", date(1972, 5, 6), 318, kind=IdKind.RESIDENT_15)
    n18 = parse(n15)
    assert n18.kind == IdKind.RESIDENT_15 and len(n18.number) == 18
    assert legacy_15_form(n18) == n15
    assert legacy_15_form(parse(n18.number)) == n15  # the 18-digit card read at the window
    # born 2000 or later, or not a resident number: there is no 15-digit form
    assert legacy_15_form(parse(make_id_number("310104", date(2001, 5, 6), 318))) is None
    assert legacy_15_form(parse(make_id_number(kind=IdKind.FOREIGN_PERMANENT))) is None
    assert legacy_15_form(parse(make_id_number(kind=IdKind.HMT_PERMIT))) is None
