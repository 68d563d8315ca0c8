"""The check-in decision: rules over a :class:`~desk_app.checkin.model.CheckinInput`.

Each rule looks at one concern and returns reasons; a reason carries the decision it calls for
(``effect``) and whether security must come (``alert``). The verdict is the strongest effect
(REJECT > REVIEW > ADMIT), the reasons ordered strongest first (rule order within the same
strength), and security is alerted when any reason says so. What each rule does, and how
strongly, is data in :class:`~desk_app.settings.PolicySection`; the default policy and its
reasoning are in docs/architecture.md ("Decision policy").

Pure and deterministic: no clock, no storage. The one slow step is the real-name check
(scrypt), and only when the caller did not compute ``patient_matches`` already.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from desk_app.booking.codes import REASON_TEXT as BOOKING_REASON_TEXT
from desk_app.booking.codes import patient_matches as _patient_matches
from desk_app.booking.model import Booking
from desk_app.checkin.model import (
    BlacklistHit,
    CheckinInput,
    ClerkOverride,
    Decision,
    FaceCheck,
    History,
    IdDocument,
    PriorVisit,
    Reason,
    Verdict,
)
from desk_app.clock import CHINA_TZ
from desk_app.errors import AuthError, Text, UserInputError
from desk_app.settings import PolicySection

log = logging.getLogger(__name__)

#: A ban ending on or after this has no end date (长期): police send 9999-12-31 for "until
#: further notice", a time that overflows when shown in Beijing time. ``sync.protocol`` clamps
#: such ends to this value when it parses them, so nothing downstream overflows.
BAN_NO_END = datetime(9000, 1, 1, tzinfo=UTC)

_SEVERITY = {Decision.ADMIT: "info", Decision.REVIEW: "warn", Decision.REJECT: "block"}
SOURCE_TEXT = {"police": Text("公安", "police"), "platform": Text("预约平台", "booking platform"),
               "hospital": Text("本院", "this hospital")}


def _reason(code: str, rule: str, effect: Decision | str, zh: str, en: str, *,
            alert: bool = False, severity: str | None = None) -> Reason:
    effect = Decision(effect)
    return Reason(code, severity or _SEVERITY[effect], Text(zh, en), rule, effect,  # type: ignore[arg-type]
                  alert)


def _action(code: str, rule: str, action: str, zh: str, en: str, *, alert: bool = False) -> Reason:
    """A reason whose effect is a policy action; "admit" still shows it, as a warning."""
    effect = Decision(action)
    return _reason(code, rule, effect, zh, en, alert=alert,
                   severity="warn" if effect == Decision.ADMIT else None)


def _hm(t: datetime) -> str:
    return t.astimezone(CHINA_TZ).strftime("%H:%M")


def _ymd(t: datetime) -> str:
    try:
        return t.astimezone(CHINA_TZ).strftime("%Y-%m-%d")
    except (OverflowError, ValueError):  # within a day of datetime.min or .max: as given
        return t.strftime("%Y-%m-%d")


def no_end(t: datetime) -> bool:
    """Whether a ban end means "no end date" (a date at or after :data:`BAN_NO_END`)."""
    return t.year >= BAN_NO_END.year


# --- the rules ---------------------------------------------------------------------------------
# Each takes (input, policy) and returns a list of reasons.


def rule_booking(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """A refused booking code rejects; a forged one alerts security."""
    if inp.booking is not None:
        if inp.booking.status == "cancelled":  # the cache knew before the code was parsed
            return [Reason("booking_cancelled", "block", BOOKING_REASON_TEXT["cancelled"],
                           "booking", Decision.REJECT)]
        return []
    err = inp.booking_error
    if err is None:
        return [_reason("no_booking", "booking", "reject", "没有有效的预约。",
                        "There is no valid booking.")]
    if err == "already_checked_in":
        return []  # the duplicate rule says it, with the details it knows
    text = BOOKING_REASON_TEXT.get(err, Text("预约码无效。", "The booking code is not valid."))
    forged = err in ("bad_signature", "unknown_key")
    return [Reason(f"booking_{err}", "block", text, "booking", Decision.REJECT,
                   alert=forged and p.forged_code_alert)]


def rule_real_name(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """One ID, one booking: the card must be the booking's patient."""
    if not p.rule_real_name or inp.booking is None:
        return []
    if inp.document is None:
        return [_reason("id_missing", "real_name", "reject", "未读取身份证件, 无法实名核验。",
                        "No ID document was read; the real-name check cannot be made.")]
    matches = inp.patient_matches
    if matches is None:
        matches = _patient_matches(inp.booking, inp.document.number)
    if matches:
        return [_reason("id_matches_booking", "real_name", "admit", "证件与预约人一致。",
                        "The ID matches the booking's patient.")]
    last4 = inp.booking.patient_last4
    return [_reason("id_not_patient", "real_name", "reject",
                    f"证件号码与预约人不符 (预约人证件尾号 {last4})。实名预约不能转让给他人。",
                    f"The ID is not the booking's patient (booked for an ID ending {last4}). A "
                    "booking cannot be passed on to someone else.",
                    alert=p.real_name_alert)]


