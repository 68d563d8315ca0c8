"""People's free text in the staff and alert-handling models holds no NUL (PostgreSQL cannot
store it): a guard's handled note with one is an item the desk parks, and the platform refuses a
staff name with one, as ``sync.protocol.PlainText`` does for the other models."""

from __future__ import annotations

import pydantic
import pytest

from sync.office import handled_payload
from sync.protocol_staff import AlertHandled, StaffAddRequest


def test_a_handled_note_with_a_nul_is_not_a_valid_item():
    good = {"hospital_id": "H001", "alert_id": "A1", "handled_by": "guard1", "note": "已处理"}
    assert handled_payload(good) == ("H001", "A1", {"handled_by": "guard1", "note": "已处理"})
    assert handled_payload({**good, "note": "pasted\x00"}) is None
    assert handled_payload({**good, "handled_by": "guard\x001"}) is None


def test_a_staff_name_with_a_nul_is_refused():
    with pytest.raises(pydantic.ValidationError):
        StaffAddRequest(username="wang", display_name="王\x00", role="clerk", password="pass-word-1")
    assert StaffAddRequest(username="wang", display_name="王·阿里", role="clerk",
                           password="pass-word-1").display_name == "王·阿里"
    with pytest.raises(pydantic.ValidationError):
        AlertHandled(handled_by="guard1", note="\x00")
