"""The police's case files below the browser, on a real SQLite platform database: whose bans the
console may change, and several cases against one person."""

from __future__ import annotations

from datetime import date

import pytest

from desk_app.identity.testing import make_id_number
from desk_platform import platform_calls as ops
from desk_platform.appeals import Appeals
from desk_platform.cases import Cases
from desk_platform.testing import prepare_platform
from desk_platform.worded import Worded
from sync.protocol import BlacklistSource

pytestmark = pytest.mark.xdist_group("platform")


@pytest.fixture
def plat(tmp_path):
    p = prepare_platform(f"sqlite:///{tmp_path}/p.db", tmp_path / "k")
    yield p
    p.db.close()


def person(i: int) -> str:
    return make_id_number("445281", date(1985, 5, 1 + i % 28), 20 + i, sex="F")


def test_the_console_changes_police_bans_only_and_appeals_decide_any(plat):
    number = person(1)
    theirs = ops.ban(plat, number, source=BlacklistSource.PLATFORM, reason="转卖号源", days=30,
                     created_by="platform")
    cases = Cases(plat)
    for change in (lambda: cases.extend("police1", theirs.entry_id, 30),
                   lambda: cases.lift("police1", theirs.entry_id, "误列")):
        with pytest.raises(Worded) as exc:
            change()
        assert exc.value.status == 403 and "预约挂号平台" in exc.value.text.zh
        assert "booking platform" in exc.value.text.en
    assert not ops.reveal(plat, theirs.entry_id).entry.deleted
    assert ops.reveal(plat, theirs.entry_id).entry.valid_to == theirs.valid_to
    # a police case against the same person is an entry of its own
    mine = cases.add("police1", number, case_number="榕公(2026)001", county="榕城区",
                     reason="倒号", evidence="证据")
    assert mine.entry_id != theirs.entry_id and mine.source == "police"
    # the police decide every appeal, whichever source the ban has
    (a, b) = Appeals(plat).file(id_hash=plat.blacklist_hash(number), hospital_id="H001",
                                desk_id="d1", clerk="c1", statement="误列")
    for appeal in (a, b):
        Appeals(plat).decide(appeal.appeal_id, "police1", lift=True, note="核实误列")
    assert all(r.entry.deleted for r in ops.find(plat, number))


def test_a_second_case_against_a_banned_person_keeps_the_first(plat):
    from datetime import UTC, datetime, timedelta

    from desk_platform import taskforce

    number, cases = person(2), Cases(plat)
    first = cases.add("officer.a", number, case_number="榕公(2026)001", county="榕城区",
                      reason="倒号", evidence="case 001: 40 bookings resold", days=365)
    second = cases.add("officer.b", number, case_number="普公(2026)077", county="普宁市",
                       reason="号贩子", evidence="case 077 note", days=30)
    assert second.entry_id == first.entry_id  # one police entry per person, desks unchanged
    assert second.valid_to == first.valid_to  # never shortened by a shorter second case
    assert second.created_by == "officer.a"
    evidence = cases.evidence(first.entry_id)  # the first case's file is still there
    assert "case 001: 40 bookings resold" in evidence and "case 077 note" in evidence
    assert [(f.case_number, f.county, f.created_by) for f in second.files] == [
        ("普公(2026)077", "普宁市", "officer.b"), ("榕公(2026)001", "榕城区", "officer.a")]
    notes = cases.evidences(first.entry_id)
    assert sorted(notes.values()) == ["case 001: 40 bookings resold", "case 077 note"]
    # a longer second case moves the end
    third = cases.add("officer.b", number, case_number="普公(2026)078", county="普宁市",
                      reason="号贩子", evidence="case 078", days=600)
    assert third.valid_to - first.valid_to > timedelta(days=200)
    today = datetime.now(plat.tz).date()
    summary = taskforce.summary(plat.db, plat.tz, today.replace(day=1), today)
    counted = {r.county: (r.values["cases"], r.values["scalpers"]) for r in summary.rows}
    assert counted == {"榕城区": (1, 1), "普宁市": (2, 1)}
    # lifting the ban closes every case file of it
    lifted = cases.lift("officer.a", first.entry_id, "撤案")
    assert lifted.deleted and lifted.lift_reason == "撤案"
    assert all(f.lifted_at is not None for f in lifted.files)
    # a new case after the lifting bans afresh; the old files stay, closed
    again = cases.add("officer.a", number, case_number="榕公(2027)002", county="榕城区",
                      reason="再犯", evidence="again", days=10)
    assert not again.deleted and again.lifted_at is None and len(again.files) == 4
    assert again.valid_to - datetime.now(UTC) < timedelta(days=11)
    assert [f.lifted_at is None for f in again.files] == [True, False, False, False]
