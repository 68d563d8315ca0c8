"""The same store on PostgreSQL (a fresh schema per test, dropped afterwards)."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from desk_app.identity.hashing import b64e
from desk_app.storage import BlacklistEntry, Crypto, Store

from .conftest import T0, make_visit

URL = os.environ.get("DESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(clock):
    schema = f"desk_store_{uuid.uuid4().hex[:12]}"
    admin = create_engine(URL)
    try:
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - report why the test cannot run
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {URL}: {type(exc).__name__}")
    store = Store.open(url=URL, schema=schema, crypto=Crypto.generate(), clock=clock)
    yield store
    store.close()
    with admin.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_visits_outbox_blacklist_and_audit_on_postgres(pg_store):
    s = pg_store
    assert s.migration.to_revision == "0005"
    v = s.visits.record(make_visit())
    assert s.visits.get(v.visit_id) == v
    [item] = s.outbox.pending()
    assert item.payload["visit_id"] == v.visit_id
    assert s.outbox.mark_sent([item.id]) == 1 and s.outbox.count() == 0

    h = os.urandom(32)
    base = {"entry_id": "e1", "id_hash": b64e(h), "last4": "1234", "source": "platform",
            "reason": "r", "valid_from": T0.isoformat(), "valid_to": "9999-12-31T00:00:00Z",
            "version": 2, "deleted": False}
    s.blacklist.apply_delta([BlacklistEntry.from_wire(base)], version=2)
    assert s.blacklist.lookup(h).entry_id == "e1"
    r = s.blacklist.apply_delta([BlacklistEntry.from_wire({**base, "version": 1,
                                                           "deleted": True})], version=1)
    assert s.blacklist.lookup(h) is not None  # the older tombstone did not win
    assert r.version == 1
    s.blacklist.apply_delta([BlacklistEntry.from_wire({**base, "version": 3,
                                                       "deleted": True})], version=3)
    assert s.blacklist.lookup(h) is None
    assert s.blacklist.status().version == 3

    s.users.create("sec1", "保卫科", "security", "pg-pass-123")
    assert s.users.authenticate("sec1", "pg-pass-123").role == "security"
    assert s.audit.verify().ok
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="append-only"), s.db.w.begin() as c:
        c.execute(text("UPDATE audit_log SET actor = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"), s.db.w.begin() as c:
        c.execute(text("DELETE FROM audit_log"))
    n = len(s.audit.entries(100))
    s.db.clock.advance(days=400)  # the fixture's FixedClock
    s.audit.record("sec1", "export", "x.csv")
    assert s.audit.purge(365) == n
    assert s.audit.verify().ok and s.audit.verify().checked == 2


def test_concurrent_audit_appends_keep_one_chain(pg_store):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                pg_store.audit.record(f"user{n}", "export", f"file-{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = pg_store.audit.verify()
    assert report.ok and report.checked == 40
