"""Visits with their outbox rows; the outbox as the sync client uses it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk_app.identity.hashing import b64e
from desk_app.storage import AlertInput, DuplicateError, NotFoundError, Override

from .conftest import T0, make_visit


def test_visit_round_trip_and_outbox_payload_follows_the_contract(store):
    v = make_visit()
    rec = store.visits.record(v)
    assert store.visits.get(v.visit_id) == rec
    assert rec.person_name == "张三丰" and rec.id_number == "110101199003071234"
    assert rec.local_day == "2026-03-02"
    [item] = store.outbox.pending()
    assert item.kind == "visit" and item.key == v.visit_id and item.visit_id == v.visit_id
    assert item.payload == {
        "visit_id": v.visit_id, "booking_id": "BK-1", "hospital_id": "H001",
        "desk_id": "desk-01", "clerk": "clerk1", "checked_in_at": T0.isoformat(),
        "verdict": "review",
        "reasons": [{"code": "face_undecided", "severity": "warn", "rule": "faces"}],
        "face_distance": 0.55, "face_outcome": "undecided",
        "presented_id_hash": b64e(b"\x01" * 32), "presented_id_last4": "1234",
        "offline": True, "override": None,
    }
    assert "张三丰" not in str(item.payload) and "110101199003071234" not in str(item.payload)


def test_local_day_is_beijing_time(store):
    late = T0.replace(hour=17)  # 01:00 next day in Beijing
    assert store.visits.record(make_visit(checked_in_at=late)).local_day == "2026-03-03"


def test_duplicate_visit_id_is_refused_and_nothing_is_added(store):
    v = make_visit()
    store.visits.record(v)
    with pytest.raises(DuplicateError):
        store.visits.record(v)
    assert store.outbox.count() == 1 and store.visits.count() == 1


def test_outbox_sent_failed_and_count(store, clock):
    ids = [store.visits.record(make_visit()).visit_id for _ in range(5)]
    items = store.outbox.pending(limit=3)
    assert [i.visit_id for i in items] == ids[:3]
    assert store.outbox.park([items[0].id], "refused by the platform") == 1
    assert store.outbox.pending(limit=1)[0].id == items[1].id
    assert store.outbox.mark_sent([i.id for i in items]) == 2  # the parked one is out already
    assert store.outbox.mark_sent([items[1].id]) == 0  # already sent: not counted twice
    assert store.outbox.count() == 2
    assert [i.visit_id for i in store.outbox.pending()] == ids[3:]
    clock.advance(days=8)
    assert store.outbox.purge_sent() == 2  # the parked one stays 30 days (test_parked.py)
    assert store.outbox.count() == 2
    [parked] = store.outbox.parked()
    assert (parked.id, parked.attempts, parked.last_error) == (items[0].id, 1,
                                                               "refused by the platform")


def test_override_while_the_upload_is_unconfirmed_is_its_own_item_after_the_visit(store):
    """The worker took the visit's item (its batch on the wire), then the clerk overrode it,
    then the platform's answer came: the override must still go, as its own item after the
    visit, and the visit's payload is never rewritten (sent again it is only a duplicate)."""
    v = store.visits.record(make_visit(verdict="reject"))
    [taken] = store.outbox.pending()  # the worker's batch
    rec = store.visits.override(v.visit_id, Override("sec1", "ID checked by hand", "admit"))
    assert rec.final_verdict == "admit" and rec.verdict == "reject"
    assert [i.kind for i in store.outbox.pending()] == ["visit", "visit_override"]
    [visit, _] = store.outbox.pending()
    assert visit.id == taken.id and visit.payload == taken.payload
    assert visit.payload["override"] is None
    assert store.outbox.mark_sent([taken.id]) == 1  # the answer to that batch
    [item] = store.outbox.pending()
    assert item.kind == "visit_override" and item.visit_id == v.visit_id
    assert item.payload["override"] == {"by": "sec1", "reason": "ID checked by hand",
                                        "verdict": "admit"}
    assert store.audit.entries(1)[0].action == "checkin.override"


