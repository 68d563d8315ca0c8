"""The real platform process on loopback, a fault proxy in front of it, and desks with real
stores: the pieces of the client-side proof."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from desk_app.clock import Clock, SystemClock
from desk_app.settings import PlatformSection, SyncSection
from desk_app.storage import Crypto, Reason, Store, VisitInput
from desk_platform.testing import prepare_platform
from sync.chaos import FaultProxy
from sync.client import DeskApi
from sync.loopback import ServerProcess
from sync.protocol import EnrollRequest
from sync.tokens import TokenStore
from sync.worker import SyncWorker

HOSPITAL = "H001"


@dataclass
class PlatformUnderTest:
    db_url: str
    key_file: Path
    service: object  # desk_platform.service.Platform
    server: ServerProcess

    def stored_visits(self, ids: list[str] | None = None) -> dict[str, int]:
        """visit_id -> number of rows on the platform (read from its database)."""
        eng = create_engine(self.db_url)
        try:
            with eng.connect() as c:
                rows = c.execute(text("SELECT visit_id, COUNT(*) FROM visits GROUP BY visit_id"))
                out = {r[0]: int(r[1]) for r in rows}
        finally:
            eng.dispose()
        if ids is not None:
            out = {k: v for k, v in out.items() if k in set(ids)}
        return out


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> PlatformUnderTest:
    d = tmp_path_factory.mktemp("platform")
    url = f"sqlite:///{d}/platform.db"
    key = d / "platform.key"
    service = prepare_platform(url, key)
    server = ServerProcess(url, key, log_file=d / "server.log").start()
    try:
        yield PlatformUnderTest(url, key, service, server)
    finally:
        server.stop()
        service.db.close()


@pytest.fixture
def proxy(platform):
    p = FaultProxy(platform.server.port, slow_s=2.5)
    yield p
    p.close()


@dataclass
class Desk:
    desk_id: str
    data_dir: Path
    store: Store
    api: DeskApi
    worker: SyncWorker
    clock: Clock

    def record(self, n: int, *, hospital_id: str = HOSPITAL, booking_prefix: str | None = None
               ) -> list[str]:
        ids = []
        for i in range(n):
            vid = str(uuid.uuid4())
            self.store.visits.record(VisitInput(
                visit_id=vid,
                booking_id=f"{booking_prefix}{i}" if booking_prefix else None,
                hospital_id=hospital_id, desk_id=self.desk_id, clerk="clerk1",
                checked_in_at=self.clock.now(), verdict="admit",
                reasons=(Reason("booking_ok", "info", "real_name"),),
                presented_id_last4="123X"))
            ids.append(vid)
            self.worker.notify_outbox()
        return ids


def make_desk(platform: PlatformUnderTest, base: Path, url: str, *, desk_id: str | None = None,
              clock: Clock | None = None, timeout_s: float = 1.0, batch_size: int = 20,
              enroll: bool = True, interval_s: float = 1.0, backoff_max_s: float = 1.0) -> Desk:
    desk_id = desk_id or f"desk-{uuid.uuid4().hex[:6]}"
    data_dir = base / desk_id
    data_dir.mkdir(parents=True)
    clock = clock or SystemClock()
    store = Store.open(url=f"sqlite:///{data_dir}/desk.sqlite3", crypto=Crypto.generate(),
                       clock=clock)
    api = DeskApi(PlatformSection(url=url, timeout_s=timeout_s),
                  TokenStore(data_dir, desk_id, use_keyring=False))
    if enroll:
        # Through the platform's service: /v1/enroll allows 10 attempts a minute per address.
        code = platform.service.enrollment.create_code(HOSPITAL, desk_id, created_by="test").code
        api.tokens.set(platform.service.enrollment.enroll(EnrollRequest(code=code)).token)
    worker = SyncWorker(store, api, SyncSection(interval_s=interval_s, batch_size=batch_size,
                                                backoff_max_s=backoff_max_s), clock=clock)
    worker.backoff.base_s = 0.1
    return Desk(desk_id, data_dir, store, api, worker, clock)


@pytest.fixture
def desks(platform, tmp_path):
    made: list[Desk] = []

    def factory(url: str, **kw) -> Desk:
        desk = make_desk(platform, tmp_path, url, **kw)
        made.append(desk)
        return desk

    yield factory
    for d in made:
        d.worker.stop()
        d.api.close()
        d.store.close()


def now() -> datetime:
    return datetime.now(UTC)
