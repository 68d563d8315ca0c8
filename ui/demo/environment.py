"""The demo's world: the reference platform on loopback with a seeded SQLite database, and a
desk data folder enrolled with it. Everything lives in one temporary folder.

The platform is a separate program (``desk-platform``, found by
:meth:`sync.loopback.PlatformProgram.find`: ``--platform-command``, ``$DESK_PLATFORM_COMMAND``,
this interpreter's ``-m desk_platform`` in a source checkout, or ``desk-platform`` on the PATH);
the desk never imports its code. Seeding runs its ``testing seed-demo`` command (a hospital,
departments, doctors, today's bookings, a police and a platform blacklist entry, a
cancel-and-rebook booking) and ``testing book`` for a few more ordinary bookings, one per
scenario that needs a fresh one; then ``serve`` runs its HTTP API. A patient whose booking was
used up (admitted) gets a new identity and booking when their scenario is played again
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
from typing import Any

from desk_app.identity.testing import make_id_number
from sync.loopback import PlatformProgram, ServerProcess

log = logging.getLogger(__name__)

HOSPITAL = "H001"
DESK = "desk-01"

#: Extra ordinary patients: (key, name, id number). One booking each. The number's sex is the
#: sex of the photos each is played with (the desk holds a match that looks the other sex).
EXTRA_PATIENTS = (
    ("p_impostor_face", "孙立", make_id_number("110105", datetime(1975, 4, 2).date(), 31, sex="M")),
    ("p_forged", "马超", make_id_number("110108", datetime(1980, 6, 9).date(), 41, sex="M")),
    ("p_twice", "朱红", make_id_number("310101", datetime(1969, 9, 9).date(), 52, sex="F")),
    ("p_wrong_card_holder", "何平", make_id_number("440103", datetime(1987, 1, 23).date(), 63,
                                                   sex="M")),
    ("p_photo_attack", "冯庭", make_id_number("110106", datetime(1984, 5, 20).date(), 74,
                                             sex="M")),
    ("p_offline_1", "郭强", make_id_number("120103", datetime(1972, 3, 3).date(), 71, sex="M")),
    ("p_offline_2", "林霞", make_id_number("350102", datetime(1983, 8, 8).date(), 82, sex="F")),
    ("p_offline_3", "罗军", make_id_number("420106", datetime(1990, 12, 1).date(), 93, sex="M")),
    ("p_relative", "邓志刚", make_id_number("320102", datetime(1978, 5, 17).date(), 15, sex="M")),
    ("p_printed_card", "钱峰", make_id_number("110102", datetime(1979, 5, 20).date(), 17, sex="M")),
    ("p_no_decoder", "赵明", make_id_number("110106", datetime(1992, 2, 14).date(), 28, sex="M")),
    ("p_camera_card", "周洋", make_id_number("110107", datetime(1984, 10, 30).date(), 35,
                                             sex="M")),
    ("p_two_desks", "韩旭", make_id_number("110105", datetime(1981, 7, 7).date(), 46, sex="M")),
    ("p_override", "曹磊", make_id_number("110108", datetime(1958, 11, 11).date(), 57, sex="M")),
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
    program: PlatformProgram
    seed: dict[str, Any]  # what `desk-platform testing seed-demo` printed
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
        return self.seed["enrollment_codes"][DESK]

    @property
    def db_url(self) -> str:
        return self.seed["db_url"]

    @property
    def key_file(self) -> Path:
        return self.root / "platform" / "secrets.json"

    def _platform(self, *args: str, request: object = None) -> Any:
        """A ``desk-platform testing`` command on the demo's platform database."""
        return self.program.run("testing", *args, "--db", self.db_url, "--key-file",
                                str(self.key_file), request=request)

    @classmethod
    def create(cls, root: Path | None = None, *,
               program: PlatformProgram | None = None) -> DemoEnvironment:
        program = program or PlatformProgram.find()  # before anything is made: a clear refusal
        own = root is None
        root = Path(root or tempfile.mkdtemp(prefix="desk-demo-"))
        (root / "platform").mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{root / 'platform' / 'platform.sqlite3'}"
        key_file = root / "platform" / "secrets.json"
        seed = program.run("testing", "seed-demo", "--db", db_url, "--key-file", str(key_file),
                           "--out", str(root / "platform"), "--hospital", HOSPITAL,
                           "--desk", DESK, "--desk", "desk-02")
        patients = {p["scenario"]: DemoPatient(p["scenario"], p["name"], p["id_number"],
                                               p["booking_id"], p["token"], p["status"])
                    for p in seed["patients"]}
        server = ServerProcess(db_url, key_file, program=program,
                               log_file=root / "platform" / "server.log")
        env = cls(root=root, program=program, seed=seed, server=server, patients=patients,
                  own_root=own)
        env.patients.update(env._book_extra())
        server.start()
        log.info("demo platform on %s (data in %s)", server.url, root)
        return env

    def _book(self, bookings: list[dict[str, Any]]) -> dict[str, DemoPatient]:
        """Open and book one slot for each (key, name, number, doctor, start, account, minutes)
        in the platform's 皮肤科 (the demo's extra department)."""
        now = datetime.now(UTC).replace(microsecond=0)
        request = {"bookings": [{
            "key": b["key"], "department_code": "DER", "department_name": "皮肤科",
            "doctor": b["doctor"], "slot_start": b["start"].isoformat(),
            "slot_minutes": b.get("minutes", 15), "id_number": b["number"],
            "account": f"acct-{b['account']}",
            "released_at": (now - timedelta(hours=20)).isoformat()} for b in bookings]}
        booked = self._platform("book", "--hospital", HOSPITAL, request=request)
        return {b["key"]: DemoPatient(b["key"], b["name"], b["number"],
                                      booked[b["key"]]["booking_id"], booked[b["key"]]["token"],
                                      booked[b["key"]]["status"]) for b in bookings}

    def _book_extra(self) -> dict[str, DemoPatient]:
        now = datetime.now(UTC).replace(microsecond=0)
        first = _first_slot(now)
        return self._book([
            {"key": key, "name": name, "number": number, "doctor": "孙立",
             "start": first + timedelta(minutes=EXTRA_SLOT_MINUTES * i), "account": key,
             "minutes": EXTRA_SLOT_MINUTES}
            for i, (key, name, number) in enumerate(EXTRA_PATIENTS)])

    def fresh_patient(self, key: str) -> DemoPatient:
        """The patient ``key`` again as a new made-up person (same name, birth date, sex and
        region; another ID number) with a new ordinary booking, so that a scenario whose
        booking was used up plays as the first time. Booked by the platform's ``testing book``
        command; the desk learns of it from the token and its next sync."""
        with self._lock:
            n = next(self._fresh)
            old = self.patients[key]
            number = make_id_number(old.id_number[:6], datetime.strptime(
                old.id_number[6:14], "%Y%m%d").date(), 100 + n % 900,
                sex="M" if int(old.id_number[16]) % 2 else "F")
            now = datetime.now(UTC).replace(microsecond=0)
            slot = n - 1
            doctor = FRESH_DOCTORS[(slot // SLOTS_PER_DOCTOR) % len(FRESH_DOCTORS)]
            start = _first_slot(now) + timedelta(minutes=15 * (slot % SLOTS_PER_DOCTOR))
            if slot // SLOTS_PER_DOCTOR >= len(FRESH_DOCTORS):
                start += timedelta(minutes=5 * (slot // (SLOTS_PER_DOCTOR * len(FRESH_DOCTORS))))
            fresh = self._book([{"key": key, "name": old.name, "number": number,
                                 "doctor": doctor, "start": start, "account": f"{key}-{n}"}])[key]
            self.patients[key] = fresh
            log.info("demo: %s booked again as a new patient", key)
            return fresh

    def stored_visit_ids(self, visit_ids: list[str]) -> dict[str, int]:
        """How many times each visit is stored on the platform (its ``testing stored-visits``)."""
        stored = self._platform("stored-visits", request={"visit_ids": visit_ids})
        return {v: int(stored.get(v, 0)) for v in visit_ids}

    def platform_visit(self, visit_id: str) -> dict[str, object] | None:
        """The platform's row for one visit (verdict, reasons, offline, conflict ...)."""
        return self._platform("visit", visit_id)

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
