"""Turning stored records into the masked values screens may show."""

from __future__ import annotations

from desk_app.booking import Booking
from desk_app.clock import CHINA_TZ
from desk_app.errors import Text
from desk_app.logs import mask_id_number, mask_name
from desk_app.services.model import AlertView, BookingView, Decision, PersonView, ReasonView
from desk_app.storage import Alert, Reason

#: How each reason code reads, for reasons that come back from storage (where only the code,
#: severity and rule are kept). The decision engine's own, more detailed texts are used while a
#: case is open; these short ones serve the security screen and exports.
_FALLBACK = Text("{code}", "{code}")
REASON_TITLES: dict[str, Text] = {
    "id_matches_booking": Text("证件与预约人一致", "ID matches the booking"),
    "id_not_patient": Text("证件不是预约本人 (一证一号)", "ID is not the booking's patient"),
    "id_missing": Text("未读取身份证件", "No ID document read"),
    "id_read_by_camera": Text("证件由摄像头识读, 未经芯片验证", "ID read by camera, not chip-verified"),
    "id_card_confirmed": Text("摄像头识读, 证件原件已由挂号员查验", "ID read by camera, card checked by the clerk"),
    "id_chip_required": Text("本院要求读取芯片方可通过", "This site admits chip reads only"),
    "id_typed_manually": Text("证件号码为手工录入", "ID number typed by hand"),
    "id_card_expired": Text("身份证已过期", "ID card expired"),
    "face_match": Text("人脸比对一致", "Face matches"),
    "face_mismatch": Text("人脸比对不一致", "Face does not match"),
    "face_undecided": Text("人脸比对无法确定, 待人工复核", "Face comparison undecided"),
    "face_declined": Text("患者不同意人脸核验, 改为人工核验", "Patient declined face check"),
    "face_unavailable": Text("无法进行人脸比对", "Face comparison not possible"),
    "face_no_card_photo": Text("无证件照片 (读卡器无解码库), 未做人脸比对",
                               "No card photo (reader without decoder): face not compared"),
    "face_judged_same": Text("人脸比对不确定, 挂号员核对为本人", "Face undecided; the clerk judged it the same person"),
    "face_judged_different": Text("挂号员核对为非本人", "The clerk judged the face not the same person"),
    "face_not_checked": Text("未做人脸比对", "Face not compared"),
    "liveness_failed": Text("活体检测未通过", "Liveness check failed"),
    "blacklist_hit": Text("黑名单人员", "On the blacklist"),
    "blacklist_stale": Text("黑名单数据过旧", "Blacklist out of date"),
    "blacklist_not_checked": Text("未能查询黑名单", "Blacklist not checked"),
    "too_early": Text("未到签到时间", "Too early for the slot"),
    "too_late": Text("已过就诊时段", "Too late for the slot"),
    "already_checked_in": Text("该预约已签到 (重复签到)", "Booking already checked in"),
    "many_bookings_today": Text("当日预约过多", "Many bookings today"),
    "same_department_twice": Text("同日同科室多次预约", "Same department twice today"),
    "same_doctor_twice": Text("同日同医生多次预约", "Same doctor twice today"),
    "rebooked_after_cancel": Text("退号后短时间内被重新约走 (疑似倒号)",
                                  "Rebooked right after a cancellation"),
    "booked_at_release": Text("放号瞬间抢约 (疑似抢号软件)", "Booked at the moment of release"),
    "account_many_patients": Text("同一账号为多人预约", "One account booking for many people"),
    "no_booking": Text("没有预约", "No booking"),
    "rule_not_checked": Text("一项核验规则未能执行, 待人工复核", "A check could not be run"),
    "desk_clock_off": Text("本机时钟与平台不一致, 请联系信息科校准", "Desk clock is off; call IT"),
}


def _reason_title(code: str) -> Text | None:
    if code in REASON_TITLES:
        return REASON_TITLES[code]
    if code.startswith("booking_"):
        from desk_app.booking.codes import REASON_TEXT

        return REASON_TEXT.get(code.removeprefix("booking_"))
    return None


def reason_view(reason: Reason, texts: dict[str, Text] | None = None) -> ReasonView:
    text = (texts or {}).get(reason.code) or _reason_title(reason.code) \
        or _FALLBACK.format(code=reason.code)
    return ReasonView(code=reason.code, severity=reason.severity, text=text, rule=reason.rule)


def booking_view(b: Booking) -> BookingView:
    return BookingView(
        booking_id=b.booking_id, reference=b.reference, department=b.department_name,
        doctor=b.doctor_name, slot_start=b.slot_start.astimezone(CHINA_TZ),
        slot_end=b.slot_end.astimezone(CHINA_TZ),
        patient_last4=b.patient_last4)


def person_view(id_number: str | None, name: str | None, sex: str = "", valid_to: str = "",
                source: str = "", age: int | None = None) -> PersonView:
    return PersonView(
        id_masked=mask_id_number(id_number) if id_number else "",
        name_masked=mask_name(name) if name else "",
        sex=sex, card_valid_to=valid_to, source=source, age=age)


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
