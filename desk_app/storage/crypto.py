"""Field encryption and keyed look-up hashes for the desk database, and where the key lives.

One random 32-byte master key per desk. Sub-keys are derived with HKDF so that one purpose never
reuses another's key: ``enc`` (AES-256-GCM for names, faces, outbox payloads, ...), ``lookup``
(HMAC-SHA256 of ID numbers for the visit history), ``audit`` (HMAC of the audit hash chain) and
``check`` (a fingerprint stored in the database, so a wrong key is told apart from a damaged row).

The key lives in the OS keyring when the OS has one, else in ``data_dir/keys/master.key`` (0600,
folder 0700). A database that exists without its key is an error (:class:`KeyMissingError`):
a new key is never made silently, because it would make every encrypted field unreadable and,
worse, let the desk carry on as if nothing happened.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from hashlib import sha256
from pathlib import Path

import keyring
import keyring.errors
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desk_app.identity.hashing import keyed_hash
from desk_app.storage.errors import DecryptionError, KeyFileError, KeyMissingError

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
_FORMAT = b"\x01"  # first byte of every ciphertext: lets a later version change the scheme
KEYRING_SERVICE = "desk-app"


def _subkey(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"desk-app/{purpose}/v1".encode()).derive(master)


class Crypto:
    """AES-GCM for fields, HMAC for look-ups. ``aad`` binds a ciphertext to its row and column,
    so a value copied into another row fails to decrypt instead of showing the wrong person."""

    def __init__(self, master_key: bytes):
        if len(master_key) != KEY_BYTES:
            raise ValueError("master key must be 32 bytes")
        self._aead = AESGCM(_subkey(master_key, "enc"))
        self.lookup_key = _subkey(master_key, "lookup")
        self.audit_key = _subkey(master_key, "audit")
        self.fingerprint = hmac.new(_subkey(master_key, "check"), b"desk-app key check",
                                    sha256).hexdigest()[:32]

    @classmethod
    def generate(cls) -> Crypto:
        return cls(secrets.token_bytes(KEY_BYTES))

    def encrypt(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes = b"") -> bytes:
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != _FORMAT:
            raise DecryptionError(detail="ciphertext too short or unknown format")
        try:
            return self._aead.decrypt(blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:], aad)
        except InvalidTag as exc:
            raise DecryptionError(detail="authentication tag mismatch") from exc

    def encrypt_text(self, text: str | None, aad: bytes = b"") -> bytes | None:
        return None if text is None else self.encrypt(text.encode("utf-8"), aad)

    def decrypt_text(self, blob: bytes | None, aad: bytes = b"") -> str | None:
        return None if blob is None else self.decrypt(blob, aad).decode("utf-8")

    def lookup_hash(self, id_number: str) -> bytes:
        """Keyed hash of a normalized ID number for the desk's own visit history."""
        return keyed_hash(id_number, self.lookup_key)

    def audit_mac(self, data: bytes) -> bytes:
        return hmac.new(self.audit_key, data, sha256).digest()


class KeyStore:
    """Finds the desk's master key: the OS keyring first, then the key file."""

    def __init__(self, key_file: Path, account: str | None = None, use_keyring: bool = True):
        self.key_file = key_file
        # One desk key per data folder, so tests and a portable install do not share keys.
        self.account = account or f"master-key:{key_file.parent.parent.resolve()}"
        self.use_keyring = use_keyring
        self.location = ""  # "keyring" | "file", once loaded

    def _keyring_get(self) -> bytes | None:
        if not self.use_keyring:
            return None
        try:
            value = keyring.get_password(KEYRING_SERVICE, self.account)
        except keyring.errors.KeyringError as exc:  # NoKeyringError on a headless machine
            log.info("no usable OS keyring (%s); using the key file", type(exc).__name__)
            return None
        if value is None:
            return None
        try:
            key = bytes.fromhex(value)
        except ValueError as exc:
            raise KeyFileError(detail="keyring entry is not hex") from exc
        if len(key) != KEY_BYTES:
            raise KeyFileError(detail="keyring entry has the wrong length")
        return key

    def _keyring_set(self, key: bytes) -> bool:
        if not self.use_keyring:
            return False
        try:
            keyring.set_password(KEYRING_SERVICE, self.account, key.hex())
        except keyring.errors.KeyringError as exc:
            log.info("OS keyring refused the key (%s); using the key file", type(exc).__name__)
            return False
        return True

    def _file_get(self) -> bytes | None:
        try:
            data = self.key_file.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyFileError(detail=f"{type(exc).__name__} reading key file") from exc
        if len(data) != KEY_BYTES:
            raise KeyFileError(detail=f"key file has {len(data)} bytes")
        if os.name == "posix" and self.key_file.stat().st_mode & 0o077:
            log.warning("key file %s was readable by others; setting it to 0600", self.key_file)
            os.chmod(self.key_file, 0o600)
        return data

    def _file_set(self, key: bytes) -> None:
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(self.key_file.parent, 0o700)
        tmp = self.key_file.with_name(self.key_file.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.key_file)

    def load(self, *, create: bool) -> bytes:
        """The key; a new one only when ``create`` (there is no database yet).

        Raises :class:`KeyMissingError` when there is no key and ``create`` is false."""
        key = self._keyring_get()
        if key is not None:
            self.location = "keyring"
            return key
        key = self._file_get()
        if key is not None:
            self.location = "file"
            return key
        if not create:
            raise KeyMissingError(detail=f"no key in keyring or {self.key_file}")
        key = secrets.token_bytes(KEY_BYTES)
        if self._keyring_set(key):
            self.location = "keyring"
        else:
            self._file_set(key)
            self.location = "file"
        log.info("made a new desk data key (kept in the %s)", self.location)
        return key
