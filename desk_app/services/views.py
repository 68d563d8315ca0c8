"""Turning stored records into the masked values screens may show."""

from __future__ import annotations

from desk_app.booking import Booking
from desk_app.errors import Text
from desk_app.logs import mask_id_number, mask_name
from desk_app.services.model import AlertView, BookingView, Decision, PersonView, ReasonView
from desk_app.storage import Alert, Reason

#: How each reason code reads, for reasons that come back from storage (where only the code,
#: severity and rule are kept). The decision engine's own texts are used while a case is open.
_FALLBACK = Text("{code}", "{code}")


def reason_view(reason: Reason, texts: dict[str, Text] | None = None) -> ReasonView:
    text = (texts or {}).get(reason.code) or _FALLBACK.format(code=reason.code)
    return ReasonView(code=reason.code, severity=reason.severity, text=text, rule=reason.rule)


def booking_view(b: Booking) -> BookingView:
    return BookingView(
        booking_id=b.booking_id, reference=b.reference, department=b.department_name,
        doctor=b.doctor_name, slot_start=b.slot_start, slot_end=b.slot_end,
        patient_last4=b.patient_last4)


def person_view(id_number: str | None, name: str | None, sex: str = "", valid_to: str = "",
                source: str = "") -> PersonView:
    return PersonView(
        id_masked=mask_id_number(id_number) if id_number else "",
        name_masked=mask_name(name) if name else "",
        sex=sex, card_valid_to=valid_to, source=source)


def alert_view(alert: Alert, texts: dict[str, Text] | None = None,
               booking: Booking | None = None) -> AlertView:
    v = alert.visit
    return AlertView(
        alert_id=alert.alert_id, visit_id=alert.visit_id, created_at=alert.created_at,
        desk_id=v.desk_id, decision=Decision(v.final_verdict),
        reasons=tuple(reason_view(r, texts) for r in v.reasons),
        person=person_view(v.id_number, v.person_name) if (v.id_number or v.person_name) else None,
        booking=booking_view(booking) if booking else None,
        status=alert.status, note=alert.note, handled_by=alert.handled_by,
        conflict=alert.conflict, has_photos=alert.has_photos)
