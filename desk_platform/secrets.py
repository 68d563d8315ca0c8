"""The platform's data key: where it comes from and what it is used for.

One Fernet key encrypts the Ed25519 signing keys and the police's plaintext ID numbers in the
database, and derives the HMAC key for counting a patient's bookings. It is kept OUT of the
database, so a stolen backup alone reveals neither. Every API process must get the same key:

1. ``DESK_PLATFORM_KEY`` (the Fernet key itself, e.g. injected by a secret manager), else
2. the key file named by ``--key-file`` or ``DESK_PLATFORM_KEY_FILE``, else
3. for SQLite only, ``<database file>.key`` next to the database (the demo).

``desk-platform init`` creates the key file (0600) when none exists yet.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import make_url

from desk_platform.db import normalize_url

ENV_KEY = "DESK_PLATFORM_KEY"
ENV_KEY_FILE = "DESK_PLATFORM_KEY_FILE"


class KeyMissing(RuntimeError):
    """No data key configured (or the file does not exist yet)."""


@dataclass(frozen=True)
class PlatformSecrets:
    data_key: bytes  # a Fernet key (urlsafe base64 of 32 bytes)

    def __post_init__(self) -> None:
        Fernet(self.data_key)  # refuse a malformed key at start-up

    def encrypt(self, data: bytes) -> bytes:
        return Fernet(self.data_key).encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return Fernet(self.data_key).decrypt(token)
        except InvalidToken as exc:
            raise KeyMissing("the data key does not match this database") from exc

    def hmac_key(self, purpose: bytes) -> bytes:
        return hmac.new(self.data_key, b"desk-platform:" + purpose, hashlib.sha256).digest()


def default_key_file(db_url: str) -> Path | None:
    url = make_url(normalize_url(db_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".key")
    return None


def key_file_for(db_url: str, key_file: str | os.PathLike[str] | None = None) -> Path | None:
    if key_file:
        return Path(key_file)
    if os.environ.get(ENV_KEY_FILE):
        return Path(os.environ[ENV_KEY_FILE])
    return default_key_file(db_url)


def load_secrets(db_url: str, key_file: str | os.PathLike[str] | None = None, *,
                 create: bool = False) -> PlatformSecrets:
    if os.environ.get(ENV_KEY):
        return PlatformSecrets(os.environ[ENV_KEY].strip().encode("ascii"))
    path = key_file_for(db_url, key_file)
    if path is None:
        raise KeyMissing(f"no data key: set {ENV_KEY} or {ENV_KEY_FILE}, or pass --key-file")
    if not path.exists():
        if not create:
            raise KeyMissing(f"data key file {path} does not exist (run desk-platform init)")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
    return PlatformSecrets(path.read_bytes().strip())
