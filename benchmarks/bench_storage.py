"""Desk store figures: a 1,000,000-entry blacklist (load, size, look-up), a 100,000-entry delta,
visits with their outbox rows per second, and field encryption vs SQLCipher when ``sqlcipher3``
is importable (it is not a dependency; see ``## Storage`` in docs/architecture.md).

Generating a million scrypt hashes would take hours, so the table is filled with random 32-byte
values (indistinguishable from scrypt output for the database); one real scrypt is timed apart.
``BENCH_BLACKLIST_N`` sets the blacklist size (default 1,000,000).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from desk_app.clock import FixedClock
from desk_app.identity.hashing import slow_hash
from desk_app.paths import AppPaths
from desk_app.storage import AlertInput, BlacklistEntry, Crypto, Reason, Store, VisitInput

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def _entries(hashes: list[bytes], start: int, version: int, deleted_every: int = 0
             ) -> list[BlacklistEntry]:
    out = []
    for i, h in enumerate(hashes):
        out.append(BlacklistEntry(
            entry_id=f"bl-{start + i:08d}", id_hash=h, last4=f"{i % 10000:04d}",
            source=("police", "platform", "hospital")[i % 3], reason="多次倒号 repeated scalping",
            valid_from=T0 - timedelta(days=1), valid_to=T0 + timedelta(days=90), version=version,
            deleted=bool(deleted_every and i % deleted_every == 0)))
    return out


def _db_size(paths: AppPaths) -> int:
    return sum(p.stat().st_size for p in paths.data_dir.glob("desk.sqlite3*"))


def _visit(i: int) -> VisitInput:
    return VisitInput(
        visit_id=str(uuid.uuid4()), booking_id=f"BK{i:08d}", hospital_id="H001",
        desk_id="desk-01", clerk="clerk1", checked_in_at=T0 + timedelta(seconds=i),
        verdict="admit", reasons=(Reason("face_match", "info", "faces"),), face_distance=0.41,
        face_outcome="match", presented_id_hash=os.urandom(32), presented_id_last4="1234",
        id_number=f"11010119900307{i % 10000:04d}", person_name="张三丰",
        face_template=os.urandom(1024))


def bench_blacklist(n: int) -> dict:
    figures: dict = {}
    with tempfile.TemporaryDirectory() as d:
        paths = AppPaths.resolve(d).ensure()
        store = Store.open(paths, clock=FixedClock(T0))
        hashes = [os.urandom(32) for _ in range(n)]
        entries = _entries(hashes, 0, version=1)
        t, cpu = time.perf_counter(), time.process_time()
        store.blacklist.apply_delta(entries, version=1)
        load = time.perf_counter() - t
        figures[f"blacklist_{n}_load_cpu_s"] = time.process_time() - cpu
        with store.db.w.connect() as c:  # measure the settled file
            c.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        figures[f"blacklist_{n}_load_s"] = load
        figures[f"blacklist_{n}_load_entries_per_s"] = n / load
        figures[f"blacklist_{n}_disk_mb"] = _db_size(paths) / 1e6
        figures["blacklist_disk_bytes_per_entry"] = _db_size(paths) / n

        rng = random.Random(1)
        probes = [rng.choice(hashes) if i % 2 else os.urandom(32) for i in range(5000)]
        times = []
        hits = 0
        for h in probes:
            t = time.perf_counter()
            hits += store.blacklist.lookup(h) is not None
            times.append(time.perf_counter() - t)
        assert hits == 2500, hits
        figures["blacklist_lookup_median_ms"] = statistics.median(times) * 1e3
        figures["blacklist_lookup_p99_ms"] = sorted(times)[int(len(times) * 0.99)] * 1e3

        scrypt, scrypt_cpu = [], []
        for i in range(5):
            t, cpu = time.perf_counter(), time.process_time()
            slow_hash(f"11010119900307{i:04d}", b"platform-salt-16")
            scrypt.append(time.perf_counter() - t)
            scrypt_cpu.append(time.process_time() - cpu)
        figures["scrypt_one_hash_ms"] = statistics.median(scrypt) * 1e3
        figures["scrypt_one_hash_cpu_ms"] = statistics.median(scrypt_cpu) * 1e3
        figures["checkin_blacklist_check_ms"] = (figures["scrypt_one_hash_ms"]
                                                 + figures["blacklist_lookup_median_ms"])

        # A 100,000-entry delta on top: 50,000 updates (every 10th a tombstone), 50,000 new.
        delta = (_entries(hashes[:50_000], 0, version=2, deleted_every=10)
                 + _entries([os.urandom(32) for _ in range(50_000)], n, version=2))
        t, cpu = time.perf_counter(), time.process_time()
        r = store.blacklist.apply_delta(delta, version=2)
        figures["blacklist_delta_100k_s"] = time.perf_counter() - t
        figures["blacklist_delta_100k_cpu_s"] = time.process_time() - cpu
        assert r.applied == 100_000, r
        store.close()
    return figures


def bench_visits(count: int = 1000) -> dict:
    with tempfile.TemporaryDirectory() as d:
        paths = AppPaths.resolve(d).ensure()
        store = Store.open(paths, clock=FixedClock(T0))
        visits = [_visit(i) for i in range(count)]
        t, cpu = time.perf_counter(), time.process_time()
        for i, v in enumerate(visits):
            store.visits.record(v, alert=AlertInput(live_face=os.urandom(30_000))
                               if i % 10 == 0 else None)
        elapsed = time.perf_counter() - t
        cpu = time.process_time() - cpu
        # every visit, and the alert photos of every 10th (privacy.share_alert_photos)
        assert store.outbox.count() == count + len(range(0, count, 10))
        t = time.perf_counter()
        items = store.outbox.pending(200)
        store.outbox.mark_sent([x.id for x in items])
        batch = time.perf_counter() - t
        store.close()
    return {"visits_with_outbox_per_s": count / elapsed,
            "visit_write_ms": elapsed / count * 1e3,
            "visit_write_cpu_ms": cpu / count * 1e3,
            "outbox_batch_200_read_and_mark_ms": batch * 1e3}


def _cipher_workload(connect, label: str, encrypt_fields: bool, n_bl: int) -> dict:
    """The same visits+outbox and blacklist work on plain SQLite (fields AES-GCM encrypted)
    or on SQLCipher (fields in clear, the whole file encrypted)."""
    crypto = Crypto.generate()
    enc = (lambda b, aad: crypto.encrypt(b, aad)) if encrypt_fields else (lambda b, aad: b)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.db"
        con = connect(path)
        con.isolation_level = None
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("CREATE TABLE visits (id TEXT PRIMARY KEY, lookup BLOB, name BLOB, idn BLOB)")
        con.execute("CREATE INDEX ix_l ON visits(lookup)")
        con.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, vid TEXT, payload BLOB)")
        con.execute("CREATE TABLE bl (h BLOB, e TEXT, detail BLOB, vt INTEGER, "
                    "PRIMARY KEY (h, e)) WITHOUT ROWID")
        t, cpu = time.perf_counter(), time.process_time()
        for i in range(500):
            vid = str(uuid.uuid4())
            payload = json.dumps({"visit_id": vid, "verdict": "admit", "n": i}).encode()
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO visits VALUES (?,?,?,?)",
                        (vid, crypto.lookup_hash(f"1101011990030{i:05d}"),
                         enc("张三丰".encode(), vid.encode()), enc(b"110101199003071234", vid.encode())))
            con.execute("INSERT INTO outbox (vid, payload) VALUES (?,?)", (vid, enc(payload, b"o")))
            con.execute("COMMIT")
        visits_s = 500 / (time.perf_counter() - t)
        visits_cpu_ms = (time.process_time() - cpu) / 500 * 1e3
        hashes = [os.urandom(32) for _ in range(n_bl)]
        t, cpu = time.perf_counter(), time.process_time()
        con.execute("BEGIN IMMEDIATE")
        con.executemany("INSERT INTO bl VALUES (?,?,?,?)",
                        ((h, f"bl-{i:08d}", enc(b'["1234","scalping"]', h), 2000000000)
                         for i, h in enumerate(hashes)))
        con.execute("COMMIT")
        load = time.perf_counter() - t
        load_cpu = time.process_time() - cpu
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in Path(d).glob("x.db*"))
        t = time.process_time()
        for h in hashes[:5000]:
            row = con.execute("SELECT detail FROM bl WHERE h=?", (h,)).fetchone()
            if encrypt_fields:
                crypto.decrypt(row[0], h)
        lookup_ms = (time.process_time() - t) / 5000 * 1e3
        t = time.perf_counter()
        con.close()
        con = connect(path)
        con.execute("SELECT count(*) FROM visits").fetchone()
        open_ms = (time.perf_counter() - t) * 1e3
        con.close()
    return {f"{label}_visits_with_outbox_per_s": visits_s,
            f"{label}_visit_write_cpu_ms": visits_cpu_ms,
            f"{label}_blacklist_{n_bl}_load_s": load,
            f"{label}_blacklist_{n_bl}_load_cpu_s": load_cpu,
            f"{label}_blacklist_{n_bl}_disk_mb": size / 1e6,
            f"{label}_blacklist_lookup_cpu_ms": lookup_ms,
            f"{label}_open_ms": open_ms}


def bench_sqlcipher_vs_fields(n_bl: int = 200_000) -> dict:
    figures = _cipher_workload(sqlite3.connect, "fields_aesgcm", True, n_bl)
    try:
        import sqlcipher3  # type: ignore[import-not-found]
    except ImportError:
        figures["sqlcipher"] = "sqlcipher3 not installed (pip install sqlcipher3-binary to compare)"
        return figures
    key = os.urandom(32).hex()

    def connect(path: Path):
        con = sqlcipher3.connect(str(path))
        con.execute(f"PRAGMA key = \"x'{key}'\"")
        return con

    figures.update(_cipher_workload(connect, "sqlcipher", False, n_bl))
    return figures


def run() -> dict:
    """Wall-clock figures depend on what else the machine runs; the ``_cpu_s`` figures (this
    process's CPU time) show the work itself. ``load_average_1min`` is printed for context."""
    n = int(os.environ.get("BENCH_BLACKLIST_N", "1000000"))
    figures: dict = {"load_average_1min": os.getloadavg()[0], "cpus": os.cpu_count() or 0}
    figures.update(bench_visits())
    figures.update(bench_blacklist(n))
    figures.update(bench_sqlcipher_vs_fields())
    return figures


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:<44} {v:,.3f}" if isinstance(v, float) else f"{k:<44} {v}")
