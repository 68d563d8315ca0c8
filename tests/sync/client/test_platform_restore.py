"""The platform's database is restored from last night's backup (README, "Backups"). Its counters
go back, so the numbers of the bans made after the restore are numbers a desk already passed:
the desk kept its cursor and never got them. After ``desk-platform restored`` (a new database
epoch in the desk configuration) the desk pulls every delta from the start. The real platform
process on SQLite, a real desk store and sync worker, the real command."""

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


def _ban(platform: PlatformUnderTest, i: int) -> str:
    return platform.service.blacklist.add(
        make_id_number(seq=100 + i, birth=date(1981, 2, 1 + i)),
        source=P.BlacklistSource.POLICE, reason=f"ban {i}", days=91, created_by="test").entry_id


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

    # The platform's disk fails; IT restores the backup and runs `desk-platform restored`.
    platform.server.stop()
    platform.service.db.close()
    for ext in ("", "-wal", "-shm"):
        Path(db_file + ext).unlink(missing_ok=True)
    _copy(str(tmp_path / "nightly.db"), db_file)
    r = subprocess.run([sys.executable, "-m", "desk_platform", "restored", "--db",
                        platform.db_url, "--key-file", str(platform.key_file)],
                       cwd=ROOT, text=True, capture_output=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert "every desk pulls every delta from the start" in r.stdout
    platform.server.start()

    new = [_ban(platform, 4), _ban(platform, 5)]  # numbered again as the lost 2 and 3 were
    assert max(e.entry.version for e in platform.service.blacklist.entries()) <= ahead
    desk.worker.run_once()
    assert set(new) <= _desk_entries(desk), "bans made after the restore never reached the desk"
    assert desk.store.cursors.get(CUR_EPOCH) not in (None, epoch)
    desk.worker.run_once()  # the same epoch again: nothing starts over
    assert set(new) <= _desk_entries(desk)
