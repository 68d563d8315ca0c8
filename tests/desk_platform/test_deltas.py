"""Deltas by cursor through the real server: bookings (cancellations, risk), blacklist
(tombstones), revocations, and the signing key set with rotation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from desk_app.identity.hashing import ScryptParams, b64d, b64e, slow_hash
from sync import protocol as P

from .conftest import Server

pytestmark = pytest.mark.xdist_group("platform")


def verify_token(token: str, keyset: P.KeySetWire) -> dict:
    """Check a booking QR token against the key set the desks receive (contract format)."""
    assert token.startswith("RNB1:")
    header_b64, claims_b64, sig_b64 = token[5:].split(".")
    header = json.loads(b64d(header_b64))
    assert header["alg"] == "EdDSA" and header["typ"] == "RNB1"
    key = {k.kid: k for k in keyset.keys}[header["kid"]]
    Ed25519PublicKey.from_public_bytes(b64d(key.x)).verify(
        b64d(sig_b64), f"{header_b64}.{claims_b64}".encode("ascii"))
    return {"kid": header["kid"], **json.loads(b64d(claims_b64))}


def all_pages(client, path: str, model, cursor_name: str, start: int, limit: int):
    items, cursor, pages = [], start, 0
    while True:
        r = client.get(path, params={cursor_name: cursor, "limit": limit})
        assert r.status_code == 200, r.text
        delta = model.model_validate(r.json())
        pages += 1
        assert delta.__dict__[cursor_name if cursor_name != "since" else "version"] >= cursor
        cursor = delta.cursor if hasattr(delta, "cursor") else delta.version
        items.append(delta)
        if not delta.more:
            return items, cursor, pages


def test_bookings_delta_pages_and_cancellations(server: Server):
    h = server.seed.hospital_id
    with server.client(server.desk_tokens["desk-02"]) as c:
        pages, cursor, n = all_pages(c, f"/v1/hospitals/{h}/bookings", P.BookingsDelta,
                                     "cursor", 0, 2)
        bookings = [b for d in pages for b in d.bookings]
        assert n >= 3
        seqs = [b.seq for b in bookings]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert {b.hospital_id for b in bookings} == {h}
        by_id = {b.booking_id: b for b in bookings}  # the newest version of each
        assert by_id[server.seed.patient("cancelled").booking_id].status == "cancelled"
        assert server.seed.patient("other_hospital").booking_id not in by_id
        # Nothing new: an empty delta with the same cursor.
        empty = P.BookingsDelta.model_validate(
            c.get(f"/v1/hospitals/{h}/bookings", params={"cursor": cursor}).json())
        assert empty.bookings == [] and empty.cursor == cursor and not empty.more

    # The booking platform books and cancels; the desk sees exactly those changes next.
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    req = {"hospital_id": h, "department_code": "DLT", "department_name": "测试",
           "doctor_name": "游标", "slot_start": start.isoformat(),
           "id_number": "110101198001010053", "account_id": "acct-delta"}
    with server.client(server.seed.admin_token) as admin:
        issued = P.IssuedBooking.model_validate(admin.post("/v1/bookings", json=req).json())
        cancel = admin.post(f"/v1/bookings/{issued.booking.booking_id}/cancel")
        assert cancel.status_code == 200, cancel.text
        release = P.CancelResult.model_validate(cancel.json()).slot_release_at
        # cooldown + random moment in the window (defaults: 30 + [0, 30] minutes)
        now = datetime.now(UTC)
        assert now + timedelta(minutes=29) < release < now + timedelta(minutes=61)
        # the slot is not back in the pool yet: rebooking it is refused
        again = admin.post("/v1/bookings", json=dict(req, id_number="11010119800101007X"))
        assert again.status_code == 409 and again.json()["error"] == "conflict"
        assert admin.post(f"/v1/bookings/{issued.booking.booking_id}/cancel").status_code == 409
    with server.client(server.desk_tokens["desk-02"]) as c:
        delta = P.BookingsDelta.model_validate(
            c.get(f"/v1/hospitals/{h}/bookings", params={"cursor": cursor}).json())
        assert [(b.booking_id, b.status) for b in delta.bookings] == [
            (issued.booking.booking_id, P.BookingStatus.CANCELLED)]
        assert delta.cursor > cursor
        day = start.astimezone(server.platform().tz).date()
        by_day = P.BookingsDelta.model_validate(c.get(
            f"/v1/hospitals/{h}/bookings", params={"cursor": 0, "day": day.isoformat()}).json())
        assert all(b.slot_start.astimezone(server.platform().tz).date() == day
                   for b in by_day.bookings)
        assert issued.booking.booking_id in {b.booking_id for b in by_day.bookings}


def test_risk_metadata_of_the_seeded_stories(server: Server):
    h = server.seed.hospital_id
    with server.client(server.desk_tokens["desk-01"]) as c:
        delta = P.BookingsDelta.model_validate(
            c.get(f"/v1/hospitals/{h}/bookings", params={"limit": 5000}).json())
    by_id = {b.booking_id: b for b in delta.bookings}
    normal = by_id[server.seed.patient("normal").booking_id].risk
    assert normal.rebooked_minutes_after_cancel is None
    assert normal.booked_seconds_after_release > 3600 and normal.account_patients_30d == 1
    scalper = by_id[server.seed.patient("scalper_account").booking_id].risk
    assert scalper.booked_seconds_after_release <= 5
    assert scalper.account_patients_30d >= 4
    rebook = by_id[server.seed.patient("cancel_rebook").booking_id].risk
    # cancelled, cooled down 30-60 min, then rebooked 20 s after the slot came back
    assert 30 <= rebook.rebooked_minutes_after_cancel <= 61
    assert rebook.booked_seconds_after_release == pytest.approx(20, abs=1)


def test_patient_cancellations_are_counted(server: Server):
    """A patient who keeps cancelling carries the count into the next booking's risk."""
    base = datetime(2032, 3, 1, 1, tzinfo=UTC)
    number = "110101197505050097"
    with server.client(server.seed.admin_token) as admin:
        for i in range(3):
            req = {"hospital_id": "H001", "department_code": "CNL", "department_name": "测试",
                   "doctor_name": f"医生{i}", "slot_start": (base + timedelta(hours=i)).isoformat(),
                   "id_number": number, "account_id": "acct-cnl"}
            b = admin.post("/v1/bookings", json=req).json()["booking"]
            assert b["risk"]["patient_cancellations_30d"] == i
            assert b["risk"]["patient_bookings_today"] == 1
            assert admin.post(f"/v1/bookings/{b['booking_id']}/cancel").status_code == 200


