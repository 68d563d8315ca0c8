"""Issue 18 through the whole application: an old 15-digit number on the platform side and a
photo of the card holder held up to the patient camera (real widgets, store, platform process
on loopback, QR decoder and face model; the demo's scenarios with the photos it ships)."""

from __future__ import annotations

import pytest

from desk_app.services.model import Decision
from tests.e2e import test_whole_app as whole

demo = whole.demo  # the same desk fixture (module scope: a desk of its own for this module)
play, synced = whole.play, whole.synced
pytestmark = [pytest.mark.faces, pytest.mark.e2e]


def test_15_digit_booking_admits_and_15_digit_ban_rejects_the_18_digit_card(qtbot, demo):
    outs = play(qtbot, demo, "legacy_15_digit", "legacy_15_digit_blacklisted")
    booked, banned = outs["legacy_15_digit"], outs["legacy_15_digit_blacklisted"]
    assert booked.verdict == "admit" and "id_matches_booking" in booked.reasons, booked
    assert banned.verdict == "reject" and "blacklist_hit" in banned.reasons, banned
    assert banned.alert
    # the platform sees the hit too: the desk's hash of the 18-digit card is the ban's
    state = demo.window.checkin.presenter.state
    synced(qtbot, demo)
    row = demo.env.platform_visit(state.visit_id)
    assert row is not None and row["verdict"] == "reject" and "blacklist_hit" in row["reasons"]


def test_a_phone_with_the_card_holders_photo_is_never_admitted(qtbot, demo):
    out = play(qtbot, demo, "photo_attack")["photo_attack"]
    assert out.verdict == "review" and "liveness_failed" in out.reasons, out
    screen = demo.window.checkin
    assert screen.presenter.state.verdict.decision is Decision.REVIEW
