"""Hostile use of the platform API, beyond what tests/desk_platform/ already covers (oversized and
deep bodies, schema violations, per-token limits, the role matrix live there): expired, revoked
and replayed credentials, every hospital-scoped path with another hospital's id, SQL-looking
text stored and read back verbatim, per-address limits that a forged X-Forwarded-For does not
escape, odd headers and methods. The real server process on loopback (the platform's fixture)."""

from __future__ import annotations

import json
import re
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from desk_platform import db as T
from sync import protocol as P
from tests.desk_platform.conftest import Server, start_server, stop_server, visit

pytestmark = pytest.mark.xdist_group("hardening-platform")

SQLISH = [
    "'; DROP TABLE visits; --",
    "x' OR '1'='1",
    "1); DELETE FROM tokens WHERE (1=1",
    "\\'; SELECT pg_sleep(5); --",
    "Robert'); UPDATE blacklist SET deleted=1;--",
    '" OR ""="',
    "%' AND 1=0 UNION SELECT token_hash FROM tokens --",
    "张三'); --\u3000全角",
]


def test_expired_token_is_refused(server: Server):
    token, expires = server.platform().enrollment.issue_token(P.Role.SECURITY, "short-lived",
                                                   hospital_id="H001", days=-1 / 86400)
    with server.client(token) as c:
        r = c.get("/v1/whoami")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_revoked_token_replayed_is_refused(server: Server):
    plat = server.platform()
    token, _ = plat.enrollment.issue_token(P.Role.SECURITY, "leaver", hospital_id="H001")
    with server.client(token) as c:
        assert c.get("/v1/whoami").status_code == 200
        assert plat.enrollment.revoke_token(token)
        # The same bearer string captured on the wire and replayed later: refused everywhere.
        for method, path in [("GET", "/v1/whoami"), ("GET", "/v1/keys"),
                             ("GET", "/v1/hospitals/H001/alerts")]:
            r = c.request(method, path)
            assert r.status_code == 401, (path, r.status_code)
        # A near miss of a live token (one character changed) is just another unknown token.
        live = server.desk_tokens["desk-01"]
        forged = live[:-1] + ("A" if live[-1] != "A" else "B")
        assert c.get("/v1/keys", headers={"authorization": f"Bearer {forged}"}).status_code == 401


def test_replayed_visit_with_changed_content_does_not_overwrite(server: Server):
    """A captured batch re-sent with the verdict flipped (same visit_id): stored once, as first
    sent."""
    token = server.desk_tokens["desk-01"]
    v = visit("desk-01", verdict="reject",
              reasons=[{"code": "blacklist_hit", "severity": "block", "rule": "blacklist"}])
    with server.client(token) as c:
        first = P.BatchResult.model_validate(c.post("/v1/visits/batch",
                                                    json={"visits": [v]}).json())
        edited = {**v, "verdict": "admit", "reasons": []}
        again = c.post("/v1/visits/batch", json={"visits": [edited]})
    assert first.stored == 1
    assert again.status_code == 200
    assert P.BatchResult.model_validate(again.json()).stored == 0
    with server.platform().db.read() as conn:
        row = conn.execute(select(T.visits).where(T.visits.c.visit_id == v["visit_id"])).one()
    assert (row.verdict, row.blacklist_hit) == ("reject", True)


def test_every_hospital_scoped_path_refuses_another_hospital(server: Server):
    """Taken from the served OpenAPI document, so a path added later is covered too."""
    with server.client(server.desk_tokens["desk-01"]) as c:
        doc = c.get("/v1/openapi.json").json()
    scoped = [(m.upper(), p, op) for p, ops in doc["paths"].items() if "{hospital_id}" in p
              for m, op in ops.items() if m in ("get", "post", "put", "delete", "patch")]
    assert len(scoped) >= 4, scoped
    wrong = []
    with server.client(server.desk_tokens["desk-01"]) as c:
        for method, path, op in scoped:
            url = path.replace("{hospital_id}", "H002").replace("{desk_id}", "desk-01")
            url = re.sub(r"\{[a-z_]+\}", "A1", url)  # any other id: well-formed, unknown
            params = {q["name"]: _example(q.get("schema", {})) for q in op.get("parameters", [])
                      if q.get("in") == "query" and q.get("required")}
            r = c.request(method, url, params=params, json={} if method != "GET" else None)
            # 403; a POST with an empty body may be refused as invalid first (nothing leaks).
            if not (r.status_code == 403 or (r.status_code == 422 and method != "GET")):
                wrong.append(f"{method} {url}: {r.status_code} {r.text[:100]}")
    assert not wrong, wrong
    # and the desk's own hospital, same paths (reads): allowed or refused by role, never 5xx
    with server.client(server.desk_tokens["desk-01"]) as c:
        for method, path, _ in scoped:
            if method == "GET":
                url = path.replace("{hospital_id}", "H001").replace("{desk_id}", "desk-01")
                if url.endswith(("/alerts/stream", "/alerts/wait")):
                    # the push holds the connection open by design: its status line is enough
                    with c.stream("GET", url, params={"timeout": 0}) as r:
                        assert r.status_code < 500
                    continue
                r = c.get(url)
                assert r.status_code < 500


def _example(schema: dict) -> object:
    """A valid value for a required query parameter of the OpenAPI document."""
    for alt in schema.get("anyOf", [schema]):
        if alt.get("format") == "date":
            return "2026-11-22"
        if alt.get("type") == "integer":
            return 0
    return "x"