def rule_id_document(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """An expired card, or a number not read from the chip: typed by hand, or read by the
    camera (a colour printout passes OCR; only the chip proves a card genuine). A camera read
    waits for the clerk to confirm the physical card; a site may admit chip reads only."""
    doc = inp.document
    if not p.rule_id_document or doc is None:
        return []
    out = []
    today = inp.now.astimezone(CHINA_TZ).date()
    if not doc.long_term and doc.valid_to is not None and doc.valid_to < today:
        out.append(_action("id_card_expired", "id_document", p.expired_card_action,
                           f"身份证已于 {doc.valid_to:%Y-%m-%d} 过期。请核对本人, 并提醒及时换证。",
                           f"The ID card expired on {doc.valid_to:%Y-%m-%d}. Check the person "
                           "and remind them to renew it."))
    if doc.read_by == "manual":
        out.append(_action("id_typed_manually", "id_document", p.manual_id_action,
                           "证件号码为手工输入, 未读取芯片。请查验证件原件及照片。",
                           "The ID number was typed, not read from the chip. Check the card "
                           "itself and its photo."))
    elif doc.read_by == "camera" and doc.confirmed_by and not p.require_chip_for_admit:
        at = f" {_hm(doc.confirmed_at)}" if doc.confirmed_at is not None else ""
        out.append(_reason("id_card_confirmed", "id_document", "admit",
                           f"证件号码由摄像头识别; 身份证原件已由 {doc.confirmed_by}{at} 查验。",
                           f"The ID number was read by the camera; the physical card was checked "
                           f"by {doc.confirmed_by}{at}.", severity="info"))
    elif doc.read_by == "camera" and not p.require_chip_for_admit:
        out.append(_action("id_read_by_camera", "id_document", p.camera_id_action,
                           "证件号码由摄像头识别, 未经芯片验证 (打印件也能被识别)。请查验身份证原件, "
                           "核对无误后按 F9 确认。",
                           "The ID number was read by the camera, not verified by the chip (a "
                           "printout reads the same). Check the physical card, then press F9 to "
                           "confirm it."))
    if p.require_chip_for_admit and doc.read_by != "reader":
        how = ("摄像头识别", "read by the camera") if doc.read_by == "camera" else \
            ("手工输入", "typed by hand")
        out.append(_reason("id_chip_required", "id_document", "review",
                           f"本院要求读取身份证芯片方可通过, 此证件号码为{how[0]}。请将身份证放在读卡器上"
                           "重新核验。",
                           f"This site admits only chip reads; this ID number was {how[1]}. Put "
                           "the card on the reader and check in again."))
    return out


#: Why a desk had no card portrait to compare with (``FaceCheck.missing``).
_NO_PORTRAIT = {
    "reader_no_decoder": (
        "读卡器未配置照片解码库 (无证件照片), 柜台摄像头也未开启读证",
        "the card reader has no photo decoder (no card photo) and the counter camera does not "
        "read cards"),
    "camera_no_portrait": (
        "读卡器未配置照片解码库 (无证件照片), 柜台摄像头也未拍到证件照片",
        "the card reader has no photo decoder (no card photo) and the counter camera did not "
        "capture the card's photo either"),
}


def rule_face(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """match admits; undecided asks for review; mismatch rejects and alerts; declined and
    unavailable need a manual check, recorded as such."""
    f = inp.face
    if not p.rule_face or inp.booking is None:
        return []
    if f is None:
        return [_action("face_not_checked", "face", p.face_unavailable_action,
                        "未进行人脸比对。请人工核对证件照片与本人。",
                        "No face comparison was made. Compare the card photo with the person.")]
    d = f" ({f.distance:.2f})" if f.distance is not None else ""
    out: list[Reason] = []
    if f.outcome == "match":
        out.append(_reason("face_match", "face", "admit", f"人证比对一致{d}。",
                           f"The face matches the ID photo{d}."))
    elif f.outcome == "undecided" and f.judgement == "same":
        out.append(_reason("face_judged_same", "face", "admit",
                           f"人证比对不确定{d}; 挂号员 {f.judged_by} 核对为本人。",
                           f"The face comparison was inconclusive{d}; the clerk {f.judged_by} "
                           "judged it the same person.", severity="info"))
    elif f.outcome == "undecided" and f.judgement == "different":
        out.append(_reason("face_judged_different", "face", "reject",
                           f"挂号员 {f.judged_by} 核对为非本人{d}: 本人与证件照片不是同一人。",
                           f"The clerk {f.judged_by} judged the face not the same person as the "
                           f"ID photo{d}.", alert=p.face_mismatch_alert))
    elif f.outcome == "undecided":
        out.append(_action("face_undecided", "face", p.face_undecided_action,
                           f"人证比对不确定{d}。请核对两张照片: 本人按 F7, 非本人按 F8。",
                           f"The face comparison is inconclusive{d}. Compare the two photos: "
                           "F7 same person, F8 not the same person."))
    elif f.outcome == "mismatch":
        out.append(_reason("face_mismatch", "face", "reject",
                           f"人证不符{d}: 本人与证件照片不是同一人。",
                           f"The face does not match the ID photo{d}: not the same person.",
                           alert=p.face_mismatch_alert))
    elif f.outcome == "declined":
        out.append(_reason("face_declined", "face", "review",
                           "患者拒绝人脸比对: 须人工核验证件照片与本人, 已记录。",
                           "The patient declined the face check: verify the card photo "
                           "against the person by hand. This is recorded."))
    elif f.missing in _NO_PORTRAIT:
        zh, en = _NO_PORTRAIT[f.missing]
        out.append(_action("face_no_card_photo", "face", p.face_unavailable_action,
                           f"未进行人脸比对: {zh}。请人工核对证件照片与本人。",
                           f"No face comparison was made: {en}. Compare the card photo with "
                           "the person."))
    else:
        out.append(_action("face_unavailable", "face", p.face_unavailable_action,
                           "人脸比对不可用 (摄像头、证件照片或人脸识别模型缺失)。请人工核对。",
                           "The face check is unavailable (no camera, no card photo or no "
                           "face model). Check by hand."))
    if f.liveness == "failed":
        out.append(_action("liveness_failed", "face", p.liveness_failed_action,
                           "活体检测未通过: 可能是照片或屏幕翻拍。请人工核对本人。",
                           "The liveness check failed: this may be a photo or a screen. Check "
                           "the person by hand.", alert=p.liveness_failed_alert))
    return out


def rule_blacklist(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """A hit rejects and alerts security, showing source and ban end. An old or missing copy of
    the list is a warning (the policy may make it a review)."""
    if not p.rule_blacklist:
        return []
    out: list[Reason] = []
    hit = inp.blacklist
    if hit is not None and hit.active_at(inp.now):
        src = SOURCE_TEXT.get(hit.source, Text(hit.source, hit.source))
        why = hit.reason.strip()[:100]
        until = ("长期限制, 无截止日期", "banned with no end date") if no_end(hit.valid_to) \
            else (f"限制至 {_ymd(hit.valid_to)}", f"banned until {_ymd(hit.valid_to)}")
        out.append(_reason(
            "blacklist_hit", "blacklist", "reject",
            f"黑名单人员 (来源: {src.zh}; 原因: {why or '未注明'}; {until[0]})。"
            "请勿办理, 已通知保卫科。",
            f"On the blacklist (source: {src.en}; reason: {why or 'not given'}; {until[1]}). "
            "Do not check in; security has been alerted.",
            alert=True))
    if not inp.blacklist_known:
        out.append(_action("blacklist_not_checked", "blacklist", p.stale_blacklist_action,
                           "未能查询黑名单 (本机尚未从平台取得黑名单参数)。",
                           "The blacklist could not be checked (this desk has no blacklist "
                           "parameters from the platform yet)."))
    elif inp.blacklist_age is None or inp.blacklist_age > timedelta(
            hours=p.stale_blacklist_hours):
        hours = ("从未同步" if inp.blacklist_age is None
                 else f"已 {inp.blacklist_age.total_seconds() / 3600:.0f} 小时未更新")
        hours_en = ("never synced" if inp.blacklist_age is None
                    else f"{inp.blacklist_age.total_seconds() / 3600:.0f} hours old")
        out.append(_action("blacklist_stale", "blacklist", p.stale_blacklist_action,
                           f"本机黑名单{hours}, 结果可能不全。请检查网络。",
                           f"This desk's blacklist is {hours_en}; it may be incomplete. Please "
                           "check the network."))
    return out


def rule_time_window(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """Check-in opens ``checkin_early_minutes`` before the slot starts and closes
    ``checkin_late_minutes`` after it ends."""
    b = inp.booking
    if not p.rule_time_window or b is None:
        return []
    opens = b.slot_start - timedelta(minutes=p.checkin_early_minutes)
    closes = b.slot_end + timedelta(minutes=p.checkin_late_minutes)
    slot = f"{_hm(b.slot_start)}-{_hm(b.slot_end)}"
    if inp.now < opens:
        day = "" if _ymd(opens) == _ymd(inp.now) else f"{_ymd(opens)} "
        return [_action("too_early", "time_window", p.early_action,
                        f"就诊时段为 {slot}, 签到 {day}{_hm(opens)} 开始。",
                        f"The appointment is {slot}; check-in opens at {day}{_hm(opens)}.")]
    if inp.now > closes:
        late = int((inp.now - b.slot_end).total_seconds() // 60)
        return [_action("too_late", "time_window", p.late_action,
                        f"就诊时段 {slot} 已过 {late} 分钟 (签到截止 {_hm(closes)})。",
                        f"The appointment {slot} ended {late} minutes ago (check-in closed at "
                        f"{_hm(closes)}).")]
    return []


def rule_duplicate(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """The same booking checked in before (here or at another desk, once synced)."""
    if not p.rule_duplicate:
        return []
    earlier = [v for v in inp.history.booking_visits if v.checked_in]
    known = (inp.booking is not None and inp.booking.status == "checked_in") \
        or inp.booking_error == "already_checked_in"
    if not earlier and not known:
        return []
    if earlier:
        first = min(earlier, key=lambda v: v.checked_in_at)
        zh = f"该预约已于 {_hm(first.checked_in_at)} 在 {first.desk_id} 签到, 不能重复签到。"
        en = (f"This booking was already checked in at {_hm(first.checked_in_at)} at desk "
              f"{first.desk_id}.")
    else:
        zh, en = "该预约已签到 (平台记录), 不能重复签到。", \
            "This booking is already checked in (platform record)."
    return [_action("already_checked_in", "duplicate", p.duplicate_action, zh, en,
                    alert=p.duplicate_alert)]


def rule_many_bookings(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """More than N bookings today, or more than one with the same department or doctor."""
    b = inp.booking
    if not p.rule_many_bookings or b is None:
        return []
    r = b.risk
    out = []
    local = 1 + sum(1 for v in inp.history.person_visits_today
                    if v.checked_in and v.booking_id != b.booking_id)
    n = max(r.patient_bookings_today, local)
    if n > p.max_bookings_per_day:
        out.append(_action("many_bookings_today", "many_bookings", p.many_bookings_action,
                           f"该患者今日有 {n} 个预约 (上限 {p.max_bookings_per_day})。请核实就诊需要。",
                           f"This patient has {n} bookings today (limit "
                           f"{p.max_bookings_per_day}). Check that they are all needed."))
    if r.patient_same_department_today > p.max_same_department_per_day:
        out.append(_action("same_department_twice", "many_bookings", p.many_bookings_action,
                           f"该患者今日在同一科室有 {r.patient_same_department_today} 个预约。",
                           f"This patient has {r.patient_same_department_today} bookings in the "
                           "same department today."))
    if r.patient_same_doctor_today > p.max_same_doctor_per_day:
        out.append(_action("same_doctor_twice", "many_bookings", p.many_bookings_action,
                           f"该患者今日同一医生有 {r.patient_same_doctor_today} 个预约。",
                           f"This patient has {r.patient_same_doctor_today} bookings with the "
                           "same doctor today."))
    return out


def rule_cancel_rebook(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """Booked within X minutes after someone else's booking of this slot was cancelled: the
    pattern of a scalper handing a slot over by cancel-and-rebook."""
    b = inp.booking
    if not p.rule_cancel_rebook or b is None:
        return []
    m = b.risk.rebooked_minutes_after_cancel
    if m is None or not 0 <= m <= p.cancel_rebook_minutes:
        return []
    return [_action("rebooked_after_cancel", "cancel_rebook", p.cancel_rebook_action,
                    f"该号源被取消后 {m:.0f} 分钟内即被本预约抢到, 疑似倒号转让。请核实。",
                    f"This slot was booked {m:.0f} minutes after another patient's booking of "
                    "it was cancelled: possibly a scalper's hand-over. Please check.")]


def rule_bot_speed(inp: CheckinInput, p: PolicySection) -> list[Reason]:
    """Booked within Y seconds of the slot's release, or by an account booking for many."""
    b = inp.booking
    if not p.rule_bot_speed or b is None:
        return []
    out = []
    s = b.risk.booked_seconds_after_release
    if s is not None and 0 <= s <= p.bot_speed_seconds:
        out.append(_action("booked_at_release", "bot_speed", p.bot_speed_action,
                           f"号源放出后 {s:.1f} 秒即被预约, 疑似抢号软件。",
                           f"Booked {s:.1f} seconds after the slot was released: possibly a "
                           "booking bot."))
    if b.risk.account_patients_30d > p.account_max_patients_30d:
        out.append(_action("account_many_patients", "bot_speed", p.bot_speed_action,
                           f"预约账号 30 天内为 {b.risk.account_patients_30d} 位不同患者预约。",
                           f"The booking account booked for {b.risk.account_patients_30d} "
                           "different patients in 30 days."))
    return out


#: The rules in the order their reasons are shown (within the same strength).
RULES: tuple[Callable[[CheckinInput, PolicySection], list[Reason]], ...] = (
    rule_booking, rule_blacklist, rule_real_name, rule_face, rule_duplicate, rule_id_document,
    rule_time_window, rule_many_bookings, rule_cancel_rebook, rule_bot_speed,
)


#: How each rule is named to the clerk when it could not be checked.
RULE_TITLES = {
    "booking": Text("预约码", "booking code"), "blacklist": Text("黑名单", "blacklist"),
    "real_name": Text("实名 (一证一号)", "real-name"), "face": Text("人证比对", "face"),
    "duplicate": Text("重复签到", "duplicate check-in"),
    "id_document": Text("身份证件", "ID document"), "time_window": Text("就诊时段", "time slot"),
    "many_bookings": Text("多次预约", "many bookings"),
    "cancel_rebook": Text("退号后重约 (倒号)", "cancel-and-rebook"),
    "bot_speed": Text("抢号软件", "booking bot"),
}


def _not_checked(rule: str, exc: BaseException) -> Reason:
    """A rule that raised: its check could not be made, so the clerk decides (REVIEW). The log
    names the rule, the error's type and where it was raised, never the input's values."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"
    log.error("check-in rule %s could not be checked: %s at %s", rule, type(exc).__name__, where)
    title = RULE_TITLES.get(rule, Text(rule, rule))
    return _reason("rule_not_checked", rule, "review",
                   f"无法完成{title.zh}核验 (程序错误, 已记录日志)。请人工核对, 并告知信息科。",
                   f"The {title.en} check could not be made (a program error, logged). Check "
                   "by hand and tell hospital IT.")


def evaluate(inp: CheckinInput, policy: PolicySection) -> Verdict:
    """The verdict for one check-in."""
    if inp.now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    reasons: list[Reason] = []
    for rule in RULES:
        try:
            reasons.extend(rule(inp, policy))
        except Exception as exc:  # noqa: BLE001 - one broken rule must not lose the verdict
            reasons.append(_not_checked(rule.__name__.removeprefix("rule_"), exc))
    ordered = sorted(reasons, key=lambda r: -r.effect.rank)  # stable: rule order kept
    decision = max((r.effect for r in reasons), key=lambda d: d.rank, default=Decision.ADMIT)
    return Verdict(decision, tuple(ordered), alert_security=any(r.alert for r in reasons))


def decide(*, now: datetime, policy: PolicySection, booking: Booking | None = None,
           booking_error: str | None = None, patient_matches: bool | None = None,
           document: IdDocument | None = None, face: FaceCheck | None = None,
           blacklist: BlacklistHit | None = None, blacklist_age: timedelta | None = None,
           blacklist_known: bool = True, history: History | None = None) -> Verdict:
    """:func:`evaluate` with the input given as keywords."""
    return evaluate(CheckinInput(
        now=now, booking=booking, booking_error=booking_error, document=document,
        patient_matches=patient_matches, face=face, blacklist=blacklist,
        blacklist_age=blacklist_age, blacklist_known=blacklist_known,
        history=history or History()), policy)


def prior_visit(v: Any) -> PriorVisit:
    """A stored visit (anything with visit_id, booking_id, desk_id, checked_in_at and a final
    verdict, e.g. ``desk_app.storage.VisitRecord``) as the engine's history entry."""
    final = getattr(v, "final_verdict", None) or v.verdict
    return PriorVisit(visit_id=v.visit_id, booking_id=v.booking_id, desk_id=v.desk_id,
                      checked_in_at=v.checked_in_at, verdict=str(final))


# --- clerk override ------------------------------------------------------------------------------


class OverrideNotAllowed(AuthError):
    title_text = Text("无权放行", "Override not allowed")


class OverrideReasonInvalid(UserInputError):
    title_text = Text("请填写放行理由", "Reason needed")


_RIGHTS = {"none": frozenset(), "review": frozenset({Decision.REVIEW}),
           "review_reject": frozenset({Decision.REVIEW, Decision.REJECT})}


def override_rights(policy: PolicySection) -> dict[str, frozenset[Decision]]:
    """Role -> the engine decisions that role may override (policy data)."""
    return {"clerk": _RIGHTS[policy.override_clerk],
            "security": _RIGHTS[policy.override_security],
            "admin": _RIGHTS[policy.override_admin]}


def may_override(role: str, verdict: Verdict, policy: PolicySection | None = None) -> bool:
    rights = override_rights(policy or PolicySection())
    return verdict.override is None and verdict.decision in rights.get(role, frozenset())


def apply_override(verdict: Verdict, role: str, decision: Decision | str, reason: str, *,
                   by: str = "", at: datetime | None = None,
                   policy: PolicySection | None = None, chip_read: bool = True) -> Verdict:
    """A new Verdict with the clerk's decision recorded over the engine's.

    Only REVIEW and REJECT can be overridden, once, to ADMIT or REJECT (a REVIEW closed as
    REJECT is an override too: the clerk decided). ``role`` must be allowed to override the
    engine's decision (:func:`override_rights`); ``reason`` is required. Where the site admits
    chip reads only (``require_chip_for_admit``) nobody admits a card not read by the chip
    (``chip_read`` False)."""
    p = policy or PolicySection()
    try:
        target = Decision(decision)
    except ValueError:
        raise OverrideReasonInvalid(Text("未知的放行结果。", "Unknown override decision."),
                                    detail=str(decision)[:20]) from None
    if verdict.override is not None:
        raise OverrideNotAllowed(Text("该结果已被人工处理过, 不能再次更改。",
                                      "This verdict was already overridden."))
    if verdict.decision == Decision.ADMIT:
        raise OverrideReasonInvalid(Text("已通过的核验无需放行。",
                                         "An admitted check-in needs no override."))
    if target == Decision.REVIEW or target == verdict.decision:
        raise OverrideReasonInvalid(Text("请选择放行或拒绝。", "Choose admit or reject."))
    if verdict.decision not in override_rights(p).get(role, frozenset()):
        needed = Text("保卫科或管理员", "security or an administrator") \
            if verdict.decision == Decision.REJECT else Text("有权限的人员", "someone allowed to")
        raise OverrideNotAllowed(Text(f"当前角色无权更改此结果, 请由{needed.zh}处理。",
                                      f"Your role may not override this verdict; ask "
                                      f"{needed.en}."), detail=f"role {role}")
    if target == Decision.ADMIT and p.require_chip_for_admit and not chip_read:
        raise OverrideNotAllowed(Text("本院要求读取身份证芯片方可通过: 请将身份证放在读卡器上重新核验。",
                                      "This site admits only chip reads: put the card on the "
                                      "reader and check in again."), detail="chip required")
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if len(text) < p.override_reason_min_chars:
        raise OverrideReasonInvalid(Text(
            f"请填写放行理由 (至少 {p.override_reason_min_chars} 个字)。",
            f"Please give a reason (at least {p.override_reason_min_chars} characters)."))
    if len(text) > p.override_reason_max_chars:
        raise OverrideReasonInvalid(Text(
            f"理由过长 (最多 {p.override_reason_max_chars} 个字)。",
            f"The reason is too long (at most {p.override_reason_max_chars} characters)."))
    record = ClerkOverride(by=by, role=role, reason=text, decision=target,
                           previous=verdict.decision, at=at)
    return replace(verdict, decision=target, override=record)
