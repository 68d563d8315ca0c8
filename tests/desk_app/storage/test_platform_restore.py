"""The platform restored from a backup (a new epoch, ``sync.pull.follow_epoch``): the store marks
its replicated rows stale so the re-pull replaces them whatever their version, keeps them in
force until then, and queues again the records the platform acknowledged."""

from __future__ import annotations

from datetime import timedelta

from desk_app.identity.hashing import slow_hash
from desk_app.storage import BlacklistEntry
from desk_app.storage.staff_cache import CachedAccount, StaffCache

from .conftest import T0, make_visit
from .test_blacklist import SALT, wire

A, B, C = "110101199003071234", "110101199003075678", "110101199003079999"


def _entry(entry_id: str, number: str, version: int, **kw) -> BlacklistEntry:
    return BlacklistEntry.from_wire(wire(entry_id, number, version=version, **kw))


def _restored(store, part) -> int:
    with store.db.write() as s:
        return part(s)


def test_a_stale_blacklist_stays_in_force_until_the_restored_platform_replaces_it(store):
    long_to = (T0 + timedelta(days=365)).isoformat()
    store.blacklist.apply_delta([_entry("renewed", A, 5, valid_to=long_to),
                                 _entry("lifted", B, 6, deleted=True),
                                 _entry("lost", C, 7)], version=7)
    assert store.blacklist.drop_stale() == 0  # no re-pull under way: nothing goes
    assert _restored(store, lambda s: store.blacklist.mark_stale(s, store.now())) == 3
    # Until the re-pull brings them, the rows stay in force: the desk is never without its list.
    assert store.blacklist.lookup(slow_hash(C, SALT)) is not None
    assert store.blacklist.lookup(slow_hash(A, SALT)).valid_to.isoformat() == long_to

    # The restored platform's older versions: the ban before its renewal and before its lift.
    store.blacklist.apply_delta([_entry("renewed", A, 1), _entry("lifted", B, 2)], version=2)
    assert store.blacklist.lookup(slow_hash(A, SALT)).valid_to == T0 + timedelta(days=90)
    assert store.blacklist.lookup(slow_hash(B, SALT)) is not None, "the lost lift stayed"
    assert store.blacklist.lookup(slow_hash(C, SALT)) is not None
    assert store.blacklist.drop_stale() == 1  # the end of the re-pull: "lost" was not sent
    assert store.blacklist.lookup(slow_hash(C, SALT)) is None
    assert store.blacklist.drop_stale() == 0
    # Versions count again as before: an older page applied again changes nothing.
    store.blacklist.apply_delta([_entry("lifted", B, 1, deleted=True)], version=2)
    assert store.blacklist.lookup(slow_hash(B, SALT)) is not None


def _account(version: int, *, active: bool, pw: str = "$argon2id$v=19$m=1,t=1,p=1$a$b"
             ) -> CachedAccount:
    return CachedAccount(username="guard1", display_name="Guard", role="security",
                         active=active, version=version, password_hash=pw)


def test_a_cached_account_follows_the_restored_platform_at_a_lower_version(store):
    cache = StaffCache(store)
    cache.apply([_account(9, active=False)], version=9)  # disabled after the backup
    assert _restored(store, StaffCache.mark_stale) == 1
    assert store.users.get("guard1").active is False  # as it was until the re-pull
    applied = cache.apply([_account(4, active=True)], version=4)
    assert applied.changed == 1 and store.users.get("guard1").active is True
    assert cache.sources()["guard1"].version == 4
    cache.apply([_account(3, active=False)], version=4)  # older again: ignored as before
    assert store.users.get("guard1").active is True


def test_acknowledged_records_are_queued_again_parked_ones_and_actions_are_not(store):
    for _ in range(3):
        store.visits.record(make_visit())
    sent, parked, waiting = store.outbox.pending()
    handled = store.outbox.enqueue("alert_handled", "alert-1:handled", {"alert_id": "alert-1"})
    store.outbox.mark_sent([sent.id, handled])
    store.outbox.park([parked.id], "refused by the platform (HTTP 403)")
    assert [i.id for i in store.outbox.pending()] == [waiting.id]

    assert _restored(store, store.outbox.requeue_sent) == 1
    assert [i.id for i in store.outbox.pending()] == [sent.id, waiting.id]
    assert [i.id for i in store.outbox.parked()] == [parked.id]
