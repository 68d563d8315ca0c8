"""The platform's database is restored from last night's backup (README, "Backups"). Its counters
go back, so the numbers of the bans made after the restore are numbers a desk already passed:
the desk kept its cursor and never got them. After ``desk-platform restored`` (a new database
epoch in the desk configuration) the desk pulls every delta from the start, takes the restored
platform's blacklist as the truth (lower versions included), and sends again the visits the
platform acknowledged but lost. The real platform process on SQLite, a real desk store and sync
worker, the real command."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from desk_app.identity.testing import make_id_number
from sync import protocol as P
from sync.pull import CUR_EPOCH

from .conftest import PlatformUnderTest

ROOT = Path(__file__).resolve().parents[3]


def _copy(src: str, dst: str) -> None:
    s, t = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        s.backup(t)
    finally:
        s.close()
        t.close()


def _restore(platform: PlatformUnderTest, backup: Path) -> None:
    """The platform's disk fails; IT restores the backup and runs `desk-platform restored`."""
    db_file = platform.db_url.removeprefix("sqlite:///")
    platform.server.stop()
    platform.service.db.close()
    for ext in ("", "-wal", "-shm"):
        Path(db_file + ext).unlink(missing_ok=True)
    _copy(str(backup), db_file)
    r = subprocess.run([sys.executable, "-m", "desk_platform", "restored", "--db",
                        platform.db_url, "--key-file", str(platform.key_file)],
                       cwd=ROOT, text=True, capture_output=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert "every desk pulls every delta from the start" in r.stdout
    platform.server.start()


def _ban(platform: PlatformUnderTest, i: int, days: int = 91) -> str:
    return platform.service.blacklist.add(
        make_id_number(seq=100 + i, birth=date(1981, 2, 1 + i)),
        source=P.BlacklistSource.POLICE, reason=f"ban {i}", days=days,
        created_by="test").entry_id


def _desk_rows(desk) -> dict[str, tuple[bool, int]]:
    """entry id -> (lifted, valid_to) as the desk holds it."""
    with desk.store.db.read() as s:
        return {r[0]: (bool(r[1]), r[2]) for r in s.execute(
            text("SELECT entry_id, deleted, valid_to FROM blacklist"))}


def _desk_entries(desk) -> set[str]:
    with desk.store.db.read() as s:
        return {r[0] for r in s.execute(text("SELECT entry_id FROM blacklist"))}


@pytest.mark.timeout(120)
def test_bans_made_after_a_restore_reach_the_desk(platform: PlatformUnderTest, desks, tmp_path):
    db_file = platform.db_url.removeprefix("sqlite:///")
    desk = desks(platform.server.url, timeout_s=5.0)
    _ban(platform, 1)
    desk.worker.run_once()
    epoch = desk.store.cursors.get(CUR_EPOCH)
    assert epoch
    _copy(db_file, str(tmp_path / "nightly.db"))  # the nightly backup
    _ban(platform, 2)
    _ban(platform, 3)
    desk.worker.run_once()
    ahead = desk.store.blacklist.status().version

    _restore(platform, tmp_path / "nightly.db")

    new = [_ban(platform, 4), _ban(platform, 5)]  # numbered again as the lost 2 and 3 were
    assert max(e.entry.version for e in platform.service.blacklist.entries()) <= ahead
    desk.worker.run_once()
    assert set(new) <= _desk_entries(desk), "bans made after the restore never reached the desk"
    assert desk.store.cursors.get(CUR_EPOCH) not in (None, epoch)
    desk.worker.run_once()  # the same epoch again: nothing starts over
    assert set(new) <= _desk_entries(desk)


@pytest.mark.timeout(120)
def test_the_desk_takes_the_restored_blacklist_as_the_truth(platform: PlatformUnderTest, desks,
                                                            tmp_path):
    """A lift and a renewal made after the backup are lost on the platform, which sends again
    the older versions: the desk follows them (banned again, the shorter term), though its own
    rows have higher versions; a ban made after the backup and lost there leaves the desk."""
    desk = desks(platform.server.url, timeout_s=5.0)
    lifted, renewed, kept = _ban(platform, 11), _ban(platform, 12), _ban(platform, 13)
    desk.worker.run_once()
    before = _desk_rows(desk)
    _copy(platform.db_url.removeprefix("sqlite:///"), str(tmp_path / "nightly.db"))
    platform.service.blacklist.remove(lifted)
    assert _ban(platform, 12, days=365) == renewed
    lost = _ban(platform, 14)
    desk.worker.run_once()
    after = _desk_rows(desk)
    assert after[lifted][0] and after[renewed][1] > before[renewed][1] and lost in after

    _restore(platform, tmp_path / "nightly.db")
    desk.worker.run_once()
    rows = _desk_rows(desk)
    assert rows[lifted] == before[lifted], "the desk kept a lift the restored platform lost"
    assert rows[renewed] == before[renewed], "the desk kept a renewal the platform lost"
    assert rows[kept] == before[kept]
    assert lost not in rows, "the desk kept a ban the restored platform no longer has"
    desk.worker.run_once()
    assert _desk_rows(desk) == rows


@pytest.mark.timeout(120)
def test_visits_acknowledged_after_the_backup_reach_the_restored_platform(
        platform: PlatformUnderTest, desks, tmp_path):
    desk = desks(platform.server.url, timeout_s=5.0)
    early = desk.record(2)
    desk.worker.run_once()
    _copy(platform.db_url.removeprefix("sqlite:///"), str(tmp_path / "nightly.db"))
    late = desk.record(3)
    desk.worker.run_once()
    assert len(platform.stored_visits(late)) == 3 and desk.store.outbox.count() == 0

    _restore(platform, tmp_path / "nightly.db")
    assert len(platform.stored_visits(late)) == 0
    desk.worker.run_once()  # sees the new epoch (after its push): the sent items queue again
    desk.worker.run_once()
    assert len(platform.stored_visits(late)) == 3, "visits the restored platform lost"
    assert len(platform.stored_visits(early)) == 2
    assert desk.store.outbox.count() == 0
