"""The clerk's view of a check-in: the steps, the hint, the verdict, masked."""

from __future__ import annotations

from datetime import date

from desk_app.clock import CHINA_TZ
from desk_app.errors import Text
from desk_app.services.checkin_case import Case, png
from desk_app.services.model import (
    CheckinState,
    Decision,
    FaceView,
    ReasonView,
    Step,
    StepStatus,
    StepView,
    VerdictView,
)
from desk_app.services.views import booking_view, person_view
from desk_app.settings import Settings

HINTS = {
    "booking": Text("请出示预约二维码", "Please show the booking QR code"),
    "id": Text("请出示身份证", "Please present the ID card"),
    "face": Text("请正对摄像头", "Please look at the camera"),
    "decided": Text("按回车办理下一位", "Press Enter for the next patient"),
    "card_photo": Text("请将身份证放在柜台摄像头下 (读取证件照片)",
                       "Put the ID card under the counter camera (for its photo)"),
    "judge_face": Text("请核对两张照片: 本人按 F7, 非本人按 F8",
                       "Compare the two photos: F7 same person, F8 not the same person"),
    "confirm_card": Text("请查验身份证原件, 无误后按 F9", "Check the physical ID card, then press F9"),
}

#: What the clerk's calls say when they change the verdict (the override reason, the banner).
CLERK_NOTES = {
    "same": Text("挂号员核对人脸: 本人", "The clerk judged the face: same person"),
    "different": Text("挂号员核对人脸: 非本人", "The clerk judged the face: not the same person"),
    "card": Text("挂号员已查验身份证原件", "The clerk checked the physical ID card"),
}


def state_of(case: Case, s: Settings, *, face_to_judge: bool, card_to_confirm: bool,
             today: date | None = None) -> CheckinState:
    """What the clerk's screen shows of the case (``today``, the hospital's date: the card
    holder's age)."""
    steps = (_booking_step(case), _id_step(case), _face_step(case), _checks_step(case))
    if case.verdict is not None:
        hint = HINTS["decided"]
    elif case.booking is None and case.booking_error is None:
        hint = HINTS["booking"]
    elif case.id_number is None:
        hint = HINTS["id"]
    elif case.awaiting_card_photo:
        hint = HINTS["card_photo"]
    else:
        hint = case.face_prompt or HINTS["face"]
    if face_to_judge:
        hint = HINTS["judge_face"]
    elif card_to_confirm:
        hint = HINTS["confirm_card"]
    person = None
    if case.id_number is not None:
        valid = "长期" if case.card_long_term else (
            case.card_valid_to.isoformat() if case.card_valid_to else "")
        person = person_view(case.id_number.number, case.name, case.id_number.sex, valid,
                             case.id_source,
                             case.id_number.age_on(today) if today is not None else None)
    face_view = None
    if case.face is not None:
        face_view = FaceView(outcome=case.face.outcome.value, distance=case.face.distance,
                             match_below=s.faces.match_distance,
                             mismatch_above=s.faces.mismatch_distance)
    verdict_view = None
    if case.verdict is not None:
        v = case.verdict
        verdict_view = VerdictView(
            decision=Decision(v.decision.value),
            reasons=tuple(ReasonView(r.code, r.severity, r.text, r.rule) for r in v.reasons),
            alert_security=v.alert_security, overridden=v.override is not None,
            override_reason=v.override.reason if v.override is not None else "",
            decided_by=v.override.by if v.override is not None and case.clerk_notes else "",
            decision_note=_decision_note(case) if v.override is not None else None)
    return CheckinState(
        session_id=case.session_id, steps=steps, hint=hint,
        booking=booking_view(case.booking.booking) if case.booking else None,
        person=person, face=face_view, verdict=verdict_view, visit_id=case.visit_id,
        id_photo_png=png(case.id_portrait), live_face_png=png(case.live_face),
        errors=tuple(case.errors), face_box=case.face_box, face_to_judge=face_to_judge,
        card_to_confirm=card_to_confirm, card_confirmed_by=case.card_confirmed_by,
        awaiting_card_photo=case.awaiting_card_photo)


def _decision_note(case: Case) -> Text | None:
    calls = [k for k in ("same", "different") if case.judgement == k]
    if case.card_confirmed_by:
        calls.append("card")
    if not calls or not case.clerk_notes:
        return None
    return Text("; ".join(CLERK_NOTES[k].zh for k in calls),
                "; ".join(CLERK_NOTES[k].en for k in calls))


def _booking_step(case: Case) -> StepView:
    if case.booking is not None:
        b = case.booking.booking
        return StepView(Step.BOOKING, StepStatus.OK, Text(
            f"{b.department_name} {b.doctor_name} {b.slot_start.astimezone(CHINA_TZ):%H:%M}",
            f"{b.department_name} {b.doctor_name} {b.slot_start.astimezone(CHINA_TZ):%H:%M}"))
    if case.booking_error is not None:
        return StepView(Step.BOOKING, StepStatus.FAILED, case.booking_error.text)
    return StepView(Step.BOOKING, StepStatus.WAITING, HINTS["booking"])


def _id_step(case: Case) -> StepView:
    if case.id_number is not None:
        masked = case.id_number.masked()
        return StepView(Step.ID, StepStatus.OK, Text(masked, masked))
    if case.errors and case.booking is not None:
        return StepView(Step.ID, StepStatus.FAILED, case.errors[0])
    return StepView(Step.ID, StepStatus.WAITING, HINTS["id"])


def _face_step(case: Case) -> StepView:
    if case.face is None:
        status = StepStatus.WORKING if case.face_session is not None else StepStatus.WAITING
        return StepView(Step.FACE, status, case.face_prompt or HINTS["face"])
    outcome = case.face.outcome.value
    status = {"match": StepStatus.OK, "mismatch": StepStatus.FAILED}.get(outcome, StepStatus.WARN)
    return StepView(Step.FACE, status, case.face.text)


def _checks_step(case: Case) -> StepView:
    if case.verdict is None:
        return StepView(Step.CHECKS, StepStatus.WAITING, Text("等待核验", "Waiting"))
    status = {"admit": StepStatus.OK, "review": StepStatus.WARN}.get(
        case.verdict.decision.value, StepStatus.FAILED)
    first = case.verdict.reasons[0].text if case.verdict.reasons else Text("通过", "Admitted")
    return StepView(Step.CHECKS, status, first)
