"""What every part of the platform shares: the database, the data key, the clock and the
platform-wide values kept in ``meta`` (blacklist salt, scrypt parameters, time zone).

Each aggregate has its own module (``keys``, ``enrollment``, ``bookings``, ``blacklist``,
``ingest``, ``alerts``, ``stats``) with one class built on :class:`Part`; the facade
:class:`desk_platform.service.Platform` hands them out (``platform.bookings``...). Every method
runs in its own transaction (:meth:`Database.read` / :meth:`Database.write`, the one transaction
helper) and returns protocol models or frozen dataclasses; table rows never leave the modules.
Times come from ``now()`` so the seed can replay a morning and tests can move the clock.

Secrets: ``PlatformSecrets.data_key`` (Fernet) encrypts the Ed25519 private keys and the plaintext
ID numbers kept for the police, and keys the HMAC used to count a patient's bookings and
cancellations without storing the number. The key is NOT in the database: every API process
gets it from the environment or a key file (see ``secrets.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from desk_app.identity.hashing import ScryptParams, b64d, b64e, slow_hash
from desk_app.identity.idnumber import InvalidIdNumber, canonical_id_number
from desk_platform import db as T
from desk_platform.db import Database
from desk_platform.errors import PlatformError
from desk_platform.secrets import PlatformSecrets
from sync import protocol as P


@dataclass(frozen=True)
class Principal:
    """Who is calling: one bearer token."""

    role: P.Role
    name: str
    hospital_id: str | None
    desk_id: str | None
    token_hash: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_id_number(text: str) -> str:
    """The desk's canonical form (:func:`desk_app.identity.canonical_id_number`): what the
    platform stores, hashes and signs, so a booking or a ban made with a 15-digit, full-width
    or spaced number is the same person as the 18-digit card the desk reads."""
    try:
        return canonical_id_number(text)
    except InvalidIdNumber as exc:  # the message names the problem, never the number
        raise PlatformError(f"id_number: {exc.message('en')} ({exc.reason})") from None


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class Context:
    """The database, the secrets, the clock and the ``meta`` values, shared by every part."""

    def __init__(self, db: Database, secrets_: PlatformSecrets, *,
                 now: Callable[[], datetime] | None = None):
        self.db = db
        self.secrets = secrets_
        self.now = now or (lambda: datetime.now(UTC))
        self._meta_cache: dict[str, str] = {}

    def meta(self, key: str) -> str:
        if key not in self._meta_cache:
            with self.db.read() as conn:
                value = conn.execute(select(T.meta.c.value).where(T.meta.c.key == key)).scalar()
            if value is None:
                raise RuntimeError("the platform database is not initialized (desk-platform init)")
            self._meta_cache[key] = value
        return self._meta_cache[key]

    def forget_meta(self) -> None:
        self._meta_cache.clear()

    @property
    def blacklist_salt(self) -> bytes:
        return b64d(self.meta("blacklist_salt"))

    @property
    def scrypt(self) -> ScryptParams:
        return ScryptParams.from_dict(json.loads(self.meta("scrypt")))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.meta("timezone"))

    def local_day(self, at: datetime) -> str:
        return at.astimezone(self.tz).date().isoformat()

    def blacklist_hash(self, id_number: str) -> str:
        return b64e(slow_hash(normalize_id_number(id_number), self.blacklist_salt, self.scrypt))

    def patient_key(self, id_number: str) -> str:
        return hmac.new(self.secrets.hmac_key(b"patient"), id_number.encode("ascii"),
                        hashlib.sha256).hexdigest()


class Part:
    """One aggregate's operations, on the shared :class:`Context`."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    @property
    def db(self) -> Database:
        return self.ctx.db

    @property
    def secrets(self) -> PlatformSecrets:
        return self.ctx.secrets

    def now(self) -> datetime:
        return self.ctx.now()
