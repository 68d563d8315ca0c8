"""The blacklist cache: slow-hash keys, validity, tombstones, versions, bulk deltas."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest

from desk_app.identity.hashing import b64e, slow_hash
from desk_app.storage import BlacklistEntry

from .conftest import T0, synced

SALT = b"platform-salt-16"
SCALPER = "110101199003071234"


def wire(entry_id: str, number: str | None = None, *, id_hash: bytes | None = None,
         version: int = 1, deleted: bool = False, **kw) -> dict:
    h = id_hash if id_hash is not None else slow_hash(number, SALT)
    d = {"entry_id": entry_id, "id_hash": b64e(h), "last4": (number or "0000")[-4:],
         "source": "police", "reason": "倒号 (scalping)", "valid_from": T0.isoformat(),
         "valid_to": (T0 + timedelta(days=90)).isoformat(), "version": version,
         "deleted": deleted}
    d.update(kw)
    return d


def test_lookup_by_one_slow_hash(store):
    store.blacklist.apply_delta([BlacklistEntry.from_wire(wire("e1", SCALPER))], version=1)
    t = time.perf_counter()
    h = slow_hash(SCALPER, SALT)  # what the check-in does once per patient
    hit = store.blacklist.lookup(h)
    elapsed = time.perf_counter() - t
    assert hit is not None
    assert (hit.entry_id, hit.source, hit.last4, hit.reason) == ("e1", "police", "1234",
                                                                 "倒号 (scalping)")
    assert store.blacklist.lookup(slow_hash("110101199003070000", SALT)) is None
    assert elapsed < 2.0  # generous: the figure itself is in benchmarks/bench_storage.py


def test_validity_window_and_default_three_months(store, clock):
    d = wire("e1", SCALPER)
    del d["valid_to"]
    e = BlacklistEntry.from_wire(d)
    assert e.valid_to - e.valid_from == timedelta(days=91)
    later = BlacklistEntry.from_wire(wire("e2", "110101199003075678",
                                          valid_from=(T0 + timedelta(days=1)).isoformat()))
    store.blacklist.apply_delta([e, later], version=2)
    h = e.id_hash
    assert store.blacklist.lookup(h) is not None
    assert store.blacklist.lookup(later.id_hash) is None  # not yet in force
    assert store.blacklist.lookup(later.id_hash, at=T0 + timedelta(days=2)) is not None
    assert store.blacklist.status().active_entries == 1
    clock.advance(days=92)
    assert store.blacklist.lookup(h) is None  # the ban ran out
    assert store.blacklist.status().active_entries == 0


def test_tombstone_removes_and_older_version_cannot_resurrect(store):
    h = slow_hash(SCALPER, SALT)
    store.blacklist.apply_delta([BlacklistEntry.from_wire(wire("e1", id_hash=h, version=1))], 1)
    r = store.blacklist.apply_delta(
        [BlacklistEntry.from_wire(wire("e1", id_hash=h, version=2, deleted=True))], 2)
    assert r.applied == 1 and r.skipped == 0
    assert store.blacklist.lookup(h) is None
    # A replayed older delta (version 1) must not bring the entry back.
    r = store.blacklist.apply_delta([BlacklistEntry.from_wire(wire("e1", id_hash=h))], 1)
    assert r.skipped == 1
    assert store.blacklist.lookup(h) is None
    [row] = store.blacklist.entries(h)
    assert row.deleted and row.version == 2


def test_two_sources_for_one_person_longest_ban_wins(store):
    h = slow_hash(SCALPER, SALT)
    store.blacklist.apply_delta([
        BlacklistEntry.from_wire(wire("p1", id_hash=h, source="platform")),
        BlacklistEntry.from_wire(wire("h1", id_hash=h, source="hospital",
                                      valid_to=(T0 + timedelta(days=200)).isoformat())),
    ], version=3)
    assert store.blacklist.lookup(h).entry_id == "h1"
    store.blacklist.apply_delta([BlacklistEntry.from_wire(
        wire("h1", id_hash=h, version=4, deleted=True))], version=4)
    assert store.blacklist.lookup(h).entry_id == "p1"


def test_status_version_and_staleness_time(store, clock):
    assert store.blacklist.status().version == 0 and store.blacklist.status().updated_at is None
    store.blacklist.apply_delta([], version=7)
    st = store.blacklist.status()
    assert st.version == 7 and st.updated_at == clock.now()
    assert store.cursors.get("blacklist") == "7"


def test_bad_wire_entries_are_refused():
    with pytest.raises(ValueError):
        BlacklistEntry.from_wire(wire("e", SCALPER, source="neighbour"))
    with pytest.raises(ValueError):
        BlacklistEntry.from_wire(wire("e", id_hash=b"short"))
    with pytest.raises(KeyError):
        BlacklistEntry.from_wire({"entry_id": "e"})


def test_bulk_delta_with_updates_and_tombstones(store, clock):
    n = 20_000
    hashes = [os.urandom(32) for _ in range(n)]
    entries = [BlacklistEntry.from_wire(wire(f"e{i}", id_hash=h)) for i, h in enumerate(hashes)]
    r = store.blacklist.apply_delta(entries, version=1)
    assert r.applied == n
    second = [BlacklistEntry.from_wire(wire(f"e{i}", id_hash=hashes[i], version=2,
                                            deleted=True)) for i in range(0, n, 2)]
    store.blacklist.apply_delta(second, version=2)
    assert store.blacklist.status().active_entries == n // 2
    assert store.blacklist.lookup(hashes[0]) is None
    assert store.blacklist.lookup(hashes[1]).entry_id == "e1"
    clock.advance(days=200)
    synced(store)
    assert store.blacklist.purge_expired() == n
