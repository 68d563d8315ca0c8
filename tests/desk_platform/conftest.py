"""The real platform process on loopback, on SQLite and on PostgreSQL.

One server per database backend per test session (seeded with the demo data), shared by the
modules here; tests that change data use their own ids or move cursors from the current head, so
they do not depend on each other. Every test module puts itself in the xdist group "platform"
(``pytestmark``), so one worker owns the servers.

PostgreSQL: a throwaway database ``plat_<random>`` is created on 127.0.0.1:5432 for the session
and dropped at the end; without a reachable server the PostgreSQL half is skipped with a reason.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from desk_platform.seed import SeedResult, seed_demo

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    backend: str
    db_url: str
    key_file: Path
    base_url: str
    proc: subprocess.Popen[bytes]
    seed: SeedResult
    log: Path
    desk_tokens: dict[str, str]
    _platform: Any = None

    def client(self, token: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=15, **kw)

    def platform(self):  # the same database, in-process, for checking what was stored
        if self._platform is None:
            self._platform = self._make_platform()
        return self._platform

    def _make_platform(self):
        from desk_platform.db import Database
        from desk_platform.secrets import load_secrets
        from desk_platform.service import Platform

        return Platform(Database(self.db_url, pool_size=2),
                        load_secrets(self.db_url, self.key_file))

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``desk-platform ARGS --db URL --key-file K`` (options after the subcommand)."""
        return run_cli(*args, "--db", self.db_url, "--key-file", str(self.key_file), check=check)


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "desk_platform", *args], cwd=ROOT, text=True,
                       capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if check and r.returncode != 0:
        raise AssertionError(f"desk-platform {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r


def start_server(db_url: str, key_file: Path, log: Path, *extra: str
                 ) -> tuple[subprocess.Popen[bytes], str]:
    """The platform in a process of its own, on a free port, once it answers. A port found free
    may be taken before the server binds it (tests run in parallel workers): answering is not
    enough, the answer must come from this process's socket; a server that lost the race is
    started again on another port."""
    for _ in range(3):
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "desk_platform", "serve", "--db", db_url, "--key-file",
                 str(key_file), "--port", str(port), "--log-level", "warning", *extra],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answered = httpx.get(f"{base}/v1/health", timeout=1).status_code == 200
            except httpx.TransportError:
                answered = False
            if answered and _listens(proc.pid, port):
                return proc, base
            time.sleep(0.1)
        if proc.poll() is None:
            stop_server(proc)
            raise AssertionError(f"server did not answer /v1/health:\n{log.read_text()}")
        if "address already in use" not in log.read_text():
            raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text()}")
    raise AssertionError(f"no free port after 3 tries:\n{log.read_text()}")


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` (or a child of it) listens on ``port``."""
    import psutil

    try:
        me = psutil.Process(pid)
        procs = [me, *me.children(recursive=True)]
        return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
                   for p in procs for c in p.net_connections(kind="tcp"))
    except psutil.Error:
        return False


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[Any]:
    """A factory of throwaway PostgreSQL databases, all dropped at the end of the session."""
    import sqlalchemy as sa

    created: list[str] = []
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(exc.orig).__name__})")

    def make() -> str:
        name = f"plat_{secrets.token_hex(6)}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    yield make
    with admin.connect() as conn:
        for name in created:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def make_db(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('platdb') / 'platform.db'}"
        return request.getfixturevalue("pg_databases")()

    return make


def new_key_file(directory: Path) -> Path:
    key = directory / "platform.key"
    key.write_bytes(Fernet.generate_key())
    key.chmod(0o600)
    return key


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest, make_db, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    backend = request.param
    work = tmp_path_factory.mktemp(f"platform-{backend}")
    db_url = make_db(backend)
    key_file = new_key_file(work)
    seed = seed_demo(db_url, work / "out", key_file=str(key_file),
                     desks=("desk-01", "desk-02", "desk-03"))
    log = work / "server.log"
    proc, base = start_server(db_url, key_file, log, "--no-init", "--rate-token", "0",
                              "--rate-address", "0")
    srv = Server(backend, db_url, key_file, base, proc, seed, log, {})
    try:
        for desk, code in seed.enrollment_codes.items():
            r = httpx.post(f"{base}/v1/enroll", json={"code": code}, timeout=10)
            assert r.status_code == 200, r.text
            srv.desk_tokens[desk] = r.json()["token"]
        yield srv
    finally:
        stop_server(proc)
        if srv._platform is not None:
            srv._platform.db.close()


def visit(desk: str, *, hospital: str = "H001", booking_id: str | None = None,
          verdict: str = "admit", reasons: list[dict[str, str]] | None = None,
          **kw: Any) -> dict[str, Any]:
    """A visit record as a desk sends it."""
    return {
        "visit_id": str(uuid.uuid4()), "booking_id": booking_id, "hospital_id": hospital,
        "desk_id": desk, "clerk": "clerk-7", "checked_in_at": datetime.now(UTC).isoformat(),
        "verdict": verdict, "reasons": reasons or [], "face_distance": 0.41,
        "face_outcome": "match", "presented_id_hash": None, "presented_id_last4": "1234",
        "offline": False, "override": None, **kw,
    }
