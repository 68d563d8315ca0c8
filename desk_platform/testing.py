"""The platform's side of the loopback tools: the desk's demo, ``desk-app bench sync`` and the
tests start the platform as a separate program and drive it through ``desk-platform testing
...`` (JSON in on stdin, JSON out on stdout; :func:`desk_platform.cli` wires the commands to the
functions here) and its HTTP API. No desk package imports this module; the platform's own tests
call it directly.

Everything here works on the platform's database directly, as the administrative commands do:
preparing a database, seeding the demo's morning, booking the demo's extra patients, enrolling
many bench desks at once (``/v1/enroll`` is rate-limited per address against code guessing),
seeding a big blacklist, and reading back what was stored.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from desk_app.identity.hashing import b64e
from desk_platform import db as T
from desk_platform.db import Database, migrate, next_seq
from desk_platform.secrets import load_secrets
from desk_platform.seed import SeedResult
from desk_platform.service import Platform
from sync import protocol as P


def prepare_platform(db_url: str, key_file: str | os.PathLike[str] | None,
                     *, pool_size: int = 4) -> Platform:
    """Migrate and initialize the platform database (creating the data key file if needed);
    the platform's service object for admin work done directly, not over HTTP. The caller
    closes ``platform.db``."""
    db = Database(db_url, pool_size=pool_size)
    migrate(db)
    platform = Platform(db, load_secrets(db_url, key_file, create=True))
    platform.initialize()
    return platform


def seed_json(res: SeedResult) -> dict[str, Any]:
    """Everything the demo needs from :func:`desk_platform.seed.seed_demo` (made-up people:
    their ID numbers and names are demo data, which is why the demo may print them)."""
    return {
        "db_url": res.db_url, "hospital_id": res.hospital_id,
        "hospital_name": res.hospital_name, "other_hospital_id": res.other_hospital_id,
        "patients": [{"scenario": p.scenario, "name": p.name, "id_number": p.id_number,
                      "booking_id": p.booking_id, "reference": p.reference, "token": p.token,
                      "qr_png": str(p.qr_png) if p.qr_png else None, "status": p.status}
                     for p in res.patients],
        "blacklist_entry_ids": list(res.blacklist_entry_ids),
        "enrollment_codes": res.enrollment_codes, "admin_token": res.admin_token,
        "police_token": res.police_token, "security_token": res.security_token,
        "key_ids": list(res.key_ids),
    }


def book_patients(platform: Platform, hospital_id: str,
                  bookings: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Open one slot per booking (released at ``released_at``, default 20 hours ago) and book
    it. Each booking: key, department_code, department_name, doctor, slot_start (ISO),
    slot_minutes, id_number, account. Returns key -> booking_id, reference, token, status."""
    out: dict[str, dict[str, Any]] = {}
    now = datetime.now(UTC).replace(microsecond=0)
    for b in bookings:
        start = datetime.fromisoformat(b["slot_start"])
        released = (datetime.fromisoformat(b["released_at"]) if b.get("released_at")
                    else now - timedelta(hours=20))
        platform.bookings.open_slots(hospital_id, b["department_code"], b["doctor"], [start],
                                     int(b["slot_minutes"]), released_at=released)
        issued = platform.bookings.book(P.BookingRequest(
            hospital_id=hospital_id, department_code=b["department_code"],
            department_name=b["department_name"], doctor_name=b["doctor"], slot_start=start,
            slot_minutes=int(b["slot_minutes"]), id_number=b["id_number"],
            account_id=b["account"]))
        out[b["key"]] = {"booking_id": issued.booking.booking_id,
                         "reference": issued.booking.reference, "token": issued.token,
                         "status": issued.booking.status.value}
    return out


def enroll_desks(platform: Platform, desks: Iterable[tuple[str, str]]) -> dict[str, str]:
    """(hospital_id, desk_id) pairs enrolled at once; desk_id -> desk token."""
    tokens = {}
    for hospital_id, desk_id in desks:
        code = platform.enrollment.create_code(hospital_id, desk_id, created_by="testing").code
        tokens[desk_id] = platform.enrollment.enroll(P.EnrollRequest(code=code)).token
    return tokens


def seed_blacklist(platform: Platform, n: int) -> None:
    """N entries straight into the platform's blacklist table (the scrypt hash of a real ID costs
    60 ms; desks cannot tell random bytes from it)."""
    now = datetime.now(UTC)
    rng = random.Random(1)
    db = platform.db
    chunk = 5000
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        with db.write() as conn:
            first = next_seq(db, conn, "blacklist", k)
            conn.execute(T.blacklist.insert(), [dict(
                entry_id=f"BLB{start + i:010d}", id_hash=b64e(rng.randbytes(32)),
                last4=f"{rng.randrange(10000):04d}", source="platform", reason="bench",
                valid_from=now - timedelta(days=1), valid_to=now + timedelta(days=90),
                version=first + i, deleted=False, id_number_enc=b"-", created_by="bench",
                updated_at=now) for i in range(k)])


def stored_visits(db: Database, ids: Iterable[str]) -> dict[str, int]:
    """visit_id -> rows on the platform, for the ids given that are stored."""
    wanted = sorted(set(ids))
    out: dict[str, int] = {}
    with db.read() as conn:
        for i in range(0, len(wanted), 500):
            for vid in conn.execute(select(T.visits.c.visit_id).where(
                    T.visits.c.visit_id.in_(wanted[i:i + 500]))).scalars():
                out[vid] = out.get(vid, 0) + 1
    return out


def visit_row(db: Database, visit_id: str) -> dict[str, Any] | None:
    """The platform's row for one visit (verdict, reasons as codes, offline, conflict ...),
    as JSON values."""
    with db.read() as conn:
        row = conn.execute(select(T.visits).where(
            T.visits.c.visit_id == visit_id)).mappings().first()
    if row is None:
        return None
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}
    out["reasons"] = [r["code"] for r in json.loads(out.pop("reasons_json"))]
    return out


def read_request(text: str) -> Any:
    """The JSON a ``testing`` command reads on stdin (empty: {})."""
    return json.loads(text) if text.strip() else {}

