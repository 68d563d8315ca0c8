"""The push of live alerts to the desks: long-poll vs server-sent events vs WebSocket.

One platform process (SQLite) serves all three (``benchmarks/push_server.py``: the platform's
own long-poll and event-stream routes plus a WebSocket twin over the same ``AlertWatch``).
``DESKS`` desks of one hospital listen with each transport in turn; one desk then reports
``ALERTS`` suspects, one a second, and every listener's receipt time is taken:

* latency: from the report's answer (the alert is committed) to a listener having parsed the
  alert, median and p95 over all listeners and alerts;
* idle cost: with every listener connected and nothing happening for ``IDLE_S`` seconds, the
  platform process's CPU seconds, its open connections, and the requests a listener makes per
  hour (long-poll: one per timeout; the streams: one).

The figures of 2026-12-03 are in docs/architecture.md ("The security office"): latency is set by
the watch's 0.2 s read cycle and does not tell the transports apart; idle requests and moving
parts do.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

from desk_platform.testing import prepare_platform
from sync import protocol as P
from sync.loopback import ServerProcess

DESKS = 20
ALERTS = 8
IDLE_S = 10.0
LONG_POLL_TIMEOUT_S = 25.0
HOSPITAL = "H001"
NO_LIMITS = "100000,100000,100000,100000"  # the push is measured, not the rate limiter


class _PushServer(ServerProcess):
    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = dict(os.environ, DESK_PLATFORM_DB=self.db_url, DESK_PLATFORM_KEY_FILE=self.key_file,
                   DESK_PLATFORM_LIMITS=NO_LIMITS, PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.push_server:build",
               "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
               "--no-access-log", "--ws", "wsproto"]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=Path(__file__).resolve().parent.parent)
        self.wait_ready(timeout)
        return self


class Listener:
    """One desk listening with one transport on its own thread."""

    def __init__(self, kind: str, base: str, token: str, cursor: int):
        self.kind, self.base, self.token, self.cursor = kind, base, token, cursor
        self.received: dict[str, float] = {}  # alert id -> monotonic time parsed
        self.requests = 0
        self.connected = threading.Event()
        self.stop = threading.Event()
        self._sock: socket.socket | None = None
        self._close: Callable[[], None] | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _got(self, d: P.AlertsDelta) -> None:
        t = time.monotonic()
        for a in d.alerts:
            self.received.setdefault(a.alert_id, t)
        self.cursor = d.cursor

    def _run(self) -> None:
        try:
            {"long-poll": self._long_poll, "sse": self._sse, "websocket": self._ws}[self.kind]()
        except Exception:  # noqa: BLE001 - the listener ends when the benchmark closes it
            if not self.stop.is_set():
                raise

    def _long_poll(self) -> None:
        with httpx.Client(base_url=self.base, timeout=LONG_POLL_TIMEOUT_S + 10,
                          headers={"authorization": f"Bearer {self.token}"}) as c:
            self._close = c.close
            while not self.stop.is_set():
                self.connected.set()
                self.requests += 1
                r = c.get(f"/v1/hospitals/{HOSPITAL}/alerts/wait",
                          params={"cursor": self.cursor, "timeout": LONG_POLL_TIMEOUT_S})
                self._got(P.AlertsDelta.model_validate_json(r.content))

    def _sse(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60,
                          headers={"authorization": f"Bearer {self.token}"}) as c:
            self.requests += 1
            with c.stream("GET", f"/v1/hospitals/{HOSPITAL}/alerts/stream",
                          params={"cursor": self.cursor}) as r:
                self._close = r.close
                for line in r.iter_lines():
                    if line.startswith(": connected"):
                        self.connected.set()
                    elif line.startswith("data: "):
                        self._got(P.AlertsDelta.model_validate_json(line[6:]))

    def _ws(self) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, Request, TextMessage

        host, port = self.base.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)))
        self._close = sock.close
        ws = WSConnection(ConnectionType.CLIENT)
        sock.sendall(ws.send(Request(
            host=host, target=f"/v1/hospitals/{HOSPITAL}/alerts/ws?cursor={self.cursor}",
            extra_headers=[(b"authorization", f"Bearer {self.token}".encode())])))
        self.requests += 1
        text = ""
        while not self.stop.is_set():
            data = sock.recv(65536)
            if not data:
                return
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    self.connected.set()
                elif isinstance(event, TextMessage):
                    text += event.data
                    if event.message_finished:
                        self._got(P.AlertsDelta.model_validate_json(text))
                        text = ""

    def close(self) -> None:
        self.stop.set()
        if self._close is not None:
            try:
                self._close()
            except Exception as exc:  # noqa: BLE001 - closing a socket another thread reads
                print(f"closing a {self.kind} listener: {type(exc).__name__}", file=sys.stderr)


def _cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def _connections(proc: psutil.Process, port: int) -> int:
    return sum(1 for c in proc.net_connections(kind="tcp")
               if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port)


def measure(kind: str, base: str, port: int, proc: psutil.Process, tokens: list[str],
            reporter: httpx.Client) -> dict[str, float]:
    head = P.AlertsDelta.model_validate_json(
        reporter.get(f"/v1/hospitals/{HOSPITAL}/alerts", params={"cursor": 0}).content).cursor
    listeners = [Listener(kind, base, t, head) for t in tokens]
    for li in listeners:
        li.thread.start()
    for li in listeners:
        li.connected.wait(30)
    time.sleep(1.0)
    # idle: nothing happens
    cpu0, t0 = _cpu_s(proc), time.monotonic()
    conns = _connections(proc, port)
    time.sleep(IDLE_S)
    idle_cpu = (_cpu_s(proc) - cpu0) / (time.monotonic() - t0)
    # alerts, one a second
    made: dict[str, float] = {}
    for _ in range(ALERTS):
        body = {"report_id": str(uuid.uuid4()), "hospital_id": HOSPITAL, "desk_id": "desk-00",
                "reported_at": datetime.now(UTC).isoformat(), "kind": "scalper", "note": "bench"}
        r = reporter.post("/v1/reports", json=body)
        at = time.monotonic()
        r.raise_for_status()
        d = P.AlertsDelta.model_validate_json(reporter.get(
            f"/v1/hospitals/{HOSPITAL}/alerts", params={"cursor": head}).content)
        for a in d.alerts:
            made.setdefault(a.alert_id, at)
        head = d.cursor
        time.sleep(1.0)
    time.sleep(2.0)
    lat = [(li.received[a] - at) * 1000 for li in listeners for a, at in made.items()
           if a in li.received]
    missed = len(listeners) * len(made) - len(lat)
    for li in listeners:
        li.close()
    for li in listeners:
        li.thread.join(5)
    lat.sort()
    per_hour = 3600 / LONG_POLL_TIMEOUT_S if kind == "long-poll" else 0.0
    return {
        f"{kind}: latency median ms": statistics.median(lat) if lat else float("nan"),
        f"{kind}: latency p95 ms": lat[int(0.95 * (len(lat) - 1))] if lat else float("nan"),
        f"{kind}: alerts missed": missed,
        f"{kind}: idle platform CPU % ({DESKS} desks)": idle_cpu * 100,
        f"{kind}: idle open connections": conns,
        f"{kind}: idle requests per desk per hour": per_hour,
    }


def run() -> dict:
    with tempfile.TemporaryDirectory() as d:
        url = f"sqlite:///{d}/platform.db"
        key = Path(d) / "platform.key"
        plat = prepare_platform(url, key)
        tokens = []
        for i in range(DESKS + 1):
            code = plat.enrollment.create_code(HOSPITAL, f"desk-{i:02d}", created_by="bench").code
            tokens.append(plat.enrollment.enroll(P.EnrollRequest(code=code)).token)
        server = _PushServer(url, key).start()
        try:
            proc = psutil.Process(server.proc.pid)
            figures: dict[str, float] = {"desks listening": DESKS, "alerts": ALERTS}
            with httpx.Client(base_url=server.url, timeout=15,
                              headers={"authorization": f"Bearer {tokens[0]}"}) as reporter:
                for kind in ("long-poll", "sse", "websocket"):
                    figures.update(measure(kind, server.url, server.port, proc, tokens[1:],
                                           reporter))
            return figures
        finally:
            server.stop()
            plat.db.close()


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
