"""The console's operations below the browser, on a real SQLite platform database: anomaly rules,
freezing, appeals, cases, the summary table's periods, sessions, and the console's words."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from desk_app.identity.testing import make_id_number
from desk_platform import platform_calls as ops
from desk_platform import taskforce
from desk_platform.anomaly import Anomalies, _runs
from desk_platform.appeals import Appeals
from desk_platform.cases import Cases
from desk_platform.console.i18n import ZH
from desk_platform.console.sessions import Sessions
from desk_platform.errors import Conflict
from desk_platform.service import CancelPolicy, Platform
from desk_platform.staff import Staff
from desk_platform.testing import prepare_platform
from desk_platform.worded import Worded
from sync.protocol import BlacklistSource, BookingRequest

pytestmark = pytest.mark.xdist_group("platform")

CONSOLE = Path(__file__).resolve().parents[3] / "desk_platform" / "console"


class Clock:
    def __init__(self) -> None:
        self.t = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def plat(tmp_path):
    p = prepare_platform(f"sqlite:///{tmp_path}/p.db", tmp_path / "k")
    clock = Clock()
    plat = Platform(p.db, p.secrets, now=clock,
                    cancel_policy=CancelPolicy(cooldown=timedelta(0), window=timedelta(0)))
    plat.clock = clock
    yield plat
    p.db.close()


def person(i: int) -> str:
    return make_id_number("445202", date(1980, 1, 1 + i % 28), 10 + i, sex="M")


def book(plat, number: str, *, account: str, doctor: str = "李医生", minutes: int = 60,
         **extra):
    start = (plat.now() + timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    return ops.book(plat, BookingRequest(hospital_id="H001", department_code="CARD",
                                    department_name="心内科", doctor_name=doctor,
                                    slot_start=start, id_number=number, account_id=account,
                                    **extra)).booking


class Row:
    def __init__(self, minute: float):
        self.booked_at = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=minute)


def test_runs_find_bursts_and_split_them_by_gaps():
    rows = [Row(m) for m in (0, 1, 2, 3, 500, 501, 502, 900, 2000)]
    runs = _runs(rows, timedelta(minutes=10), 3)
    assert [[r.booked_at.minute for r in run] for run in runs] == [[0, 1, 2, 3], [20, 21, 22]]
    assert _runs(rows, timedelta(minutes=10), 5) == []


def test_phone_instant_and_cancel_rebook_rules_and_a_scan_is_idempotent(plat):
    for i in range(3):  # one phone, three accounts, within the hour
        book(plat, person(i), account=f"a{i}", doctor=f"d{i}", phone=f"+86 138-0013-{8000}")
    released = plat.now() - timedelta(seconds=1)
    starts = [plat.now() + timedelta(hours=2, minutes=15 * i) for i in range(3)]
    ops.open_slots(plat, "H001", "CARD", "秒医生", [s.replace(second=0, microsecond=0)
                                              for s in starts], 15, released_at=released)
    for i, s in enumerate(starts):  # booked a second after the release, three times
        ops.book(plat, BookingRequest(hospital_id="H001", department_code="CARD",
                                 department_name="心内科", doctor_name="秒医生",
                                 slot_start=s.replace(second=0, microsecond=0),
                                 id_number=person(10 + i), account_id="bot"))
    first = book(plat, person(20), account="reseller", doctor="倒医生", minutes=240)
    ops.cancel(plat, first.booking_id)
    plat.clock.t += timedelta(minutes=5)
    book(plat, person(21), account="reseller", doctor="倒医生", minutes=235)

    a = Anomalies(plat)
    found = {(c.rule, c.account_id) for c in a.scan()}
    assert any(rule == "repeat_phone" for rule, _ in found)
    assert ("instant", "bot") in found
    assert ("cancel_rebook", "reseller") in found
    phone = next(c for c in a.candidates() if c.rule == "repeat_phone")
    assert phone.key == "phone ****8000" and phone.count == 3
    assert a.scan() == []  # the same hits are not stored twice


def test_confirm_blacklists_and_freezes_and_unfreezing_lets_the_account_book(plat):
    for i in range(5):
        book(plat, person(1), account="acct-x", doctor=f"doc{i}", client_ip="198.51.100.4")
    a = Anomalies(plat)
    cand = next(c for c in a.scan() if c.rule == "repeat_ip")
    done = a.confirm(cand.candidate_id, "platform1")
    assert done.status == "confirmed" and done.entry_id
    entries = ops.find(plat, person(1))
    assert entries and entries[0].entry.source == BlacklistSource.PLATFORM
    span = entries[0].entry.valid_to - entries[0].entry.valid_from
    assert span == timedelta(days=91)
    with pytest.raises(Conflict):
        book(plat, person(2), account="acct-x", doctor="docZ")
    with pytest.raises(Worded):
        a.confirm(cand.candidate_id, "platform1")  # reviewed once
    assert a.unfreeze_at_desk(plat.blacklist_hash(person(1)), "H001", "clerk1") == ["acct-x"]
    assert a.account("acct-x").unfrozen_via == "desk"
    book(plat, person(2), account="acct-x", doctor="docZ")
    with pytest.raises(Worded):
        a.unfreeze("acct-x", "police1", via="police")  # not frozen any more


def test_appeals_need_a_listed_id_and_are_decided_once(plat):
    number = person(5)
    with pytest.raises(Worded) as exc:
        Appeals(plat).file(id_hash=plat.blacklist_hash(number), hospital_id="H001",
                           desk_id="d1", clerk="c1", statement="误列")
    assert exc.value.status == 404 and "不在黑名单" in exc.value.text.zh
    ops.ban(plat, number, source=BlacklistSource.POLICE, reason="倒号", days=91, created_by="p")
    (appeal,) = Appeals(plat).file(id_hash=plat.blacklist_hash(number), hospital_id="H001",
                                   desk_id="d1", clerk="c1", statement="误列")
    upheld = Appeals(plat).decide(appeal.appeal_id, "police1", lift=False, note="证据充分")
    assert upheld.status == "upheld" and not ops.find(plat, number)[0].entry.deleted
    with pytest.raises(Worded):
        Appeals(plat).decide(appeal.appeal_id, "police1", lift=True, note="再议")


def test_cases_explain_bad_input_and_extend_moves_only_the_end(plat):
    cases = Cases(plat)
    with pytest.raises(Worded) as exc:
        cases.add("p", "123", case_number="c", county="榕城区", reason="r", evidence="e")
    assert exc.value.text.zh and "123" not in exc.value.text.zh
    with pytest.raises(Worded):
        cases.add("p", person(7), case_number="", county="榕城区", reason="r", evidence="e")
    with pytest.raises(Worded):
        cases.add("p", person(7), case_number="c", county="x", reason="r", evidence="e",
                  days=0)
    e = cases.add("p", person(7), case_number="c", county="榕城区", reason="r", evidence="证据")
    longer = cases.extend("p", e.entry_id, 30)
    assert longer.valid_from == e.valid_from
    assert abs((longer.valid_to - e.valid_to) - timedelta(days=30)) < timedelta(seconds=5)
    assert cases.evidence(e.entry_id) == "证据"
    lifted = cases.lift("p", e.entry_id, "误列")
    assert lifted.deleted and lifted.lift_reason == "误列"
    with pytest.raises(Worded):
        cases.extend("p", e.entry_id, 30)


def test_summary_sums_the_periods_inside_its_range_only(plat):
    db, tz = plat.db, plat.tz
    taskforce.set_figures(db, "榕城区", date(2026, 11, 1), date(2026, 11, 30),
                          {"campaigns": 2, "materials": 100}, "c")
    taskforce.set_figures(db, "榕城区", date(2026, 12, 1), date(2026, 12, 31),
                          {"campaigns": 5}, "c")
    taskforce.set_figures(db, "榕城区", date(2026, 11, 1), date(2026, 11, 30),
                          {"campaigns": 3}, "c")  # entered again: replaced, not added
    nov = taskforce.summary(db, tz, date(2026, 11, 1), date(2026, 11, 30))
    assert nov.total["campaigns"] == 3 and nov.total["materials"] == 100
    both = taskforce.summary(db, tz, date(2026, 11, 1), date(2026, 12, 31))
    assert both.total["campaigns"] == 8
    with pytest.raises(Worded):
        taskforce.summary(db, tz, date(2026, 12, 1), date(2026, 11, 1))
    with pytest.raises(Worded):
        taskforce.set_figures(db, "榕城区", date(2026, 11, 1), date(2026, 11, 30),
                              {"campaigns": -1}, "c")
    assert taskforce._safe("=1+1") == "'=1+1" and taskforce._safe("@x") == "'@x"
    assert taskforce._safe("榕城区") == "榕城区" and taskforce._safe(5) == 5


def test_sessions_end_when_idle_too_long_at_the_absolute_limit_and_when_disabled(plat):
    staff = Staff(plat.db)
    m = staff.add("police9", "警官", "police", "police-pass-9")
    s = Sessions(plat.db, idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    token = s.start(m)
    assert s.resume(token).member.username == "police9"
    assert s.resume("nonsense") is None and s.resume(token + "x") is None
    assert Sessions(plat.db, absolute=timedelta(0)).resume(token) is None  # and ended
    assert s.resume(token) is None
    token = s.start(m)
    staff.set_active("police9", False)
    assert s.resume(token) is None


def test_every_word_of_the_console_has_its_chinese():
    texts = set()
    for f in [*CONSOLE.glob("templates/*.html"),
              *(p for p in CONSOLE.glob("*.py") if p.name != "i18n.py")]:
        texts |= set(re.findall(r'_\(\s*"([^"]+)"\s*\)', f.read_text()))
        texts |= set(re.findall(r"_\('([^']+)'\)", f.read_text()))
    from desk_platform.console.accounts import DONE, ROLES
    from desk_platform.console.web import NAV, ROLE_NAMES

    texts |= {label for _, label, _ in NAV} | set(ROLE_NAMES.values())
    texts |= {"repeat_ip", "repeat_phone", "repeat_device", "repeat_account", "instant",
              "cancel_rebook", "open", "confirmed", "dismissed", "pending", "lifted", "upheld",
              "visit", "alert", "report", "admit", "review", "reject", "police", "platform",
              *(f"Saved: {x}" for x in ("added", "extended", "lifted")),
              *(f"Decided: {x}" for x in ("lifted", "upheld")),
              *(f"Done: {x}" for x in ("confirmed", "dismissed", "unfrozen", *DONE)),
              *(f"role:{r.value}" for r in ROLES)}
    missing = sorted(t for t in texts if t not in ZH)
    assert missing == []
