"""Hashes of ID numbers: the only form in which an ID number leaves the card or is looked up.

* :func:`slow_hash` (scrypt) is for values that may be seen by people who must not learn the
  number: the patient hash inside a booking QR (salt per booking, carried in the token) and the
  shared blacklist (one platform-wide salt, so a desk can look a number up in O(1) after one slow
  hash per check-in). A photographed QR or a stolen desk PC then costs an attacker one scrypt per
  guess instead of a table look-up over the (small, structured) space of ID numbers.
* :func:`keyed_hash` (HMAC-SHA256 with the desk's secret key) is for local look-ups in the
  desk's own database (visit history), where the key never leaves the desk.

Both take the *normalized* number (uppercase, no spaces: what ``IdNumber.number`` holds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost. n=2**14, r=8, p=1 costs about 30-60 ms and 16 MiB on a desk PC."""

    n: int = 2**14
    r: int = 8
    p: int = 1
    dklen: int = 32

    def as_dict(self) -> dict[str, int]:
        return {"n": self.n, "r": self.r, "p": self.p, "dklen": self.dklen}

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> ScryptParams:
        params = cls(n=int(d["n"]), r=int(d["r"]), p=int(d["p"]), dklen=int(d.get("dklen", 32)))
        # Refuse absurd parameters from outside input (memory = 128 * n * r bytes).
        if not (2**10 <= params.n <= 2**20 and params.n & (params.n - 1) == 0
                and 1 <= params.r <= 32 and 1 <= params.p <= 4 and 16 <= params.dklen <= 64
                and 128 * params.n * params.r <= 256 * 1024 * 1024):
            raise ValueError("scrypt parameters out of range")
        return params


DEFAULT_SCRYPT = ScryptParams()


def slow_hash(number: str, salt: bytes, params: ScryptParams = DEFAULT_SCRYPT) -> bytes:
    return hashlib.scrypt(
        number.encode("ascii"), salt=salt, n=params.n, r=params.r, p=params.p,
        dklen=params.dklen, maxmem=256 * 1024 * 1024,
    )


def keyed_hash(number: str, key: bytes) -> bytes:
    return hmac.new(key, number.encode("ascii"), hashlib.sha256).digest()


def b64e(data: bytes) -> str:
    """URL-safe base64 without padding (as in JWS)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
