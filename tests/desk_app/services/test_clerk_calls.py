"""The clerk's calls in the loop (issue 17) and where the card was read (issue 18), below the UI:
the real engine, the real store and the real face model on real photos (../shared/data/faces)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import inspect

from desk_app.checkin.engine import OverrideNotAllowed
from desk_app.errors import UserInputError
from desk_app.faces.cohort import score_basis
from desk_app.services.model import Decision, Step, StepStatus
from devices.idcard.types import IdCardRead

from .test_checkin import BIDEN, OBAMA, Desk

pytestmark = pytest.mark.faces


@pytest.fixture
def desk(store, faces_dir, users):
    return Desk(store, faces_dir, users)


def undecided_everywhere(desk: Desk) -> None:
    """Thresholds with the whole scale between them: every comparison is the clerk's call."""
    desk.settings.faces.match_distance, desk.settings.faces.mismatch_distance = 0.05, 0.95


def camera_card(card: IdCardRead) -> IdCardRead:
    return replace(card, source="camera", name="")


def present(desk: Desk, *cards: IdCardRead):
    """Obama's booking shown, then ``cards`` put down (reader or counter camera)."""
    _, token = desk.booking(OBAMA)
    s = desk.service.new_patient()
    s = desk.service.submit_code(s.session_id, token, "camera")
    for card in cards:
        s = desk.service.submit_card(s.session_id, card)
    return s


def chip(desk: Desk, photo: bool = True) -> IdCardRead:
    card = desk.card(OBAMA, "奥巴马", "obama.jpg")
    return card if photo else replace(card, portrait=None)


def undecided_case(desk: Desk, live: str = "obama2.jpg"):
    undecided_everywhere(desk)
    s = desk.look(present(desk, chip(desk)).session_id, live)
    assert s.verdict is not None and s.face.outcome == "undecided", s.steps
    assert s.verdict.decision is Decision.REVIEW and "face_undecided" in _codes(s)
    return s


def _codes(state) -> list[str]:
    return [r.code for r in state.verdict.reasons]


def test_same_person_key_admits_names_the_clerk_and_keeps_only_distance_and_call(desk):
    s = undecided_case(desk)
    assert s.face_to_judge and not s.card_to_confirm
    assert s.id_photo_png and s.live_face_png  # both photos for the clerk to compare
    # and what the card says of its holder: born 1961-08-04, checked in on 2026-11-22
    assert (s.person.sex, s.person.age) == ("M", 65)
    assert s.hint.en.startswith("Compare the two photos")
    desk.clock.advance(seconds=4)
    s = desk.service.judge_face(s.session_id, same=True)
    assert s.verdict.decision is Decision.ADMIT and s.verdict.decided_by == "clerk1"
    assert s.verdict.decision_note.en == "The clerk judged the face: same person"
    assert "face_judged_same" in _codes(s) and not s.face_to_judge
    visit = desk.store.visits.get(s.visit_id)
    assert visit.verdict == "review" and visit.final_verdict == "admit"
    assert visit.override.by == "clerk1"
    [j] = desk.store.visits.face_judgements()
    assert (j.visit_id, j.clerk, j.judgement) == (s.visit_id, "clerk1", "same")
    assert j.distance == pytest.approx(s.face.distance) and j.seconds == pytest.approx(4.0)
    assert (j.match_distance, j.mismatch_distance) == (0.05, 0.95)
    assert j.score_basis == score_basis(desk.settings.faces.score) != ""  # the unit, too
    # No image is kept for it: the table has no column that could hold one.
    columns = {c["name"] for c in inspect(desk.store.db.r).get_columns("face_judgements")}
    assert columns == {"judgement_id", "visit_id", "clerk", "judged_at", "distance", "judgement",
                       "seconds", "match_distance", "mismatch_distance", "score_basis"}
    assert desk.store.alerts.cases() == []
    [audit] = desk.store.audit.entries(limit=10, action="face.judged")
    assert audit.subject == s.visit_id and audit.detail["judgement"] == "same"
    with pytest.raises(UserInputError):  # one call per case
        desk.service.judge_face(s.session_id, same=False)


def test_not_the_same_person_key_rejects_and_alerts_security(desk):
    s = undecided_case(desk)
    desk.clock.advance(seconds=7)
    s = desk.service.judge_face(s.session_id, same=False)
    assert s.verdict.decision is Decision.REJECT and s.verdict.alert_security
    assert "face_judged_different" in _codes(s) and s.verdict.decided_by == "clerk1"
    [alert] = desk.store.alerts.cases()
    assert alert.visit_id == s.visit_id
    assert desk.store.visits.get(s.visit_id).final_verdict == "reject"
    assert [j.judgement for j in desk.store.visits.face_judgements()] == ["different"]
    # Written with the call: the platform hears of the case even if the visit was uploaded
    # before the key (one alert: tests/sync/client/test_office.py), and gets its photos.
    items = {i.kind: i for i in desk.store.outbox.pending(10)}
    assert set(items) == {"visit", "alert_photos", "visit_override", "visit_alert"}
    late = items["visit_alert"].payload
    assert late["visit_id"] == s.visit_id and "face_judged_different" in late["codes"]
    assert set(late) == {"visit_id", "at", "codes"}  # no name, number or face
    [created] = desk.store.audit.entries(limit=10, action="alert.created")
    assert (created.actor, created.subject) == ("clerk1", alert.alert_id)


def test_no_face_to_judge_when_the_comparison_decided(desk):
    s = present(desk, chip(desk))
    s = desk.look(s.session_id, "obama2.jpg")
    assert s.verdict.decision is Decision.ADMIT and not s.face_to_judge
    with pytest.raises(UserInputError):
        desk.service.judge_face(s.session_id, same=True)
    assert desk.store.visits.face_judgements() == []


