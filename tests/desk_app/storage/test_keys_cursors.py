"""Booking keys, revocations, sync cursors."""

from __future__ import annotations

from desk_app.identity.hashing import b64e
from desk_app.storage import StoredKeySet


def test_keyset_round_trip_replaces_the_whole_set(store):
    wire = {"keys": [{"kid": "k1", "alg": "EdDSA", "x": b64e(b"\x01" * 32), "not_after": None},
                     {"kid": "k2", "alg": "EdDSA", "x": b64e(b"\x02" * 32),
                      "not_after": 1790000000}], "version": 3}
    store.keys.save_keyset(StoredKeySet.from_wire(wire))
    assert store.keys.keyset().to_wire() == wire
    store.keys.save_keyset(StoredKeySet.from_wire({"keys": wire["keys"][1:], "version": 4}))
    ks = store.keys.keyset()
    assert [k.kid for k in ks.keys] == ["k2"] and ks.version == 4
    assert StoredKeySet.from_wire({"keys": []}).version == 0


def test_revocations_and_cursors(store):
    assert store.keys.revocations() == frozenset()
    assert store.keys.apply_revocations(["B1", "B2"], version=5) == 2
    store.keys.apply_revocations(["B2", "B3"], version=6)
    store.keys.apply_revocations(["k-old"], version=1, kind="key")
    assert store.keys.revocations() == {"B1", "B2", "B3"}
    assert store.keys.revocations("key") == {"k-old"}
    assert store.cursors.get("revocations.booking") == "6"
    assert store.cursors.get("bookings") is None
    store.cursors.set("bookings", "2026-03-02T01:00:00Z#17")
    store.cursors.set("bookings", "2026-03-02T02:00:00Z#18")
    assert store.cursors.get("bookings") == "2026-03-02T02:00:00Z#18"
