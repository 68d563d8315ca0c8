"""The demo's scenarios as whole-application tests: real widgets, the real store, the real
platform process on loopback, simulated cameras playing the real face photos the demo ships
(resources/demo/faces, not ../shared), the real QR decoder and face model. Each scenario asserts
what the clerk sees, what security is told, what the platform stored and what the audit log
says."""

from __future__ import annotations

import pytest

from desk_app.services.model import Decision
from tests.e2e.conftest import demo_desk, message_boxes, play

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def demo(qapp, tmp_path_factory):
    with demo_desk(tmp_path_factory, "demo") as d:
        yield d


def synced(qtbot, demo):
    demo.desk.sync.sync_now()
    qtbot.waitUntil(lambda: demo.desk.store.outbox.count() == 0, timeout=30_000)


def last_visit(demo):
    state = demo.window.checkin.presenter.state
    assert state is not None and state.visit_id
    return state.visit_id


def test_genuine_patient_is_admitted_shown_and_stored_once_on_the_platform(qtbot, demo):
    out = play(qtbot, demo, "genuine")["genuine"]
    assert out.verdict == "admit", out
    screen = demo.window.checkin
    assert screen.presenter.state.verdict.decision is Decision.ADMIT
    banner = screen.verdict.banner
    assert banner.decision == Decision.ADMIT and "通过" in banner.words
    visit_id = last_visit(demo)
    synced(qtbot, demo)
    row = demo.env.platform_visit(visit_id)
    assert row is not None and row["verdict"] == "admit" and "face_match" in row["reasons"]
    assert demo.env.stored_visit_ids([visit_id]) == {visit_id: 1}
    decisions = [e for e in demo.desk.store.audit.entries(limit=50)
                 if e.action == "checkin.decision" and e.subject == visit_id]
    assert len(decisions) == 1


def test_impostor_and_blacklisted_scalper_are_rejected_and_security_alerted(qtbot, demo):
    before = {a.visit.visit_id for a in demo.desk.store.alerts.cases()}
    outs = play(qtbot, demo, "impostor", "blacklisted")
    assert outs["impostor"].verdict == "reject" and "face_mismatch" in outs["impostor"].reasons
    assert outs["blacklisted"].verdict == "reject" and "blacklist_hit" in outs["blacklisted"].reasons
    assert outs["impostor"].alert and outs["blacklisted"].alert
    alerts = [a for a in demo.desk.store.alerts.cases() if a.visit.visit_id not in before]
    assert len(alerts) == 2 and all(a.has_photos for a in alerts)
    # the security screen lists them (it polls the service off the GUI thread)
    security = demo.window.security
    security.refresh()
    qtbot.waitUntil(lambda: {a.visit.visit_id for a in alerts}
                    <= {a.visit_id for a in security.alerts}, timeout=15_000)
    # The demo's desk is a clerk's, who may not view alert photos: the screen behind its tab
    # once fetched them anyway and a "当前账号 (clerk) 无权执行此操作" dialog popped up unasked.
    qtbot.waitUntil(lambda: demo.window.runner.pending() == 0, timeout=15_000)
    assert not message_boxes()
    synced(qtbot, demo)
    for a in alerts:
        row = demo.env.platform_visit(a.visit.visit_id)
        assert row is not None and row["verdict"] == "reject"
    assert any(demo.env.platform_visit(a.visit.visit_id)["blacklist_hit"] for a in alerts)


def test_forged_and_cancelled_codes_are_rejected_with_their_reason(qtbot, demo):
    outs = play(qtbot, demo, "forged_qr", "cancelled")
    assert outs["forged_qr"].verdict == "reject"
    assert "booking_bad_signature" in outs["forged_qr"].reasons
    assert outs["cancelled"].verdict == "reject" and "booking_cancelled" in outs["cancelled"].reasons


def test_duplicate_wrong_card_and_cancel_rebook(qtbot, demo):
    outs = play(qtbot, demo, "duplicate", "wrong_card", "cancel_rebook")
    assert outs["duplicate"].verdict == "reject" and "already_checked_in" in outs["duplicate"].reasons
    assert outs["wrong_card"].verdict == "reject" and "id_not_patient" in outs["wrong_card"].reasons
    assert outs["duplicate"].alert and outs["wrong_card"].alert  # both reach security
    assert outs["cancel_rebook"].verdict == "review"
    assert "rebooked_after_cancel" in outs["cancel_rebook"].reasons


