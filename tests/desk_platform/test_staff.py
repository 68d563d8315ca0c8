"""Staff accounts on the platform: creation rules, sign-in and lockout, the desks' delta, and the
``desk-platform staff`` commands as an administrator types them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from desk_platform import db as T
from desk_platform.db import Database, migrate
from desk_platform.errors import NotFound, Unauthorized
from desk_platform.staff import MAX_FAILURES, Staff, StaffRole

from .conftest import BACKENDS, ROOT, new_key_file

pytestmark = pytest.mark.xdist_group("platform")

# Cheap argon2 parameters: the tests check the rules, not the cost.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(params=BACKENDS)
def staff(request: pytest.FixtureRequest, make_db):
    db = Database(make_db(request.param), pool_size=2)
    migrate(db)
    yield Staff(db, hasher=FAST)
    db.close()


def test_accounts_follow_the_role_rules(staff: Staff):
    clerk = staff.add("Li.Na", "李娜", "clerk", "correct horse", hospital_id="H001")
    assert (clerk.username, clerk.role, clerk.hospital_id, clerk.active) == (
        "li.na", StaffRole.CLERK, "H001", True)
    with pytest.raises(ValueError, match="needs"):
        staff.add("wang", "王", "security", "correct horse")  # a guard belongs to a hospital
    with pytest.raises(ValueError, match="has no"):
        staff.add("zhao", "赵警官", "police", "correct horse", hospital_id="H001")
    with pytest.raises(ValueError, match="8 characters"):
        staff.add("zhou", "周", "admin", "short", hospital_id="H001")
    with pytest.raises(ValueError, match="taken"):
        staff.add("LI.NA", "李娜", "clerk", "correct horse", hospital_id="H002")
    with pytest.raises(ValueError, match="user name"):
        staff.add("a b", "x", "commission", "correct horse")
    with pytest.raises(NotFound):
        staff.set_active("nobody", False)


def test_sign_in_lockout_and_disable(staff: Staff):
    staff.add("guard1", "保安甲", "security", "correct horse", hospital_id="H001")
    assert staff.authenticate("guard1", "correct horse").role is StaffRole.SECURITY
    for _ in range(MAX_FAILURES):
        with pytest.raises(Unauthorized):
            staff.authenticate("guard1", "wrong password")
    with pytest.raises(Unauthorized):  # locked: even the right password is refused
        staff.authenticate("guard1", "correct horse")
    staff.set_password("guard1", "another good one", actor="admin1")  # unlocks
    assert staff.authenticate("guard1", "another good one").username == "guard1"
    staff.set_active("guard1", False, actor="admin1")
    with pytest.raises(Unauthorized):
        staff.authenticate("guard1", "another good one")
    with pytest.raises(Unauthorized):
        staff.authenticate("nobody", "another good one")


class CountingHasher(PasswordHasher):
    """argon2 as the platform uses it, counting the checks against real (not dummy) hashes."""

    def __init__(self) -> None:
        super().__init__(time_cost=2, memory_cost=8192, parallelism=1)  # a few ms: a real race
        self.dummy = ""
        self.checked = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        if hash != self.dummy:
            with self._lock:
                self.checked += 1
        return super().verify(hash, password)


def guess_in_parallel(staff: Staff, username: str, passwords: list[str]) -> None:
    """Every password at once from its own thread; each one must be refused."""
    start = threading.Barrier(len(passwords))

    def guess(password: str) -> None:
        start.wait()
        with pytest.raises(Unauthorized):
            staff.authenticate(username, password)

    with ThreadPoolExecutor(len(passwords)) as pool:
        list(pool.map(guess, passwords))


def test_parallel_wrong_guesses_count_one_each_and_five_lock(staff: Staff):
    """Guesses sent at once (threads, the PostgreSQL pool) each count: four leave four failures,
    and of thirty more only the fifth is checked before the lock, which holds even against the
    right password; a lock run out gives five tries again."""
    hasher = CountingHasher()
    staff = Staff(staff.db, hasher=hasher)
    hasher.dummy = staff._dummy
    staff.add("police7", "警官", "police", "right-password-1")
    hasher.checked = 0
    guess_in_parallel(staff, "police7", [f"wrong-{i}" for i in range(MAX_FAILURES - 1)])
    with staff.db.read() as conn:
        row = conn.execute(select(T.staff).where(T.staff.c.username == "police7")).one()
    assert (row.failed_logins, row.locked_until) == (MAX_FAILURES - 1, None)
    guess_in_parallel(staff, "police7", [f"again-{i}" for i in range(30)])
    assert hasher.checked == MAX_FAILURES
    with pytest.raises(Unauthorized):
        staff.authenticate("police7", "right-password-1")
    assert hasher.checked == MAX_FAILURES  # locked: the right password is not even checked
    with staff.db.write() as conn:  # the quarter of an hour has passed
        conn.execute(update(T.staff).where(T.staff.c.username == "police7").values(
            locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    guess_in_parallel(staff, "police7", [f"later-{i}" for i in range(MAX_FAILURES - 1)])
    assert staff.authenticate("police7", "right-password-1").username == "police7"


def test_desks_pull_their_hospitals_changes_by_version(staff: Staff):
    staff.add("c1", "甲", "clerk", "password-1", hospital_id="H001")
    staff.add("c2", "乙", "clerk", "password-2", hospital_id="H002")
    staff.add("p1", "丙", "police", "password-3")
    first = staff.delta("H001")
    assert [m.username for m, _ in first.members] == ["c1"]
    assert FAST.verify(first.members[0][1], "password-1")
    assert staff.delta("H001", first.version).members == []
    staff.set_active("c1", False)
    again = staff.delta("H001", first.version)
    assert [(m.username, m.active) for m, _ in again.members] == [("c1", False)]
    assert again.version > first.version


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_staff_commands(backend: str, make_db, tmp_path):
    db_url, key = make_db(backend), new_key_file(tmp_path)

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "desk_platform", "staff", *args, "--db", db_url,
                               "--key-file", str(key)], input=stdin, text=True,
                              capture_output=True, cwd=ROOT, timeout=120)

    r = cli("add", "nurse1", "--name", "王芳", "--role", "clerk", "--hospital", "H001",
            "--password-stdin", stdin="a good password\n")
    assert r.returncode == 0, r.stderr
    r = cli("add", "cop", "--name", "赵警官", "--role", "police", "--hospital", "H001",
            "--password-stdin", stdin="a good password\n")
    assert r.returncode == 1 and "has no hospital" in r.stderr and "Traceback" not in r.stderr
    assert cli("disable", "nurse1").returncode == 0
    rows = [json.loads(line) for line in cli("list", "--json").stdout.splitlines()]
    assert [(x["username"], x["active"]) for x in rows] == [("nurse1", False)]
    r = cli("disable", "ghost")
    assert r.returncode == 1 and "no staff account" in r.stderr
