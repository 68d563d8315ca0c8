"""An override reason carrying an ID number or a phone number in a form the desk itself accepts
(spaces, hyphens, full-width) reaches the visit, the audit trail and the outbox masked."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta

import pytest

from desk_app.booking import Booking, KeySet, booking_claims, new_signing_key, sign_booking_token
from desk_app.clock import CHINA_TZ, FixedClock
from desk_app.identity.hashing import ScryptParams, b64e, slow_hash
from desk_app.services.checkin import PLATFORM_CONFIG_CURSOR, CheckinService
from desk_app.services.model import Decision
from desk_app.services.session import SessionService
from desk_app.settings import Settings
from desk_app.storage import StoredKeySet
from desk_app.storage.audit import AuditAction
from devices.idcard.types import IdCardRead

NOW = datetime(2026, 11, 22, 9, 10, tzinfo=CHINA_TZ)
KDF = ScryptParams(n=2**10)
PATIENT = "11010519491231002X"


@pytest.mark.parametrize("reason", [
    "核对户口本, 身份证号 110105 1949 1231 002X, 家属电话 138-1234-5678",
    "家属证件 110105-19491231-002X, 电话 +86 138 1234 5678",
    "户口本 １１０１０５１９４９１２３１００２Ｘ 核对无误, 电话 138 1234 5678",
])
def test_override_reason_is_masked_in_visit_audit_and_outbox(store, users, reason):
    clock = FixedClock(NOW)
    session = SessionService(store.users, store.audit, clock)
    session.login(*users["clerk"])
    kid, key = new_signing_key("k1")
    store.keys.save_keyset(StoredKeySet.from_wire(KeySet(()).with_key(kid, key.public_key())
                                                  .to_wire()))
    store.cursors.set(PLATFORM_CONFIG_CURSOR, json.dumps(
        {"blacklist_salt": b64e(b"platform-salt-16"), "scrypt": KDF.as_dict()}))
    store.cursors.set("blacklist.checked_at", NOW.isoformat())
    salt = os.urandom(16)
    booking = Booking(booking_id="B1", reference="REF00001", hospital_id="H001",
                      department_code="CARD", department_name="心内科", doctor_name="李医生",
                      slot_start=NOW + timedelta(minutes=20), slot_end=NOW + timedelta(minutes=50),
                      patient_hash=slow_hash(PATIENT, salt, KDF), patient_salt=salt,
                      patient_last4=PATIENT[-4:], kdf=KDF)
    store.bookings.apply_delta([booking], cursor="1")
    token = sign_booking_token(booking_claims(booking, NOW - timedelta(days=1),
                                              NOW + timedelta(hours=8)), key, kid)
    settings = Settings()
    service = CheckinService(store, session, lambda: settings, clock)
    s = service.new_patient()
    s = service.submit_code(s.session_id, token, "camera")
    s = service.submit_card(s.session_id, IdCardRead(id_number=PATIENT, name="欧阳建国",
                                                     valid_to=date(2035, 1, 1), source="reader"))
    s = service.decline_face(s.session_id)
    assert s.verdict.decision is Decision.REVIEW

    s = service.override(s.session_id, Decision.ADMIT, reason)

    stored = store.visits.get(s.visit_id).override.reason
    audited = [e.detail["reason"] for e in store.audit.entries(action=AuditAction.OVERRIDE)]
    queued = [json.dumps(i.payload, ensure_ascii=False) for i in store.outbox.pending()]
    for text in [s.verdict.override_reason, stored, *audited, *queued]:
        plain = text.replace(" ", "").replace("-", "")
        assert "19491231" not in plain and "１９４９" not in plain, text
        assert "12345678" not in plain and "1234" not in plain.replace("+86", ""), text
    assert "110105********002X" in stored and "138****5678" in stored
    assert len(audited) == 1 and audited[0] == stored
    assert any(stored in q for q in queued)  # the visit's payload carries the override
