"""One ID number, one person, at both ends: the platform (API, CLI, seed, stored rows) keeps the
canonical form the desk hashes, whatever form the number was typed in (issue 18).

Each test runs against the real platform process on SQLite and on PostgreSQL; what the desk
would compute is computed with the desk's own code (``parse_id_number``, ``patient_matches``,
``slow_hash`` of ``IdNumber.number``)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from desk_app.booking import patient_matches
from desk_app.identity import IdKind, parse_id_number
from desk_app.identity.hashing import ScryptParams, b64d, b64e, slow_hash
from desk_app.identity.testing import make_id_number
from sync import convert
from sync import protocol as P

from .conftest import BACKENDS, Server, new_key_file, run_cli, visit

pytestmark = pytest.mark.xdist_group("platform")

_slot = itertools.count(1)

# One person, written five ways; the card at the window says N18.
N15 = make_id_number("110102", date(1962, 7, 14), 315, kind=IdKind.RESIDENT_15)
N18 = parse_id_number(N15).number
FORMS = {
    "15 digits": N15,
    "lower-case x / as on the card": N18.lower(),
    "full-width": "".join(chr(ord(c) + 0xFEE0) for c in N15),
    "spaces": f" {N15[:6]} {N15[6:12]} {N15[12:]} ",
    "hyphens": f"{N18[:6]}-{N18[6:14]}-{N18[14:]}",
}


def desk_config(server: Server) -> P.DeskConfig:
    with server.client(server.desk_tokens["desk-03"]) as c:
        return P.DeskConfig.model_validate(c.get("/v1/desk/config").json())


def desk_blacklist_hash(server: Server, card_number: str) -> str:
    """What the desk computes for the card it reads (desk_app.services.checkin)."""
    cfg = desk_config(server)
    return b64e(slow_hash(parse_id_number(card_number).number, b64d(cfg.blacklist_salt),
                          ScryptParams(**cfg.scrypt.model_dump())))


def book(server: Server, id_number: str) -> P.IssuedBooking:
    start = datetime(2033, 1, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * next(_slot))
    req = {"hospital_id": "H001", "department_code": "IDN", "department_name": "测试",
           "doctor_name": "号码", "slot_start": start.isoformat(), "id_number": id_number,
           "account_id": "acct-idn"}
    with server.client(server.seed.admin_token) as admin:
        r = admin.post("/v1/bookings", json=req)
    assert r.status_code == 200, r.text
    return P.IssuedBooking.model_validate(r.json())


@pytest.mark.parametrize("form", list(FORMS))
def test_a_booking_in_any_form_admits_the_18_digit_card(server: Server, form: str):
    issued = book(server, FORMS[form])
    assert issued.booking.patient_last4 == N18[-4:]
    booking = convert.booking(issued.booking)
    assert patient_matches(booking, N18)  # the card read at the window
    assert not patient_matches(booking, make_id_number("110102", date(1962, 7, 14), 317))
    # the signed QR claims carry the same canonical hash
    claims = json.loads(b64d(issued.token.split(":", 1)[1].split(".")[1]))
    assert claims["pl4"] == N18[-4:] and claims["ph"] == issued.booking.patient_hash


def test_bookings_in_different_forms_are_one_patient(server: Server):
    """The risk counters (patient_key) see one person, not one per spelling."""
    first = book(server, FORMS["15 digits"])
    second = book(server, FORMS["full-width"])
    assert second.booking.risk.patient_bookings_today == first.booking.risk.patient_bookings_today + 1


def test_a_ban_typed_in_15_digits_hits_the_18_digit_card(server: Server):
    number15 = make_id_number("210102", date(1958, 2, 3), 271, kind=IdKind.RESIDENT_15)
    card = parse_id_number(number15).number
    with server.client(server.seed.police_token) as police:
        r = police.post("/v1/blacklist", json={"id_number": number15, "reason": "旧号通报",
                                               "days": 30})
        assert r.status_code == 200, r.text
        entry = P.BlacklistEntryWire.model_validate(r.json())
        # the same ban typed again in another form renews it, no second entry
        hyphens = f"{card[:6]}-{card[6:14]}-{card[14:].lower()}"
        again = police.post("/v1/blacklist", json={"id_number": hyphens, "reason": "旧号通报",
                                                   "days": 30})
        assert again.status_code == 200 and again.json()["entry_id"] == entry.entry_id
        plain = police.get(f"/v1/blacklist/{entry.entry_id}/plain").json()
    assert entry.last4 == card[-4:] and plain["id_number"] == card
    assert entry.id_hash == desk_blacklist_hash(server, card)
    # the desk's blacklist delta carries it, and a visit with that card is a platform-side hit
    with server.client(server.desk_tokens["desk-03"]) as c:
        delta = P.BlacklistDelta.model_validate(
            c.get("/v1/blacklist", params={"since": entry.version - 1}).json())
        assert entry.entry_id in {e.entry_id for e in delta.entries}
        cur = c.get("/v1/hospitals/H001/alerts").json()["cursor"]
        v = visit("desk-03", verdict="reject", presented_id_hash=entry.id_hash,
                  presented_id_last4=card[-4:],
                  reasons=[{"code": "blacklisted", "severity": "block", "rule": "blacklist"}])
        assert c.post("/v1/visits/batch", json={"visits": [v]}).status_code == 200
        alerts = P.AlertsDelta.model_validate(
            c.get("/v1/hospitals/H001/alerts", params={"cursor": cur}).json()).alerts
    assert [a.visit_ids for a in alerts if a.kind == P.AlertKind.BLACKLIST_HIT] == [[v["visit_id"]]]


@pytest.mark.parametrize(("text", "reason"), [
    ("110102196207143151", "checksum"), ("1101021962071431", "format"),
    ("110102620230315", "date"), ("ABCDEFGHIJKLMNO", "format"),
])
def test_a_number_that_is_not_one_is_refused_without_echoing_it(server: Server, text: str,
                                                               reason: str):
    with server.client(server.seed.police_token) as police:
        r = police.post("/v1/blacklist", json={"id_number": text, "reason": "x", "days": 1})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert "id_number" in r.json()["detail"] and f"({reason})" in r.json()["detail"]
    assert text not in r.text


def test_cli_takes_every_form(server: Server, tmp_path):
    number15 = make_id_number("320102", date(1966, 9, 9), 181, kind=IdKind.RESIDENT_15)
    card = parse_id_number(number15).number
    wide = "".join(chr(ord(c) + 0xFEE0) for c in number15)
    out = server.cli("blacklist", "add", wide, "--source", "platform", "--reason", "CLI 旧号")
    entry_id = out.stdout.split()[0]
    assert f"****{card[-4:]}" in out.stderr
    found = server.platform().blacklist.find(card)
    assert [r.entry.entry_id for r in found] == [entry_id]
    assert found[0].entry.id_hash == desk_blacklist_hash(server, card)
    # removed by the number in another form (the police's list has 18 digits)
    assert entry_id in server.cli("blacklist", "remove", card.lower()).stdout
    bad = server.cli("blacklist", "add", "110102196609091811", "--source", "platform",
                     "--reason", "x", check=False)
    assert bad.returncode == 1 and "check digit" in bad.stderr
    assert "110102196609091811" not in bad.stderr + bad.stdout
    start = datetime(2034, 1, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * next(_slot))
    args = ("issue-booking", "--hospital", "H001", "--department-code", "CLI",
            "--department-name", "测试", "--doctor", "命令行", "--slot-start", start.isoformat(),
            "--account", "acct-cli", "--png", str(tmp_path / "b.png"), "--id-number")
    bad = server.cli(*args, "110102 19660909 1812", check=False)
    assert bad.returncode == 1 and "check digit" in bad.stderr
    assert "1966090918" not in bad.stderr.replace(" ", "") + bad.stdout
    booked = server.cli(*args, number15)
    token = booked.stdout.split()[0]
    claims = json.loads(b64d(token.split(":", 1)[1].split(".")[1]))
    assert claims["pl4"] == card[-4:]
    assert b64e(slow_hash(card, b64d(claims["ps"]))) == claims["ph"]


def test_seeded_demo_patients_of_the_old_format(server: Server):
    """The demo's legacy_15_* patients: booked / banned under the 15-digit form, card 18."""
    plat = server.platform()
    booked = server.seed.patient("legacy_15_booked")
    b = convert.booking(plat.bookings.get(booked.booking_id)[0])
    assert len(booked.id_number) == 18 and patient_matches(b, booked.id_number)
    banned = server.seed.patient("legacy_15_blacklisted")
    hits = [r for r in plat.blacklist.find(banned.id_number) if not r.entry.deleted]
    assert [r.entry.source for r in hits] == [P.BlacklistSource.POLICE]


