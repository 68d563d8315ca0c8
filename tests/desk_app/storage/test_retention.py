"""Every purge runs on schedule; after privacy.visit_pii_days a visit keeps only what the
statistics need; the audit chain still verifies after its old entries are purged."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timedelta

from desk_app.clock import CHINA_TZ
from desk_app.settings import PrivacySection
from desk_app.storage import AlertInput, Store
from desk_app.storage.audit import AuditAction
from desk_app.storage.migrate import backup_sqlite
from desk_app.storage.recovery import backup_online
from desk_app.storage.retention import Periodic, run_retention

from .conftest import make_visit


def test_a_visit_past_its_days_keeps_no_name_or_full_number(store, clock):
    old = store.visits.record(make_visit(), alert=AlertInput(live_face=b"jpeg" * 100))
    clock.advance(days=31)
    new = store.visits.record(make_visit(checked_in_at=clock.now()))
    counts = run_retention(store, PrivacySection(visit_pii_days=30, face_retention_days=30))
    assert counts["visit_pii"] == 1 and counts["face_images"] == 1
    kept = store.visits.get(old.visit_id)
    assert kept.id_number is None and kept.person_name is None and kept.face_template is None
    # what the statistics need stays
    assert kept.presented_id_last4 == "1234" and kept.presented_id_hash == b"\x01" * 32
    assert kept.verdict == "review" and [r.code for r in kept.reasons] == ["face_undecided"]
    assert store.visits.get(new.visit_id).id_number == "110101199003071234"
    actions = [e.action for e in store.audit.entries(limit=10)]
    assert "visits.pii_purged" in actions and actions[0] == "retention.run"
    # a second run finds nothing more to do
    assert run_retention(store, PrivacySection(visit_pii_days=30))["visit_pii"] == 0


def test_audit_purge_keeps_the_chain_verifiable_and_sent_items_go(store, clock):
    for _ in range(5):
        store.visits.record(make_visit())
    store.outbox.mark_sent([i.id for i in store.outbox.pending(limit=3)])
    clock.advance(days=40)
    store.visits.record(make_visit(checked_in_at=clock.now()))
    counts = run_retention(store, PrivacySection(audit_retention_days=30))
    assert counts["audit"] >= 5 and counts["sent_outbox"] == 3
    report = store.audit.verify()
    assert report.ok, report.problems
    assert store.outbox.count() == 3  # the two unsent and the new one stay


def test_periodic_runs_at_start_and_survives_a_failing_run(app_paths, clock):
    calls = []

    def task():
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise OSError("disk full")

    p = Periodic("test", task, lambda: 0.02, at_start=True, errors=(OSError,))
    p.start()
    deadline = time.monotonic() + 10
    while len(calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    p.stop()
    assert len(calls) >= 4 and p.runs == len(calls) - 1


def test_the_desk_runs_retention_when_it_starts(app_paths, clock):
    """A Periodic with ``at_start`` purges before its first tick (an hour away here): a visit
    already past its days at start loses its number. The composition root's own wiring is
    tests/test_app.py::test_a_damaged_database_is_recovered_at_start_and_retention_runs."""
    s = Store.open(app_paths, clock=clock)
    v = s.visits.record(make_visit())
    clock.advance(days=400)
    p = Periodic("desk-retention", lambda: run_retention(s, PrivacySection()), lambda: 3600.0,
                 at_start=True)
    p.start()
    deadline = time.monotonic() + 10
    while p.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    p.stop()
    assert s.visits.get(v.visit_id).id_number is None
    s.close()


def _id_lookups(app_paths) -> dict[str, bytes | None]:
    with closing(sqlite3.connect(app_paths.database_file)) as conn:
        return dict(conn.execute("SELECT visit_id, id_lookup FROM visits"))


def test_a_purged_visit_keeps_no_keyed_hash_and_today_s_history_still_finds_the_person(
        store, clock, app_paths):
    """id_lookup (an HMAC of the full number) gave the number back by trial with the desk's key;
    its one reader looks back over the current Beijing day (the person's other check-ins today),
    which a purge, at least a day after the visit, never reaches."""
    old = store.visits.record(make_visit())
    before = store.visits.record(make_visit())  # purged by a desk before this fix: the hash stayed
    with closing(sqlite3.connect(app_paths.database_file)) as conn, conn:
        conn.execute("UPDATE visits SET id_number_enc = NULL, person_name_enc = NULL, "
                     "face_template_enc = NULL WHERE visit_id = ?", (before.visit_id,))
    clock.advance(days=1, hours=14)  # 2026-03-03 23:30 in Beijing
    day_start = datetime(2026, 3, 3, tzinfo=CHINA_TZ)
    early = store.visits.record(make_visit(checked_in_at=day_start + timedelta(minutes=5)))
    assert all(_id_lookups(app_paths).values())
    counts = run_retention(store, PrivacySection(visit_pii_days=1))
    assert counts["visit_pii"] == 2
    lookups = _id_lookups(app_paths)
    assert lookups[old.visit_id] is None and lookups[before.visit_id] is None
    assert lookups[early.visit_id] is not None
    assert [v.visit_id for v in store.visits.for_id_number(
        "110101199003071234", since=day_start)] == [early.visit_id]
    assert store.visits.get(old.visit_id).presented_id_last4 == "1234"


def _made_at(path, when):
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def test_database_copies_go_after_the_shortest_retention_of_their_content(store, clock, app_paths):
    """A copy of the database (before an upgrade, online, a damaged file moved aside) holds every
    full number, name and face image the purges remove from the live database: it goes after the
    shorter of face_retention_days and visit_pii_days. Files the desk did not name stay."""
    store.visits.record(make_visit(), alert=AlertInput(live_face=b"jpeg" * 100))
    upgrade_copy = _made_at(backup_sqlite(app_paths.database_file, app_paths.backup_dir, "0004"),
                            clock.now())
    live_copy = _made_at(backup_online(app_paths.database_file, app_paths.backup_dir, kept=6),
                         clock.now())
    damaged_dir = app_paths.data_dir / "damaged"
    damaged_dir.mkdir()
    damaged = [damaged_dir / "desk-20260302-093000.sqlite3",
               damaged_dir / "desk-20260302-093000.sqlite3-wal"]  # as recovery.quarantine names
    for p in damaged:
        p.write_bytes(upgrade_copy.read_bytes()[:4096])
        _made_at(p, clock.now())
    foreign = [app_paths.backup_dir / "it-weekly.sqlite3", damaged_dir / "notes.txt"]
    for p in foreign:
        p.write_text("hospital IT's own")
        _made_at(p, clock.now())

    clock.advance(days=10)
    fresh = _made_at(backup_sqlite(app_paths.database_file, app_paths.backup_dir, "0005"),
                     clock.now())
    privacy = PrivacySection(visit_pii_days=30, face_retention_days=11)
    assert run_retention(store, privacy)["backups"] == 0  # not yet 11 days old

    clock.advance(days=2)
    counts = run_retention(store, privacy)
    assert counts["backups"] == 4
    for gone in (upgrade_copy, live_copy, *damaged):
        assert not gone.exists(), gone
    assert fresh.exists() and all(p.exists() for p in foreign)
    [entry] = store.audit.entries(limit=10, action=AuditAction.BACKUPS_PURGED)
    assert sorted(entry.detail["files"]) == sorted(
        p.name for p in (upgrade_copy, live_copy, *damaged))
    assert entry.detail["retention_days"] == 11
    assert run_retention(store, privacy)["backups"] == 0
