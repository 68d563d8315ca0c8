"""Where the key lives, what happens when it is lost, and what is (not) readable on disk."""

from __future__ import annotations

import os
import stat

import keyring
import pytest
from keyring.backend import KeyringBackend

from desk_app.storage import (
    AlertInput,
    Crypto,
    DecryptionError,
    KeyMismatchError,
    KeyMissingError,
    KeyStore,
    Store,
)

from .conftest import make_visit


class MemoryKeyring(KeyringBackend):
    """A real keyring backend kept in memory (what a desktop session's keyring does)."""

    # keyring auto-registers every backend class; a negative priority keeps this one from
    # being picked on its own (it is installed explicitly by the fixture below).
    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.items[(service, username)]


@pytest.fixture
def memory_keyring():
    before = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(before)


def test_headless_machine_falls_back_to_a_private_key_file(app_paths):
    s = Store.open(app_paths)
    s.close()
    assert s.key_location == "file"
    mode = stat.S_IMODE(app_paths.key_file.stat().st_mode)
    assert mode == 0o600 and stat.S_IMODE(app_paths.key_file.parent.stat().st_mode) == 0o700
    assert len(app_paths.key_file.read_bytes()) == 32
    s = Store.open(app_paths)
    s.visits.record(make_visit())
    for f in app_paths.data_dir.glob("desk.sqlite3*"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
    s.close()


def test_key_in_the_os_keyring_when_there_is_one(app_paths, memory_keyring):
    s = Store.open(app_paths)
    s.visits.record(make_visit())
    s.close()
    assert s.key_location == "keyring" and not app_paths.key_file.exists()
    assert len(memory_keyring.items) == 1
    s = Store.open(app_paths)
    assert s.visits.count() == 1
    s.close()
    memory_keyring.items.clear()  # the keyring was wiped
    with pytest.raises(KeyMissingError) as exc:
        Store.open(app_paths)
    assert "NOT" in exc.value.message("en") and exc.value.kind == "data"


def test_lost_key_file_is_an_error_not_a_new_key(app_paths):
    s = Store.open(app_paths)
    s.visits.record(make_visit())
    s.close()
    app_paths.key_file.unlink()
    with pytest.raises(KeyMissingError):
        Store.open(app_paths)
    assert not app_paths.key_file.exists()  # nothing was made up


def test_wrong_key_is_told_apart(app_paths):
    Store.open(app_paths).close()
    app_paths.key_file.write_bytes(os.urandom(32))
    with pytest.raises(KeyMismatchError):
        Store.open(app_paths)


def test_damaged_key_file(app_paths):
    Store.open(app_paths).close()
    app_paths.key_file.write_bytes(b"short")
    from desk_app.storage import KeyFileError

    with pytest.raises(KeyFileError):
        Store.open(app_paths)


def test_key_file_opened_up_is_closed_again(app_paths):
    Store.open(app_paths).close()
    os.chmod(app_paths.key_file, 0o644)
    Store.open(app_paths).close()
    assert stat.S_IMODE(app_paths.key_file.stat().st_mode) == 0o600


def test_no_name_id_number_or_face_in_clear_on_disk(app_paths, clock):
    face = b"\x89PNG-FACE-IMAGE-" + os.urandom(64)
    s = Store.open(app_paths, clock=clock)
    s.visits.record(make_visit(), alert=AlertInput(id_photo=face, live_face=face))
    s.visits.record(make_visit(person_name="Ada Lovelace", id_number="11010119900307999X"))
    s.close()
    blob = b"".join(p.read_bytes() for p in app_paths.data_dir.glob("desk.sqlite3*"))
    for secret in ("张三丰", "Ada Lovelace", "110101199003071234", "11010119900307999X"):
        assert secret.encode() not in blob, secret
    # The last 4 characters are kept encrypted too (for the masked display). "999X" cannot occur
    # by chance in the file's hex hashes, UUIDs or timestamps; "1234" can (it once did).
    assert face[:16] not in blob and b"999X" not in blob


def test_ciphertext_moved_to_another_row_fails_loudly(app_paths):
    import sqlite3

    s = Store.open(app_paths)
    a = s.visits.record(make_visit(person_name="甲"))
    b = s.visits.record(make_visit(person_name="乙"))
    con = sqlite3.connect(app_paths.database_file)
    with con:
        con.execute("UPDATE visits SET person_name_enc = (SELECT person_name_enc FROM visits "
                    "WHERE visit_id=?) WHERE visit_id=?", (a.visit_id, b.visit_id))
    con.close()
    with pytest.raises(DecryptionError):
        s.visits.get(b.visit_id)
    s.close()


def test_crypto_round_trip_and_tamper():
    c = Crypto.generate()
    blob = c.encrypt(b"hello", b"ctx")
    assert c.decrypt(blob, b"ctx") == b"hello"
    with pytest.raises(DecryptionError):
        c.decrypt(blob, b"other")
    with pytest.raises(DecryptionError):
        c.decrypt(blob[:-1] + bytes([blob[-1] ^ 1]), b"ctx")
    assert c.lookup_hash("X") != Crypto.generate().lookup_hash("X")


def test_keystore_without_keyring_use(tmp_path):
    ks = KeyStore(tmp_path / "keys" / "master.key", use_keyring=False)
    with pytest.raises(KeyMissingError):
        ks.load(create=False)
    k = ks.load(create=True)
    assert ks.load(create=False) == k and ks.location == "file"


def test_a_file_that_is_not_a_database_is_kept_aside_and_the_desk_opens(app_paths):
    """It used to stop the desk (a data error); now it is moved to damaged/ for hospital IT and
    the desk opens a recovered database (tests/desk_app/storage/test_recovery.py)."""
    app_paths.database_file.write_bytes(b"this is not SQLite" * 100)
    store = Store.open(app_paths)
    try:
        assert store.recovery is not None
        assert store.recovery.damaged_file.read_bytes() == b"this is not SQLite" * 100
        assert store.outbox.count() == 0
    finally:
        store.close()