def test_blacklist_delta_with_tombstones_and_hashes(server: Server):
    with server.client(server.desk_tokens["desk-01"]) as desk:
        cfg = P.DeskConfig.model_validate(desk.get("/v1/desk/config").json())
        head = P.BlacklistDelta.model_validate(desk.get("/v1/blacklist", params={
            "since": 0, "limit": 5000}).json())
        assert any(e.deleted for e in head.entries)  # the seed's lifted ban is a tombstone
        start = head.version
    number = "110101198807070012"
    with server.client(server.seed.police_token) as police:
        added = P.BlacklistEntryWire.model_validate(police.post("/v1/blacklist", json={
            "id_number": number, "reason": "倒卖号源", "days": 30}).json())
        assert added.source == P.BlacklistSource.POLICE and added.last4 == "0012"
        assert (added.valid_to - added.valid_from) == timedelta(days=30)
        revealed = P.BlacklistPlain.model_validate(
            police.get(f"/v1/blacklist/{added.entry_id}/plain").json())
        assert revealed.id_number == number
        renewed = police.post("/v1/blacklist", json={"id_number": number, "reason": "再犯"})
        assert renewed.json()["entry_id"] == added.entry_id  # one entry per number and source
        removed = police.delete(f"/v1/blacklist/{added.entry_id}")
        assert removed.status_code == 200 and removed.json()["deleted"] is True
        assert police.delete(f"/v1/blacklist/{added.entry_id}").status_code == 404
    with server.client(server.desk_tokens["desk-01"]) as desk:
        pages, version, n = all_pages(desk, "/v1/blacklist", P.BlacklistDelta, "since", start, 1)
        entries = [e for d in pages for e in d.entries]
        # added, renewed, removed: three versions, but only the newest state is sent
        assert n == 1 and version == start + 3
        versions = [e.version for e in entries]
        assert versions == sorted(versions)
        mine = [e for e in entries if e.entry_id == added.entry_id]
        assert [e.deleted for e in mine] == [True]  # only the newest state remains
        expected = b64e(slow_hash(number, b64d(cfg.blacklist_salt),
                                  ScryptParams(**cfg.scrypt.model_dump())))
        assert mine[0].id_hash == expected
        raw = desk.get("/v1/blacklist", params={"since": 0, "limit": 5000}).text
        assert number not in raw  # desks never receive the number
        assert desk.get(f"/v1/blacklist/{added.entry_id}/plain").status_code == 403


