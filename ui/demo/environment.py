"""The demo's world: the reference platform on loopback with a seeded SQLite database, and a
desk data folder enrolled with it. Everything lives in one temporary folder.

Seeding uses the platform's own ``seed_demo`` (a hospital, departments, doctors, today's
bookings, a police and a platform blacklist entry, a cancel-and-rebook booking) plus a few more
ordinary bookings, one per scenario that needs a fresh one. A patient whose booking was used up
(admitted) gets a new identity and booking when their scenario is played again
(:meth:`DemoEnvironment.fresh_patient`).
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from desk_app.identity.testing import make_id_number
from desk_platform.seed import SeedResult, seed_demo
from sync import protocol as P
from sync.loopback import ServerProcess, prepare_platform

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
    ("p_relative", "邓志刚", make_id_number("320102", datetime(1978, 5, 17).date(), 15, sex="M")),
    ("p_printed_card", "钱峰", make_id_number("110102", datetime(1979, 5, 20).date(), 17, sex="M")),
    ("p_no_decoder", "赵敏", make_id_number("110106", datetime(1992, 2, 14).date(), 28, sex="F")),
    ("p_camera_card", "周洋", make_id_number("110107", datetime(1984, 10, 30).date(), 35,
                                             sex="M")),
)
#: Doctors whose slots fresh bookings take, 8 quarter hours each (the demo's extra department).
FRESH_DOCTORS = ("周敏", "吴刚", "郑华", "王芳", "冯涛", "陈静")
SLOTS_PER_DOCTOR = 8


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
    _fresh: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

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
        key_file = root / "platform" / "secrets.json"  # (fresh_patient reads it there too)
        seed = seed_demo(db_url, root / "platform", hospital_id=HOSPITAL, desks=(DESK, "desk-02"),
                         key_file=str(key_file))
        patients = {p.scenario: DemoPatient(p.scenario, p.name, p.id_number, p.booking_id,
                                            p.token, p.status) for p in seed.patients}
        patients.update(_book_extra(db_url, key_file))
        server = ServerProcess(db_url, key_file, log_file=root / "platform" / "server.log")
        server.start()
        log.info("demo platform on %s (data in %s)", server.url, root)
        return cls(root=root, seed=seed, server=server, patients=patients, own_root=own)

    def fresh_patient(self, key: str) -> DemoPatient:
        """The patient ``key`` again as a new made-up person (same name, birth date, sex and
        region; another ID number) with a new ordinary booking, so that a scenario whose
        booking was used up plays as the first time. Books on the platform's database directly;
        the desk learns of it from the token and its next sync."""
        with self._lock:
            n = next(self._fresh)
            old = self.patients[key]
            number = make_id_number(old.id_number[:6], datetime.strptime(
                old.id_number[6:14], "%Y%m%d").date(), 100 + n % 900,
                sex="M" if int(old.id_number[16]) % 2 else "F")
            platform = prepare_platform(self.seed.db_url, self.root / "platform" / "secrets.json")
            try:
                now = datetime.now(UTC).replace(microsecond=0)
                slot = n - 1
                doctor = FRESH_DOCTORS[(slot // SLOTS_PER_DOCTOR) % len(FRESH_DOCTORS)]
                start = _first_slot(now) + timedelta(minutes=15 * (slot % SLOTS_PER_DOCTOR))
                if slot // SLOTS_PER_DOCTOR >= len(FRESH_DOCTORS):
                    start += timedelta(minutes=5 * (slot // (SLOTS_PER_DOCTOR * len(FRESH_DOCTORS))))
                platform.bookings.open_slots(HOSPITAL, "DER", doctor, [start], 15,
                                    released_at=now - timedelta(hours=20))
                fresh = _book(platform, key, old.name, number, doctor, start, f"{key}-{n}")
            finally:
                platform.db.close()
            self.patients[key] = fresh
            log.info("demo: %s booked again as a new patient", key)
            return fresh

    def stored_visit_ids(self, visit_ids: list[str]) -> dict[str, int]:
        """How many times each visit is stored on the platform (read from its database)."""
        from desk_platform import db as T
        from desk_platform.db import Database

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

        from desk_platform import db as T
        from desk_platform.db import Database

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


def _first_slot(now: datetime) -> datetime:
    return now + timedelta(minutes=15 - now.minute % 15, seconds=-now.second)


# Every extra patient's slot must start within the two hours before which check-in opens
# (policy.checkin_early_minutes = 120): the first slot is up to 15 minutes ahead, so the slots
# share the next 100 minutes, at most 10 minutes each, however many scenarios there are.
EXTRA_SLOT_MINUTES = max(1, min(10, 100 // len(EXTRA_PATIENTS)))


def _book(platform, key: str, name: str, number: str, doctor: str,  # noqa: ANN001
          start: datetime, account: str, minutes: int = 15) -> DemoPatient:
    issued = platform.bookings.book(P.BookingRequest(
        hospital_id=HOSPITAL, department_code="DER", department_name="皮肤科",
        doctor_name=doctor, slot_start=start, slot_minutes=minutes, id_number=number,
        account_id=f"acct-{account}"))
    return DemoPatient(key, name, number, issued.booking.booking_id, issued.token, "active")


def _book_extra(db_url: str, key_file: Path) -> dict[str, DemoPatient]:
    platform = prepare_platform(db_url, key_file)
    now = datetime.now(UTC).replace(microsecond=0)
    first = _first_slot(now)
    starts = [first + timedelta(minutes=EXTRA_SLOT_MINUTES * i) for i in range(len(EXTRA_PATIENTS))]
    platform.bookings.open_slots(HOSPITAL, "DER", "孙立", starts, EXTRA_SLOT_MINUTES,
                        released_at=now - timedelta(hours=20))
    out = {key: _book(platform, key, name, number, "孙立", start, key, EXTRA_SLOT_MINUTES)
           for (key, name, number), start in zip(EXTRA_PATIENTS, starts, strict=True)}
    platform.db.close()
    return out