@pytest.mark.parametrize("backend", BACKENDS)
def test_init_repairs_bans_stored_by_an_older_platform(backend: str, make_db, tmp_path):
    """A blacklist entry stored as typed (15 digits, as before 2026-12) is rebuilt under the
    canonical hash by ``desk-platform init``: the old entry becomes a tombstone for the desks,
    the new one keeps source, reason and period; a second run changes nothing."""
    from desk_platform import db as T
    from desk_platform.db import Database, next_seq
    from desk_platform.secrets import load_secrets
    from desk_platform.service import Platform

    db_url, key = make_db(backend), new_key_file(tmp_path)
    run_cli("init", "--db", db_url, "--key-file", str(key))
    plat = Platform(Database(db_url, pool_size=2), load_secrets(db_url, key))
    try:
        legacy15 = make_id_number("440106", date(1971, 1, 2), 95, kind=IdKind.RESIDENT_15)
        merged15 = make_id_number("440106", date(1973, 3, 4), 97, kind=IdKind.RESIDENT_15)
        card, merged_card = (parse_id_number(n).number for n in (legacy15, merged15))
        now = datetime.now(UTC).replace(microsecond=0)
        # what an older platform stored: the number as typed, hashed as typed
        with plat.db.write() as conn:
            for entry_id, number, days in (("BLOLD1", legacy15, 60), ("BLOLD2", merged15, 90)):
                conn.execute(insert(T.blacklist).values(
                    entry_id=entry_id, id_hash=b64e(slow_hash(number, plat.blacklist_salt,
                                                              plat.scrypt)),
                    last4=number[-4:], source="police", reason=f"old {entry_id}",
                    valid_from=now, valid_to=now + timedelta(days=days),
                    version=next_seq(plat.db, conn, "blacklist"), deleted=False,
                    id_number_enc=plat.secrets.encrypt(number.encode()), created_by="old",
                    updated_at=now))
            # a row the repair cannot read (bench data, another key): left as it is
            conn.execute(insert(T.blacklist).values(
                entry_id="BLJUNK", id_hash="junk-hash-0000000000", last4="0000",
                source="platform", reason="junk", valid_from=now,
                valid_to=now + timedelta(days=1), version=next_seq(plat.db, conn, "blacklist"),
                deleted=False, id_number_enc=b"-", created_by="bench", updated_at=now))
            conn.execute(T.meta.delete().where(T.meta.c.key == "id_form"))
        # the same person was also banned later under the 18-digit form, for a shorter time
        short = plat.blacklist.add(merged_card, source=P.BlacklistSource.POLICE, reason="new",
                                   days=10, created_by="police")
        assert not [r for r in plat.blacklist.find(card) if not r.entry.deleted]
        head = plat.blacklist.delta(0, 1000).version

        run_cli("init", "--db", db_url, "--key-file", str(key))

        delta = plat.blacklist.delta(head, 1000)
        by_id = {e.entry_id: e for e in delta.entries}
        assert by_id["BLOLD1"].deleted and by_id["BLOLD2"].deleted and "BLJUNK" not in by_id
        (rebuilt,) = [r.entry for r in plat.blacklist.find(card)]
        assert rebuilt.entry_id not in ("BLOLD1", "BLOLD2") and not rebuilt.deleted
        assert (rebuilt.reason, rebuilt.last4) == ("old BLOLD1", card[-4:])
        assert rebuilt.valid_to == now + timedelta(days=60)
        assert rebuilt.id_hash == b64e(slow_hash(card, plat.blacklist_salt, plat.scrypt))
        assert plat.blacklist.reveal(rebuilt.entry_id).id_number == card
        (kept,) = [r.entry for r in plat.blacklist.find(merged_card)]
        assert kept.entry_id == short.entry_id and kept.valid_to == now + timedelta(days=90)
        with plat.db.read() as conn:
            assert conn.execute(select(T.meta.c.value).where(T.meta.c.key == "id_form")
                                ).scalar() == "canonical-2026-12"
        run_cli("init", "--db", db_url, "--key-file", str(key))
        assert plat.blacklist.delta(delta.version, 1000).entries == []
    finally:
        plat.db.close()


def test_the_forms_above_are_one_person():
    assert {parse_id_number(t).number for t in FORMS.values()} == {N18}
    assert len({parse_id_number(t).kind for t in FORMS.values()}) == 2  # 15- and 18-digit
