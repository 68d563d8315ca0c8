"""Booking token signing keys (Ed25519, private halves sealed with the data key) and the
revocations desks pull (cancelled bookings, revoked keys)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import or_, select, update

from desk_app.booking import sign_booking_token
from desk_app.identity.hashing import b64e
from desk_platform import db as T
from desk_platform.base import Part, Principal
from desk_platform.db import current_seq, delta_page, next_seq
from desk_platform.errors import NotFound
from sync import protocol as P

log = logging.getLogger(__name__)

KEY_OVERLAP = timedelta(days=30)  # a retired signing key stays valid this long (booking horizon)


class Keys(Part):
    def rotate(self) -> P.KeyRotated:
        """A new signing key; the previous one keeps verifying until ``now + KEY_OVERLAP``."""
        now = self.now()
        private = Ed25519PrivateKey.generate()
        raw = private.private_bytes_raw()
        x = b64e(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        kid = now.strftime("k%Y%m%d%H%M%S-") + secrets.token_hex(3)
        with self.db.write() as conn:
            version = next_seq(self.db, conn, "keys")
            prev = conn.execute(select(T.signing_keys.c.kid).where(
                T.signing_keys.c.not_after.is_(None), T.signing_keys.c.revoked_at.is_(None))
            ).scalars().all()
            prev_not_after = now + KEY_OVERLAP
            if prev:
                conn.execute(update(T.signing_keys).where(T.signing_keys.c.kid.in_(prev))
                             .values(not_after=prev_not_after))
            conn.execute(T.signing_keys.insert().values(
                kid=kid, private_enc=self.secrets.encrypt(raw), x=x, created_at=now,
                not_after=None, revoked_at=None))
        log.info("signing key rotated: %s (previous: %s)", kid, ",".join(prev) or "none")
        return P.KeyRotated(kid=kid, previous_kid=prev[0] if prev else None,
                            previous_not_after=int(prev_not_after.timestamp()) if prev else None,
                            version=version)

    def revoke(self, kid: str) -> None:
        """A compromised key: gone from the key set at once, and announced as a revocation."""
        now = self.now()
        with self.db.write() as conn:
            r = conn.execute(update(T.signing_keys).where(T.signing_keys.c.kid == kid,
                                                          T.signing_keys.c.revoked_at.is_(None))
                             .values(revoked_at=now))
            if r.rowcount != 1:
                raise NotFound(f"no active key {kid}")
            next_seq(self.db, conn, "keys")
            v = next_seq(self.db, conn, "revocations")
            conn.execute(T.revocations.insert().values(version=v, kind="key", item_id=kid,
                                                       hospital_id=None, revoked_at=now))

    def keyset(self) -> P.KeySetWire:
        now = self.now()
        with self.db.read() as conn:
            version = current_seq(conn, "keys")
            rows = conn.execute(select(T.signing_keys).where(
                T.signing_keys.c.revoked_at.is_(None),
                or_(T.signing_keys.c.not_after.is_(None), T.signing_keys.c.not_after > now))
                .order_by(T.signing_keys.c.created_at.desc())).all()
        return P.KeySetWire(version=version, keys=[
            P.KeyWire(kid=r.kid, x=r.x,
                      not_after=int(r.not_after.timestamp()) if r.not_after else None)
            for r in rows])

    def signer(self, conn: Any) -> tuple[str, Ed25519PrivateKey]:
        row = conn.execute(select(T.signing_keys).where(
            T.signing_keys.c.not_after.is_(None), T.signing_keys.c.revoked_at.is_(None))
            .order_by(T.signing_keys.c.created_at.desc())).first()
        if row is None:
            raise RuntimeError("no signing key (desk-platform init / keys rotate)")
        return row.kid, Ed25519PrivateKey.from_private_bytes(self.secrets.decrypt(row.private_enc))


    # --- revocations ------------------------------------------------------------------------------

    def revocations_delta(self, who: Principal, since: int, limit: int) -> P.RevocationsDelta:
        with self.db.read() as conn:
            q = select(T.revocations)
            if who.role in (P.Role.DESK, P.Role.SECURITY, P.Role.HOSPITAL_ADMIN):
                q = q.where(or_(T.revocations.c.hospital_id.is_(None),
                                T.revocations.c.hospital_id == who.hospital_id))
            rows, version, more = delta_page(conn, "revocations", q, T.revocations.c.version,
                                             since, limit)
        return P.RevocationsDelta(
            items=[P.RevocationWire(kind=r.kind, item_id=r.item_id, version=r.version,
                                    revoked_at=r.revoked_at) for r in rows],
            version=version, more=more)



def sign_token(claims: dict[str, Any], private_key: Ed25519PrivateKey, kid: str) -> str:
    """Sign booking QR claims with team DOMAIN's signer: the one token format both ends share."""
    return sign_booking_token(claims, private_key, kid)
