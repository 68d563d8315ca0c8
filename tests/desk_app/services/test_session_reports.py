from __future__ import annotations

import contextlib
import csv
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from desk_app.clock import CHINA_TZ
from desk_app.errors import AuthError, UserInputError
from desk_app.services.model import Role
from desk_app.services.reports import ReportsService
from desk_app.services.security import SecurityService
from desk_app.settings import Settings
from desk_app.storage import AlertInput, Reason, VisitInput


def _visit(store, verdict="admit", reasons=(), at=None, alert=None, id_number="110101199003071234",
           name="张三"):
    at = at or datetime.now(UTC)
    v = VisitInput(visit_id=str(uuid.uuid4()), booking_id="B1", hospital_id="H001",
                   desk_id="desk-01", clerk="clerk1", checked_in_at=at, verdict=verdict,
                   reasons=tuple(reasons), presented_id_last4=id_number[-4:],
                   presented_id_hash=b"h" * 32, id_number=id_number, person_name=name)
    return store.visits.record(v, alert)


def test_login_roles_and_audit(store, session, users):
    with pytest.raises(AuthError):
        session.require()
    with pytest.raises(AuthError):
        session.login("clerk1", "wrong-password")
    user = session.login(*users["clerk"])
    assert user.role is Role.CLERK
    assert session.require(Role.CLERK).username == "clerk1"
    with pytest.raises(AuthError):
        session.require(Role.ADMIN)
    session.logout()
    assert session.current_user() is None
    actions = [e.action for e in store.audit.entries(limit=10)]
    assert {"login", "login.failed", "logout"} <= set(actions)


def test_stats_and_exports_are_counted_masked_and_audited(store, session, users, tmp_path):
    now = datetime.now(CHINA_TZ).replace(hour=10)
    _visit(store, "admit", at=now)
    _visit(store, "reject", [Reason("blacklist_hit", "block", "blacklist")], at=now + timedelta(hours=1))
    _visit(store, "review", [Reason("face_undecided", "warn", "face")], at=now + timedelta(hours=1))
    reports = ReportsService(store.visits, store.audit, session)
    session.login(*users["clerk"])
    with pytest.raises(AuthError):
        reports.stats(now.date(), now.date())
    session.login(*users["admin"])
    st = reports.stats(now.date(), now.date())
    assert st.checkins == 3
    assert st.by_decision == {"admit": 1, "reject": 1, "review": 1}
    assert st.blacklist_hits == 1
    assert st.by_hour == {10: 1, 11: 2}
    out = reports.export(now.date(), now.date(), tmp_path / "v.csv", "csv")
    text = out.read_text(encoding="utf-8-sig")
    assert "110101199003071234" not in text and "张三" not in text
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 3 and {r["id_last4"] for r in rows} == {"1234"}
    x = reports.export(now.date(), now.date(), tmp_path / "v.xlsx", "xlsx")
    assert load_workbook(x).active.max_row == 4
    with pytest.raises(UserInputError):
        reports.export(now.date(), now.date(), tmp_path / "v.pdf", "pdf")
    with pytest.raises(UserInputError):
        reports.stats(date(2026, 2, 1), date(2026, 1, 1))
    assert [e.action for e in store.audit.entries(limit=5)].count("export") == 2


def test_audit_viewer_and_verify(store, session, users):
    reports = ReportsService(store.visits, store.audit, session)
    session.login(*users["admin"])
    entries = reports.entries(limit=5, offset=0)
    assert entries and entries[0].seq == reports.count()
    result = reports.verify()
    assert result.ok and result.checked >= 1 and "完整" in result.message("zh_CN")


def test_security_sees_photos_only_with_role_and_every_view_is_audited(store, session, users):
    rec = _visit(store, "reject", [Reason("face_mismatch", "block", "face")],
                 alert=AlertInput(id_photo=b"png-id", live_face=b"png-live"))
    sec = SecurityService(store, session, lambda: Settings())
    session.login(*users["clerk"])
    alerts = sec.alerts()
    assert len(alerts) == 1 and alerts[0].visit_id == rec.visit_id
    assert alerts[0].person is not None and alerts[0].person.id_masked == "110101********1234"
    assert alerts[0].reasons[0].text.zh == "人脸比对不一致"  # words, not the code
    with pytest.raises(AuthError):
        sec.alert_photos(alerts[0].alert_id)
    session.login(*users["security"])
    assert sec.alert_photos(alerts[0].alert_id) == (b"png-id", b"png-live")
    viewed = [e for e in store.audit.entries(limit=20) if e.action == "alert.viewed"]
    assert len(viewed) == 1 and viewed[0].actor == "guard1"
    with pytest.raises(UserInputError):
        sec.mark_handled(alerts[0].alert_id, "")
    handled = sec.mark_handled(alerts[0].alert_id, "已核实, 交派出所")
    assert handled.status == "handled" and handled.handled_by == "guard1"
    assert sec.alerts() == []
    sec.report_suspect(alerts[0].alert_id, "多次代挂")
    kinds = [i.kind for i in store.outbox.pending(10)]
    assert kinds.count("suspect_report") == 1


