"""``desk-app bench sync``: the real platform with N simulated desks on loopback.

1. The platform database (SQLite in a temp folder, or ``--db URL``; a PostgreSQL database that
   does not exist yet is created) is served by the platform program (``desk-platform serve``,
   :class:`~sync.loopback.PlatformProgram`) in a child process group (two worker processes on
   PostgreSQL, one on SQLite). The platform's database is only ever touched by its own
   ``desk-platform testing`` commands: the desk packages do not import the platform.
2. N desks are enrolled by the platform's ``testing enroll-desks``; each gets its own real desk
   store (SQLite in a temp folder, copied from one migrated template) and a
   :class:`~sync.worker.SyncWorker`.
3. M visits in total are queued in the desks' outboxes. Below ``REAL_STORE_MAX`` visits they are
   recorded with ``store.visits.record`` (visit + outbox + audit, one fsynced transaction, ~10 ms
   each here); above it the outbox is an in-memory queue in front of the real store (pulls still
   go to the real store), because filling 100,000 visits through the real store takes ~15 min
   on this machine before the benchmark even starts.
4. Timed: every desk runs sync cycles (push in batches, then pull every delta) until its outbox is
   empty, 32 desks at a time. ``--chaos`` puts a fault proxy in front of the platform (dropped
   answers after processing, 500s, truncated and malformed JSON, timeouts) and kills the platform
   with SIGKILL once, restarting it a second later.
5. The platform database is read back (``testing stored-visits``): every visit sent must be
   stored exactly once.

The last line printed is JSON: desks, sent, stored, lost, duplicated, seconds, visits_per_s,
pull_p95_ms. ``--blacklist N`` then seeds N blacklist entries on the platform and times one desk
pulling and applying them (``blacklist_pull_s``) and the store alone applying them
(``blacklist_apply_s``), printed on the line before.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from desk_app.errors import DeskError, NetworkError
from desk_app.identity.hashing import b64e
from desk_app.settings import PlatformSection, SyncSection
from desk_app.storage import (
    BlacklistEntry,
    Crypto,
    OutboxItem,
    Reason,
    Store,
    VisitInput,
)
from sync.chaos import Fault, FaultProxy
from sync.client import PATH_VISITS, DeskApi
from sync.loopback import PlatformProgram, ServerProcess
from sync.tokens import TokenStore
from sync.worker import SyncWorker

log = logging.getLogger(__name__)

REAL_STORE_MAX = 2_000  # visits: above this the desks' outboxes are in memory (see above)
CONCURRENCY = 8  # desks syncing at the same time
DESKS_PER_HOSPITAL = 20


# --- a desk ------------------------------------------------------------------------------------


class MemoryOutbox:
    """An in-memory queue in place of ``store.outbox`` (what the sync worker uses of it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, OutboxItem] = {}
        self._next = 1
        self._parked = 0

    def queue(self, kind: str, key: str, payload: dict[str, Any]) -> None:
        with self._lock:
            i = self._next
            self._next += 1
            self._pending[i] = OutboxItem(id=i, kind=kind, key=key, payload=payload,
                                          created_at=datetime.now(UTC), attempts=0,
                                          last_error=None, visit_id=key)

    def pending(self, limit: int = 200) -> list[OutboxItem]:
        with self._lock:
            return [self._pending[i] for i in sorted(self._pending)[:limit]]

    def mark_sent(self, ids: Iterable[int]) -> int:
        with self._lock:
            return sum(self._pending.pop(i, None) is not None for i in ids)

    def park(self, ids: Iterable[int], why: str) -> int:
        log.warning("bench outbox: item(s) parked: %s", why)
        n = self.mark_sent(ids)
        with self._lock:
            self._parked += n
        return n

    def count(self) -> int:
        with self._lock:
            return len(self._pending)

    def parked_count(self) -> int:
        with self._lock:
            return self._parked


class MemoryOutboxStore:
    """A real :class:`Store` for everything but the outbox, which is a :class:`MemoryOutbox`."""

    def __init__(self, store: Store):
        self._store = store
        self.outbox = MemoryOutbox()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@dataclass
