"""Times on the wire that the desk must survive (sync.protocol)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from desk_app.checkin.engine import BAN_NO_END
from desk_app.clock import CHINA_TZ
from sync import protocol as P


def _entry(valid_to: str) -> dict:
    return {"entry_id": "BL1", "id_hash": "A" * 43, "last4": "1234", "source": "police",
            "reason": "号贩子", "valid_from": "2026-01-01T00:00:00Z", "valid_to": valid_to,
            "version": 1, "deleted": False}


@pytest.mark.parametrize("valid_to", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59-05:00",
                                      "9999-12-31T23:59:59+14:00", "9000-01-01T00:00:00+08:00"])
def test_a_ban_with_no_end_date_is_clamped_so_nothing_downstream_overflows(valid_to):
    e = P.BlacklistEntryWire.model_validate(_entry(valid_to))
    assert e.valid_to == BAN_NO_END
    e.valid_to.astimezone(CHINA_TZ)  # shown in Beijing time
    e.valid_to + timedelta(days=3650)  # a renewal added to it
    e.valid_to.timestamp()  # stored as Unix seconds


def test_a_real_ban_end_is_kept_and_a_naive_one_refused():
    e = P.BlacklistEntryWire.model_validate(_entry("2027-02-01T12:00:00+08:00"))
    assert e.valid_to == datetime(2027, 2, 1, 4, 0, tzinfo=UTC)
    with pytest.raises(ValidationError):
        P.BlacklistEntryWire.model_validate(_entry("9999-12-31T23:59:59"))