@pytest.mark.parametrize("reason", ["=HYPERLINK(\"http://x\",\"点我\")", "+1+2", "-2+3", "@SUM(A1)"])
def test_exports_never_write_a_formula(store, session, users, tmp_path, reason):
    """A clerk's override reason that looks like a formula stays text in CSV and XLSX."""
    from desk_app.storage import Override

    now = datetime.now(CHINA_TZ).replace(hour=10)
    v = _visit(store, "review", [Reason("face_undecided", "warn", "face")], at=now)
    store.visits.override(v.visit_id, Override(by="clerk1", reason=reason, verdict="admit"))
    reports = ReportsService(store.visits, store.audit, session)
    session.login(*users["admin"])
    out = reports.export(now.date(), now.date(), tmp_path / "v.csv", "csv")
    row = next(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert row["override_reason"] == "'" + reason
    x = reports.export(now.date(), now.date(), tmp_path / "v.xlsx", "xlsx")
    ws = load_workbook(x).active
    col = [c.value for c in ws[1]].index("override_reason") + 1
    cell = ws.cell(row=2, column=col)
    assert cell.data_type == "s" and cell.value == reason


@contextlib.contextmanager
def _opened(paths, clock):
    from desk_app.storage import Store

    st = Store.open(paths, clock=clock)
    try:
        yield st
    finally:
        st.close()


def test_failed_logins_slow_down_then_lock_and_survive_a_restart(app_paths, users):
    """The count lives in the audit log: a new SessionService (a restarted desk) keeps it."""
    from desk_app.clock import FixedClock
    from desk_app.services.session import LoginRefused, SessionService

    clock = FixedClock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    settings = Settings.model_validate({"ui": {"login_max_failures": 4, "login_lockout_min": 15}})
    with _opened(app_paths, clock) as st:
        session = SessionService(st.users, st.audit, clock, lambda: settings)
        with pytest.raises(AuthError) as first:
            session.login("clerk1", "wrong-1")
        assert not isinstance(first.value, LoginRefused)
        # one slip costs nothing: the second try is made at once
        with pytest.raises(AuthError):
            session.login("clerk1", "wrong-2")
        # now 2 s must pass: even the right password is refused before it is tried
        with pytest.raises(LoginRefused) as slow:
            session.login("clerk1", "clerk-pass-1")
        assert "2 秒" in slow.value.message("zh_CN")
        clock.advance(seconds=2)
        with pytest.raises(AuthError):
            session.login("clerk1", "wrong-3")
        clock.advance(seconds=4)
        with pytest.raises(AuthError):
            session.login("clerk1", "wrong-4")
    # a restarted desk: the account is locked for 15 minutes, the right password included
    with _opened(app_paths, clock) as st:
        session = SessionService(st.users, st.audit, clock, lambda: settings)
        clock.advance(minutes=10)
        with pytest.raises(LoginRefused) as locked:
            session.login("clerk1", "clerk-pass-1")
        assert "锁定" in locked.value.message("zh_CN") and "5 分钟" in locked.value.message("zh_CN")
        # other accounts are not affected
        assert session.login(*users["admin"]).username == "admin1"
        clock.advance(minutes=5)
        assert session.login(*users["clerk"]).username == "clerk1"
        # the count starts again after a successful login
        with pytest.raises(AuthError) as again:
            session.login("clerk1", "wrong-5")
        assert not isinstance(again.value, LoginRefused)
        actions = [e.action for e in st.audit.entries(limit=50)]
    assert actions.count("login.failed") == 5 and actions.count("login.refused") == 2


def test_unknown_names_are_throttled_and_an_unlock_starts_again(app_paths, users):
    from desk_app.clock import FixedClock
    from desk_app.services.session import LoginRefused, SessionService

    clock = FixedClock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    settings = Settings.model_validate({"ui": {"login_max_failures": 2, "login_lockout_min": 60}})
    with _opened(app_paths, clock) as st:
        session = SessionService(st.users, st.audit, clock, lambda: settings)
        for name in ("nobody", "clerk1"):
            for _ in range(2):
                with pytest.raises(AuthError):
                    session.login(name, "x")
                clock.advance(seconds=1)
            with pytest.raises(LoginRefused):
                session.login(name, "x")
        st.audit.record("cli", "login.unlocked", "clerk1", {})
        assert session.login(*users["clerk"]).username == "clerk1"


def _judged(store, clerk: str, judgement: str, seconds: float, distance: float, at: datetime):
    from desk_app.storage import FaceJudgement

    v = _visit(store, "review", [Reason("face_undecided", "warn", "face")], at=at)
    return store.visits.record_face_judgement(FaceJudgement(
        judgement_id=str(uuid.uuid4()), visit_id=v.visit_id, clerk=clerk, judged_at=at,
        distance=distance, judgement=judgement, seconds=seconds, match_distance=0.537,
        mismatch_distance=0.615))


def test_a_clerk_confirming_every_undecided_face_within_a_second_is_shown_and_audited(
        store, session, users):
    now = datetime.now(CHINA_TZ).replace(hour=9)
    for i in range(12):  # always "same", always at once: not looked at
        _judged(store, "clerk1", "same", 0.3 + 0.05 * i, 0.55 + 0.005 * i, now + timedelta(minutes=i))
    for i in range(12):  # looks: a few seconds each, and says "different" sometimes
        _judged(store, "clerk2", "different" if i % 4 == 0 else "same", 2.5 + i * 0.5, 0.56,
                now + timedelta(minutes=i))
    for i in range(5):  # fast, but too few cases to say anything
        _judged(store, "clerk3", "same", 0.4, 0.57, now + timedelta(minutes=i))
    _judged(store, "clerk1", "same", 0.2, 0.55, now - timedelta(days=3))  # outside the period
    reports = ReportsService(store.visits, store.audit, session)
    session.login(*users["clerk"])
    with pytest.raises(AuthError):
        reports.clerk_judgements(now.date(), now.date())
    session.login(*users["admin"])
    views = {v.clerk: v for v in reports.clerk_judgements(now.date(), now.date())}
    one, two, three = views["clerk1"], views["clerk2"], views["clerk3"]
    assert (one.judged, one.same, one.within_1s, one.rubber_stamp) == (12, 12, 12, True)
    assert one.median_seconds == pytest.approx(0.575, abs=0.006)  # rounded to 0.01 s
    assert (two.judged, two.same, two.different, two.within_1s, two.rubber_stamp) == \
        (12, 9, 3, 0, False)
    assert (three.judged, three.rubber_stamp) == (5, False)
    [entry] = store.audit.entries(limit=5, action="stats.judgements_viewed")
    assert entry.actor == "admin1" and entry.detail["flagged"] == ["clerk1"]


def test_a_person_overriding_far_more_than_colleagues_is_flagged_and_sent_weekly(
        store, session, users):
    """Insiders: overrides per person on the statistics screen's table, a guard far above the
    others marked (and the view audited), and the week's figures queued for the platform."""
    import json

    from desk_app.services import insiders
    from desk_app.storage import Override

    now = datetime.now(CHINA_TZ).replace(hour=10)
    for i in range(8):  # guard1 admits eight rejected patients in one morning
        v = _visit(store, "reject", [Reason("face_mismatch", "block", "face")],
                   at=now + timedelta(minutes=i))
        store.visits.override(v.visit_id, Override("guard1", "家属陪同", "admit"),
                             at_window_of="clerk1")
    for who in ("guard2", "admin1"):  # colleagues: one override each
        v = _visit(store, "review", at=now)
        store.visits.override(v.visit_id, Override(who, "已核实", "admit"))
    reports = ReportsService(store.visits, store.audit, session)
    session.login(*users["admin"])
    views = {v.clerk: v for v in reports.clerk_judgements(now.date(), now.date())}
    assert views["guard1"].overrides == 8 and views["guard1"].far_above == ("overrides",)
    assert views["guard2"].overrides == 1 and views["guard2"].far_above == ()
    assert "clerk1" not in views and views["guard1"].judged == 0  # no calls, no overrides
    [entry] = store.audit.entries(limit=5, action="stats.judgements_viewed")
    assert entry.detail["far_above"] == ["guard1"]

    assert insiders.queue_weeks(store, "H001", "desk-01", now.date()) >= 1
    [item] = [i for i in store.outbox.pending(500) if i.kind == "insider_week"
              and i.payload["week"] == insiders.week_label(now.date())]
    people = {p["person"]: p for p in item.payload["people"]}
    assert people["guard1"]["far_above"] == ["overrides"] and people["guard1"]["overrides"] == 8
    assert people["clerk1"]["decisions"] == 10 and "张三" not in json.dumps(item.payload)


def test_far_above_needs_a_clear_lead():
    from desk_app.services.insiders import far_above

    assert far_above({"a": 9, "b": 3, "c": 2}) == {"a"}  # 9 >= 3 x median(3, 2)
    assert far_above({"a": 4, "b": 0, "c": 0}) == set()  # fewer than 5
    assert far_above({"a": 6, "b": 3, "c": 2}) == set()  # not three times the others
    assert far_above({"a": 5}) == set()  # nobody to compare with