def test_sql_looking_text_is_stored_and_read_back_verbatim(server: Server):
    token = server.desk_tokens["desk-01"]
    sent = []
    for i, text in enumerate(SQLISH):
        sent.append(visit("desk-01", clerk=text[:64], booking_id=f"{text[:50]}#{i}",
                          verdict="review",
                          reasons=[{"code": "manual_check", "severity": "warn",
                                    "rule": text[:64]}],
                          override={"by": text[:64], "reason": text, "verdict": "admit"}))
    with server.client(token) as c:
        res = P.BatchResult.model_validate(
            c.post("/v1/visits/batch", json={"visits": sent}).json())
    assert res.stored == len(sent) and res.rejected == 0
    with server.platform().db.read() as conn:
        rows = {r.visit_id: r for r in conn.execute(select(T.visits).where(
            T.visits.c.visit_id.in_([v["visit_id"] for v in sent])))}
        tables_alive = conn.execute(select(T.tokens.c.token_hash).limit(1)).first()
    assert tables_alive is not None
    for v in sent:
        row = rows[v["visit_id"]]
        assert row.clerk == v["clerk"] and row.booking_id == v["booking_id"]
        assert json.loads(row.reasons_json)[0]["rule"] == v["reasons"][0]["rule"]
        assert json.loads(row.override_json)["reason"] == v["override"]["reason"]
    # Blacklist reasons go back out to every desk: read them back through the API.
    with server.client(server.seed.police_token) as police:
        cursor = 0
        with server.client(token) as desk:
            cursor = P.BlacklistDelta.model_validate(desk.get("/v1/blacklist").json()).version
        for i, text in enumerate(SQLISH[:3]):
            number = ("11010119900307" + f"{300 + i:03d}")  # checksum digit added below
            number += _check_digit(number)
            r = police.post("/v1/blacklist", json={"id_number": number, "reason": text,
                                                   "days": 1})
            assert r.status_code == 200, r.text
    with server.client(token) as desk:
        delta = P.BlacklistDelta.model_validate(
            desk.get("/v1/blacklist", params={"since": cursor}).json())
    reasons = {e.reason for e in delta.entries}
    assert set(SQLISH[:3]) <= reasons, reasons


def _check_digit(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


@pytest.fixture(scope="module")
def address_limited(server: Server, tmp_path_factory: pytest.TempPathFactory):
    """A second process on the same database: no per-token limit, 2 requests/s per address.
    The buckets do not depend on the database: SQLite only."""
    if server.backend != "sqlite":
        pytest.skip("rate limiting does not depend on the database backend")
    work = tmp_path_factory.mktemp("addr-limited")
    proc, base = start_server(server.db_url, server.key_file, work / "log", "--no-init",
                              "--rate-token", "0", "--rate-address", "2")
    yield base
    stop_server(proc)


def _from(address: str, base: str, **kw) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=10,
                        transport=httpx.HTTPTransport(local_address=address), **kw)


def test_rate_limit_per_address_not_escaped_by_forwarded_headers(server: Server,
                                                                 address_limited: str):
    tokens = list(server.desk_tokens.values())
    with _from("127.0.0.1", address_limited) as c:
        # Many tokens and forged client addresses from one address: still one bucket.
        codes = [c.get("/v1/keys", headers={
            "authorization": f"Bearer {tokens[i % len(tokens)]}",
            "x-forwarded-for": f"10.0.{i}.{i}", "x-real-ip": f"10.1.{i}.1",
            "forwarded": f"for=10.2.{i}.1"}).status_code for i in range(30)]
        limited = c.get("/v1/health")
    assert codes[0] == 200 and codes.count(429) >= 20, codes
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"] == "rate_limited"
    # Another address is not affected (the whole 127/8 is loopback on Linux).
    with _from("127.0.0.2", address_limited) as other:
        try:
            r = other.get("/v1/health")
        except httpx.ConnectError as exc:  # pragma: no cover - loopback alias missing
            pytest.skip(f"cannot bind 127.0.0.2: {exc}")
    assert r.status_code == 200


def test_odd_headers_and_methods_are_4xx_and_server_stays_up(server: Server):
    u = urlsplit(server.base_url)
    token = server.desk_tokens["desk-02"]
    with server.client(token) as c:
        for headers in ({"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"},
                        {"content-type": "application/json; charset=latin-1"}):
            r = c.post("/v1/visits/batch", content=b"visits=1", headers=headers)
            assert 400 <= r.status_code < 500, (headers, r.status_code)
        r = c.get("/v1/keys", headers={"x-junk": "a" * 60_000})
        assert r.status_code < 500 or r.status_code == 431
        for method in ("PUT", "PATCH", "TRACE", "OPTIONS"):
            r = c.request(method, "/v1/visits/batch")
            assert 400 <= r.status_code < 500, (method, r.status_code)
        r = c.get("/v1/hospitals/H001%00/bookings")
        assert 400 <= r.status_code < 500
        r = c.get("/v1/hospitals/H001/bookings", params={"cursor": "1e999", "limit": "NaN"})
        assert r.status_code == 422
    # raw bytes that are not HTTP at all
    with socket.create_connection((u.hostname, u.port), timeout=5) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n")
        try:
            s.recv(4096)
        except (ConnectionResetError, TimeoutError):
            pass
    assert httpx.get(f"{server.base_url}/v1/health", timeout=5).status_code == 200
    assert server.proc.poll() is None
