"""Flagged cases (face images, retention), users and roles."""

from __future__ import annotations

import pytest

from desk_app.errors import AuthError
from desk_app.settings import PrivacySection
from desk_app.storage import AlertInput, DuplicateError, NotFoundError

from .conftest import make_visit


def test_alert_photos_are_audited_and_handled(store):
    v = store.visits.record(make_visit(verdict="reject"),
                           alert=AlertInput(id_photo=b"ID-PNG", live_face=b"LIVE-PNG"))
    [a] = store.alerts.cases()
    assert a.visit_id == v.visit_id and a.status == "open" and a.has_photos
    assert a.visit.person_name == "张三丰"
    assert store.alerts.photos(a.alert_id, viewer="sec1") == (b"ID-PNG", b"LIVE-PNG")
    viewed = store.audit.entries(1)[0]
    assert (viewed.action, viewed.actor, viewed.subject) == ("alert.viewed", "sec1", a.alert_id)
    h = store.alerts.mark_handled(a.alert_id, by="sec1", note="patient's own booking")
    assert (h.status, h.handled_by, h.note) == ("handled", "sec1", "patient's own booking")
    assert store.alerts.cases() == [] and len(store.alerts.cases(include_handled=True)) == 1
    with pytest.raises(NotFoundError):
        store.alerts.get("missing")


def test_face_images_purged_after_retention_templates_kept(store, clock):
    store.visits.record(make_visit(), alert=AlertInput(id_photo=b"old", live_face=b"old"))
    retention = PrivacySection().face_retention_days
    assert retention == 30
    clock.advance(days=retention - 1)
    fresh = store.visits.record(make_visit(), alert=AlertInput(live_face=b"new"))
    assert store.alerts.purge_face_images(retention) == 0
    clock.advance(days=2)
    assert store.alerts.purge_face_images(retention) == 1
    by_visit = {a.visit_id: a for a in store.alerts.cases()}
    old = next(a for a in by_visit.values() if a.visit_id != fresh.visit_id)
    assert not old.has_photos and old.photos_purged_at == clock.now()
    assert store.alerts.photos(old.alert_id, "sec1") == (None, None)
    assert old.visit.face_template == b"\x00\x01" * 64 and old.visit.face_distance == 0.55
    assert by_visit[fresh.visit_id].has_photos


def test_create_alert_later(store):
    v = store.visits.record(make_visit())
    a = store.alerts.create(v.visit_id, AlertInput(conflict=True, note="checked in at desk-02"))
    assert a.conflict and not a.has_photos
    with pytest.raises(NotFoundError):
        store.alerts.create("nope", AlertInput())


def test_users_roles_and_logins(store):
    u = store.users.create("wang", "王护士", "clerk", "s3cret-pass", actor="admin")
    assert u.role == "clerk" and u.active
    with pytest.raises(DuplicateError):
        store.users.create("wang", "x", "clerk", "another-pass")
    with pytest.raises(AuthError):
        store.users.create("li", "x", "clerk", "short")
    with pytest.raises(ValueError):
        store.users.create("li", "x", "boss", "long-enough")
    assert store.users.authenticate("wang", "s3cret-pass").last_login_at is not None
    with pytest.raises(AuthError):
        store.users.authenticate("wang", "wrong-pass")
    with pytest.raises(AuthError):
        store.users.authenticate("nobody", "whatever1")
    store.users.set_active("wang", False, actor="admin")
    with pytest.raises(AuthError):
        store.users.authenticate("wang", "s3cret-pass")
    store.users.set_active("wang", True, actor="admin")
    store.users.set_password("wang", "new-pass-123", actor="admin")
    assert store.users.authenticate("wang", "new-pass-123").username == "wang"
    actions = [e.action for e in store.audit.entries(20)]
    assert actions.count("login") == 2 and actions.count("login.failed") == 3
    assert [x.username for x in store.users.all()] == ["wang"]
    # Only an argon2id hash is stored.
    with store.db.read() as s:  # look at the row itself
        from desk_app.storage.schema import UserRow

        assert s.get(UserRow, "wang").password_hash.startswith("$argon2id$")