class BenchDesk:
    hospital_id: str
    desk_id: str
    store: Any  # Store or MemoryOutboxStore
    worker: SyncWorker
    sent: list[str] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    failed: str = ""


def _visit_wire(hospital_id: str, desk_id: str, at: datetime, rng: random.Random
                ) -> dict[str, Any]:
    verdict = rng.choices(("admit", "review", "reject"), (90, 7, 3))[0]
    return {
        "visit_id": str(uuid.uuid4()), "booking_id": f"BK{uuid.uuid4().hex[:16].upper()}",
        "hospital_id": hospital_id, "desk_id": desk_id, "clerk": "bench",
        "checked_in_at": at.isoformat(), "verdict": verdict,
        "reasons": [{"code": "booking_ok", "severity": "info", "rule": "real_name"}],
        "face_distance": round(rng.uniform(0.2, 0.7), 3), "face_outcome": "match",
        "presented_id_hash": b64e(rng.randbytes(32)), "presented_id_last4": "123X",
        "offline": False, "override": None,
    }


def _visit_input(w: dict[str, Any]) -> VisitInput:
    from desk_app.identity.hashing import b64d

    return VisitInput(
        visit_id=w["visit_id"], booking_id=w["booking_id"], hospital_id=w["hospital_id"],
        desk_id=w["desk_id"], clerk=w["clerk"],
        checked_in_at=datetime.fromisoformat(w["checked_in_at"]), verdict=w["verdict"],
        reasons=tuple(Reason(**r) for r in w["reasons"]), face_distance=w["face_distance"],
        face_outcome=w["face_outcome"], presented_id_hash=b64d(w["presented_id_hash"]),
        presented_id_last4=w["presented_id_last4"])


def drain(desk: BenchDesk, stop_after_s: float, on_pushed: Callable[[int], None]) -> None:
    """Sync cycles until the desk's outbox is empty (retrying network failures)."""
    deadline = time.monotonic() + stop_after_s
    while time.monotonic() < deadline:
        try:
            report = desk.worker.run_once()
        except NetworkError as exc:
            key = exc.detail.split(": ", 1)[-1][:40] or type(exc).__name__
            desk.errors[key] = desk.errors.get(key, 0) + 1
            time.sleep(min(1.0, desk.worker.backoff.next_delay()))
            continue
        except DeskError as exc:
            desk.failed = f"{type(exc).__name__}: {exc.detail}"
            log.error("desk %s: %s", desk.desk_id, desk.failed)
            return
        desk.worker.backoff.reset()
        desk.pull_ms.extend(report.pull_ms)
        on_pushed(report.pushed)
        if desk.store.outbox.count() == 0:
            return
    desk.failed = "gave up: time limit"


# --- the platform database ------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    """Create a PostgreSQL database named in ``url`` when it does not exist yet."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql" or not u.database:
        return
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                               {"n": u.database}).first()
            if not exists:
                c.execute(text(f'CREATE DATABASE "{u.database}"'))
    finally:
        admin.dispose()


# --- the run -------------------------------------------------------------------------------------


