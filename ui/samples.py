"""Realistic view values for screenshots, demos and widget tests: what the services hand the
screens (already masked). The "photos" are drawn silhouettes, never real faces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from desk_app.errors import Text
from desk_app.services.model import (
    AlertView,
    BookingView,
    CheckinState,
    ClerkJudgementsView,
    Decision,
    DeviceStatusView,
    FaceView,
    PersonView,
    ReasonView,
    StatsView,
    Step,
    StepStatus,
    StepView,
    SyncStatusView,
    VerdictView,
)

NOW = datetime(2026, 11, 23, 9, 12, tzinfo=UTC)


def silhouette_png(bg: str = "#dfe7f1", fg: str = "#7a8ca3", w: int = 102, h: int = 126) -> bytes:
    img = QImage(w, h, QImage.Format.Format_RGB32)
    img.fill(QColor(bg))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(fg))
    p.drawEllipse(QRectF(w * 0.3, h * 0.14, w * 0.4, h * 0.4))
    p.drawEllipse(QRectF(w * 0.12, h * 0.6, w * 0.76, h * 0.6))
    p.end()
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(ba.data())


def booking() -> BookingView:
    return BookingView("bk-20261123-0042", "A7K3Q9P2", "心血管内科", "张医生 (专家)",
                       NOW + timedelta(minutes=18), NOW + timedelta(minutes=48), "1234")


def person() -> PersonView:
    return PersonView("110101********1234", "王*明", "M", "2034-05-01", "reader", age=47)


def _steps(booking_s: StepStatus, id_s: StepStatus, face_s: StepStatus,
           checks_s: StepStatus, face_text: Text | None = None) -> tuple[StepView, ...]:
    return (
        StepView(Step.BOOKING, booking_s, Text("心血管内科 09:30", "Cardiology 09:30")
                 if booking_s != StepStatus.WAITING else Text("请扫描预约二维码", "Scan the booking QR code")),
        StepView(Step.ID, id_s, Text("王*明 110101********1234", "王*明 110101********1234")
                 if id_s != StepStatus.WAITING else Text("请出示身份证", "Show the ID card")),
        StepView(Step.FACE, face_s, face_text or (Text("请正对摄像头", "Look at the camera")
                                                  if face_s == StepStatus.WAITING
                                                  else Text("比对中", "Comparing"))),
        StepView(Step.CHECKS, checks_s, Text("黑名单, 一证一号, 时段", "Blacklist, one ID one booking, slot")),
    )


def state_waiting() -> CheckinState:
    return CheckinState("s-1", _steps(StepStatus.OK, StepStatus.WAITING, StepStatus.WAITING,
                                      StepStatus.WAITING),
                        Text("请出示身份证", "Please show the ID card"), booking=booking())


def state_admit() -> CheckinState:
    face = FaceView("match", 0.38, 0.50, 0.62)
    return CheckinState(
        "s-2", _steps(StepStatus.OK, StepStatus.OK, StepStatus.OK, StepStatus.OK,
                      Text("同一人 (0.38)", "Same person (0.38)")),
        Text("核验通过, 请取号", "Verified: please take the ticket"), booking=booking(), person=person(),
        face=face, verdict=VerdictView(Decision.ADMIT, (
            ReasonView("all_checks_passed", "info", Text("人证合一, 预约有效, 不在黑名单",
                                                         "Face, ID and booking agree; not on the blacklist"), "summary"),
        ), alert_security=False),
        visit_id="v-1", id_photo_png=silhouette_png(), live_face_png=silhouette_png("#e8f0e8", "#6f8f6f"),
        face_box=(420, 160, 620, 400))


def state_review() -> CheckinState:
    face = FaceView("undecided", 0.56, 0.50, 0.62)
    return CheckinState(
        "s-3", _steps(StepStatus.OK, StepStatus.OK, StepStatus.WARN, StepStatus.WARN,
                      Text("无法确定 (0.56)", "Uncertain (0.56)")),
        Text("请人工核对照片", "Please compare the photos"), booking=booking(), person=person(), face=face,
        verdict=VerdictView(Decision.REVIEW, (
            ReasonView("face_undecided", "warn", Text("人脸比对结果不确定, 请人工核对",
                                                      "Face comparison uncertain; compare by eye"), "face"),
            ReasonView("many_bookings_today", "warn", Text("该患者今日已有 2 个预约",
                                                           "This patient has 2 bookings today"), "max_bookings_per_day"),
        ), alert_security=False),
        visit_id="v-2", id_photo_png=silhouette_png(), live_face_png=silhouette_png("#f3ead9", "#9c8157"))


def state_reject() -> CheckinState:
    face = FaceView("mismatch", 0.81, 0.50, 0.62)
    return CheckinState(
        "s-4", _steps(StepStatus.OK, StepStatus.FAILED, StepStatus.FAILED, StepStatus.FAILED,
                      Text("不是同一人 (0.81)", "Different person (0.81)")),
        Text("核验不通过, 已通知安保", "Rejected: security has been alerted"), booking=booking(),
        person=PersonView("320102********5678", "李*", "F", "长期", "reader", age=68), face=face,
        verdict=VerdictView(Decision.REJECT, (
            ReasonView("id_not_patient", "block", Text("身份证与预约人不符 (一证一号)",
                                                               "The ID card is not the booked patient's (one ID, one booking)"), "one_id_one_booking"),
            ReasonView("face_mismatch", "block", Text("人证不符: 现场人脸与证件照不是同一人",
                                                      "The live face is not the ID card's holder"), "face"),
            ReasonView("blacklist_hit", "block", Text("黑名单人员 (公安, 限制期至 2027-02-01)",
                                                    "On the blacklist (police, until 2027-02-01)"), "blacklist"),
        ), alert_security=True),
        visit_id="v-3", id_photo_png=silhouette_png(), live_face_png=silhouette_png("#f6dede", "#a35d5d"))


def alerts() -> list[AlertView]:
    r = state_reject()
    out = [
        AlertView("al-1", "v-3", NOW - timedelta(minutes=2), "desk-03", Decision.REJECT,
                  r.verdict.reasons, r.person, r.booking, "open", has_photos=True),  # type: ignore[union-attr]
        AlertView("al-2", "v-7", NOW - timedelta(minutes=25), "desk-01", Decision.REVIEW, (
            ReasonView("already_checked_in", "warn", Text("该预约已在 2 号窗口报到",
                                                         "This booking was already checked in at desk 02"), "duplicate"),
        ), person(), booking(), "open", conflict=True),
        AlertView("al-3", "v-5", NOW - timedelta(hours=1, minutes=5), "desk-02", Decision.REJECT, (
            ReasonView("blacklist_hit", "block", Text("黑名单人员 (平台)", "On the blacklist (platform)"),
                       "blacklist"),), PersonView("440301********0021", "陈*华", "M", "2030-01-01", "camera"),
            None, "handled", note="已交保卫科处理", handled_by="security1", has_photos=True),
    ]
    return out


def sync_status(online: bool = True) -> SyncStatusView:
    if online:
        return SyncStatusView("online", NOW - timedelta(hours=2), 0, NOW - timedelta(seconds=40),
                              600.0, False, Text("已连接中心平台", "Connected to the platform"))
    return SyncStatusView("offline", NOW - timedelta(minutes=12), 17, NOW - timedelta(minutes=13),
                          3 * 3600.0, False, Text("离线模式, 恢复后自动上传", "Offline; records upload when back"))


def devices() -> list[DeviceStatusView]:
    return [
        DeviceStatusView("patient_camera", "running", Text("30 帧/秒", "30 fps")),
        DeviceStatusView("counter_camera", "reconnecting", Text("正在重连", "Reconnecting")),
        DeviceStatusView("id_reader", "simulated", Text("模拟阅读器", "Simulated reader")),
        DeviceStatusView("scanner", "running", Text("", "")),
    ]


def clerk_judgements() -> list[ClerkJudgementsView]:
    """Two clerks' calls on undecided faces; the second confirms everything at once."""
    return [ClerkJudgementsView("clerk1", 23, 19, 4, 1, 3.4, False),
            ClerkJudgementsView("clerk2", 31, 31, 0, 30, 0.6, True)]


def stats(days: int = 7) -> StatsView:
    start = datetime(2026, 11, 17, tzinfo=UTC)
    by_day = {(start + timedelta(days=i)).date().isoformat(): n
              for i, n in enumerate([212, 198, 240, 231, 187, 96, 74][:days])}
    by_hour = {7: 35, 8: 180, 9: 230, 10: 205, 11: 140, 12: 40, 13: 88, 14: 160, 15: 120, 16: 40}
    return StatsView(start, start + timedelta(days=days), sum(by_day.values()),
                     {"admit": 1140, "review": 61, "reject": 37},
                     {"face_undecided": 41, "many_bookings_today": 18, "id_not_patient": 14,
                      "face_mismatch": 9, "blacklist_hit": 8, "already_checked_in": 6, "too_early": 12,
                      "id_card_expired": 3},
                     8, by_hour, by_day,
                     {"id_card_expired": Text("身份证已过有效期", "The ID card has expired")})