def test_a_card_read_by_the_camera_is_not_admitted_until_the_clerk_checks_it(desk):
    s = present(desk, camera_card(chip(desk)))
    s = desk.look(s.session_id, "obama2.jpg")
    assert s.face.outcome == "match"
    assert s.verdict.decision is Decision.REVIEW and "id_read_by_camera" in _codes(s)
    assert s.card_to_confirm and s.hint.en.startswith("Check the physical ID card")
    desk.clock.advance(seconds=20)
    s = desk.service.confirm_card(s.session_id)
    assert s.verdict.decision is Decision.ADMIT and s.card_confirmed_by == "clerk1"
    assert "id_card_confirmed" in _codes(s) and not s.card_to_confirm
    visit = desk.store.visits.get(s.visit_id)
    assert visit.card_confirmed_by == "clerk1"
    assert visit.card_confirmed_at == desk.clock.now()
    assert visit.final_verdict == "admit" and visit.override.by == "clerk1"
    [audit] = desk.store.audit.entries(limit=10, action="checkin.card_confirmed")
    assert audit.actor == "clerk1" and audit.subject == s.visit_id
    assert audit.detail["at"] == desk.clock.now().isoformat()
    assert desk.store.audit.verify().ok
    with pytest.raises(UserInputError):
        desk.service.confirm_card(s.session_id)


def test_both_calls_are_needed_for_a_camera_card_with_an_undecided_face(desk):
    undecided_everywhere(desk)
    s = present(desk, camera_card(chip(desk)))
    s = desk.look(s.session_id, "obama2.jpg")
    assert s.face_to_judge and s.card_to_confirm
    s = desk.service.judge_face(s.session_id, same=True)
    assert s.verdict.decision is Decision.REVIEW and not s.verdict.overridden
    assert desk.store.visits.get(s.visit_id).final_verdict == "review"
    s = desk.service.confirm_card(s.session_id)
    assert s.verdict.decision is Decision.ADMIT and s.verdict.decided_by == "clerk1"
    assert s.verdict.override_reason == "挂号员核对人脸: 本人; 挂号员已查验身份证原件"


def test_a_site_requiring_the_chip_never_admits_a_camera_read(desk):
    desk.settings.policy.require_chip_for_admit = True
    s = present(desk, camera_card(chip(desk)))
    s = desk.look(s.session_id, "obama2.jpg")
    assert s.verdict.decision is Decision.REVIEW and "id_chip_required" in _codes(s)
    assert not s.card_to_confirm
    with pytest.raises(UserInputError):
        desk.service.confirm_card(s.session_id)
    with pytest.raises(OverrideNotAllowed):
        desk.service.override(s.session_id, Decision.ADMIT, "证件核对无误")
    assert desk.store.visits.get(s.visit_id).final_verdict == "review"
    # The same patient on the reader is admitted.
    s = present(desk, chip(desk))
    s = desk.look(s.session_id, "obama2.jpg")
    assert s.verdict.decision is Decision.ADMIT, _codes(s)


def test_a_reader_without_decoder_takes_the_portrait_from_the_counter_camera(desk):
    desk.service.expect_camera_portrait(True)
    s = present(desk, chip(desk, photo=False))
    assert s.awaiting_card_photo and s.verdict is None
    assert s.hint.en == "Put the ID card under the counter camera (for its photo)"
    s = desk.service.submit_card(s.session_id, camera_card(chip(desk)))
    assert not s.awaiting_card_photo and s.id_photo_png is not None
    assert s.person.source == "reader"  # the chip's read stands: no card check needed
    s = desk.look(s.session_id, "obama2.jpg")
    assert s.verdict.decision is Decision.ADMIT, _codes(s)
    assert s.face.outcome == "match" and "id_read_by_camera" not in _codes(s)


def test_the_camera_may_see_the_card_before_the_chip_is_read(desk):
    desk.service.expect_camera_portrait(True)
    s = present(desk, camera_card(chip(desk)))
    assert s.person is None  # the camera alone does not give the number on a reader desk
    s = desk.service.submit_card(s.session_id, chip(desk, photo=False))
    assert s.person.source == "reader" and s.step(Step.FACE).status is StepStatus.WORKING
    s = desk.look(s.session_id, "obama2.jpg")
    assert s.verdict.decision is Decision.ADMIT, _codes(s)


def test_another_cards_photo_is_not_taken_for_the_chip_read(desk):
    desk.service.expect_camera_portrait(True)
    s = present(desk, chip(desk, photo=False))
    s = desk.service.submit_card(s.session_id, camera_card(desk.card(BIDEN, "", "biden.jpg")))
    assert s.awaiting_card_photo and s.id_photo_png is None


def test_without_any_card_photo_the_verdict_says_why(desk):
    # No camera card reading: decided at once, saying the reader has no decoder.
    s = present(desk, chip(desk, photo=False))
    assert s.verdict.decision is Decision.REVIEW
    r = s.verdict.reasons[0]
    assert r.code == "face_no_card_photo" and "does not read cards" in r.text.en
    # With camera card reading the desk waits; when the window ends without the photo it says so.
    desk.service.expect_camera_portrait(True)
    s = present(desk, chip(desk, photo=False))
    assert s.verdict is None
    s = desk.service.finish_face(s.session_id)
    r = s.verdict.reasons[0]
    assert r.code == "face_no_card_photo" and "did not capture" in r.text.en
    assert desk.store.visits.get(s.visit_id).face_outcome == "unavailable"