def test_key_rotation_keeps_old_tokens_verifiable(server: Server):
    with server.client(server.seed.admin_token) as admin:
        before = P.KeySetWire.model_validate(admin.get("/v1/keys").json())
        token_old = server.platform().bookings.get(server.seed.patient("normal").booking_id)[1]
        claims = verify_token(token_old, before)
        assert claims["bid"] == server.seed.patient("normal").booking_id
        assert claims["hos"] == "H001" and claims["pl4"] == server.seed.patient(
            "normal").id_number[-4:]
        rotated = P.KeyRotated.model_validate(admin.post("/v1/keys/rotate").json())
        after = P.KeySetWire.model_validate(admin.get("/v1/keys").json())
        assert after.version > before.version
        kids = {k.kid: k for k in after.keys}
        assert rotated.kid in kids and kids[rotated.kid].not_after is None
        assert rotated.previous_kid in kids
        assert kids[rotated.previous_kid].not_after > datetime.now(UTC).timestamp() + 86400 * 29
        verify_token(token_old, after)  # old QR codes still verify
        start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
        issued = P.IssuedBooking.model_validate(admin.post("/v1/bookings", json={
            "hospital_id": "H001", "department_code": "KEY", "department_name": "测试",
            "doctor_name": "轮换", "slot_start": start.isoformat(),
            "id_number": "110101199912120012", "account_id": "acct-key"}).json())
        new_claims = verify_token(issued.token, after)
        assert new_claims["kid"] == rotated.kid
        assert new_claims["sst"] == int(start.timestamp())
        assert b64e(slow_hash("110101199912120012", b64d(new_claims["ps"]))) == new_claims["ph"]
    # A compromised key is revoked: out of the key set, announced as a revocation.
    plat = server.platform()
    with server.client(server.desk_tokens["desk-03"]) as desk:
        rev_head = desk.get("/v1/revocations").json()["version"]
        plat.keys.revoke(rotated.previous_kid)
        ks = P.KeySetWire.model_validate(desk.get("/v1/keys").json())
        assert rotated.previous_kid not in {k.kid for k in ks.keys}
        revs = P.RevocationsDelta.model_validate(
            desk.get("/v1/revocations", params={"since": rev_head}).json())
        assert [(r.kind, r.item_id) for r in revs.items] == [("key", rotated.previous_kid)]


def test_the_desks_parser_accepts_platform_tokens(server: Server):
    """Cross-team contract: what the platform signs and serves, desk_app.booking verifies.
    (Fresh bookings: another test here revokes the seed's signing key.)"""
    from desk_app.booking import BookingCodeError, KeySet, RevocationList, parse_booking_code
    from desk_app.identity.idnumber import parse_id_number

    start = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    number = "110101198001010053"

    def book(hospital: str, doctor: str) -> P.IssuedBooking:
        with server.client(server.seed.admin_token) as admin:
            r = admin.post("/v1/bookings", json={
                "hospital_id": hospital, "department_code": "PRS", "department_name": "解析",
                "doctor_name": doctor, "slot_start": start.isoformat(), "id_number": number,
                "account_id": "acct-parse"})
            assert r.status_code == 200, r.text
            return P.IssuedBooking.model_validate(r.json())

    good, cancelled, other = book("H001", "甲"), book("H001", "乙"), book("H002", "丙")
    with server.client(server.seed.admin_token) as admin:
        assert admin.post(f"/v1/bookings/{cancelled.booking.booking_id}/cancel").is_success
    with server.client(server.desk_tokens["desk-01"]) as desk:
        keyset = KeySet.from_wire(desk.get("/v1/keys").json())
        revs = P.RevocationsDelta.model_validate(
            desk.get("/v1/revocations", params={"limit": 5000}).json())
    revoked = RevocationList(
        booking_ids=frozenset(r.item_id for r in revs.items if r.kind == "booking"),
        key_ids=frozenset(r.item_id for r in revs.items if r.kind == "key"),
        version=revs.version)
    now = datetime.now(UTC)
    code = parse_booking_code(good.token, keyset, revoked, "H001", now)
    assert code.booking_id == good.booking.booking_id
    from desk_app.booking import patient_matches

    assert patient_matches(code, parse_id_number(number))
    for issued, reason in ((cancelled, "cancelled"), (other, "other_hospital")):
        with pytest.raises(BookingCodeError) as exc:
            parse_booking_code(issued.token, keyset, revoked, "H001", now)
        assert exc.value.reason == reason
