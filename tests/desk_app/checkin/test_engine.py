"""Table-driven tests of every decision rule, the policy switches and clerk overrides."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from desk_app.booking import Booking, BookingRisk
from desk_app.checkin import (
    BlacklistHit,
    CheckinInput,
    Decision,
    FaceCheck,
    History,
    IdDocument,
    OverrideNotAllowed,
    OverrideReasonInvalid,
    PriorVisit,
    apply_override,
    decide,
    evaluate,
    may_override,
    prior_visit,
)
from desk_app.checkin.engine import BAN_NO_END
from desk_app.errors import AuthError, UserInputError
from desk_app.identity import parse_id_number
from desk_app.identity.hashing import ScryptParams, slow_hash
from desk_app.identity.testing import make_id_number
from desk_app.settings import PolicySection, Settings, update_settings

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
START = NOW + timedelta(minutes=30)
KDF = ScryptParams(n=2**10)
NUMBER = make_id_number("110101", date(1990, 3, 7), 123)
OTHER = make_id_number("110101", date(1985, 1, 1), 456)
SALT = secrets.token_bytes(16)

BOOKING = Booking(
    booking_id="B0001", reference="A1B2C3D4", hospital_id="H001", department_code="NEI01",
    department_name="心内科", doctor_name="王医生", slot_start=START,
    slot_end=START + timedelta(minutes=30), patient_hash=slow_hash(NUMBER, SALT, KDF),
    patient_salt=SALT, patient_last4=NUMBER[-4:], kdf=KDF,
    risk=BookingRisk(booked_at=NOW - timedelta(days=2), slot_released_at=NOW - timedelta(days=3),
                     rebooked_minutes_after_cancel=None, account_id="acct-1",
                     account_patients_30d=1, patient_bookings_today=1,
                     patient_same_department_today=1, patient_cancellations_30d=0))
DOC = IdDocument(number=parse_id_number(NUMBER), valid_to=date(2030, 1, 1), source="reader")
BASE = CheckinInput(
    now=NOW, booking=BOOKING, document=DOC, patient_matches=True,
    face=FaceCheck("match", 0.41, "passed"), blacklist=None,
    blacklist_age=timedelta(hours=1), history=History())


def run(policy: dict | None = None, **changes):
    return evaluate(replace(BASE, **changes), PolicySection(**(policy or {})))


def risk(**kw) -> Booking:
    return replace(BOOKING, risk=replace(BOOKING.risk, **kw))


def check(verdict, decision: str, codes: set[str], alert: bool = False):
    assert verdict.decision == Decision(decision), verdict.codes()
    assert codes <= set(verdict.codes()), verdict.codes()
    assert verdict.alert_security is alert
    for r in verdict.reasons:
        assert r.text.zh and r.text.en and r.rule
        assert r.severity == {"reject": "block", "review": "warn"}.get(r.effect.value, r.severity)


def test_the_good_case_admits_with_reasons():
    v = run()
    assert v.decision == Decision.ADMIT and not v.alert_security
    assert v.codes() == ("id_matches_booking", "face_match")
    assert all(r.severity == "info" for r in v.reasons)


# --- real name ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "policy", "decision", "codes", "alert"), [
    ({"patient_matches": True}, {}, "admit", {"id_matches_booking"}, False),
    ({"patient_matches": False}, {}, "reject", {"id_not_patient"}, True),
    ({"patient_matches": False}, {"real_name_alert": False}, "reject", {"id_not_patient"}, False),
    ({"patient_matches": False}, {"rule_real_name": False}, "admit", set(), False),
    ({"document": None, "patient_matches": None}, {}, "reject", {"id_missing"}, False),
    # computed here with the booking's salt when the caller did not
    ({"patient_matches": None}, {}, "admit", {"id_matches_booking"}, False),
    ({"patient_matches": None, "document": replace(DOC, number=parse_id_number(OTHER))}, {},
     "reject", {"id_not_patient"}, True),
])
def test_real_name(changes, policy, decision, codes, alert):
    v = run(policy, **changes)
    check(v, decision, codes, alert)
    if not policy.get("rule_real_name", True):
        assert not any(r.rule == "real_name" for r in v.reasons)


def test_real_name_message_shows_the_booked_last4_only():
    r = run(patient_matches=False).reason("id_not_patient")
    assert NUMBER[-4:] in r.text.zh and NUMBER[:6] not in r.text.zh


# --- face --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("face", "policy", "decision", "code", "alert"), [
    (FaceCheck("match", 0.4, "passed"), {}, "admit", "face_match", False),
    (FaceCheck("match", 0.4, "not_run"), {}, "admit", "face_match", False),
    (FaceCheck("undecided", 0.55), {}, "review", "face_undecided", False),
    (FaceCheck("undecided", 0.55), {"face_undecided_action": "reject"}, "reject",
     "face_undecided", False),
    (FaceCheck("mismatch", 0.8), {}, "reject", "face_mismatch", True),
    (FaceCheck("mismatch", 0.8), {"face_mismatch_alert": False}, "reject", "face_mismatch",
     False),
    (FaceCheck("declined", None), {}, "review", "face_declined", False),
    (FaceCheck("unavailable", None), {}, "review", "face_unavailable", False),
    (FaceCheck("unavailable", None), {"face_unavailable_action": "admit"}, "admit",
     "face_unavailable", False),
    (None, {}, "review", "face_not_checked", False),
    (FaceCheck("match", 0.3, "failed"), {}, "review", "liveness_failed", False),
    (FaceCheck("match", 0.3, "failed"), {"liveness_failed_action": "reject",
                                         "liveness_failed_alert": True}, "reject",
     "liveness_failed", True),
    (FaceCheck("mismatch", 0.9), {"rule_face": False}, "admit", None, False),
    # The clerk's call on an undecided face: same person admits, not the same rejects + alerts.
    (FaceCheck("undecided", 0.57, judgement="same", judged_by="clerk1"), {}, "admit",
     "face_judged_same", False),
    (FaceCheck("undecided", 0.57, judgement="different", judged_by="clerk1"), {}, "reject",
     "face_judged_different", True),
    # A reader without the photo decoder: the verdict says exactly why no comparison was made.
    (FaceCheck("unavailable", None, missing="reader_no_decoder"), {}, "review",
     "face_no_card_photo", False),
    (FaceCheck("unavailable", None, missing="camera_no_portrait"), {}, "review",
     "face_no_card_photo", False),
])
def test_face(face, policy, decision, code, alert):
    v = run(policy, face=face)
    check(v, decision, {code} if code else set(), alert)


def test_the_verdict_names_the_clerk_who_judged_the_face():
    r = run(face=FaceCheck("undecided", 0.57, judgement="different", judged_by="clerk1")
            ).reason("face_judged_different")
    assert "clerk1" in r.text.zh and "clerk1" in r.text.en and "0.57" in r.text.en
    assert run(face=FaceCheck("undecided", 0.57)).reason("face_undecided").text.zh.count("F7")


def test_no_card_photo_says_which_part_was_missing():
    decoder = run(face=FaceCheck("unavailable", missing="reader_no_decoder")).reasons[0]
    camera = run(face=FaceCheck("unavailable", missing="camera_no_portrait")).reasons[0]
    assert "photo decoder" in decoder.text.en and "does not read cards" in decoder.text.en
    assert "did not capture" in camera.text.en and "解码" in camera.text.zh


def test_no_override_admits_a_card_without_a_chip_read_where_the_site_requires_one():
    p = PolicySection(require_chip_for_admit=True)
    v = run({"require_chip_for_admit": True}, document=replace(DOC, source="camera"))
    assert v.decision == Decision.REVIEW
    with pytest.raises(OverrideNotAllowed):
        apply_override(v, "admin", "admit", "核实无误", policy=p, chip_read=False)
    assert apply_override(v, "clerk", "reject", "不是本人证件", policy=p,
                          chip_read=False).decision == Decision.REJECT


def test_face_declined_is_recorded_as_manual_verification():
    r = run(face=FaceCheck("declined")).reason("face_declined")
    assert r.effect == Decision.REVIEW and "人工" in r.text.zh and "by hand" in r.text.en


def test_face_check_accepts_the_face_teams_liveness_words():
    assert FaceCheck("match", 0.4, None).liveness == "not_run"
    assert FaceCheck("match", 0.4, "pending").liveness == "not_run"
    with pytest.raises(ValueError):
        FaceCheck("maybe")  # type: ignore[arg-type]


# --- blacklist ---------------------------------------------------------------------------------

HIT = BlacklistHit(source="police", reason="倒卖号源", valid_from=NOW - timedelta(days=10),
                   valid_to=datetime(2027, 2, 1, 4, 0, tzinfo=UTC))


@pytest.mark.parametrize(("changes", "policy", "decision", "codes", "alert"), [
    ({"blacklist": HIT}, {}, "reject", {"blacklist_hit"}, True),
    ({"blacklist": replace(HIT, source="hospital")}, {}, "reject", {"blacklist_hit"}, True),
    ({"blacklist": replace(HIT, valid_to=NOW - timedelta(days=1))}, {}, "admit", set(), False),
    ({"blacklist": replace(HIT, valid_from=NOW + timedelta(days=1))}, {}, "admit", set(), False),
    ({"blacklist": HIT}, {"rule_blacklist": False}, "admit", set(), False),
    ({"blacklist_age": timedelta(hours=30)}, {}, "admit", {"blacklist_stale"}, False),
    ({"blacklist_age": timedelta(hours=30)}, {"stale_blacklist_action": "review"}, "review",
     {"blacklist_stale"}, False),
    ({"blacklist_age": timedelta(hours=30)}, {"stale_blacklist_hours": 48}, "admit", set(),
     False),
    ({"blacklist_age": None}, {}, "admit", {"blacklist_stale"}, False),
    ({"blacklist_known": False}, {}, "admit", {"blacklist_not_checked"}, False),
    ({"blacklist": HIT, "face": FaceCheck("mismatch", 0.9)}, {}, "reject",
     {"blacklist_hit", "face_mismatch"}, True),
])
def test_blacklist(changes, policy, decision, codes, alert):
    v = run(policy, **changes)
    check(v, decision, codes, alert)
    if "blacklist_hit" not in codes:
        assert "blacklist_hit" not in v.codes()


def test_blacklist_hit_shows_source_and_ban_end():
    v = run(blacklist=HIT)
    r = v.reasons[0]
    assert r.code == "blacklist_hit" and r.severity == "block"
    assert "公安" in r.text.zh and "2027-02-01" in r.text.zh and "倒卖号源" in r.text.zh
    assert "police" in r.text.en and "2027-02-01" in r.text.en
    stale = run(blacklist_age=timedelta(hours=30)).reason("blacklist_stale")
    assert stale.severity == "warn" and "30" in stale.text.zh


@pytest.mark.parametrize("valid_to", [
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),  # as police send "until further notice"
    BAN_NO_END,  # as sync.protocol clamps it
])
def test_a_ban_with_no_end_date_rejects_and_says_so(valid_to):
    v = run(blacklist=replace(HIT, valid_to=valid_to))
    check(v, "reject", {"blacklist_hit"}, alert=True)
    r = v.reason("blacklist_hit")
    assert "长期" in r.text.zh and "no end date" in r.text.en
    assert "9999" not in r.text.zh and "9000" not in r.text.en


def test_a_rule_that_fails_is_a_review_naming_it_and_the_others_still_count(caplog):
    # a ban start without its offset cannot be compared with now: the blacklist rule raises
    naive = replace(HIT, valid_from=(NOW - timedelta(days=10)).replace(tzinfo=None))
    with caplog.at_level("ERROR", logger="desk_app.checkin.engine"):
        v = run(blacklist=naive)
    check(v, "review", {"rule_not_checked", "id_matches_booking", "face_match"})
    r = v.reason("rule_not_checked")
    assert r.rule == "blacklist" and r.effect == Decision.REVIEW
    assert "黑名单" in r.text.zh and "blacklist check could not be made" in r.text.en
    v = run(blacklist=naive, face=FaceCheck("mismatch", 0.9, "passed"))
    check(v, "reject", {"face_mismatch", "rule_not_checked"}, alert=True)
    logged = caplog.text
    assert "blacklist" in logged and "TypeError" in logged
    assert NUMBER not in logged and "倒卖号源" not in logged and "2026" not in logged


# --- the ID document ---------------------------------------------------------------------------

@pytest.mark.parametrize(("doc", "policy", "decision", "codes"), [
    (replace(DOC, valid_to=date(2026, 11, 21)), {}, "review", {"id_card_expired"}),
    (replace(DOC, valid_to=date(2026, 11, 22)), {}, "admit", set()),  # valid through today
    (replace(DOC, valid_to=None, long_term=True), {}, "admit", set()),
    (replace(DOC, valid_to=date(2020, 1, 1)), {"expired_card_action": "reject"}, "reject",
     {"id_card_expired"}),
    (replace(DOC, valid_to=date(2020, 1, 1)), {"rule_id_document": False}, "admit", set()),
    (replace(DOC, valid_to=None, source="manual"), {}, "review", {"id_typed_manually"}),
    (replace(DOC, source="manual"), {"manual_id_action": "admit"}, "admit",
     {"id_typed_manually"}),
    # A number read by the camera is not chip-verified (a printout reads the same): REVIEW
    # until the clerk checks the physical card, then ADMIT naming them.
    (replace(DOC, source="camera"), {}, "review", {"id_read_by_camera"}),
    (replace(DOC, source="camera"), {"camera_id_action": "admit"}, "admit",
     {"id_read_by_camera"}),
    (replace(DOC, source="camera", confirmed_by="clerk1", confirmed_at=NOW), {}, "admit",
     {"id_card_confirmed"}),
    # A site that admits chip reads only: no confirmation lifts it, a typed number neither.
    (replace(DOC, source="camera", confirmed_by="clerk1", confirmed_at=NOW),
     {"require_chip_for_admit": True}, "review", {"id_chip_required"}),
    (replace(DOC, source="manual"), {"manual_id_action": "admit", "require_chip_for_admit": True},
     "review", {"id_typed_manually", "id_chip_required"}),
    (DOC, {"require_chip_for_admit": True}, "admit", set()),
])
def test_id_document(doc, policy, decision, codes):
    check(run(policy, document=doc), decision, codes)


# --- time window -------------------------------------------------------------------------------

@pytest.mark.parametrize(("now", "policy", "decision", "codes"), [
    (START - timedelta(minutes=119), {}, "admit", set()),
    (START - timedelta(minutes=121), {}, "review", {"too_early"}),
    (START - timedelta(minutes=121), {"early_action": "reject"}, "reject", {"too_early"}),
    (START - timedelta(minutes=121), {"checkin_early_minutes": 180}, "admit", set()),
    (START + timedelta(minutes=30 + 29), {}, "admit", set()),
    (START + timedelta(minutes=30 + 31), {}, "review", {"too_late"}),
    (START + timedelta(minutes=30 + 31), {"late_action": "reject"}, "reject", {"too_late"}),
    (START - timedelta(days=1), {"rule_time_window": False}, "admit", set()),
])
def test_time_window(now, policy, decision, codes):
    check(run(policy, now=now), decision, codes)


def test_time_window_messages_name_the_times_in_beijing():
    early = run(now=START - timedelta(hours=3)).reason("too_early")
    assert "09:30-10:00" in early.text.zh and "07:30" in early.text.zh
    late = run(now=START + timedelta(hours=2)).reason("too_late")
    assert "90" in late.text.en


# --- duplicates --------------------------------------------------------------------------------

def _visit(verdict: str, desk: str = "desk-07", minutes_ago: int = 20) -> PriorVisit:
    return PriorVisit(visit_id=f"v-{verdict}", booking_id="B0001", desk_id=desk,
                      checked_in_at=NOW - timedelta(minutes=minutes_ago), verdict=verdict)


@pytest.mark.parametrize(("changes", "policy", "decision", "codes"), [
    ({"history": History(booking_visits=(_visit("admit"),))}, {}, "reject",
     {"already_checked_in"}),
    ({"history": History(booking_visits=(_visit("review"),))}, {}, "reject",
     {"already_checked_in"}),
    ({"history": History(booking_visits=(_visit("reject"),))}, {}, "admit", set()),
    ({"booking": replace(BOOKING, status="checked_in")}, {}, "reject", {"already_checked_in"}),
    ({"booking": None, "booking_error": "already_checked_in"}, {}, "reject",
     {"already_checked_in"}),
    ({"history": History(booking_visits=(_visit("admit"),))}, {"duplicate_action": "review"},
     "review", {"already_checked_in"}),
    ({"history": History(booking_visits=(_visit("admit"),))}, {"rule_duplicate": False},
     "admit", set()),
])
def test_duplicate(changes, policy, decision, codes):
    check(run(policy, **changes), decision, codes, alert=decision != "admit")


def test_duplicate_alert_can_be_switched_off():
    v = run({"duplicate_alert": False}, history=History(booking_visits=(_visit("admit"),)))
    check(v, "reject", {"already_checked_in"}, alert=False)


def test_duplicate_names_the_first_desk_and_time():
    v = run(history=History(booking_visits=(_visit("admit", "desk-07", 20),
                                            _visit("admit", "desk-02", 5))))
    r = v.reason("already_checked_in")
    assert "desk-07" in r.text.zh and "08:40" in r.text.zh


# --- many bookings, cancel-and-rebook, bot speed ---------------------------------------------

@pytest.mark.parametrize(("changes", "policy", "decision", "codes"), [
    ({"booking": risk(patient_bookings_today=2)}, {}, "admit", set()),
    ({"booking": risk(patient_bookings_today=3)}, {}, "review", {"many_bookings_today"}),
    ({"booking": risk(patient_bookings_today=3)}, {"max_bookings_per_day": 3}, "admit", set()),
    ({"booking": risk(patient_same_department_today=2)}, {}, "review",
     {"same_department_twice"}),
    ({"booking": risk(patient_same_doctor_today=2)}, {}, "review", {"same_doctor_twice"}),
    ({"booking": risk(patient_bookings_today=5)}, {"many_bookings_action": "reject"}, "reject",
     {"many_bookings_today"}),
    ({"booking": risk(patient_bookings_today=5)}, {"rule_many_bookings": False}, "admit", set()),
    # the desk's own history counts too (bookings the platform counted before a sync)
    ({"history": History(person_visits_today=(
        replace(_visit("admit"), booking_id="B0002"),
        replace(_visit("review"), booking_id="B0003")))}, {}, "review", {"many_bookings_today"}),
    ({"history": History(person_visits_today=(
        replace(_visit("admit"), booking_id="B0002"),
        replace(_visit("reject"), booking_id="B0003")))}, {}, "admit", set()),
])
def test_many_bookings(changes, policy, decision, codes):
    check(run(policy, **changes), decision, codes)


@pytest.mark.parametrize(("minutes", "policy", "decision"), [
    (None, {}, "admit"),
    (3.5, {}, "review"),
    (90.0, {}, "review"),  # the platform's cooldown (30 min) + random window (30 min) + margin
    (91.0, {}, "admit"),
    (3.5, {"cancel_rebook_minutes": 2}, "admit"),
    (3.5, {"cancel_rebook_action": "reject"}, "reject"),
    (3.5, {"rule_cancel_rebook": False}, "admit"),
])
def test_cancel_and_rebook(minutes, policy, decision):
    v = run(policy, booking=risk(rebooked_minutes_after_cancel=minutes))
    check(v, decision, {"rebooked_after_cancel"} if decision != "admit" else set())


@pytest.mark.parametrize(("seconds", "patients", "policy", "decision", "codes"), [
    (86400.0, 1, {}, "admit", set()),
    (1.2, 1, {}, "review", {"booked_at_release"}),
    (3.0, 1, {}, "review", {"booked_at_release"}),
    (3.5, 1, {}, "admit", set()),
    (1.2, 1, {"bot_speed_seconds": 1.0}, "admit", set()),
    (86400.0, 6, {}, "review", {"account_many_patients"}),
    (86400.0, 6, {"account_max_patients_30d": 10}, "admit", set()),
    (1.2, 6, {"bot_speed_action": "reject"}, "reject",
     {"booked_at_release", "account_many_patients"}),
    (1.2, 6, {"rule_bot_speed": False}, "admit", set()),
])
def test_bot_speed(seconds, patients, policy, decision, codes):
    released = NOW - timedelta(days=3)
    b = risk(slot_released_at=released, booked_at=released + timedelta(seconds=seconds),
             account_patients_30d=patients)
    check(run(policy, booking=b), decision, codes)


def test_unknown_release_time_does_not_fire():
    check(run(booking=risk(slot_released_at=None)), "admit", set())


# --- refused booking codes -----------------------------------------------------------------------

@pytest.mark.parametrize(("error", "policy", "code", "alert"), [
    ("bad_signature", {}, "booking_bad_signature", True),
    ("unknown_key", {}, "booking_unknown_key", True),
    ("bad_signature", {"forged_code_alert": False}, "booking_bad_signature", False),
    ("expired", {}, "booking_expired", False),
    ("cancelled", {}, "booking_cancelled", False),
    ("other_hospital", {}, "booking_other_hospital", False),
    (None, {}, "no_booking", False),
])
def test_refused_booking_codes_reject(error, policy, code, alert):
    v = run(policy, booking=None, booking_error=error, face=None, patient_matches=None)
    check(v, "reject", {code}, alert)


def test_a_cancelled_booking_rejects_even_when_passed_in():
    check(run(booking=replace(BOOKING, status="cancelled")), "reject", {"booking_cancelled"})


def test_a_blacklisted_person_with_a_cancelled_booking_still_alerts():
    v = run(booking=None, booking_error="cancelled", face=None, blacklist=HIT)
    check(v, "reject", {"booking_cancelled", "blacklist_hit"}, True)


# --- order, keywords, history conversion -------------------------------------------------------

def test_reasons_are_ordered_strongest_first():
    v = run(face=FaceCheck("undecided", 0.55), booking=risk(patient_bookings_today=4),
            blacklist=HIT, blacklist_age=timedelta(hours=40))
    effects = [r.effect.rank for r in v.reasons]
    assert effects == sorted(effects, reverse=True)
    assert v.reasons[0].code == "blacklist_hit"
    assert v.reasons[-1].code == "id_matches_booking" and v.reasons[-1].severity == "info"
    assert {"face_undecided", "many_bookings_today", "blacklist_stale"} <= set(v.codes())


def test_decide_keywords_equal_evaluate():
    kw = dict(now=NOW, booking=BOOKING, patient_matches=False, document=DOC,
              face=FaceCheck("undecided", 0.55), blacklist=None,
              blacklist_age=timedelta(hours=1), blacklist_known=True, history=History())
    assert decide(policy=PolicySection(), **kw) == evaluate(CheckinInput(**kw), PolicySection())


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        run(now=datetime(2026, 11, 22, 9, 0))


def test_prior_visit_from_a_stored_visit():
    from desk_app.storage.records import Override, VisitRecord

    stored = VisitRecord(
        visit_id="v1", booking_id="B0001", hospital_id="H001", desk_id="desk-03", clerk="li",
        checked_in_at=NOW, local_day="2026-11-22", verdict="review", reasons=(),
        face_distance=None, face_outcome=None, presented_id_hash=None, presented_id_last4=None,
        offline=False, override=Override(by="wang", reason="本人", verdict="reject"),
        recorded_at=NOW)
    p = prior_visit(stored)
    assert (p.desk_id, p.verdict, p.checked_in) == ("desk-03", "reject", False)


def test_policy_is_data_in_the_settings_file():
    s = update_settings(Settings(), {"policy": {"face_undecided_action": "reject",
                                                "checkin_late_minutes": 10}})
    v = run(face=FaceCheck("undecided", 0.55))
    assert evaluate(replace(BASE, face=FaceCheck("undecided", 0.55)), s.policy).decision == \
        Decision.REJECT and v.decision == Decision.REVIEW
    with pytest.raises(Exception):  # noqa: B017 - the settings layer's ConfigError
        update_settings(Settings(), {"policy": {"early_action": "ignore"}})


# --- overrides ---------------------------------------------------------------------------------

REVIEW = run(face=FaceCheck("undecided", 0.55))
REJECT = run(face=FaceCheck("mismatch", 0.8))


@pytest.mark.parametrize(("verdict", "role", "target", "reason", "outcome"), [
    (REVIEW, "clerk", "admit", "本人核对无误", "ok"),
    (REVIEW, "clerk", "reject", "证件照片不符", "ok"),
    (REVIEW, "security", "admit", "核对无误", "ok"),
    (REJECT, "clerk", "admit", "本人核对无误", OverrideNotAllowed),
    (REJECT, "security", "admit", "保卫科现场核实为本人", "ok"),
    (REJECT, "admin", "admit", "信息科确认误判", "ok"),
    (REVIEW, "visitor", "admit", "本人", OverrideNotAllowed),
    (REVIEW, "clerk", "admit", "", OverrideReasonInvalid),
    (REVIEW, "clerk", "admit", "   ", OverrideReasonInvalid),
    (REVIEW, "clerk", "admit", "好", OverrideReasonInvalid),
    (REVIEW, "clerk", "admit", "x" * 201, OverrideReasonInvalid),
    (REVIEW, "clerk", "review", "本人核对", OverrideReasonInvalid),
    (REVIEW, "clerk", "maybe", "本人核对", OverrideReasonInvalid),
    (REJECT, "security", "reject", "维持", OverrideReasonInvalid),
    (run(), "admin", "reject", "看着可疑", OverrideReasonInvalid),
])
def test_override(verdict, role, target, reason, outcome):
    if outcome == "ok":
        new = apply_override(verdict, role, target, reason, by="li.clerk", at=NOW)
        assert new.decision == Decision(target) and new.decided == verdict.decision
        assert new.override.by == "li.clerk" and new.override.role == role
        assert new.override.reason == " ".join(reason.split())
        assert new.reasons == verdict.reasons and new.alert_security == verdict.alert_security
        assert verdict.override is None  # the original is unchanged
        with pytest.raises(OverrideNotAllowed):
            apply_override(new, "admin", "reject", "再次更改")
    else:
        with pytest.raises(outcome) as info:
            apply_override(verdict, role, target, reason)
        assert isinstance(info.value, AuthError | UserInputError)
        assert info.value.message("zh_CN") and info.value.message("en")


@pytest.mark.parametrize(("policy", "role", "verdict", "allowed"), [
    ({}, "clerk", REVIEW, True),
    ({}, "clerk", REJECT, False),
    ({"override_clerk": "review_reject"}, "clerk", REJECT, True),
    ({"override_clerk": "none"}, "clerk", REVIEW, False),
    ({"override_security": "review"}, "security", REJECT, False),
    ({}, "admin", REJECT, True),
])
def test_override_rights_are_policy_data(policy, role, verdict, allowed):
    p = PolicySection(**policy)
    assert may_override(role, verdict, p) is allowed
    if allowed:
        assert apply_override(verdict, role, "admit", "核实无误", policy=p).decision == \
            Decision.ADMIT
    else:
        with pytest.raises(OverrideNotAllowed):
            apply_override(verdict, role, "admit", "核实无误", policy=p)
