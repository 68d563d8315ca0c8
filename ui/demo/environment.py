"""The demo's world: the reference platform on loopback with a seeded SQLite database, and a
desk data folder enrolled with it. Everything lives in one temporary folder.

Seeding uses the platform's own ``seed_demo`` (a hospital, departments, doctors, today's
bookings, a police and a platform blacklist entry, a cancel-and-rebook booking) plus a few more
ordinary bookings, one per scenario that needs a fresh one.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from desk_app.identity.testing import make_id_number
from sync import protocol as P
from sync.loopback import ServerProcess, prepare_platform
from sync.server.seed import SeedResult, seed_demo

log = logging.getLogger(__name__)

HOSPITAL = "H001"
DESK = "desk-01"

#: Extra ordinary patients: (key, name, id number). One booking each.
EXTRA_PATIENTS = (
    ("p_impostor_face", "孙丽", make_id_number("110105", datetime(1975, 4, 2).date(), 31, sex="F")),
    ("p_forged", "马超", make_id_number("110108", datetime(1980, 6, 9).date(), 41, sex="M")),
    ("p_twice", "朱红", make_id_number("310101", datetime(1969, 9, 9).date(), 52, sex="F")),
    ("p_wrong_card_holder", "何平", make_id_number("440103", datetime(1987, 1, 23).date(), 63,
                                                   sex="M")),
    ("p_photo_attack", "冯婷", make_id_number("110106", datetime(1984, 5, 20).date(), 74,
                                             sex="F")),
    ("p_offline_1", "郭强", make_id_number("120103", datetime(1972, 3, 3).date(), 71, sex="M")),
    ("p_offline_2", "林霞", make_id_number("350102", datetime(1983, 8, 8).date(), 82, sex="F")),
    ("p_offline_3", "罗军", make_id_number("420106", datetime(1990, 12, 1).date(), 93, sex="M")),
)


@dataclass(frozen=True)
class DemoPatient:
    key: str
    name: str
    id_number: str
    booking_id: str | None
    token: str | None
    status: str | None = None


@dataclass
class DemoEnvironment:
    root: Path
    seed: SeedResult
    server: ServerProcess
    patients: dict[str, DemoPatient] = field(default_factory=dict)
    own_root: bool = True

    @property
    def desk_dir(self) -> Path:
        return self.root / "desk"

    @property
    def platform_url(self) -> str:
        return self.server.url

    @property
    def enrollment_code(self) -> str:
        return self.seed.enrollment_codes[DESK]

    @classmethod
    def create(cls, root: Path | None = None) -> DemoEnvironment:
        own = root is None
        root = Path(root or tempfile.mkdtemp(prefix="desk-demo-"))
        (root / "platform").mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{root / 'platform' / 'platform.sqlite3'}"
        key_file = root / "platform" / "secrets.json"
        seed = seed_demo(db_url, root / "platform", hospital_id=HOSPITAL, desks=(DESK, "desk-02"),
                         key_file=str(key_file))
        patients = {p.scenario: DemoPatient(p.scenario, p.name, p.id_number, p.booking_id,
                                            p.token, p.status) for p in seed.patients}
        patients.update(_book_extra(db_url, key_file))
        server = ServerProcess(db_url, key_file, log_file=root / "platform" / "server.log")
        server.start()
        log.info("demo platform on %s (data in %s)", server.url, root)
        return cls(root=root, seed=seed, server=server, patients=patients, own_root=own)

    def stored_visit_ids(self, visit_ids: list[str]) -> dict[str, int]:
        """How many times each visit is stored on the platform (read from its database)."""
        from sync.server import db as T
        from sync.server.db import Database

        db = Database(self.seed.db_url)
        try:
            with db.read() as conn:
                rows = conn.execute(select(T.visits.c.visit_id).where(
                    T.visits.c.visit_id.in_(visit_ids))).scalars().all()
        finally:
            db.close()
        return {v: rows.count(v) for v in visit_ids}

    def platform_visit(self, visit_id: str) -> dict[str, object] | None:
        """The platform's row for one visit (verdict, reasons, offline, conflict ...)."""
        import json

        from sync.server import db as T
        from sync.server.db import Database

        db = Database(self.seed.db_url)
        try:
            with db.read() as conn:
                row = conn.execute(select(T.visits).where(
                    T.visits.c.visit_id == visit_id)).mappings().first()
        finally:
            db.close()
        if row is None:
            return None
        out = dict(row)
        out["reasons"] = [r["code"] for r in json.loads(out.pop("reasons_json"))]
        return out

    def close(self) -> None:
        self.server.stop()
        if self.own_root:
            shutil.rmtree(self.root, ignore_errors=True)


def _book_extra(db_url: str, key_file: Path) -> dict[str, DemoPatient]:
    platform = prepare_platform(db_url, key_file)
    now = datetime.now(UTC).replace(microsecond=0)
    first = now + timedelta(minutes=15 - now.minute % 15, seconds=-now.second)
    starts = [first + timedelta(minutes=15 * i) for i in range(len(EXTRA_PATIENTS))]
    platform.open_slots(HOSPITAL, "DER", "孙立", starts, 15, released_at=now - timedelta(hours=20))
    out = {}
    for (key, name, number), start in zip(EXTRA_PATIENTS, starts, strict=True):
        issued = platform.book(P.BookingRequest(
            hospital_id=HOSPITAL, department_code="DER", department_name="皮肤科",
            doctor_name="孙立", slot_start=start, slot_minutes=15, id_number=number,
            account_id=f"acct-{key}"))
        out[key] = DemoPatient(key, name, number, issued.booking.booking_id, issued.token,
                               "active")
    platform.db.close()
    return out
