"""The check-in's parts arriving in an unusual order: a second card before the verdict, the face
check declined after its result, a stray code after a valid one. The real service, store, tokens
and face model on real photos, as in test_checkin.py."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta

import pytest

from desk_app.booking import Booking, booking_claims, new_signing_key, sign_booking_token
from desk_app.errors import UserInputError
from desk_app.identity.hashing import slow_hash
from desk_app.services.model import Decision
from tests.desk_app.services.test_checkin import BIDEN, FAST_KDF, NOW, OBAMA, Desk

pytestmark = pytest.mark.faces


@pytest.fixture
def desk(store, faces_dir, users):
    return Desk(store, faces_dir, users)


def _codes(state):
    return [r.code for r in state.verdict.reasons]


def _card_and_look(desk, number, name, card_photo, face_photo, source="reader"):
    """A new case: a card read, then a face in front of the camera; (session id, state)."""
    sid = desk.service.new_patient().session_id
    desk.service.submit_card(sid, replace(desk.card(number, name, card_photo), source=source))
    return sid, desk.look(sid, face_photo)


@pytest.mark.parametrize("source", ["reader", "camera"])
def test_a_face_matched_with_one_card_is_not_kept_for_another_card(desk, source):
    """The impostor shows his own card and his face matches it; then he lays the borrowed card
    and its booking QR: the match belonged to his own card. The face is compared again with the
    borrowed card's photo: REJECT, security alerted (a camera desk's F9 cannot admit it)."""
    _, token = desk.booking(BIDEN)
    sid, s = _card_and_look(desk, OBAMA, "奥巴马", "obama.jpg", "obama2.jpg", source)
    assert s.face.outcome == "match" and s.verdict is None
    s = desk.service.submit_card(sid, replace(desk.card(BIDEN, "拜登", "biden.jpg"), source=source))
    assert s.face is None and s.live_face_png is None and s.face_box is None
    s = desk.service.submit_code(sid, token, "camera")
    assert s.verdict is None  # waits for a face compared with this card
    s = desk.look(sid, "obama2.jpg")
    assert s.verdict.decision is Decision.REJECT and s.verdict.alert_security, _codes(s)
    assert "face_mismatch" in _codes(s)
    assert desk.store.visits.get(s.visit_id).face_outcome == "mismatch"
    assert len(desk.store.alerts.cases()) == 1


def test_a_mismatch_with_a_wrong_card_read_first_does_not_reject_the_patient(desk):
    """The other way round: a relative's card was read first by mistake (a mismatch with the
    patient's face); the patient's own card and QR then admit them, no alert."""
    _, token = desk.booking(BIDEN)
    sid, s = _card_and_look(desk, OBAMA, "奥巴马", "obama.jpg", "biden2.jpg")
    assert s.face.outcome == "mismatch" and s.verdict is None
    s = desk.service.submit_card(sid, desk.card(BIDEN, "拜登", "biden.jpg"))
    s = desk.service.submit_code(sid, token, "camera")
    s = desk.look(sid, "biden2.jpg")
    assert s.verdict.decision is Decision.ADMIT, _codes(s)
    assert desk.store.alerts.cases() == []


def test_a_typed_number_after_a_card_does_not_keep_that_cards_face(desk):
    """The same with a typed number: no photo of the typed number's card, so no comparison (the
    clerk compares by hand), never the other card's match."""
    _, token = desk.booking(BIDEN)
    sid, s = _card_and_look(desk, OBAMA, "奥巴马", "obama.jpg", "obama2.jpg")
    assert s.face.outcome == "match"
    s = desk.service.submit_id_number(sid, BIDEN)
    assert s.face.outcome == "unavailable" and s.id_photo_png is None
    s = desk.service.submit_code(sid, token, "camera")
    assert s.verdict.decision is Decision.REVIEW and "face_match" not in _codes(s)


def test_a_face_result_of_another_card_is_never_decided_with(desk):
    """Defence in depth: a face result carries the card it was compared with; one that does not
    name the card on the case is dropped before deciding (the case waits for a new look)."""
    _, token = desk.booking(OBAMA)
    sid, s = _card_and_look(desk, OBAMA, "奥巴马", "obama.jpg", "obama2.jpg")
    assert s.face.outcome == "match"
    desk.service._case.face_card = BIDEN  # as if compared with another card
    s = desk.service.submit_code(sid, token, "camera")
    assert s.verdict is None and s.face is None


