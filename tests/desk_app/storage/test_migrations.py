"""Upgrading a database written by the first schema version (revision 0001)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from desk_app.storage import DatabaseTooNewError, Store, chain
from desk_app.storage.crypto import Crypto, KeyStore
from desk_app.storage.db import make_engines
from desk_app.storage.migrate import current_revision, head_revision, upgrade


def _naive(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _make_v1_database(app_paths) -> tuple[str, str]:
    """What the first release left on disk: schema 0001 with a visit, its outbox row, a flagged
    case and an audit entry, encrypted with the desk key."""
    crypto = Crypto(KeyStore(app_paths.key_file).load(create=True))
    w, _r = make_engines(f"sqlite:///{app_paths.database_file}")
    upgrade(w, db_file=app_paths.database_file, backup_dir=app_paths.backup_dir, target="0001")
    vid, aid = str(uuid.uuid4()), str(uuid.uuid4())
    at = datetime(2026, 1, 5, 17, 10, tzinfo=UTC)  # 01:10 on Jan 6 in Beijing
    detail = chain.detail_to_json({"verdict": "reject"})
    h = chain.row_hash(crypto.audit_mac, chain.GENESIS, 1, at, "clerk1", "checkin.decision",
                       vid, detail)
    with w.begin() as c:
        c.execute(text("INSERT INTO store_meta VALUES ('key_fingerprint', :v)"),
                  {"v": crypto.fingerprint})
        c.execute(text("INSERT INTO store_meta VALUES (:k, :v)"),
                  {"k": chain.HEAD_KEY, "v": chain.head_value(crypto.audit_mac, 1, h)})
        c.execute(text(
            "INSERT INTO visits (visit_id, booking_id, hospital_id, desk_id, clerk, "
            "checked_in_at, verdict, reasons_json, offline, person_name_enc, recorded_at) "
            "VALUES (:id, 'BK9', 'H001', 'desk-01', 'clerk1', :at, 'reject', :r, 1, :name, :at)"),
            {"id": vid, "at": _naive(at), "name": crypto.encrypt(
                "李四".encode(), f"v.name|{vid}".encode()),
             "r": json.dumps([{"code": "blacklisted", "severity": "block", "rule": "bl"}])})
        c.execute(text(
            "INSERT INTO outbox (kind, dedup_key, visit_id, payload_enc, created_at, attempts) "
            "VALUES ('visit', :id, :id, :p, :at, 0)"),
            {"id": vid, "at": _naive(at),
             "p": crypto.encrypt(json.dumps({"visit_id": vid}).encode(), f"outbox|{vid}".encode())})
        c.execute(text(
            "INSERT INTO alerts (alert_id, visit_id, created_at, status, note, handled_by, "
            "conflict, live_face_enc) VALUES (:a, :v, :at, 'open', '', '', 0, :f)"),
            {"a": aid, "v": vid, "at": _naive(at),
             "f": crypto.encrypt(b"FACE", f"a.live|{aid}".encode())})
        c.execute(text(
            "INSERT INTO audit_log VALUES (1, :at, 'clerk1', 'checkin.decision', :s, :d, :p, :h)"),
            {"at": _naive(at), "s": vid, "d": detail, "p": chain.GENESIS, "h": h})
    w.dispose()
    _r.dispose()
    return vid, aid


def test_upgrade_from_the_first_schema_keeps_every_record(app_paths):
    vid, aid = _make_v1_database(app_paths)
    store = Store.open(app_paths)
    try:
        m = store.migration
        assert (m.from_revision, m.to_revision) == ("0001", head_revision()) == ("0001", "0005")
        assert m.backup is not None and m.backup.parent == app_paths.backup_dir
        old = sqlite3.connect(m.backup)
        assert old.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        assert old.execute("SELECT count(*) FROM visits").fetchone() == (1,)
        old.close()
        v = store.visits.get(vid)
        assert v is not None and v.person_name == "李四" and v.local_day == "2026-01-06"
        assert [r.code for r in v.reasons] == ["blacklisted"]
        [item] = store.outbox.pending()
        assert item.payload == {"visit_id": vid}
        assert store.alerts.photos(aid, "sec1") == (None, b"FACE")
        assert store.audit.verify().ok
        # The new column is in use.
        from .conftest import make_visit

        assert store.visits.record(make_visit()).local_day == "2026-03-02"
    finally:
        store.close()
    # Opening again: nothing to do, no second backup.
    again = Store.open(app_paths)
    assert again.migration.backup is None and again.migration.from_revision == "0005"
    again.close()
    assert len(list(app_paths.backup_dir.iterdir())) == 1


def test_database_from_a_newer_program_is_refused(app_paths):
    Store.open(app_paths).close()
    con = sqlite3.connect(app_paths.database_file)
    with con:
        con.execute("UPDATE alembic_version SET version_num = '0099'")
    con.close()
    with pytest.raises(DatabaseTooNewError):
        Store.open(app_paths)


def test_new_database_is_made_at_head_without_backup(app_paths):
    s = Store.open(app_paths)
    assert s.migration.from_revision is None and s.migration.backup is None
    w, r = make_engines(f"sqlite:///{app_paths.database_file}")
    assert current_revision(w) == head_revision()
    with w.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    w.dispose()
    r.dispose()
    s.close()