def test_outage_three_patients_offline_then_every_visit_stored_once(qtbot, demo):
    out = play(qtbot, demo, "outage")["outage"]
    assert out.extra["verdicts"] == ["admit", "admit", "admit"], out
    assert out.extra["queued_offline"] >= 3
    assert out.extra["left_in_outbox"] == 0
    assert list(out.extra["stored"].values()) == [1, 1, 1]
    for visit_id in out.extra["stored"]:
        assert demo.env.platform_visit(visit_id)["offline"] is True


def test_relative_with_the_patients_card_is_never_admitted_on_the_face(qtbot, demo):
    """A sibling (stand-in: the closest-looking other person of the shipped photos) with the
    patient's own card and booking: the booking and the card agree, only the face can tell."""
    out = play(qtbot, demo, "relative")["relative"]
    assert out.verdict != "admit", out
    assert "id_matches_booking" in out.reasons
    assert out.face_outcome in ("mismatch", "undecided"), out
    # the verdict is what the desk's rules give that face: not the same person -> reject and
    # alert; undecided -> the clerk reviews
    settings = demo.desk.settings.get().faces
    if out.face_distance >= settings.mismatch_distance:
        assert out.verdict == "reject" and "face_mismatch" in out.reasons and out.alert
    else:
        assert out.verdict == "review"
    assert out.verdict == out.expected, out
    assert not message_boxes()


def test_a_scenario_played_again_plays_as_the_first_time(qtbot, demo):
    """After the demo played by itself, the viewer picks scenarios again: a patient whose booking
    was admitted comes back as a new made-up person with a new booking (a used booking would be
    rejected as already checked in)."""
    first = play(qtbot, demo, "genuine")["genuine"]  # the module played it once already
    before = demo.env.patients["normal"]
    again = play(qtbot, demo, "genuine")["genuine"]
    after = demo.env.patients["normal"]
    assert first.verdict == again.verdict == "admit", (first, again)
    assert after.id_number != before.id_number and after.booking_id != before.booking_id
    assert after.name == before.name
    assert "already_checked_in" not in again.reasons


def test_a_printed_card_waits_for_the_clerk_and_a_reader_without_decoder_uses_the_camera(
        qtbot, demo):
    """The printout's number reads like a card's and its photo is the impostor's own, so the
    face matches: only the card rule stops it (REVIEW, never ADMIT by itself). A chip reader
    without the photo decoder: the face is compared with the portrait the counter camera cuts
    from the card (ADMIT). A genuine card read by the camera: the director's clerk presses F9,
    and the confirmation goes into the visit, the audit log and the platform's record."""
    outs = {}
    for name in ("printed_card", "reader_without_photo_decoder", "camera_card_checked"):
        outs.update(play(qtbot, demo, name))  # one at a time: each gets the whole wait
    printed = outs["printed_card"]
    assert printed.verdict == "review" and "id_read_by_camera" in printed.reasons
    assert "face_match" in printed.reasons
    decoder = outs["reader_without_photo_decoder"]
    assert decoder.verdict == "admit" and "face_match" in decoder.reasons
    assert "id_read_by_camera" not in decoder.reasons
    checked = outs["camera_card_checked"]
    assert checked.verdict == "admit" and "id_card_confirmed" in checked.reasons
    visit_id = last_visit(demo)
    visit = demo.desk.store.visits.get(visit_id)
    assert visit.card_confirmed_by == "clerk" and visit.verdict == "review"
    assert visit.final_verdict == "admit" and visit.override.by == "clerk"
    [entry] = [e for e in demo.desk.store.audit.entries(limit=50, action="checkin.card_confirmed")
               if e.subject == visit_id]
    assert entry.actor == "clerk"
    synced(qtbot, demo)
    assert demo.env.stored_visit_ids([visit_id]) == {visit_id: 1}
