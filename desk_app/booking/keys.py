"""The platform's booking-signing public keys, cached on the desk, and the revocation list.

Rotation: the platform publishes a new key (new ``kid``) before it starts signing with it and
keeps the old one in the set until every token it signed has expired; a desk therefore holds
several keys at once and picks one by the token's ``kid``. ``not_after`` retires a key: tokens
issued after it are refused even if the key is still in the set, and so are tokens that expire
more than one booking's life (``codes.MAX_TOKEN_LIFE``: the booking horizon plus the token's
grace) after it or after their own ``iat`` (a leaked old key cannot mint new bookings by
backdating ``iat``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from desk_app.errors import DataError, Text
from desk_app.identity.hashing import b64d, b64e

KID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_KEYS = 64


class KeySetError(DataError):
    """A key set or revocation list from the platform that cannot be used."""

    default_text = Text("中心平台下发的签名密钥数据无效, 已保留原有密钥。请联系信息科。",
                        "The signing keys sent by the platform are invalid; the previous keys "
                        "are kept. Please call hospital IT.")


@dataclass(frozen=True)
class VerifyKey:
    kid: str
    public_key: Ed25519PublicKey
    not_after: datetime | None = None  # tokens issued after this are refused (see above)

    @property
    def x(self) -> str:
        return b64e(self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


@dataclass(frozen=True)
class KeySet:
    """kid -> Ed25519 public key, several at once; ``version`` counts the platform's changes."""

    keys: tuple[VerifyKey, ...] = ()
    version: int = 0
    _by_kid: Mapping[str, VerifyKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_kid", {k.kid: k for k in self.keys})

    def get(self, kid: str) -> VerifyKey | None:
        return self._by_kid.get(kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._by_kid

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._by_kid)

    def with_key(self, kid: str, public_key: Ed25519PublicKey,
                 not_after: datetime | None = None) -> KeySet:
        """A new set with this key added (or replaced), version + 1."""
        keys = [k for k in self.keys if k.kid != kid] + [VerifyKey(kid, public_key, not_after)]
        return KeySet(tuple(keys), self.version + 1)

    def without(self, kids: Iterable[str]) -> KeySet:
        gone = set(kids)
        return KeySet(tuple(k for k in self.keys if k.kid not in gone), self.version)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> KeySet:
        """From ``{"keys": [{"kid", "alg": "EdDSA", "x", "not_after"}], "version"}`` (also
        what ``StoredKeySet.to_wire()`` gives); :class:`KeySetError` when unusable."""
        try:
            raw_keys = data["keys"]
            version = int(data.get("version", 0))
            if not isinstance(raw_keys, list) or len(raw_keys) > MAX_KEYS or version < 0:
                raise ValueError("keys")
            keys = []
            for k in raw_keys:
                kid = k["kid"]
                if not isinstance(kid, str) or not KID_RE.match(kid):
                    raise ValueError("kid")
                if k.get("alg", "EdDSA") != "EdDSA":
                    raise ValueError("alg")
                x = b64d(str(k["x"]))
                if len(x) != 32:
                    raise ValueError("x")
                na = k.get("not_after")
                not_after = datetime.fromtimestamp(int(na), UTC) if na is not None else None
                keys.append(VerifyKey(kid, Ed25519PublicKey.from_public_bytes(x), not_after))
        except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
            raise KeySetError(detail=f"key set: {type(exc).__name__}") from exc
        if len({k.kid for k in keys}) != len(keys):
            raise KeySetError(detail="key set: duplicate kid")
        return cls(tuple(keys), version)

    def to_wire(self) -> dict[str, Any]:
        return {"keys": [{"kid": k.kid, "alg": "EdDSA", "x": k.x,
                          "not_after": int(k.not_after.timestamp()) if k.not_after else None}
                         for k in self.keys],
                "version": self.version}


def new_signing_key(kid: str | None = None) -> tuple[str, Ed25519PrivateKey]:
    """A fresh Ed25519 key and a kid for it (the platform, tests and the demo)."""
    kid = kid or f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
    if not KID_RE.match(kid):
        raise ValueError("kid must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    return kid, Ed25519PrivateKey.generate()


@dataclass(frozen=True)
class RevocationList:
    """Revoked (cancelled) booking ids and revoked key ids, with the platform's version counter.

    Deltas only ever add ids; a delta with a version not above ours is old news and ignored."""

    booking_ids: frozenset[str] = frozenset()
    key_ids: frozenset[str] = frozenset()
    version: int = 0

    def __contains__(self, booking_id: object) -> bool:
        return booking_id in self.booking_ids

    def apply(self, booking_ids: Iterable[str], version: int,
              key_ids: Iterable[str] = ()) -> RevocationList:
        if version <= self.version:
            return self
        return RevocationList(self.booking_ids | frozenset(booking_ids),
                              self.key_ids | frozenset(key_ids), version)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> RevocationList:
        """``{"booking_ids": [...], "key_ids": [...], "version": int}``."""
        try:
            b = data.get("booking_ids", [])
            k = data.get("key_ids", [])
            if not isinstance(b, list) or not isinstance(k, list):
                raise ValueError("lists")
            return cls(frozenset(str(x) for x in b), frozenset(str(x) for x in k),
                       int(data.get("version", 0)))
        except (TypeError, ValueError, AttributeError) as exc:
            raise KeySetError(detail=f"revocations: {type(exc).__name__}") from exc

    def to_wire(self) -> dict[str, Any]:
        return {"booking_ids": sorted(self.booking_ids), "key_ids": sorted(self.key_ids),
                "version": self.version}
