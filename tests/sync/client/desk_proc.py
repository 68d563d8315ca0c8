"""A desk in a process of its own (real store on disk, key and token files), for the test that
kills the desk with SIGKILL in the middle of a sync and starts it again."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import uuid
from datetime import UTC, datetime

from desk_app.errors import NetworkError
from desk_app.paths import AppPaths
from desk_app.settings import PlatformSection, SyncSection
from desk_app.storage import Reason, Store, VisitInput
from sync.client import DeskApi
from sync.tokens import TokenStore
from sync.worker import SyncWorker


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--desk-id", required=True)
    p.add_argument("--hospital-id", default="H001")
    p.add_argument("--record", type=int, default=0)
    p.add_argument("--batch", type=int, default=10)
    a = p.parse_args(argv)
    paths = AppPaths.resolve(a.data).ensure()
    store = Store.open(paths)
    for _ in range(a.record):
        store.visits.record(VisitInput(
            visit_id=str(uuid.uuid4()), booking_id=None, hospital_id=a.hospital_id,
            desk_id=a.desk_id, clerk="clerk1", checked_in_at=datetime.now(UTC),
            verdict="admit", reasons=(Reason("booking_ok", "info", "real_name"),)))
    print(json.dumps({"recorded": a.record}), flush=True)
    api = DeskApi(PlatformSection(url=a.url, timeout_s=5.0),
                  TokenStore(paths.data_dir, a.desk_id, use_keyring=False))
    worker = SyncWorker(store, api, SyncSection(batch_size=a.batch))
    for _ in range(50):
        try:
            report = worker.run_once()
        except NetworkError:
            continue
        print(json.dumps(dataclasses.asdict(report)), flush=True)
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
