from __future__ import annotations

import logging
from datetime import date

import pytest

from desk_app.identity.idnumber import canonical_id_number
from desk_app.logs import PiiMasker, mask_id_number, mask_name, setup_logging


def test_mask_id_keeps_first_six_and_last_four():
    assert mask_id_number("11010119900307123X") == "110101********123X"
    assert mask_id_number("110101900307123") == "110101*****7123"


def test_masker_masks_ids_phones_labelled_and_known_names():
    m = PiiMasker()
    m.remember("王小明")
    text = ("check-in 11010519491231002X phone 13812345678 姓名: 李四 name=Alice "
            "patient 王小明 order 2024010112345678901234")
    out = m.mask(text)
    assert "11010519491231002X" not in out and "110105********002X" in out
    assert "13812345678" not in out and "138****5678" in out
    assert "李四" not in out and "Alice" not in out and "王小明" not in out
    assert "王**" in out
    # a long run of digits is not an ID number
    assert "2024010112345678901234" in out


def test_every_log_line_in_the_file_is_masked(tmp_path):
    root = logging.getLogger()
    before = list(root.handlers)
    handler = setup_logging(tmp_path)
    try:
        log = logging.getLogger("desk_app.test")
        log.warning("visit for %s (%s)", "110101199003071234", "13912345678")
        try:
            raise ValueError("bad id 110101199003071234")
        except ValueError:
            log.exception("failed")
        handler.flush()
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()
    text = (tmp_path / "desk-app.log").read_text(encoding="utf-8")
    assert "110101199003071234" not in text
    assert text.count("110101********1234") == 3  # message, exception message in traceback x2
    assert "13912345678" not in text


def test_mask_name():
    assert mask_name("张三") == "张**"
    assert mask_name("欧阳娜娜") == "欧***"


def test_known_names_longest_first_and_bounded():
    m = PiiMasker(max_names=1000)
    m.remember("王小")
    m.remember("王小明")
    m.remember("欧阳娜娜")
    out = m.mask("王小明 与 王小 与 欧阳娜娜, 王小明明")
    assert out == f"{mask_name('王小明')} 与 {mask_name('王小')} 与 {mask_name('欧阳娜娜')}, " \
                  f"{mask_name('王小明')}明"
    # a day of patients: every one of them is masked, the oldest beyond the bound forgotten
    names = [f"张{chr(0x4E00 + i)}{chr(0x4E00 + i * 7 % 500)}" for i in range(1500)]
    for n in names:
        m.remember(n)
    line = " ".join(names[-50:])
    assert not any(n in m.mask(line) for n in names[-50:])
    assert names[0] in m.mask(names[0])  # pushed out by the 1000 after it
    assert m.mask("nothing personal here") == "nothing personal here"


# Every form the desk itself accepts as an ID number (canonical_id_number), and the ways people
# write mobile numbers: what must never pass the masker (override reasons, notes, appeal
# statements, every log line).
_ID = "11010519491231002X"
_FOREIGN15 = "USA110081050350"


_ACCEPTED_FORMS = [  # what canonical_id_number takes, with the mask it must get in free text
    (_ID, "110105********002X"),
    ("110105 19491231 002X", "110105********002X"),
    ("110105 1949 1231 002X", "110105********002X"),
    ("110105-19491231-002X", "110105********002X"),
    ("110105 — 19491231 — 002x", "110105********002X"),
    ("１１０１０５１９４９１２３１００２Ｘ", "110105********002X"),
    ("１１０１０５　１９４９１２３１　００２ｘ", "110105********002X"),
    ("110105491231002", "110105*****1002"),
    ("110105 491231 002", "110105*****1002"),
    (_FOREIGN15, "USA110*****0350"),
    ("USA 1100 810503 50", "USA110*****0350"),
    ("usa110081050350", "USA110*****0350"),
]


def test_the_forms_below_are_accepted_by_the_desk():
    for written, _ in _ACCEPTED_FORMS:
        assert canonical_id_number(written, today=date(2026, 12, 1))


@pytest.mark.parametrize("written, masked", [*_ACCEPTED_FORMS,
    ("ID" + _ID, "ID110105********002X"),  # right after a letter
    ("证件号" + _ID + "号", "证件号110105********002X号"),
])
def test_masker_masks_id_numbers_in_every_form_the_desk_accepts(written, masked):
    out = PiiMasker().mask(f"核对 {written}, 家属陪同")
    assert out == f"核对 {masked}, 家属陪同"


@pytest.mark.parametrize("written, masked", [
    ("13812345678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("+8613812345678", "+86138****5678"),
    ("+86 138 1234 5678", "+86 138****5678"),
    ("(+86)138-1234-5678", "(+86)138****5678"),
    ("１３８１２３４５６７８", "138****5678"),
])
def test_masker_masks_phone_numbers_with_separators_and_country_code(written, masked):
    assert PiiMasker().mask(f"家属电话 {written} 已联系") == f"家属电话 {masked} 已联系"


@pytest.mark.parametrize("text", [
    "order 2024010112345678901234",  # a longer single run of digits
    "visit 123e4567-e89b-12d3-a456-426614174000 queued",  # a UUID whose digits add up to 15
    "backed up to backups/desk-0004-20261204-142606.sqlite3",  # the desk's own file names
    "kept backups/live/desk-20261204-142606-123456789.sqlite3",
    "at 2026-11-22 09:10:00,123 waited 12 s",
])
def test_masker_leaves_ids_times_and_file_names_alone(text):
    assert PiiMasker().mask(text) == text
