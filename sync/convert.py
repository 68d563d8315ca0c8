"""Wire models (:mod:`sync.protocol`) to the store's frozen values, and back. Nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desk_app.identity.hashing import DEFAULT_SCRYPT, ScryptParams, b64d
from desk_app.storage import BlacklistEntry, StoredKeySet
from sync import protocol

if TYPE_CHECKING:
    from desk_app.booking.model import Booking


def blacklist_entry(e: protocol.BlacklistEntryWire) -> BlacklistEntry:
    return BlacklistEntry(
        entry_id=e.entry_id, id_hash=b64d(e.id_hash), last4=e.last4, source=e.source.value,
        reason=e.reason, valid_from=e.valid_from, valid_to=e.valid_to, version=e.version,
        deleted=e.deleted,
    )


def keyset(k: protocol.KeySetWire) -> StoredKeySet:
    return StoredKeySet.from_wire(k.model_dump(mode="json"))


def booking(b: protocol.BookingWire) -> Booking:
    """Every field the desk's rules read; a ``kdf`` outside scrypt's sane range is a
    ``ValueError`` (as a hash that is not base64 is)."""
    from desk_app.booking.model import Booking, BookingRisk

    r = b.risk
    return Booking(
        booking_id=b.booking_id, reference=b.reference, hospital_id=b.hospital_id,
        department_code=b.department_code, department_name=b.department_name,
        doctor_name=b.doctor_name, slot_start=b.slot_start, slot_end=b.slot_end,
        patient_hash=b64d(b.patient_hash), patient_salt=b64d(b.patient_salt),
        patient_last4=b.patient_last4, status=b.status.value,
        kdf=ScryptParams.from_dict(b.kdf.model_dump()) if b.kdf is not None else DEFAULT_SCRYPT,
        risk=BookingRisk(
            booked_at=r.booked_at, slot_released_at=r.slot_released_at,
            rebooked_minutes_after_cancel=r.rebooked_minutes_after_cancel,
            account_id=r.account_id, account_patients_30d=r.account_patients_30d,
            patient_bookings_today=r.patient_bookings_today,
            patient_same_department_today=r.patient_same_department_today,
            patient_cancellations_30d=r.patient_cancellations_30d,
            patient_same_doctor_today=r.patient_same_doctor_today,
        ),
    )


def visit_payload(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The outbox payload as the platform will accept it, or None when it never could (checked
    here, so one bad record cannot make the platform refuse a whole batch again and again)."""
    try:
        return protocol.VisitRecordWire.model_validate(payload).model_dump(mode="json")
    except ValueError:  # pydantic's ValidationError is a ValueError
        return None


def override_payload(payload: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return protocol.VisitOverride.model_validate(payload).model_dump(mode="json")
    except ValueError:
        return None


def visit_alert_payload(payload: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return protocol.VisitAlert.model_validate(payload).model_dump(mode="json")
    except ValueError:
        return None


def report_payload(payload: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return protocol.SuspectReport.model_validate(payload).model_dump(mode="json")
    except ValueError:
        return None