def test_the_face_check_cannot_be_declined_once_it_has_a_result(desk):
    """The card before the QR: the face comparison says MISMATCH with no verdict yet. F4 (the
    patient declines the face check) is refused in words; the mismatch stands, the QR then
    rejects it with an alert and the visit records the mismatch, not a refusal."""
    _, token = desk.booking(BIDEN)
    sid, s = _card_and_look(desk, BIDEN, "拜登", "biden.jpg", "obama2.jpg")
    assert s.face.outcome == "mismatch" and s.verdict is None
    with pytest.raises(UserInputError) as refused:
        desk.service.decline_face(sid)
    assert "人证比对已有结果" in refused.value.text.zh and "only before" in refused.value.text.en
    assert desk.service.current().face.outcome == "mismatch"
    s = desk.service.submit_code(sid, token, "camera")
    assert s.verdict.decision is Decision.REJECT and s.verdict.alert_security, _codes(s)
    assert desk.store.visits.get(s.visit_id).face_outcome == "mismatch"
    assert len(desk.store.alerts.cases()) == 1


def _stray_code(desk, kind: str) -> str:
    """A code refused for what it is: the patient's cancelled booking, an old QR signed with a
    key this desk does not know, or no booking code at all."""
    if kind == "cancelled":
        return desk.booking(OBAMA, status="cancelled")[1]
    if kind == "garbage":
        return "https://example.com/coupon"
    _, key = new_signing_key("k-other-platform")
    salt = os.urandom(16)
    old = Booking(booking_id="BX1", reference="", hospital_id="H001", department_code="X",
                  department_name="x", doctor_name="x", slot_start=NOW,
                  slot_end=NOW + timedelta(minutes=30), patient_hash=slow_hash(OBAMA, salt, FAST_KDF),
                  patient_salt=salt, patient_last4=OBAMA[-4:], kdf=FAST_KDF)
    return sign_booking_token(booking_claims(old, NOW - timedelta(days=40), NOW + timedelta(hours=1)),
                              key, "k-other-platform")


@pytest.mark.parametrize("stray", ["cancelled", "unknown_key", "garbage"])
def test_a_refused_code_after_a_valid_booking_is_only_said(desk, stray):
    """The genuine patient's valid QR, then another code that is refused (an old QR also on the
    phone): said on screen, the valid booking stays and the case goes on, no REJECT, no alert."""
    b, token = desk.booking(OBAMA)
    sid = desk.service.new_patient().session_id
    s = desk.service.submit_code(sid, token, "camera")
    s = desk.service.submit_code(sid, _stray_code(desk, stray), "camera")
    assert s.verdict is None and s.booking.booking_id == b.booking_id
    assert "已有有效预约" in s.errors[0].zh and "A valid booking is held" in s.errors[0].en
    s = desk.service.submit_id_number(sid, OBAMA)  # typed: no photo, the clerk compares
    assert s.verdict.decision is Decision.REVIEW and not s.verdict.alert_security, _codes(s)
    assert "id_matches_booking" in _codes(s) and not [c for c in _codes(s) if "booking_" in c]
    assert desk.store.visits.get(s.visit_id).booking_id == b.booking_id
    assert desk.store.alerts.cases() == []


def test_a_later_valid_code_for_another_booking_is_the_one_checked(desk):
    """Two valid codes before the verdict (a patient with two bookings, the wrong one shown
    first): the last one shown is on screen and is the one checked against the card."""
    _, first = desk.booking(BIDEN)
    second, token = desk.booking(OBAMA)
    sid = desk.service.new_patient().session_id
    s = desk.service.submit_code(sid, first, "camera")
    s = desk.service.submit_code(sid, token, "scanner")
    assert s.booking.booking_id == second.booking_id and not s.errors
    s = desk.service.submit_id_number(sid, OBAMA)
    assert "id_matches_booking" in _codes(s) and "id_not_patient" not in _codes(s)
    assert desk.store.visits.get(s.visit_id).booking_id == second.booking_id
