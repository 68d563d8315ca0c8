"""A damaged desk database: pages overwritten at random, the desk reopens it and counts what came
back. Nothing that was in the last online backup may be lost, every visit that comes back is
either queued for upload again or was acknowledged by the platform, the damaged file is kept for
hospital IT, and the desk goes on recording."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from desk_app.storage import Store, recovery
from desk_app.storage.recovery import backup_online, live_backups

from .conftest import make_visit

PAGE = 4096


def _fill(app_paths, clock, n_before: int, n_after: int, sent: int):
    """n_before visits (the first `sent` of them acknowledged), an online backup, n_after more."""
    store = Store.open(app_paths, clock=clock)
    store.users.create("clerk1", "挂号员一", "clerk", "clerk-pass-1")
    before = [store.visits.record(make_visit()).visit_id for _ in range(n_before)]
    items = store.outbox.pending(limit=sent)
    store.outbox.mark_sent([i.id for i in items])
    backup = backup_online(app_paths.database_file, app_paths.backup_dir, kept=3)
    after = [store.visits.record(make_visit()).visit_id for _ in range(n_after)]
    store.close()
    acked = {i.visit_id for i in items}
    return before, after, acked, backup


def _damage(path, rng: random.Random, pages: int) -> list[int]:
    size = path.stat().st_size
    count = size // PAGE
    hit = sorted(rng.sample(range(1, count), min(pages, count - 1)))  # not page 0: the header
    with path.open("r+b") as f:
        for p in hit:
            f.seek(p * PAGE)
            f.write(rng.randbytes(PAGE))
    return hit


def _damage_audit_log(db: Path) -> None:
    """Overwrite the root page of the audit log (after a checkpoint): the rest reads."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'audit_log'").fetchone()[0]
    with db.open("r+b") as f:
        f.seek((root - 1) * PAGE)
        f.write(b"\xff" * PAGE)


def _visit_ids(store: Store) -> set[str]:
    with sqlite3.connect(store.db.w.url.database) as conn:  # the file as it now is
        return {r[0] for r in conn.execute("SELECT visit_id FROM visits")}


def _queued(store: Store) -> set[str]:
    return {i.visit_id for i in store.outbox.pending(limit=10_000) if i.kind == "visit"}


@pytest.mark.parametrize("seed", range(6))
def test_random_damage_loses_nothing_of_the_backup_and_requeues_what_came_back(
        app_paths, clock, seed):
    before, after, acked, backup = _fill(app_paths, clock, 120, 120, sent=60)
    db = app_paths.database_file
    rng = random.Random(seed)
    hit = _damage(db, rng, pages=3)

    store = Store.open(app_paths, clock=clock)  # never raises
    try:
        present = _visit_ids(store)
        # nothing of the backup is lost
        assert set(before) <= present
        # every visit is either acknowledged by the platform or waiting in the outbox
        queued = _queued(store)
        for vid in present - acked:
            assert vid in queued, vid
        came_back = len(present & set(after))
        print(f"seed {seed}: pages {hit}: {came_back}/{len(after)} visits written after the "
              f"backup came back; recovery={store.recovery and store.recovery.merged} "
              f"{store.recovery and store.recovery.method}")
        if store.recovery is not None:
            rec = store.recovery
            assert rec.damaged_file.exists() and rec.damaged_file.parent.name == "damaged"
            assert rec.backup_used == backup
            assert rec.visits == len(present)
            entry = store.audit.entries(limit=1, action="database.recovered")[0]
            assert entry.detail["requeued"] == rec.requeued
        # the desk goes on
        store.visits.record(make_visit())
        assert store.audit.verify().checked > 0
    finally:
        store.close()


def test_salvage_brings_back_visits_the_backup_did_not_have(app_paths, clock):
    """Damage confined to one page of the audit log: every visit written after the backup is
    read back from the damaged file and queued again."""
    before, after, acked, backup = _fill(app_paths, clock, 40, 80, sent=40)
    db = app_paths.database_file
    _damage_audit_log(db)
    assert recovery.problem(db) is not None
    store = Store.open(app_paths, clock=clock)
    try:
        assert store.recovery is not None
        present = _visit_ids(store)
        assert set(before) | set(after) <= present
        assert set(after) <= _queued(store)
        # they came back as the pending outbox items themselves, or queued anew from the visits
        assert store.recovery.merged["outbox"] + store.recovery.requeued >= len(after)
        assert store.recovery.merged["users"] == 0  # the backup had the account already
    finally:
        store.close()


