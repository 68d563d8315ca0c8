"""A desk whose database is damaged mid-day: the real platform process ends up with every visit
the desk recorded, each exactly once (what was acknowledged before the damage, what was queued,
what was written after the last online backup)."""

from __future__ import annotations

import sqlite3

from desk_app.clock import SystemClock
from desk_app.paths import AppPaths
from desk_app.settings import PlatformSection, SyncSection
from desk_app.storage import Crypto, Store
from desk_app.storage.recovery import backup_online
from sync.client import DeskApi
from sync.protocol import EnrollRequest
from sync.tokens import TokenStore
from sync.worker import SyncWorker

from .conftest import HOSPITAL, Desk
from .test_faults import assert_exactly_once, drain

PAGE = 4096


def _desk(platform, paths: AppPaths, crypto: Crypto, desk_id: str, token: str | None) -> Desk:
    store = Store.open(paths, crypto=crypto)
    api = DeskApi(PlatformSection(url=platform.server.url, timeout_s=2.0),
                  TokenStore(paths.data_dir, desk_id, use_keyring=False))
    if token is None:
        code = platform.service.enrollment.create_code(HOSPITAL, desk_id, created_by="test").code
        api.tokens.set(platform.service.enrollment.enroll(EnrollRequest(code=code)).token)
    worker = SyncWorker(store, api, SyncSection(interval_s=1.0, batch_size=20, backoff_max_s=1.0))
    return Desk(desk_id, paths.data_dir, store, api, worker, SystemClock())


def test_damaged_database_mid_day_reaches_the_platform_exactly_once(platform, tmp_path):
    paths = AppPaths.resolve(tmp_path / "desk").ensure()
    crypto = Crypto.generate()
    desk = _desk(platform, paths, crypto, "desk-damaged", None)
    try:
        sent = desk.record(25)
        drain(desk)  # acknowledged by the platform
        backup_online(paths.database_file, paths.backup_dir, kept=3)
        after_backup_sent = desk.record(25)
        drain(desk)
        unsent = desk.record(15)  # offline: still in the outbox when the file is damaged
    finally:
        desk.worker.stop()
        desk.api.close()
        desk.store.close()
    # the visits table's root (an interior page by now) is overwritten: SQL no longer reaches
    # a single visit, but every leaf page is intact
    with sqlite3.connect(paths.database_file) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'visits'").fetchone()[0]
    with paths.database_file.open("r+b") as f:
        f.seek((root - 1) * PAGE)
        assert f.read(1) == b"\x05"  # an interior table page: the leaves hang below it
        f.seek((root - 1) * PAGE)
        f.write(b"\x00" * PAGE)

    desk = _desk(platform, paths, crypto, "desk-damaged", token="kept")
    try:
        rec = desk.store.recovery
        assert rec is not None and rec.backup_used is not None
        assert rec.merged["visits"] == 25 + 15  # everything written after the backup came back
        drain(desk)
        assert desk.store.outbox.count() == 0
        assert_exactly_once(platform, desk, sent + after_backup_sent + unsent)
    finally:
        desk.worker.stop()
        desk.api.close()
        desk.store.close()

