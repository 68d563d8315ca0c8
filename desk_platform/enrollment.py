"""Hospitals, desks and bearer tokens: one-time enrollment codes exchanged for desk tokens,
tokens for people (staff, police), and the caller behind a token; the desk configuration with
the database's epoch (:meth:`Enrollment.epoch`)."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from desk_app.identity.hashing import b64e
from desk_platform import db as T
from desk_platform.base import Part, Principal, token_hash
from desk_platform.db import current_seq
from desk_platform.errors import EnrollmentInvalid, Forbidden, Unauthorized
from sync import protocol as P

log = logging.getLogger(__name__)

DESK_TOKEN_DAYS = 365
USER_TOKEN_DAYS = 30
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
EPOCH = "epoch"  # platform_meta key of the database's epoch (DeskConfig.epoch)


def _code_hash(code: str) -> str:
    return token_hash("enroll:" + code.replace("-", "").upper())


def _random_code(groups: int = 3, size: int = 4) -> str:
    return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(size))
                    for _ in range(groups))


class Enrollment(Part):
    def authenticate(self, token: str) -> Principal:
        if not token or len(token) > 200:
            raise Unauthorized("no or malformed token")
        h = token_hash(token)
        now = self.now()
        with self.db.read() as conn:
            row = conn.execute(select(T.tokens).where(T.tokens.c.token_hash == h)).first()
        if row is None or row.revoked_at is not None or (
                row.expires_at is not None and row.expires_at <= now):
            raise Unauthorized("unknown, revoked or expired token")
        return Principal(P.Role(row.role), row.name, row.hospital_id, row.desk_id, h)

    def issue_token(self, role: P.Role, name: str, *, hospital_id: str | None = None,
                    desk_id: str | None = None, days: float | None = USER_TOKEN_DAYS,
                    conn: Any = None) -> tuple[str, datetime | None]:
        """A new random bearer token; only its SHA-256 is stored."""
        if role in (P.Role.DESK, P.Role.SECURITY, P.Role.HOSPITAL_ADMIN) and not hospital_id:
            raise ValueError(f"a {role.value} token belongs to a hospital")
        if role == P.Role.DESK and not desk_id:
            raise ValueError("a desk token names its desk")
        token = "rnp_" + secrets.token_urlsafe(32)
        now = self.now()
        expires = now + timedelta(days=days) if days else None
        values = dict(token_hash=token_hash(token), role=role.value, name=name[:200],
                      hospital_id=hospital_id, desk_id=desk_id, created_at=now,
                      expires_at=expires, revoked_at=None)
        if conn is not None:
            conn.execute(T.tokens.insert().values(**values))
        else:
            with self.db.write() as c:
                c.execute(T.tokens.insert().values(**values))
        return token, expires

    def revoke_token(self, token: str) -> bool:
        with self.db.write() as conn:
            r = conn.execute(update(T.tokens).where(T.tokens.c.token_hash == token_hash(token),
                                                    T.tokens.c.revoked_at.is_(None))
                             .values(revoked_at=self.now()))
        return r.rowcount == 1

    def ensure_hospital(self, hospital_id: str, name: str | None = None, conn: Any = None) -> None:
        stmt = self.db.insert(T.hospitals).values(hospital_id=hospital_id,
                                                  name=name or hospital_id)
        stmt = stmt.on_conflict_do_nothing()
        if conn is not None:
            conn.execute(stmt)
        else:
            with self.db.write() as c:
                c.execute(stmt)
        if name:
            with self.db.write() as c:
                c.execute(update(T.hospitals).where(T.hospitals.c.hospital_id == hospital_id)
                          .values(name=name))

    def create_code(self, hospital_id: str, desk_id: str, *, created_by: str,
                    ttl: timedelta = timedelta(hours=24)) -> P.EnrollmentCode:
        code = _random_code()
        now = self.now()
        with self.db.write() as conn:
            conn.execute(self.db.insert(T.hospitals).values(hospital_id=hospital_id,
                                                            name=hospital_id)
                         .on_conflict_do_nothing())
            conn.execute(T.enrollment_codes.insert().values(
                code_hash=_code_hash(code), hospital_id=hospital_id, desk_id=desk_id,
                created_by=created_by[:200], created_at=now, expires_at=now + ttl, used_at=None))
        return P.EnrollmentCode(code=code, hospital_id=hospital_id, desk_id=desk_id,
                                expires_at=now + ttl)

    def enroll(self, req: P.EnrollRequest) -> P.EnrollResponse:
        """Exchange a one-time code for a desk token. The code is spent atomically (two desks
        racing with one code: one wins); the desk's earlier tokens are revoked."""
        now = self.now()
        with self.db.write() as conn:
            row = conn.execute(
                update(T.enrollment_codes)
                .where(T.enrollment_codes.c.code_hash == _code_hash(req.code),
                       T.enrollment_codes.c.used_at.is_(None),
                       T.enrollment_codes.c.expires_at > now)
                .values(used_at=now)
                .returning(T.enrollment_codes.c.hospital_id, T.enrollment_codes.c.desk_id)
            ).first()
            if row is None:
                raise EnrollmentInvalid("unknown, used or expired enrollment code")
            hospital_id, desk_id = row
            conn.execute(update(T.tokens).where(T.tokens.c.role == P.Role.DESK.value,
                                                T.tokens.c.hospital_id == hospital_id,
                                                T.tokens.c.desk_id == desk_id,
                                                T.tokens.c.revoked_at.is_(None))
                         .values(revoked_at=now))
            ins = self.db.insert(T.desks).values(hospital_id=hospital_id, desk_id=desk_id,
                                                 label=req.desk_label, enrolled_at=now)
            conn.execute(ins.on_conflict_do_update(
                index_elements=[T.desks.c.hospital_id, T.desks.c.desk_id],
                set_={"label": req.desk_label, "enrolled_at": now}))
            token, expires = self.issue_token(
                P.Role.DESK, f"desk {hospital_id}/{desk_id}", hospital_id=hospital_id,
                desk_id=desk_id, days=DESK_TOKEN_DAYS, conn=conn)
        log.info("desk %s/%s enrolled", hospital_id, desk_id)
        return P.EnrollResponse(token=token, role=P.Role.DESK, hospital_id=hospital_id,
                                desk_id=desk_id, expires_at=expires)

    def revoke_desk(self, hospital_id: str, desk_id: str) -> P.DeskRevoked:
        with self.db.write() as conn:
            r = conn.execute(update(T.tokens).where(T.tokens.c.role == P.Role.DESK.value,
                                                    T.tokens.c.hospital_id == hospital_id,
                                                    T.tokens.c.desk_id == desk_id,
                                                    T.tokens.c.revoked_at.is_(None))
                             .values(revoked_at=self.now()))
        return P.DeskRevoked(hospital_id=hospital_id, desk_id=desk_id, tokens_revoked=r.rowcount)

    def desk_config(self, who: Principal) -> P.DeskConfig:
        if who.role != P.Role.DESK or not who.hospital_id or not who.desk_id:
            raise Forbidden("desk configuration is for desk tokens")
        s = self.ctx.scrypt
        with self.db.read() as conn:
            kv = current_seq(conn, "keys")
            epoch = conn.execute(select(T.meta.c.value).where(T.meta.c.key == EPOCH)).scalar()
        return P.DeskConfig(
            hospital_id=who.hospital_id, desk_id=who.desk_id,
            blacklist_salt=b64e(self.ctx.blacklist_salt),
            scrypt=P.ScryptParamsWire(**s.as_dict()), server_time=self.now(),
            timezone=self.ctx.meta("timezone"), keyset_version=kv, epoch=epoch or self.epoch())

    def epoch(self, *, renew: bool = False) -> str:
        """The database's epoch: a random id, made with the first desk configuration, and anew
        (``renew``, ``desk-platform restored``) after the database was restored from a backup.
        The restored counters hand out again numbers the desks already have, so a desk that
        sees the epoch change pulls every delta from the start (sync/pull.py)."""
        m = T.meta.c
        with self.db.write() as conn:
            if renew:
                conn.execute(delete(T.meta).where(m.key == EPOCH))
            conn.execute(self.db.insert(T.meta).values(key=EPOCH, value=secrets.token_hex(16))
                         .on_conflict_do_nothing())
            value = conn.execute(select(m.value).where(m.key == EPOCH)).scalar_one()
        if renew:
            log.warning("database epoch renewed: every desk pulls every delta from the start")
        return str(value)
