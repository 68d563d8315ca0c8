"""Slots and bookings: the pool of slots, booking a slot for a patient (with the risk metadata
and the signed QR token), cancelling (revoked at once, the slot back after a randomized
cooldown), and the per-hospital deltas desks pull."""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from desk_app.identity.hashing import DEFAULT_SCRYPT, b64e, slow_hash
from desk_platform import db as T
from desk_platform.anomaly import booking_client_fields
from desk_platform.base import Context, Part, normalize_id_number
from desk_platform.db import delta_page, next_seq
from desk_platform.errors import Conflict, NotFound
from desk_platform.keys import Keys, sign_token
from sync import protocol as P

TOKEN_GRACE = timedelta(hours=2)  # a booking QR stays valid this long after the slot ends
REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand


@dataclass(frozen=True)
class CancelPolicy:
    """A cancelled slot goes back to the pool after ``cooldown`` plus a random moment within
    ``window`` (so "cancel with one hand, rebook with the other" does not work)."""

    cooldown: timedelta = timedelta(minutes=30)
    window: timedelta = timedelta(minutes=30)


class Bookings(Part):
    def __init__(self, ctx: Context, keys: Keys, *, cancel_policy: CancelPolicy | None = None,
                 rng: random.Random | None = None):
        super().__init__(ctx)
        self.keys = keys
        self.cancel_policy = cancel_policy or CancelPolicy()
        self.rng = rng or random.SystemRandom()

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
        day = self.ctx.local_day(start)
        pkey = self.ctx.patient_key(number)
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
            kid, private = self.keys.signer(conn)
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

    def cancel(self, booking_id: str, *, hospital_id: str | None = None) -> P.CancelResult:
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

    def get(self, booking_id: str) -> tuple[P.BookingWire, str]:
        with self.db.read() as conn:
            row = conn.execute(select(T.bookings).where(
                T.bookings.c.booking_id == booking_id)).first()
        if row is None:
            raise NotFound("no such booking")
        return self._booking_wire(row), row.token

    def delta(self, hospital_id: str, cursor: int, limit: int,
              day: date | None = None) -> P.BookingsDelta:
        b = T.bookings.c
        with self.db.read() as conn:
            q = select(T.bookings).where(b.hospital_id == hospital_id)
            if day is not None:
                q = q.where(b.day == day.isoformat())
            # Without more pages the cursor jumps to the head: changes of other days are skipped
            # for this filter, which is what "bookings of this day after cursor" means.
            rows, new_cursor, more = delta_page(conn, f"bookings:{hospital_id}", q, b.seq,
                                                cursor, limit)
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