def run(desks: int = 20, visits: int = 2000, *, chaos: bool = False, db: str | None = None,
        store: str = "auto", blacklist: int = 0, workers: int | None = None,
        say: Callable[[str], None] = print,
        program: PlatformProgram | None = None) -> dict[str, Any]:
    if desks < 1 or visits < 0:
        raise ValueError("--desks must be at least 1 and --visits not negative")
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    rng = random.Random(42)
    db_url = db or f"sqlite:///{tmp}/platform.db"
    ensure_database(db_url)
    pg = make_url(db_url).get_backend_name() == "postgresql"
    t0 = time.perf_counter()
    program = program or PlatformProgram.find()
    key_file = str(tmp / "platform.key")

    def platform(*args: str, request: object = None) -> Any:  # its `testing` commands
        return program.run("testing", *args, "--db", db_url, "--key-file", key_file,
                           request=request, timeout=1800)

    server = ServerProcess(db_url, key_file, workers=workers or (2 if pg else 1),
                           log_file=tmp / "server.log", program=program).start()
    proxy = FaultProxy(server.port, slow_s=3.0) if chaos else None
    url = proxy.url if proxy else server.url
    say(f"platform up on {server.url} ({'PostgreSQL' if pg else 'SQLite'}, "
        f"{server.workers} worker(s)) in {time.perf_counter() - t0:.1f} s")
    made: list[BenchDesk] = []
    try:
        # -- desks
        real = store == "real" or (store == "auto" and visits <= REAL_STORE_MAX)
        crypto = Crypto.generate()
        template = tmp / "template.sqlite3"
        Store.open(url=f"sqlite:///{template}", crypto=crypto).close()
        t1 = time.perf_counter()
        names = [(f"BH{i // DESKS_PER_HOSPITAL + 1:03d}", f"bench-desk-{i + 1:03d}")
                 for i in range(desks)]
        # Enrolled by the platform's own command: /v1/enroll is rate-limited per address
        # (10 a minute) against code guessing, and all bench desks share 127.0.0.1.
        tokens = platform("enroll-desks", request={"desks": names})
        for hid, did in names:
            d = tmp / "desks" / did
            d.mkdir(parents=True)
            shutil.copy(template, d / "desk.sqlite3")
            s = Store.open(url=f"sqlite:///{d}/desk.sqlite3", crypto=crypto)
            api = DeskApi(PlatformSection(url=url, timeout_s=10.0 if not chaos else 2.0),
                          TokenStore(d, did, use_keyring=False))
            api.tokens.set(tokens[did])
            the_store: Any = s if real else MemoryOutboxStore(s)
            worker = SyncWorker(the_store, api, SyncSection(batch_size=500))
            made.append(BenchDesk(hid, did, the_store, worker))
        say(f"{desks} desks enrolled in {time.perf_counter() - t1:.1f} s "
            f"({'real store outboxes' if real else 'in-memory outboxes, real stores'})")

        # -- visits into the outboxes (not timed)
        t2 = time.perf_counter()
        at = datetime.now(UTC)

        def fill(desk: BenchDesk, n: int) -> None:
            r = random.Random(desk.desk_id)
            for _ in range(n):
                w = _visit_wire(desk.hospital_id, desk.desk_id, at, r)
                if real:
                    desk.store.visits.record(_visit_input(w))
                else:
                    desk.store.outbox.queue("visit", w["visit_id"], w)
                desk.sent.append(w["visit_id"])

        shares = [visits // desks + (1 if i < visits % desks else 0) for i in range(desks)]
        with ThreadPoolExecutor(8 if real else 1) as ex:
            list(ex.map(fill, made, shares))
        say(f"{visits} visits queued in {time.perf_counter() - t2:.1f} s")

        # -- the timed part
        pushed = 0
        lock = threading.Lock()
        progress = threading.Condition(lock)

        def on_pushed(n: int) -> None:
            nonlocal pushed
            with progress:
                pushed += n
                progress.notify_all()

        chaos_log: list[str] = []
        if proxy is not None:
            faults = [Fault.DROP_RESPONSE, Fault.PROCESSED_500, Fault.HTTP_500,
                      Fault.TRUNCATED_JSON, Fault.MALFORMED_JSON, Fault.CUT_RESPONSE,
                      Fault.DROP_REQUEST, Fault.SLOW]
            plan: list[Fault | None] = []
            for f in faults * 3:
                plan += [None] * rng.randrange(2, 6) + [f]
            proxy.plan(PATH_VISITS, *plan)  # type: ignore[arg-type]
            proxy.plan("/v1/blacklist", Fault.TRUNCATED_JSON, None, Fault.DROP_RESPONSE)

        def chaos_monkey() -> None:
            with progress:
                progress.wait_for(lambda: pushed >= visits * 0.3 or done.is_set(), timeout=600)
            if done.is_set():
                return
            server.kill()
            chaos_log.append(f"platform killed at {pushed} visits acknowledged")
            time.sleep(1.0)
            server.start()
            chaos_log.append("platform restarted")

        done = threading.Event()
        monkey = threading.Thread(target=chaos_monkey, daemon=True) if chaos else None
        t3 = time.perf_counter()
        if monkey:
            monkey.start()
        with ThreadPoolExecutor(min(CONCURRENCY, desks)) as ex:
            list(ex.map(lambda d: drain(d, 900, on_pushed), made))
        seconds = time.perf_counter() - t3
        done.set()
        with progress:
            progress.notify_all()
        if monkey:
            monkey.join(60)
        for line in chaos_log:
            say(line)
        if proxy is not None:
            say(f"faults injected: {len(proxy.faults_applied())}")
        failed = [f"{d.desk_id}: {d.failed}" for d in made if d.failed]
        for line in failed[:5]:
            say(f"desk failed: {line}")

        # -- the platform's own account
        sent = [v for d in made for v in d.sent]
        stored = {k: int(v) for k, v in platform("stored-visits",
                                                 request={"visit_ids": sent}).items()}
        pulls = sorted(ms for d in made for ms in d.pull_ms)
        result: dict[str, Any] = {
            "desks": desks,
            "sent": len(sent),
            "stored": len(stored),
            "lost": len(set(sent) - set(stored)),
            "duplicated": sum(n - 1 for n in stored.values()),
            "seconds": round(seconds, 2),
            "visits_per_s": round(len(sent) / seconds, 1) if seconds > 0 else 0.0,
            "pull_p95_ms": round(_p95(pulls), 1) if pulls else None,
        }
        extra: dict[str, Any] = {
            "database": "postgresql" if pg else "sqlite", "server_workers": server.workers,
            "desk_outbox": "store" if real else "memory", "chaos": chaos,
            "pull_median_ms": round(statistics.median(pulls), 1) if pulls else None,
            "pull_requests": len(pulls), "desks_failed": len(failed),
            "retries": _merge(d.errors for d in made),
        }
        if blacklist:
            # Seeded only now, so the timed sync above is not 100,000 entries per desk.
            platform("seed-blacklist", str(blacklist))
            extra.update(_blacklist_figures(made[0], blacklist, crypto, tmp))
        say(json.dumps(extra))
        return {**result, **{k: v for k, v in extra.items() if k.startswith("blacklist")}}
    finally:
        for d in made:
            d.worker.api.close()
            d.store.close()
        if proxy is not None:
            proxy.close()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _blacklist_figures(desk: BenchDesk, n: int, crypto: Crypto, tmp: Path) -> dict[str, Any]:
    """Time one desk (fresh store) pulling and applying the N entries page by page, and the
    store alone applying N entries as one delta."""
    fresh = tmp / "bl.sqlite3"
    s = Store.open(url=f"sqlite:///{fresh}", crypto=crypto)
    try:
        worker = SyncWorker(s, desk.worker.api, SyncSection(), page_size=5000)
        t = time.perf_counter()
        worker.run_once()
        pull_s = time.perf_counter() - t
        got = s.blacklist.status().active_entries
    finally:
        s.close()
    rng = random.Random(2)
    now = datetime.now(UTC)
    entries = [BlacklistEntry(entry_id=f"E{i:09d}", id_hash=rng.randbytes(32), last4="1234",
                              source="police", reason="bench", valid_from=now,
                              valid_to=now + timedelta(days=90), version=i + 1)
               for i in range(n)]
    s = Store.open(url=f"sqlite:///{tmp}/bl2.sqlite3", crypto=crypto)
    try:
        t = time.perf_counter()
        s.blacklist.apply_delta(entries, n)
        apply_s = time.perf_counter() - t
    finally:
        s.close()
    return {"blacklist_entries": n, "blacklist_pulled": got,
            "blacklist_pull_s": round(pull_s, 2), "blacklist_apply_s": round(apply_s, 2)}


def _merge(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            out[k] = out.get(k, 0) + v
    return out


def _p95(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result = run(desks=args.desks, visits=args.visits, chaos=args.chaos, db=args.db,
                 store=getattr(args, "store", "auto") or "auto",
                 blacklist=getattr(args, "blacklist", 0) or 0,
                 program=PlatformProgram.find(getattr(args, "platform_command", None)))
    keys = ("desks", "sent", "stored", "lost", "duplicated", "seconds", "visits_per_s",
            "pull_p95_ms")
    print(json.dumps({k: result[k] for k in keys}), flush=True)
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 else 1

