"""What the platform does, independent of HTTP: used by the API (``app.py``), the CLI and the seed.

Every method runs in its own transaction (``Database.read``/``write``) and returns protocol models
or frozen dataclasses; table rows never leave this module. Times come from ``self.now()`` so the
seed can replay a morning and tests can move the clock.

Secrets: ``PlatformSecrets.data_key`` (Fernet) encrypts the Ed25519 private keys and the plaintext
ID numbers kept for the police, and keys the HMAC used to count a patient's bookings and
cancellations without storing the number. The key is NOT in the database: every API process
gets it from the environment or a key file (see ``secrets.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import and_, bindparam, case, func, or_, select, update

from desk_app.booking import sign_booking_token
from desk_app.identity.hashing import DEFAULT_SCRYPT, ScryptParams, b64d, b64e, slow_hash
from desk_app.identity.idnumber import InvalidIdNumber, canonical_id_number
from desk_platform import db as T
from desk_platform import idrepair
from desk_platform.anomaly import booking_client_fields
from desk_platform.db import Database, current_seq, next_seq
from desk_platform.errors import (
    Conflict,
    EnrollmentInvalid,
    Forbidden,
    NotFound,
    PlatformError,
    Unauthorized,
)
from desk_platform.secrets import PlatformSecrets
from sync import protocol as P

log = logging.getLogger(__name__)

DESK_TOKEN_DAYS = 365
USER_TOKEN_DAYS = 30
KEY_OVERLAP = timedelta(days=30)  # a retired signing key stays valid this long (booking horizon)
TOKEN_GRACE = timedelta(hours=2)  # a booking QR stays valid this long after the slot ends
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
REF_ALPHABET = CODE_ALPHABET
CHECKIN_VERDICTS = ("admit", "review")


@dataclass(frozen=True)
class Principal:
    """Who is calling: one bearer token."""

    role: P.Role
    name: str
    hospital_id: str | None
    desk_id: str | None
    token_hash: str


@dataclass(frozen=True)
class CancelPolicy:
    """A cancelled slot goes back to the pool after ``cooldown`` plus a random moment within
    ``window`` (so "cancel with one hand, rebook with the other" does not work)."""

    cooldown: timedelta = timedelta(minutes=30)
    window: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class BlacklistRecord:
    """A blacklist entry as the CLI lists it (last 4 only; never the number)."""

    entry: P.BlacklistEntryWire
    created_by: str


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


def _code_hash(code: str) -> str:
    return token_hash("enroll:" + code.replace("-", "").upper())


def _random_code(groups: int = 3, size: int = 4) -> str:
    return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(size))
                    for _ in range(groups))


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class Platform:
    def __init__(
        self,
        db: Database,
        secrets_: PlatformSecrets,
        *,
        now: Callable[[], datetime] | None = None,
        cancel_policy: CancelPolicy | None = None,
        rng: random.Random | None = None,
    ):
        self.db = db
        self.secrets = secrets_
        self.now = now or (lambda: datetime.now(UTC))
        self.cancel_policy = cancel_policy or CancelPolicy()
        self.rng = rng or random.SystemRandom()
        self._meta_cache: dict[str, str] = {}

    # --- meta: salt, scrypt, time zone ------------------------------------------------------------

    def initialize(self, *, timezone: str = "Asia/Shanghai") -> bool:
        """Create the platform-wide values once (blacklist salt, time zone) and a signing key;
        put ID numbers stored before 2026-12 in the canonical form (:mod:`.idrepair`, once).
        Returns whether anything was created."""
        ZoneInfo(timezone)  # refuse an unknown zone early
        created = False
        with self.db.write() as conn:
            for key, value in (
                ("blacklist_salt", b64e(secrets.token_bytes(16))),
                ("scrypt", _json(DEFAULT_SCRYPT.as_dict())),
                ("timezone", timezone),
                ("created_at", self.now().isoformat()),
            ):
                r = conn.execute(self.db.insert(T.meta).values(key=key, value=value)
                                 .on_conflict_do_nothing().returning(T.meta.c.key))
                created |= r.first() is not None
            has_key = conn.execute(select(func.count()).select_from(T.signing_keys)).scalar_one()
        if not has_key:
            self.rotate_keys()
            created = True
        self._meta_cache.clear()
        if idrepair.repair_needed(self):
            idrepair.canonicalize_blacklist(self)
        return created

    def _meta(self, key: str) -> str:
        if key not in self._meta_cache:
            with self.db.read() as conn:
                value = conn.execute(select(T.meta.c.value).where(T.meta.c.key == key)).scalar()
            if value is None:
                raise RuntimeError("the platform database is not initialized (desk-platform init)")
            self._meta_cache[key] = value
        return self._meta_cache[key]

    @property
    def blacklist_salt(self) -> bytes:
        return b64d(self._meta("blacklist_salt"))

    @property
    def scrypt(self) -> ScryptParams:
        return ScryptParams.from_dict(json.loads(self._meta("scrypt")))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self._meta("timezone"))

    def local_day(self, at: datetime) -> str:
        return at.astimezone(self.tz).date().isoformat()

    def blacklist_hash(self, id_number: str) -> str:
        return b64e(slow_hash(normalize_id_number(id_number), self.blacklist_salt, self.scrypt))

    def _patient_key(self, id_number: str) -> str:
        return hmac.new(self.secrets.hmac_key(b"patient"), id_number.encode("ascii"),
                        hashlib.sha256).hexdigest()

    # --- tokens and enrollment --------------------------------------------------------------------

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

    def create_enrollment_code(self, hospital_id: str, desk_id: str, *, created_by: str,
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
        s = self.scrypt
        with self.db.read() as conn:
            kv = current_seq(conn, "keys")
        return P.DeskConfig(
            hospital_id=who.hospital_id, desk_id=who.desk_id,
            blacklist_salt=b64e(self.blacklist_salt),
            scrypt=P.ScryptParamsWire(**s.as_dict()), server_time=self.now(),
            timezone=self._meta("timezone"), keyset_version=kv)

    # --- signing keys -----------------------------------------------------------------------------

    def rotate_keys(self) -> P.KeyRotated:
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

    def revoke_key(self, kid: str) -> None:
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

    def _signer(self, conn: Any) -> tuple[str, Ed25519PrivateKey]:
        row = conn.execute(select(T.signing_keys).where(
            T.signing_keys.c.not_after.is_(None), T.signing_keys.c.revoked_at.is_(None))
            .order_by(T.signing_keys.c.created_at.desc())).first()
        if row is None:
            raise RuntimeError("no signing key (desk-platform init / keys rotate)")
        return row.kid, Ed25519PrivateKey.from_private_bytes(self.secrets.decrypt(row.private_enc))

    # --- revocations ------------------------------------------------------------------------------

    def revocations_delta(self, who: Principal, since: int, limit: int) -> P.RevocationsDelta:
        with self.db.read() as conn:
            q = select(T.revocations).where(T.revocations.c.version > since)
            if who.role in (P.Role.DESK, P.Role.SECURITY, P.Role.HOSPITAL_ADMIN):
                q = q.where(or_(T.revocations.c.hospital_id.is_(None),
                                T.revocations.c.hospital_id == who.hospital_id))
            rows = conn.execute(q.order_by(T.revocations.c.version).limit(limit + 1)).all()
            head = current_seq(conn, "revocations")
        more = len(rows) > limit
        rows = rows[:limit]
        version = rows[-1].version if more else max(since, head)
        return P.RevocationsDelta(
            items=[P.RevocationWire(kind=r.kind, item_id=r.item_id, version=r.version,
                                    revoked_at=r.revoked_at) for r in rows],
            version=version, more=more)

    # --- slots and bookings -----------------------------------------------------------------------

    def open_slots(self, hospital_id: str, department_code: str, doctor_name: str,
                   starts: Iterable[datetime], minutes: int, *,
                   released_at: datetime | None = None) -> list[str]:
        """Put slots in the pool (bookable from ``released_at``, default now)."""
        released_at = released_at or self.now()
        ids = []
        with self.db.write() as conn:
            for start in starts:
                sid = uuid.uuid4().hex
                r = conn.execute(self.db.insert(T.slots).values(
                    slot_id=sid, hospital_id=hospital_id, department_code=department_code,
                    doctor_name=doctor_name, slot_start=start,
                    slot_end=start + timedelta(minutes=minutes), state="open",
                    released_at=released_at, release_at=None, last_cancelled_at=None)
                    .on_conflict_do_nothing().returning(T.slots.c.slot_id))
                if r.first() is not None:
                    ids.append(sid)
        return ids

    def book(self, req: P.BookingRequest) -> P.IssuedBooking:
        """Book a slot for a patient and sign the QR token. A slot that was cancelled is only
        bookable once its (randomized) release time has come; the risk metadata records how the
        booking came about."""
        number = normalize_id_number(req.id_number)
        now = self.now()
        start = req.slot_start
        end = start + timedelta(minutes=req.slot_minutes)
        day = self.local_day(start)
        pkey = self._patient_key(number)
        salt = secrets.token_bytes(16)
        kdf = DEFAULT_SCRYPT
        phash = b64e(slow_hash(number, salt, kdf))  # outside the transaction: ~60 ms
        with self.db.write() as conn:
            conn.execute(self.db.insert(T.hospitals).values(hospital_id=req.hospital_id,
                                                            name=req.hospital_id)
                         .on_conflict_do_nothing())
            slot = conn.execute(select(T.slots).where(
                T.slots.c.hospital_id == req.hospital_id,
                T.slots.c.department_code == req.department_code,
                T.slots.c.doctor_name == req.doctor_name,
                T.slots.c.slot_start == start)).first()
            if slot is None:
                slot_id = uuid.uuid4().hex
                conn.execute(T.slots.insert().values(
                    slot_id=slot_id, hospital_id=req.hospital_id,
                    department_code=req.department_code, doctor_name=req.doctor_name,
                    slot_start=start, slot_end=end, state="booked", released_at=None,
                    release_at=None, last_cancelled_at=None))
                released_at = None
                last_cancel = None
            else:
                slot_id = slot.slot_id
                if slot.state == "booked":
                    raise Conflict("slot already booked")
                if slot.state == "cooling":
                    if slot.release_at is None or slot.release_at > now:
                        raise Conflict("slot cancelled recently; not back in the pool yet")
                    released_at = slot.release_at
                else:
                    released_at = slot.released_at
                if released_at is not None and released_at > now:
                    raise Conflict("slot not released yet")
                last_cancel = slot.last_cancelled_at
                r = conn.execute(update(T.slots).where(T.slots.c.slot_id == slot_id,
                                                       T.slots.c.state == slot.state)
                                 .values(state="booked", released_at=released_at))
                if r.rowcount != 1:
                    raise Conflict("slot taken concurrently")
            since30 = now - timedelta(days=30)
            b = T.bookings.c
            cancels = conn.execute(select(func.count()).where(
                b.patient_key == pkey, b.status == "cancelled", b.cancelled_at >= since30)
            ).scalar_one()
            acct_patients = conn.execute(select(func.count(func.distinct(b.patient_key))).where(
                b.account_id == req.account_id, b.booked_at >= since30,
                b.patient_key != pkey)).scalar_one() + 1
            today = conn.execute(select(b.department_code, b.doctor_name).where(
                b.patient_key == pkey, b.day == day, b.status != "cancelled")).all()
            risk = P.BookingRiskWire(
                booked_at=now, slot_released_at=released_at,
                booked_seconds_after_release=(
                    round((now - released_at).total_seconds(), 1) if released_at else None),
                rebooked_minutes_after_cancel=(
                    round((now - last_cancel).total_seconds() / 60, 2) if last_cancel else None),
                account_id=req.account_id, account_patients_30d=acct_patients,
                patient_bookings_today=len(today) + 1,
                patient_same_department_today=sum(1 for d, _ in today
                                                  if d == req.department_code) + 1,
                patient_same_doctor_today=sum(1 for d, doc in today if d == req.department_code
                                              and doc == req.doctor_name) + 1,
                patient_cancellations_30d=cancels,
            )
            client = booking_client_fields(self, conn, req, number)  # refuses frozen accounts
            kid, private = self._signer(conn)
            booking_id = "B" + uuid.uuid4().hex[:19].upper()
            reference = self._new_reference(conn)
            claims = {
                "bid": booking_id, "hos": req.hospital_id, "dep": req.department_code,
                "dpn": req.department_name, "doc": req.doctor_name,
                "sst": int(start.timestamp()), "sen": int(end.timestamp()),
                "ph": phash, "ps": b64e(salt), "pl4": number[-4:],
                "iat": int(now.timestamp()), "exp": int((end + TOKEN_GRACE).timestamp()),
            }
            token = sign_token(claims, private, kid)
            seq = next_seq(self.db, conn, f"bookings:{req.hospital_id}")
            conn.execute(T.bookings.insert().values(
                booking_id=booking_id, reference=reference, hospital_id=req.hospital_id,
                slot_id=slot_id, department_code=req.department_code,
                department_name=req.department_name, doctor_name=req.doctor_name,
                slot_start=start, slot_end=end, day=day, patient_hash=phash,
                patient_salt=b64e(salt), patient_last4=number[-4:], patient_key=pkey,
                account_id=req.account_id, status="active", booked_at=now, cancelled_at=None,
                risk_json=risk.model_dump_json(), kid=kid, token=token, seq=seq, updated_at=now,
                **client))
            row = conn.execute(select(T.bookings).where(b.booking_id == booking_id)).one()
        return P.IssuedBooking(booking=self._booking_wire(row), token=token)

    def _new_reference(self, conn: Any) -> str:
        for _ in range(20):
            ref = "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
            taken = conn.execute(select(T.bookings.c.booking_id)
                                 .where(T.bookings.c.reference == ref)).first()
            if taken is None:
                return ref
        raise RuntimeError("could not find a free booking reference")

    def cancel_booking(self, booking_id: str, *, hospital_id: str | None = None) -> P.CancelResult:
        """Cancel: the booking is revoked for the desks at once; its slot cools down and goes
        back to the pool at ``cooldown + uniform(0, window)`` from now."""
        now = self.now()
        pol = self.cancel_policy
        release_at = now + pol.cooldown + timedelta(
            seconds=self.rng.uniform(0, pol.window.total_seconds()))
        with self.db.write() as conn:
            row = conn.execute(select(T.bookings).where(
                T.bookings.c.booking_id == booking_id)).first()
            if row is None or (hospital_id and row.hospital_id != hospital_id):
                raise NotFound("no such booking")
            if row.status != "active":
                raise Conflict(f"booking is {row.status}")
            seq = next_seq(self.db, conn, f"bookings:{row.hospital_id}")
            conn.execute(update(T.bookings).where(T.bookings.c.booking_id == booking_id)
                         .values(status="cancelled", cancelled_at=now, seq=seq, updated_at=now))
            conn.execute(update(T.slots).where(T.slots.c.slot_id == row.slot_id)
                         .values(state="cooling", release_at=release_at, last_cancelled_at=now))
            v = next_seq(self.db, conn, "revocations")
            conn.execute(T.revocations.insert().values(
                version=v, kind="booking", item_id=booking_id, hospital_id=row.hospital_id,
                revoked_at=now))
        return P.CancelResult(booking_id=booking_id, status=P.BookingStatus.CANCELLED,
                              slot_release_at=release_at)

    def booking(self, booking_id: str) -> tuple[P.BookingWire, str]:
        with self.db.read() as conn:
            row = conn.execute(select(T.bookings).where(
                T.bookings.c.booking_id == booking_id)).first()
        if row is None:
            raise NotFound("no such booking")
        return self._booking_wire(row), row.token

    def bookings_delta(self, hospital_id: str, cursor: int, limit: int,
                       day: date | None = None) -> P.BookingsDelta:
        b = T.bookings.c
        with self.db.read() as conn:
            q = select(T.bookings).where(b.hospital_id == hospital_id, b.seq > cursor)
            if day is not None:
                q = q.where(b.day == day.isoformat())
            rows = conn.execute(q.order_by(b.seq).limit(limit + 1)).all()
            head = current_seq(conn, f"bookings:{hospital_id}")
        more = len(rows) > limit
        rows = rows[:limit]
        # Without more pages the cursor jumps to the head: changes of other days are skipped
        # for this filter, which is what "bookings of this day after cursor" means.
        new_cursor = rows[-1].seq if more else max(cursor, head)
        return P.BookingsDelta(hospital_id=hospital_id, day=day,
                               bookings=[self._booking_wire(r) for r in rows],
                               cursor=new_cursor, more=more)

    @staticmethod
    def _booking_wire(r: Any) -> P.BookingWire:
        return P.BookingWire(
            booking_id=r.booking_id, reference=r.reference, hospital_id=r.hospital_id,
            department_code=r.department_code, department_name=r.department_name,
            doctor_name=r.doctor_name, slot_start=r.slot_start, slot_end=r.slot_end,
            patient_hash=r.patient_hash, patient_salt=r.patient_salt,
            patient_last4=r.patient_last4, status=P.BookingStatus(r.status),
            risk=P.BookingRiskWire.model_validate_json(r.risk_json), seq=r.seq,
            updated_at=r.updated_at)

    # --- blacklist --------------------------------------------------------------------------------

    def blacklist_add(self, id_number: str, *, source: P.BlacklistSource, reason: str,
                      days: float = 91.0, created_by: str,
                      valid_from: datetime | None = None) -> P.BlacklistEntryWire:
        """Ban an ID number (or renew its ban). Desks get the scrypt hash and the last 4."""
        number = normalize_id_number(id_number)
        id_hash = self.blacklist_hash(number)  # ~60 ms, outside the transaction
        now = self.now()
        valid_from = valid_from or now
        valid_to = valid_from + timedelta(days=days)
        with self.db.write() as conn:
            version = next_seq(self.db, conn, "blacklist")
            existing = conn.execute(select(T.blacklist.c.entry_id).where(
                T.blacklist.c.id_hash == id_hash, T.blacklist.c.source == source.value)).scalar()
            values = dict(last4=number[-4:], reason=reason[:200], valid_from=valid_from,
                          valid_to=valid_to, version=version, deleted=False,
                          id_number_enc=self.secrets.encrypt(number.encode("ascii")),
                          created_by=created_by[:200], updated_at=now)
            if existing:
                entry_id = existing
                conn.execute(update(T.blacklist).where(T.blacklist.c.entry_id == entry_id)
                             .values(**values))
            else:
                entry_id = "BL" + uuid.uuid4().hex[:20].upper()
                conn.execute(T.blacklist.insert().values(entry_id=entry_id, id_hash=id_hash,
                                                         source=source.value, **values))
            row = conn.execute(select(T.blacklist).where(
                T.blacklist.c.entry_id == entry_id)).one()
        return self._blacklist_wire(row)

    def blacklist_remove(self, entry_id: str) -> P.BlacklistEntryWire:
        """Lift a ban: the entry becomes a tombstone with a new version (desks drop it)."""
        now = self.now()
        with self.db.write() as conn:
            version = next_seq(self.db, conn, "blacklist")
            r = conn.execute(update(T.blacklist).where(T.blacklist.c.entry_id == entry_id,
                                                       T.blacklist.c.deleted.is_(False))
                             .values(deleted=True, version=version, updated_at=now))
            if r.rowcount != 1:
                raise NotFound("no such active blacklist entry")
            row = conn.execute(select(T.blacklist).where(
                T.blacklist.c.entry_id == entry_id)).one()
        return self._blacklist_wire(row)

    def blacklist_find(self, id_number: str) -> list[BlacklistRecord]:
        id_hash = self.blacklist_hash(id_number)
        with self.db.read() as conn:
            rows = conn.execute(select(T.blacklist).where(T.blacklist.c.id_hash == id_hash)
                                .order_by(T.blacklist.c.version)).all()
        return [BlacklistRecord(self._blacklist_wire(r), r.created_by) for r in rows]

    def blacklist_list(self, *, include_deleted: bool = False,
                       limit: int = 1000) -> list[BlacklistRecord]:
        with self.db.read() as conn:
            q = select(T.blacklist)
            if not include_deleted:
                q = q.where(T.blacklist.c.deleted.is_(False))
            rows = conn.execute(q.order_by(T.blacklist.c.version.desc()).limit(limit)).all()
        return [BlacklistRecord(self._blacklist_wire(r), r.created_by) for r in rows]

    def blacklist_reveal(self, entry_id: str) -> P.BlacklistPlain:
        with self.db.read() as conn:
            row = conn.execute(select(T.blacklist).where(
                T.blacklist.c.entry_id == entry_id)).first()
        if row is None:
            raise NotFound("no such blacklist entry")
        return P.BlacklistPlain(entry=self._blacklist_wire(row),
                                id_number=self.secrets.decrypt(row.id_number_enc).decode())

    def blacklist_delta(self, since: int, limit: int) -> P.BlacklistDelta:
        with self.db.read() as conn:
            rows = conn.execute(select(T.blacklist).where(T.blacklist.c.version > since)
                                .order_by(T.blacklist.c.version).limit(limit + 1)).all()
            head = current_seq(conn, "blacklist")
        more = len(rows) > limit
        rows = rows[:limit]
        version = rows[-1].version if more else max(since, head)
        return P.BlacklistDelta(entries=[self._blacklist_wire(r) for r in rows],
                                version=version, more=more)

    @staticmethod
    def _blacklist_wire(r: Any) -> P.BlacklistEntryWire:
        return P.BlacklistEntryWire(
            entry_id=r.entry_id, id_hash=r.id_hash, last4=r.last4,
            source=P.BlacklistSource(r.source), reason=r.reason, valid_from=r.valid_from,
            valid_to=r.valid_to, version=r.version, deleted=r.deleted)

    # --- visits -----------------------------------------------------------------------------------

    def ingest(self, who: Principal, batch: P.VisitBatch) -> P.BatchResult:
        """Store a batch of visits exactly once each (keyed by the desk's visit UUID).

        A booking checked in (admit/review) by a second visit is stored too; both visits are
        marked as a conflict and an alert goes to the hospital's desks and security staff.
        """
        if who.role != P.Role.DESK:
            raise Forbidden("only desks upload visits")
        for v in batch.visits:
            if v.hospital_id != who.hospital_id or v.desk_id != who.desk_id:
                raise Forbidden("a desk uploads its own visits only")
        hid = who.hospital_id
        assert hid is not None
        now = self.now()
        seen: dict[str, P.VisitRecordWire] = {}
        for v in batch.visits:  # the same visit twice in one batch: once
            seen.setdefault(v.visit_id, v)
        visits = sorted(seen.values(), key=lambda v: v.visit_id)
        hashes = {v.presented_id_hash for v in visits if v.presented_id_hash}
        with self.db.write() as conn:
            hits: set[str] = set()
            if hashes:
                bl = T.blacklist.c
                hits = set(conn.execute(select(bl.id_hash).where(
                    bl.id_hash.in_(sorted(hashes)), bl.deleted.is_(False),
                    bl.valid_from <= now, bl.valid_to > now)).scalars())
            rows = [self._visit_row(v, now, v.presented_id_hash in hits) for v in visits]
            inserted = {r[0] for r in self.db.insert_new(conn, T.visits, rows, "visit_id",
                                                         ("visit_id",))}
            others = [v.visit_id for v in visits if v.visit_id not in inserted]
            owners: dict[str, Any] = {}
            if others:
                for r in conn.execute(select(T.visits.c.visit_id, T.visits.c.hospital_id,
                                             T.visits.c.desk_id, T.visits.c.conflict)
                                      .where(T.visits.c.visit_id.in_(others))):
                    owners[r.visit_id] = r
            # Check-in claims: the first visit of a booking wins the checkins row.
            claims = [v for v in visits if v.visit_id in inserted and v.booking_id
                      and _final(v) in CHECKIN_VERDICTS]
            if claims:  # another hospital's booking cannot be checked in here
                owner = dict(conn.execute(select(T.bookings.c.booking_id,
                                                 T.bookings.c.hospital_id).where(
                    T.bookings.c.booking_id.in_(sorted({v.booking_id for v in claims})))).all())
                claims = [v for v in claims if owner.get(v.booking_id, hid) == hid]
            claims.sort(key=lambda v: (v.booking_id or "", v.visit_id))
            won: dict[str, str] = {}
            if claims:
                won = {visit_id: booking_id for booking_id, visit_id in self.db.insert_new(
                    conn, T.checkins,
                    [dict(booking_id=v.booking_id, visit_id=v.visit_id, hospital_id=hid,
                          desk_id=v.desk_id) for v in claims],
                    "booking_id", ("booking_id", "visit_id"))}
            losers = [v for v in claims if v.visit_id not in won]
            conflict_ids: set[str] = set()
            new_alerts: list[dict[str, Any]] = []
            if losers:
                firsts = {r.booking_id: r for r in conn.execute(
                    select(T.checkins).where(T.checkins.c.booking_id.in_(
                        sorted({v.booking_id for v in losers}))))}
                for v in losers:
                    first = firsts[v.booking_id]
                    conflict_ids.update((first.visit_id, v.visit_id))
                    new_alerts.append(dict(
                        kind=P.AlertKind.DOUBLE_CHECK_IN.value, booking_id=v.booking_id,
                        visit_ids=[first.visit_id, v.visit_id],
                        desk_ids=sorted({first.desk_id, v.desk_id}),
                        detail="booking checked in twice"))
                conn.execute(update(T.visits).where(T.visits.c.visit_id.in_(
                    sorted(conflict_ids))).values(conflict=True))
            for v in visits:
                if v.visit_id in inserted and v.presented_id_hash in hits:
                    new_alerts.append(dict(
                        kind=P.AlertKind.BLACKLIST_HIT.value, booking_id=v.booking_id,
                        visit_ids=[v.visit_id], desk_ids=[v.desk_id],
                        detail="presented ID is on the blacklist"))
            # Bookings checked in: a new version for the desks (status checked_in).
            if won:
                b = T.bookings.c
                active = conn.execute(select(b.booking_id).where(
                    b.booking_id.in_(sorted(won.values())), b.hospital_id == hid,
                    b.status == "active").order_by(b.booking_id)).scalars().all()
                if active:
                    base = next_seq(self.db, conn, f"bookings:{hid}", len(active))
                    conn.execute(
                        update(T.bookings).where(b.booking_id == bindparam("bid"))
                        .values(status="checked_in", seq=bindparam("new_seq"), updated_at=now),
                        [{"bid": bid, "new_seq": base + i} for i, bid in enumerate(active)])
            if new_alerts:
                self._add_alerts(conn, hid, new_alerts, now)
        results: list[P.VisitResult] = []
        counts: Counter[str] = Counter()
        for v in seen.values():  # batch order, each visit_id once
            if v.visit_id in inserted:
                c = v.visit_id in conflict_ids
                status = P.VisitStatus.CONFLICT if c and v.visit_id not in won else (
                    P.VisitStatus.STORED)
                results.append(P.VisitResult(visit_id=v.visit_id, status=status, conflict=c))
            else:
                o = owners.get(v.visit_id)
                if o is not None and o.hospital_id == hid and o.desk_id == v.desk_id:
                    results.append(P.VisitResult(visit_id=v.visit_id,
                                                 status=P.VisitStatus.DUPLICATE,
                                                 conflict=bool(o.conflict)))
                else:
                    results.append(P.VisitResult(visit_id=v.visit_id,
                                                 status=P.VisitStatus.REJECTED,
                                                 reason="visit_id_taken"))
            counts[results[-1].status.value] += 1
        return P.BatchResult(results=results, stored=counts["stored"] + counts["conflict"],
                             duplicates=counts["duplicate"], conflicts=counts["conflict"],
                             rejected=counts["rejected"], server_time=now)

    def _visit_row(self, v: P.VisitRecordWire, now: datetime, hit: bool) -> dict[str, Any]:
        return dict(
            visit_id=v.visit_id, hospital_id=v.hospital_id, desk_id=v.desk_id,
            booking_id=v.booking_id, day=self.local_day(v.checked_in_at),
            checked_in_at=v.checked_in_at, received_at=now, clerk=v.clerk,
            verdict=v.verdict.value, final_verdict=_final(v),
            reasons_json=_json([r.model_dump() for r in v.reasons]),
            face_distance=v.face_distance, face_outcome=v.face_outcome,
            presented_id_hash=v.presented_id_hash, presented_id_last4=v.presented_id_last4,
            offline=v.offline,
            override_json=v.override.model_dump_json() if v.override else None,
            blacklist_hit=hit or any("blacklist" in r.code for r in v.reasons),
            conflict=False)

    def visit_count(self, hospital_id: str | None = None) -> int:
        with self.db.read() as conn:
            q = select(func.count()).select_from(T.visits)
            if hospital_id:
                q = q.where(T.visits.c.hospital_id == hospital_id)
            return int(conn.execute(q).scalar_one())

    # --- alerts and reports -----------------------------------------------------------------------

    def _add_alerts(self, conn: Any, hid: str, items: list[dict[str, Any]],
                    now: datetime) -> None:
        base = next_seq(self.db, conn, f"alerts:{hid}", len(items))
        conn.execute(T.alerts.insert(), [dict(
            alert_id=str(uuid.uuid4()), hospital_id=hid, seq=base + i, kind=a["kind"],
            booking_id=a["booking_id"], visit_ids_json=_json(a["visit_ids"]),
            desk_ids_json=_json(a["desk_ids"]), created_at=now, detail=a["detail"][:1000])
            for i, a in enumerate(items)])

    def alerts_delta(self, hospital_id: str, cursor: int, limit: int) -> P.AlertsDelta:
        a = T.alerts.c
        with self.db.read() as conn:
            rows = conn.execute(select(T.alerts).where(a.hospital_id == hospital_id,
                                                       a.seq > cursor)
                                .order_by(a.seq).limit(limit + 1)).all()
            head = current_seq(conn, f"alerts:{hospital_id}")
        more = len(rows) > limit
        rows = rows[:limit]
        return P.AlertsDelta(
            hospital_id=hospital_id, more=more,
            cursor=rows[-1].seq if more else max(cursor, head),
            alerts=[P.AlertWire(alert_id=r.alert_id, seq=r.seq, kind=P.AlertKind(r.kind),
                                hospital_id=r.hospital_id, booking_id=r.booking_id,
                                visit_ids=json.loads(r.visit_ids_json),
                                desk_ids=json.loads(r.desk_ids_json), created_at=r.created_at,
                                detail=r.detail) for r in rows])

    def report(self, who: Principal, rep: P.SuspectReport) -> P.ReportResult:
        if rep.hospital_id != who.hospital_id or (
                who.role == P.Role.DESK and rep.desk_id != who.desk_id):
            raise Forbidden("reports are for the caller's own hospital and desk")
        now = self.now()
        with self.db.write() as conn:
            r = conn.execute(self.db.insert(T.reports).values(
                report_id=rep.report_id, hospital_id=rep.hospital_id, desk_id=rep.desk_id,
                day=self.local_day(rep.reported_at), reported_at=rep.reported_at,
                received_at=now, kind=rep.kind.value, booking_id=rep.booking_id,
                visit_id=rep.visit_id, id_hash=rep.id_hash, id_last4=rep.id_last4,
                note=rep.note).on_conflict_do_nothing(index_elements=["report_id"])
                .returning(T.reports.c.report_id))
            if r.first() is None:
                owner = conn.execute(select(T.reports.c.hospital_id).where(
                    T.reports.c.report_id == rep.report_id)).scalar()
                if owner != rep.hospital_id:
                    raise Conflict("report_id taken")
                return P.ReportResult(report_id=rep.report_id, status="duplicate")
            self._add_alerts(conn, rep.hospital_id, [dict(
                kind=P.AlertKind.SUSPECT_REPORT.value, booking_id=rep.booking_id,
                visit_ids=[rep.visit_id] if rep.visit_id else [], desk_ids=[rep.desk_id],
                detail=f"{rep.kind.value}: {rep.note}")], now)
        return P.ReportResult(report_id=rep.report_id, status="stored")

    def override_visit(self, who: Principal, ov: P.VisitOverride) -> P.OverrideResult:
        """Record an override of a stored visit: only the desk that uploaded the visit may."""
        v = T.visits.c
        with self.db.write() as conn:
            row = conn.execute(select(v.hospital_id, v.desk_id, v.override_json).where(
                v.visit_id == ov.visit_id)).first()
            if row is None:
                raise NotFound("visit not found (upload the visit first)")
            if row.hospital_id != who.hospital_id or (
                    who.role == P.Role.DESK and row.desk_id != who.desk_id):
                raise Forbidden("overrides are for the caller's own visits")
            body = ov.override.model_dump_json()
            if row.override_json == body:
                return P.OverrideResult(visit_id=ov.visit_id, status="unchanged")
            conn.execute(update(T.visits).where(v.visit_id == ov.visit_id).values(
                override_json=body, final_verdict=ov.override.verdict.value))
        return P.OverrideResult(visit_id=ov.visit_id, status="stored")

    # --- statistics -------------------------------------------------------------------------------

    def day_stats(self, hospital_id: str, day: date) -> P.DayStats:
        v = T.visits.c
        d = day.isoformat()

        def n(cond: Any) -> Any:
            return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

        where = and_(v.hospital_id == hospital_id, v.day == d)
        with self.db.read() as conn:
            row = conn.execute(select(
                func.count(), n(v.final_verdict == "admit"), n(v.final_verdict == "review"),
                n(v.final_verdict == "reject"), n(v.blacklist_hit.is_(True)),
                n(v.conflict.is_(True)), n(v.offline.is_(True)), n(v.override_json.is_not(None)),
                func.count(func.distinct(v.desk_id)),
            ).where(where)).one()
            reasons: Counter[str] = Counter()
            for text in conn.execute(select(v.reasons_json).where(
                    where, v.final_verdict == "reject")).scalars():
                codes = [r["code"] for r in json.loads(text) if r.get("severity") == "block"]
                reasons.update(set(codes) or {"unspecified"})
            nreports = conn.execute(select(func.count()).select_from(T.reports).where(
                T.reports.c.hospital_id == hospital_id, T.reports.c.day == d)).scalar_one()
        total, admitted, reviewed, rejected, hits, conflicts, offline, overrides, ndesks = (
            int(x) for x in row)
        return P.DayStats(
            hospital_id=hospital_id, day=day, visits=total, checkins=admitted + reviewed,
            admitted=admitted, reviewed=reviewed, rejected=rejected,
            rejections_by_reason=dict(sorted(reasons.items())), blacklist_hits=hits,
            conflicts=conflicts, reports=int(nreports), offline_visits=offline,
            overrides=overrides, desks=ndesks)


def _final(v: P.VisitRecordWire) -> str:
    return (v.override.verdict if v.override else v.verdict).value


def sign_token(claims: dict[str, Any], private_key: Ed25519PrivateKey, kid: str) -> str:
    """Sign booking QR claims with team DOMAIN's signer: the one token format both ends share."""
    return sign_booking_token(claims, private_key, kid)
