"""The security office's store: the hospital's alerts applied page by page (a page applied again
or an older seq changes nothing), handled here once for all desks (the outbox tells the
platform; our own case of the same visit is handled with it), and purged after the retention
days once handled."""

from __future__ import annotations

from dataclasses import replace

from desk_app.alert_ids import DESK_ALERT, made_alert_id
from desk_app.storage import AlertInput
from desk_app.storage.office_alerts import OfficeAlert, OfficeAlerts

from .conftest import T0, make_visit


def _alert(alert_id: str, seq: int, **kw) -> OfficeAlert:
    base = dict(alert_id=alert_id, seq=seq, kind="suspect_report", booking_id=None,
                visit_ids=(), desk_ids=("desk-02",), created_at=T0, detail="scalper: 倒号")
    return OfficeAlert(**{**base, **kw})


def test_pages_apply_once_and_newer_seq_wins(store):
    office = OfficeAlerts(store)
    a = _alert("a-1", 5)
    first = office.apply([a], cursor=5)
    assert first.new_open == ("a-1",) and office.cursor() == 5
    again = office.apply([a], cursor=5)
    assert again.new_open == () and again.handled == ()
    handled = replace(a, seq=9, handled_by="guard2", handled_at=T0, handled_note="已处理",
                      handled_desk="desk-02")
    assert office.apply([handled], cursor=9).handled == ("a-1",)
    assert office.apply([a], cursor=9).handled == ()  # an older seq does not reopen it
    assert office.alerts() == []
    [done] = office.alerts(include_handled=True)
    assert (done.handled_by, done.handled_note, done.detail) == ("guard2", "已处理", "scalper: 倒号")


def test_handled_here_is_queued_and_handles_our_own_case(store):
    office = OfficeAlerts(store)
    v = make_visit(verdict="reject")
    store.visits.record(v, AlertInput(id_photo=b"png"))
    aid = made_alert_id(DESK_ALERT, "H001", v.visit_id)
    office.apply([_alert(aid, 3, kind=DESK_ALERT, visit_ids=(v.visit_id,),
                         desk_ids=("desk-01",))])
    out = office.handle(aid, "guard1", "核实完毕", "H001")
    assert out.handled and out.handled_here
    [item] = [i for i in store.outbox.pending(50) if i.kind == "alert_handled"]
    assert item.payload == {"hospital_id": "H001", "alert_id": aid, "handled_by": "guard1",
                            "note": "核实完毕"}
    [own] = store.alerts.cases(True)
    assert own.status == "handled" and own.handled_by == "guard1"
    office.handle(aid, "guard2", "again", "H001")  # once only
    assert len([i for i in store.outbox.pending(50) if i.kind == "alert_handled"]) == 1


def test_handled_alerts_are_purged_after_the_retention_days(store, clock):
    office = OfficeAlerts(store)
    office.apply([_alert("old", 1, handled_by="g", handled_at=T0),
                  _alert("open", 2)])
    assert office.purge_handled(30) == 0  # handled today: kept
    clock.advance(days=31)
    assert office.purge_handled(30) == 1
    assert [a.alert_id for a in office.alerts(include_handled=True)] == ["open"]
