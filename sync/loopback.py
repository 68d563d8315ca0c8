"""The real platform as a child process on loopback, for the sync tests and ``bench sync``.

The platform database is prepared in this process (migrations, salt, first signing key) through
the platform's own service; the HTTP API runs in a separate uvicorn process group, which can be
killed with SIGKILL and started again on the same port, exactly as a crash would.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

# Generous limits: the tests and the benchmark measure sync, not the platform's rate limiter.
NO_LIMITS = "100000,100000,100000,100000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_platform(db_url: str, key_file: str | os.PathLike[str]):
    """Migrate and initialize the platform database; the platform's service object for admin
    work (enrollment codes, blacklist, bookings) done directly, not over HTTP."""
    from desk_platform.db import Database, migrate
    from desk_platform.secrets import load_secrets
    from desk_platform.service import Platform

    db = Database(db_url, pool_size=4)
    migrate(db)
    platform = Platform(db, load_secrets(db_url, key_file, create=True))
    platform.initialize()
    return platform


class ServerProcess:
    """``uvicorn`` with the platform app factory, in its own process group."""

    def __init__(self, db_url: str, key_file: str | os.PathLike[str], *, port: int | None = None,
                 workers: int = 1, log_file: Path | None = None, limits: str = NO_LIMITS):
        self.db_url = db_url
        self.key_file = str(key_file)
        self.port = port or free_port()
        self.workers = workers
        self.log_file = log_file
        self.limits = limits
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.starts = 0

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = dict(os.environ, DESK_PLATFORM_DB=self.db_url, DESK_PLATFORM_KEY_FILE=self.key_file,
                   DESK_PLATFORM_LIMITS=self.limits, PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", "uvicorn", "--factory",
               "desk_platform.app:create_app_from_env", "--host", "127.0.0.1",
               "--port", str(self.port), "--log-level", "warning", "--no-access-log",
               "--workers", str(self.workers)]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            # Its own process group (POSIX) / console group (Windows), so the whole server,
            # workers included, can be stopped or killed at once.
            group = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt"
                     else {"start_new_session": True})
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=Path(__file__).resolve().parent.parent, **group)
        finally:
            if self.log_file:
                out.close()  # type: ignore[union-attr]
        self.starts += 1
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"platform process exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass  # not listening yet
            time.sleep(0.05)
        raise TimeoutError(f"platform not ready on {self.url} after {timeout:.0f} s")

    def _signal(self, sig: int) -> None:
        assert self.proc is not None
        if os.name == "nt":  # no process groups to signal: terminate (= kill) the parent
            self.proc.kill()
            return
        os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no flushing, like a power cut."""
        if self.proc is None:
            return
        try:
            self._signal(signal.SIGKILL if os.name != "nt" else signal.SIGTERM)
        except ProcessLookupError:
            pass  # already gone
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            self._signal(signal.SIGTERM)
            self.proc.wait(10)
        except ProcessLookupError:
            pass  # already gone
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL if os.name != "nt" else signal.SIGTERM)
            self.proc.wait(10)
        self.proc = None

    def restart(self, timeout: float = 30.0) -> None:
        self.kill()
        self.start(timeout)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
