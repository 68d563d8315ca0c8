"""The override reason a site may allow is one the platform takes: a longer one parked its visit
for good (policy.override_reason_max_chars allowed 1000, the protocol 500)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from desk_app.checkin.engine import OverrideReasonInvalid, apply_override
from desk_app.checkin.model import Decision, Reason, Verdict
from desk_app.errors import Text
from desk_app.settings import (
    OVERRIDE_REASON_MAX_CHARS,
    SCHEMA_VERSION,
    PolicySection,
    Settings,
    load_settings,
    update_settings,
)
from sync import convert
from sync import protocol as P

REVIEW = Verdict(Decision.REVIEW, (Reason("face_undecided", "warn", Text("x", "x"), "face",
                                          Decision.REVIEW),))


def test_the_limit_is_the_protocols():
    P.OverrideWire(by="guard1", reason="核" * OVERRIDE_REASON_MAX_CHARS, verdict="reject")
    with pytest.raises(ValueError):
        P.OverrideWire(by="guard1", reason="核" * (OVERRIDE_REASON_MAX_CHARS + 1),
                       verdict="reject")


@pytest.mark.parametrize("asked", [520, 1000])
def test_the_longest_reason_a_site_allows_reaches_the_platform(asked):
    """A site asking for more gets the protocol's limit: the longest reason the clerk can type
    is one the outbox sends; a longer one is refused while the clerk can still shorten it."""
    policy = update_settings(Settings(), {"policy": {"override_reason_max_chars": asked}}).policy
    assert policy.override_reason_max_chars == OVERRIDE_REASON_MAX_CHARS
    longest = ("经保卫科核实" * 100)[:OVERRIDE_REASON_MAX_CHARS]
    v = apply_override(REVIEW, "security", "reject", longest, by="guard1", policy=policy)
    payload = {"visit_id": str(uuid.uuid4()), "at": datetime.now(UTC).isoformat(),
               "override": {"by": "guard1", "reason": v.override.reason, "verdict": "reject"}}
    assert convert.override_payload(payload) is not None
    with pytest.raises(OverrideReasonInvalid):
        apply_override(REVIEW, "security", "reject", longest + "。", policy=policy)


def test_a_site_file_of_before_loads_capped(app_paths):
    """Up to 1000 was a valid value: such a site file must not be ignored as invalid (with
    every other value in it)."""
    app_paths.site_config.parent.mkdir(parents=True, exist_ok=True)
    app_paths.site_config.write_text(
        f"schema_version = {SCHEMA_VERSION}\n[desk]\nhospital_id = \"H042\"\n"
        "[policy]\noverride_reason_max_chars = 800\n", encoding="utf-8")
    loaded = load_settings(app_paths.settings_file, app_paths.site_config)
    assert loaded.problems == []
    assert loaded.settings.desk.hospital_id == "H042"
    assert loaded.settings.policy.override_reason_max_chars == OVERRIDE_REASON_MAX_CHARS


def test_below_the_minimum_is_still_refused():
    with pytest.raises(ValueError):
        PolicySection(override_reason_max_chars=5)
