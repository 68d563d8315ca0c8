"""The bookings cached from the platform (the patient's number only as a salted slow hash and
an encrypted last four)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desk_app.identity.hashing import ScryptParams
from desk_app.storage.db import Database, aad, rowcount
from desk_app.storage.errors import NotFoundError
from desk_app.storage.keys import Cursors
from desk_app.storage.records import VisitRecord
from desk_app.storage.schema import BookingRow

if TYPE_CHECKING:
    from desk_app.booking.model import Booking

BOOKINGS_CURSOR = "bookings"


class Bookings:
    """``store.bookings``."""

    def __init__(self, db: Database, cursors: Cursors):
        self._db = db
        self._cursors = cursors

    def apply_delta(self, bookings: Iterable[Booking], cursor: str | None) -> int:
        """Upsert bookings by id and, in the same transaction, move the ``bookings`` cursor."""
        now = self._db.now()
        n = 0
        with self._db.write() as s:
            for b in bookings:
                s.merge(self._row(b, now))
                n += 1
            if cursor is not None:
                self._cursors.put(s, BOOKINGS_CURSOR, cursor, now)
        return n

    def by_id(self, booking_id: str) -> Booking | None:
        with self._db.read() as s:
            row = s.get(BookingRow, booking_id)
            return self._booking(row) if row else None

    def by_ref(self, reference: str) -> Booking | None:
        """By the short plain code (case and surrounding spaces ignored)."""
        with self._db.read() as s:
            row = s.scalars(select(BookingRow).where(
                BookingRow.reference == reference.strip().upper())).first()
            return self._booking(row) if row else None

    def set_status(self, booking_id: str, status: str) -> None:
        if status not in ("active", "cancelled", "checked_in"):
            raise ValueError(f"unknown booking status {status!r}")
        with self._db.write() as s:
            row = s.get(BookingRow, booking_id)
            if row is None:
                raise NotFoundError(detail="booking")
            row.status, row.updated_at = status, self._db.now()

    def purge(self, slot_before: datetime) -> int:
        with self._db.write() as s:
            return rowcount(s.execute(delete(BookingRow).where(BookingRow.slot_end < slot_before)))

    @staticmethod
    def mark_checked_in(s: Session, record: VisitRecord, now: datetime) -> None:
        """An admitted visit marks its cached booking ``checked_in`` in the visit's
        transaction, so a crash cannot leave a booking that was let in looking unused."""
        if record.final_verdict != "admit" or record.booking_id is None:
            return
        booking = s.get(BookingRow, record.booking_id)
        if booking is not None and booking.status == "active":
            booking.status, booking.updated_at = "checked_in", now

    def _row(self, b: Booking, now: datetime) -> BookingRow:
        return BookingRow(
            booking_id=b.booking_id, reference=b.reference.strip().upper(),
            hospital_id=b.hospital_id, department_code=b.department_code,
            department_name=b.department_name, doctor_name=b.doctor_name,
            slot_start=b.slot_start, slot_end=b.slot_end, patient_hash=b.patient_hash,
            patient_salt=b.patient_salt,
            patient_last4_enc=self._db.crypto.encrypt(b.patient_last4.encode(),
                                                      aad("b.l4", b.booking_id)),
            status=b.status,
            risk_json=json.dumps(_plain(b.risk)),
            kdf_json=json.dumps(b.kdf.as_dict()),
            updated_at=now,
        )

    def _booking(self, r: BookingRow) -> Booking:
        from desk_app.booking.model import Booking, BookingRisk

        risk_fields = {f.name for f in dataclasses.fields(BookingRisk)}
        risk = BookingRisk(**{k: _unplain(v) for k, v in json.loads(r.risk_json).items()
                              if k in risk_fields})
        return Booking(
            booking_id=r.booking_id, reference=r.reference, hospital_id=r.hospital_id,
            department_code=r.department_code, department_name=r.department_name,
            doctor_name=r.doctor_name, slot_start=r.slot_start, slot_end=r.slot_end,
            patient_hash=r.patient_hash, patient_salt=r.patient_salt,
            patient_last4=self._db.crypto.decrypt(r.patient_last4_enc,
                                                  aad("b.l4", r.booking_id)).decode(),
            status=r.status, risk=risk,  # type: ignore[arg-type]
            kdf=ScryptParams.from_dict(json.loads(r.kdf_json)),
        )


def _plain(obj: Any) -> dict[str, Any]:
    """A flat dataclass as JSON-able values (datetimes tagged so they come back as such)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        out[f.name] = {"$dt": v.isoformat()} if isinstance(v, datetime) else v
    return out


def _unplain(v: Any) -> Any:
    return datetime.fromisoformat(v["$dt"]) if isinstance(v, dict) and "$dt" in v else v
