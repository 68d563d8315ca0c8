"""The desk process killed (SIGKILL) in the middle of a sync, then started again."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from desk_app.paths import AppPaths
from desk_app.settings import PlatformSection
from desk_app.storage import Store
from sync.chaos import Fault
from sync.client import PATH_VISITS, DeskApi
from sync.tokens import TokenStore

from .conftest import HOSPITAL

ROOT = Path(__file__).resolve().parents[3]


def _desk(data: Path, url: str, desk_id: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.sync.client.desk_proc", "--data", str(data), "--url", url,
         "--desk-id", desk_id, *extra], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_desk_killed_mid_sync_stores_every_visit_exactly_once(platform, proxy, tmp_path):
    desk_id = "desk-killed"
    data = tmp_path / "desk"
    paths = AppPaths.resolve(data).ensure()
    code = platform.service.enrollment.create_code(HOSPITAL, desk_id, created_by="test").code
    with DeskApi(PlatformSection(url=proxy.url),
                 TokenStore(paths.data_dir, desk_id, use_keyring=False)) as api:
        api.enroll(code)

    # The third batch reaches the platform and is stored; the desk dies before the answer.
    proxy.plan(PATH_VISITS, None, None, Fault.SLOW_RESPONSE)
    first = _desk(data, proxy.url, desk_id, "--record", "60", "--batch", "10")
    try:
        assert proxy.wait_seen(lambda s: s.fault is Fault.SLOW_RESPONSE, timeout=60)
        first.kill()  # SIGKILL
    finally:
        first.wait(10)
    assert first.returncode == -9

    second = _desk(data, proxy.url, desk_id, "--batch", "10")
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0, out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["duplicates"] >= 10  # the batch stored before the kill went again ...

    store = Store.open(paths)
    try:
        now = datetime.now(UTC)
        ids = [v.visit_id for v in store.visits.between(now - timedelta(hours=1),
                                                         now + timedelta(hours=1))]
        assert len(ids) == 60 and store.outbox.count() == 0
    finally:
        store.close()
    stored = platform.stored_visits(ids)  # ... and is stored once all the same
    assert sorted(stored) == sorted(ids) and set(stored.values()) == {1}