def test_every_override_is_queued_in_order_after_the_visit(store, clock):
    v = store.visits.record(make_visit(verdict="reject"))
    store.visits.override(v.visit_id, Override("sec1", "ID checked by hand", "admit"))
    clock.advance(minutes=1)
    store.visits.override(v.visit_id, Override("sec2", "photo does not match", "reject"))
    items = store.outbox.pending()
    assert [i.kind for i in items] == ["visit", "visit_override", "visit_override"]
    assert [i.payload["override"]["by"] for i in items[1:]] == ["sec1", "sec2"]


def test_override_after_upload_queues_its_own_item(store):
    v = store.visits.record(make_visit(verdict="reject"))
    store.outbox.mark_sent([i.id for i in store.outbox.pending()])
    store.visits.override(v.visit_id, Override("sec1", "ok", "admit"))
    [item] = store.outbox.pending()
    assert item.kind == "visit_override" and item.payload["visit_id"] == v.visit_id
    with pytest.raises(NotFoundError):
        store.visits.override("nope", Override("sec1", "ok", "admit"))


def test_history_by_keyed_hash(store, clock):
    a = store.visits.record(make_visit())
    clock.advance(hours=1)
    b = store.visits.record(make_visit(checked_in_at=T0 + timedelta(hours=1)))
    store.visits.record(make_visit(id_number="110101199003070000"))
    assert [r.visit_id for r in store.visits.for_id_number("110101199003071234")] == [
        b.visit_id, a.visit_id]
    assert [r.visit_id for r in store.visits.for_id_number(
        "110101199003071234", since=T0 + timedelta(minutes=30))] == [b.visit_id]
    assert len(store.visits.for_booking("BK-1")) == 3
    assert len(store.visits.between(T0, T0 + timedelta(minutes=1))) == 2


def test_visit_alert_and_outbox_are_one_transaction(store):
    v = make_visit()
    store.visits.record(v, alert=AlertInput(id_photo=b"PNG-ID", live_face=b"PNG-LIVE"))
    with pytest.raises(DuplicateError):  # the second write fails as a whole
        store.visits.record(v, alert=AlertInput(id_photo=b"again"))
    assert len(store.alerts.cases()) == 1
    # The visit and, for the security office, its case's photos item (naming the case: the
    # worker reads the images from it when it sends, so the outbox holds no face).
    [visit, photos] = store.outbox.pending()
    assert (visit.kind, photos.kind) == ("visit", "alert_photos")
    assert photos.payload == {"visit_id": v.visit_id, "hospital_id": v.hospital_id,
                              "alert_id": store.alerts.cases()[0].alert_id}


def test_enqueue_other_messages(store):
    n = store.outbox.enqueue("suspect_report", "rep-1", {"note": "same face, third booking"})
    [item] = store.outbox.pending()
    assert item.id == n and item.kind == "suspect_report" and item.visit_id is None


def test_parts_share_one_transaction_a_failing_audit_append_leaves_nothing(store):
    """visits.record hands its session to the outbox, alerts, bookings and audit parts: when the
    last of them fails, the visit, its outbox row and the flagged case are not on disk either."""
    from sqlalchemy import text

    from desk_app.storage import StorageError

    kept = store.visits.record(make_visit())
    with store.db.w.begin() as conn:  # the audit chain's head gone: appending fails
        conn.execute(text("DELETE FROM store_meta WHERE key = 'audit_head'"))
    with pytest.raises(StorageError):
        store.visits.record(make_visit(), alert=AlertInput(id_photo=b"png", live_face=b"png"))
    with pytest.raises(StorageError):
        store.visits.override(kept.visit_id, Override("sec1", "checked by hand", "admit"))
    assert store.visits.count() == 1 and store.outbox.count() == 1
    assert store.alerts.cases(include_handled=True) == []
    assert store.visits.get(kept.visit_id).override is None
    [item] = store.outbox.pending()
    assert item.payload["override"] is None
