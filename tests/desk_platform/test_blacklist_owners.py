"""The blacklist's owners through the real server: police and the booking platform each add,
renew and remove only entries of their own source (the source comes from the token, never from
the body); a person may hold one entry per source and desks get every one of them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from desk_app.identity.testing import make_id_number
from desk_platform.authz import BLACKLIST_OWNER, MATRIX, Perm
from sync import protocol as P

from .conftest import Server

pytestmark = pytest.mark.xdist_group("platform")

NUMBER, RENEWED, BOTH = (make_id_number("440101", date(1977, 7, 7), n, sex="M")
                         for n in (31, 33, 35))


def _entry(server: Server, entry_id: str) -> tuple[P.BlacklistEntryWire, str]:
    (rec,) = [r for r in server.platform().blacklist.entries(include_deleted=True, limit=100000)
              if r.entry.entry_id == entry_id]
    return rec.entry, rec.created_by


def test_every_writer_of_the_blacklist_owns_one_source():
    assert set(BLACKLIST_OWNER) == set(MATRIX[Perm.BLACKLIST_WRITE])


def test_the_booking_platform_cannot_lift_shorten_or_fake_a_police_ban(server: Server):
    police = server.client(server.seed.police_token)
    booking = server.client(server.seed.admin_token)
    with police, booking:
        r = police.post("/v1/blacklist", json={"id_number": NUMBER, "reason": "公安 2026-001",
                                               "days": 365})
        assert r.status_code == 200, r.text
        ban = P.BlacklistEntryWire.model_validate(r.json())
        assert ban.source is P.BlacklistSource.POLICE
        before = _entry(server, ban.entry_id)

        # a body naming another source is refused, and says why
        r = booking.post("/v1/blacklist", json={"id_number": NUMBER, "source": "police",
                                                "reason": "x", "days": 0.001})
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert "platform" in r.json()["detail"] and "police" in r.json()["detail"]
        # removing another owner's entry is refused, the ban stays
        r = booking.delete(f"/v1/blacklist/{ban.entry_id}")
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert _entry(server, ban.entry_id) == before

        # the platform's own ban of the same person is an entry of its own
        r = booking.post("/v1/blacklist", json={"id_number": NUMBER, "reason": "转卖号源",
                                                "days": 1})
        assert r.status_code == 200, r.text
        own = P.BlacklistEntryWire.model_validate(r.json())
        assert own.source is P.BlacklistSource.PLATFORM and own.entry_id != ban.entry_id
        assert own.id_hash == ban.id_hash
        assert _entry(server, ban.entry_id) == before
        # and its owner lifts it without touching the police's
        assert booking.delete(f"/v1/blacklist/{own.entry_id}").status_code == 200
        assert _entry(server, ban.entry_id) == before
        # the police cannot remove the platform's entries either
        r = police.post("/v1/blacklist", json={"id_number": NUMBER, "source": "platform",
                                               "reason": "x"})
        assert r.status_code == 403


def test_renewing_an_own_ban_never_shortens_it(server: Server):
    number = RENEWED
    police = server.client(server.seed.police_token)
    with police:
        first = P.BlacklistEntryWire.model_validate(police.post("/v1/blacklist", json={
            "id_number": number, "reason": "第一次", "days": 200}).json())
        _, created_by = _entry(server, first.entry_id)
        r = police.post("/v1/blacklist", json={"id_number": number, "source": "police",
                                               "reason": "再犯", "days": 1})
        assert r.status_code == 200, r.text
        renewed = P.BlacklistEntryWire.model_validate(r.json())
        assert renewed.entry_id == first.entry_id and renewed.version > first.version
        assert renewed.valid_to == first.valid_to and renewed.valid_from == first.valid_from
        assert _entry(server, first.entry_id)[1] == created_by
        longer = P.BlacklistEntryWire.model_validate(police.post("/v1/blacklist", json={
            "id_number": number, "reason": "再犯", "days": 400}).json())
        assert longer.valid_to - first.valid_from > timedelta(days=399)
        assert police.delete(f"/v1/blacklist/{first.entry_id}").status_code == 200


def test_desks_get_every_owners_entry_of_one_person(server: Server):
    number = BOTH
    with server.client(server.seed.police_token) as police, \
            server.client(server.seed.admin_token) as booking:
        a = police.post("/v1/blacklist", json={"id_number": number, "reason": "a"}).json()
        b = booking.post("/v1/blacklist", json={"id_number": number, "reason": "b"}).json()
        assert booking.delete(f"/v1/blacklist/{b['entry_id']}").status_code == 200
    with server.client(server.desk_tokens["desk-01"]) as desk:
        head = P.BlacklistDelta.model_validate(desk.get("/v1/blacklist", params={
            "since": 0, "limit": P.MAX_PAGE}).json())
    mine = {e.entry_id: e for e in head.entries if e.id_hash == a["id_hash"]}
    assert set(mine) == {a["entry_id"], b["entry_id"]}
    assert not mine[a["entry_id"]].deleted and mine[b["entry_id"]].deleted


def test_revealing_a_plaintext_number_is_audited(server: Server):
    from desk_platform.audit import Audit

    entry_id = server.seed.blacklist_entry_ids[0]
    audit = Audit(server.platform().db)
    before = len(audit.entries(action="blacklist.reveal", limit=100000))
    with server.client(server.seed.police_token) as police:
        r = police.get(f"/v1/blacklist/{entry_id}/plain")
        assert r.status_code == 200
        number = r.json()["id_number"]
        assert police.get("/v1/blacklist/BLNOSUCHENTRY/plain").status_code == 404
        whoami = police.get("/v1/whoami").json()
    rows = audit.entries(action="blacklist.reveal", limit=100000)
    assert len(rows) == before + 1  # the 404 looked at nothing and left no row
    row = rows[0]
    assert (row.actor, row.role, row.target) == (whoami["name"], "police", entry_id)
    assert row.address == "127.0.0.1" and f"last4={number[-4:]}" in row.detail
    assert number not in f"{row.detail}{row.target}"
    assert r.headers["cache-control"] == "no-store"  # nor kept by a proxy or a client