def test_a_file_that_is_not_a_database_starts_from_the_backup(app_paths, clock):
    before, after, acked, backup = _fill(app_paths, clock, 10, 5, sent=0)
    app_paths.database_file.write_bytes(b"garbage" * 5000)
    store = Store.open(app_paths, clock=clock)
    try:
        assert store.recovery is not None and store.recovery.backup_used == backup
        assert set(before) <= _visit_ids(store)
        assert store.users.authenticate("clerk1", "clerk-pass-1").username == "clerk1"
    finally:
        store.close()


def test_no_backup_no_readable_rows_still_opens_empty(app_paths, clock):
    store = Store.open(app_paths, clock=clock)
    store.visits.record(make_visit())
    store.close()
    app_paths.database_file.write_bytes(b"\x00" * 3 * PAGE)
    store = Store.open(app_paths, clock=clock)
    try:
        assert store.recovery is not None and store.recovery.backup_used is None
        store.visits.record(make_visit())
        assert store.outbox.count() == 1
    finally:
        store.close()


def test_online_backups_keep_the_newest(app_paths, clock):
    store = Store.open(app_paths, clock=clock)
    try:
        taken = [backup_online(app_paths.database_file, app_paths.backup_dir, kept=2)
                 for _ in range(4)]
        assert live_backups(app_paths.backup_dir) == [taken[3], taken[2]]
        for b in live_backups(app_paths.backup_dir):
            assert recovery.problem(b) is None
            assert oct(b.stat().st_mode & 0o777) == "0o600"
    finally:
        store.close()


def test_backups_are_taken_while_the_desk_writes(app_paths, clock):
    import time

    from desk_app.storage.retention import Periodic

    store = Store.open(app_paths, clock=clock)
    schedule = Periodic("desk-backup", lambda: backup_online(
        app_paths.database_file, app_paths.backup_dir, kept=3), lambda: 0.05)
    schedule.start()
    try:
        deadline = time.monotonic() + 30
        written = 0
        while schedule.runs < 3 and time.monotonic() < deadline:
            store.visits.record(make_visit())  # writers go on while backups are taken
            written += 1
        assert schedule.runs >= 3
    finally:
        schedule.stop()
        store.close()
    newest = live_backups(app_paths.backup_dir)[0]
    assert recovery.problem(newest) is None
    with sqlite3.connect(newest) as conn:
        assert 0 < conn.execute("SELECT count(*) FROM visits").fetchone()[0] <= written


def test_the_desk_is_told_once_in_words(app_paths, clock):
    _fill(app_paths, clock, 5, 5, sent=0)
    app_paths.database_file.write_bytes(b"garbage" * 5000)
    store = Store.open(app_paths, clock=clock)
    try:
        problem = store.recovery.as_problem()
        zh, en = problem.message("zh_CN"), problem.message("en")
        assert "已自动恢复" in zh and "信息科" in zh and str(store.recovery.damaged_file) in zh
        assert "recovered" in en and problem.title("zh_CN") == "本地数据库已恢复"
    finally:
        store.close()


def test_a_file_set_aside_counts_its_age_from_then(tmp_path):
    """A damaged database last written weeks ago (the desk was off) is kept for hospital IT from
    the day it was set aside: retention judges database copies by their modification time."""
    import os
    import time

    db = tmp_path / "desk.sqlite3"
    for suffix in ("", "-wal"):
        Path(f"{db}{suffix}").write_bytes(b"damaged")
        old = time.time() - 60 * 86400
        os.utime(Path(f"{db}{suffix}"), (old, old))
    target = recovery.quarantine(db, tmp_path / "damaged")
    for suffix in ("", "-wal"):
        assert time.time() - Path(f"{target}{suffix}").stat().st_mtime < 600
    assert not db.exists()


def test_an_overridden_visit_queued_again_takes_its_override_along(app_paths, clock):
    """Visits overridden after the backup whose outbox rows are lost with the damage: each is
    queued again and its override after it (the platform may have had the visit already; sent
    again it is only a duplicate there, and the override in its payload would be lost)."""
    from desk_app.storage import Override

    _, after, _, _ = _fill(app_paths, clock, 20, 3, sent=20)
    store = Store.open(app_paths, clock=clock)
    for vid in after:
        store.visits.override(vid, Override("sec1", "核实", "reject"))
    store.close()
    db = app_paths.database_file
    with sqlite3.connect(db) as conn:  # the rows gone for good: no page scan finds them
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("DELETE FROM outbox WHERE sent_at IS NULL")
    _damage_audit_log(db)
    store = Store.open(app_paths, clock=clock)
    try:
        assert store.recovery is not None and store.recovery.requeued == 2 * len(after)
        items = store.outbox.pending()
        for vid in after:
            assert [i.kind for i in items if i.visit_id == vid] == ["visit", "visit_override"]
        assert {i.payload["override"]["by"] for i in items} == {"sec1"}
    finally:
        store.close()
