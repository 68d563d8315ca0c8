"""The real platform as a child process on loopback, for the demo, the sync tests and
``bench sync``.

The platform is a separate program (``desk-platform``, :class:`PlatformProgram`); no desk
package imports its code. Its HTTP API runs as ``desk-platform serve`` (which migrates and
initializes the database first) in its own process group, which can be killed with SIGKILL and
started again on the same port, exactly as a crash would; demo and benchmark data go through its
``testing`` commands.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from desk_app.errors import ConfigError, Text

log = logging.getLogger(__name__)

ENV_COMMAND = "DESK_PLATFORM_COMMAND"  # e.g. "/opt/venv/bin/python -m desk_platform"
PLATFORM_PACKAGE = "desk_platform"  # a module name for `python -m`, never imported here


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PlatformProgramMissing(ConfigError):
    """No reference platform program to start: the installed desk does not carry it."""

    title_text = Text("找不到中心平台程序", "The central platform program is not available")
    default_text = Text(
        "演示和同步基准测试需要参考中心平台程序 desk-platform (在源代码目录中用 "
        "`pip install .[server]` 安装, 或直接从源代码目录运行 `make demo`)。"
        "请用 --platform-command 或环境变量 DESK_PLATFORM_COMMAND 指定它, "
        "例如 \"/path/to/venv/bin/python -m desk_platform\", 或把 desk-platform 放到 PATH 中。",
        "The demo and the sync benchmark need the reference platform program, desk-platform "
        "(installed with `pip install .[server]` from a source checkout, or run `make demo` in "
        "the source checkout). Point at it with --platform-command or the environment variable "
        "DESK_PLATFORM_COMMAND, e.g. \"/path/to/venv/bin/python -m desk_platform\", or put "
        "desk-platform on the PATH.")


class PlatformProgram:
    """The reference platform as a separate program (``desk-platform``): started with
    ``serve`` by :class:`ServerProcess`, and asked for demo and benchmark data with its
    ``testing`` commands (JSON in on stdin, JSON out on stdout). The desk never imports the
    platform's code."""

    def __init__(self, command: list[str], *, cwd: Path | None = None):
        self.command = list(command)
        self.cwd = cwd

    @classmethod
    def find(cls, given: str | None = None) -> PlatformProgram:
        """``given`` (the ``--platform-command`` option), else ``$DESK_PLATFORM_COMMAND``, else
        this interpreter's ``-m desk_platform`` when it can import the platform (a source
        checkout or a venv with ``.[server]``), else ``desk-platform`` on the PATH."""
        text = given or os.environ.get(ENV_COMMAND, "")
        if text.strip():
            return cls(shlex.split(text, posix=os.name != "nt"))
        if not getattr(sys, "frozen", False) and all(
                importlib.util.find_spec(m) is not None for m in ("uvicorn", "fastapi")):
            spec = importlib.util.find_spec(PLATFORM_PACKAGE)
            if spec is not None and spec.origin:
                return cls([sys.executable, "-m", PLATFORM_PACKAGE],
                           cwd=Path(spec.origin).resolve().parent.parent)
        found = shutil.which("desk-platform")
        if found:
            return cls([found])
        raise PlatformProgramMissing(detail="no platform command, module or executable")

    def argv(self, *args: str) -> list[str]:
        return [*self.command, *args]

    def run(self, *args: str, request: object = None, timeout: float = 300.0) -> Any:
        """One ``desk-platform`` command; its stdout parsed as JSON."""
        try:
            done = subprocess.run(
                self.argv(*args), input=json.dumps(request) if request is not None else "",
                capture_output=True, text=True, encoding="utf-8", timeout=timeout,
                cwd=self.cwd, check=False)
        except OSError as exc:
            raise PlatformProgramMissing(detail=f"{self.command[0]}: {exc}") from exc
        if done.returncode != 0:
            raise RuntimeError(f"desk-platform {' '.join(args[:2])} failed with "
                               f"{done.returncode}: {done.stderr.strip()[-2000:]}")
        return json.loads(done.stdout)


class ServerProcess:
    """``desk-platform serve`` on loopback, in its own process group. Rate limits are off: the
    tests and the benchmark measure sync, not the platform's rate limiter."""

    def __init__(self, db_url: str, key_file: str | os.PathLike[str], *, port: int | None = None,
                 workers: int = 1, log_file: Path | None = None,
                 program: PlatformProgram | None = None):
        self.db_url = db_url
        self.key_file = str(key_file)
        self.port = port or free_port()
        self.workers = workers
        self.log_file = log_file
        self.program = program or PlatformProgram.find()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.starts = 0

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        cmd = self.program.argv(
            "serve", "--db", self.db_url, "--key-file", self.key_file, "--host", "127.0.0.1",
            "--port", str(self.port), "--log-level", "warning", "--workers", str(self.workers),
            "--rate-token", "0", "--rate-address", "0")
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            # Its own process group (POSIX) / console group (Windows), so the whole server,
            # workers included, can be stopped or killed at once.
            group = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt"
                     else {"start_new_session": True})
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=self.program.cwd, **group)
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
