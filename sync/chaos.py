"""A small fault-injecting HTTP/1.1 proxy on loopback, between desks and the real platform
process: used by the fault-injection tests and by ``desk-app bench sync --chaos``.

Every request gets its own upstream connection (``Connection: close`` both ways), so the proxy
only has to understand request framing by ``Content-Length``. Faults are planned per path prefix
and consumed in order; requests with no planned fault pass through unchanged.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class Fault(StrEnum):
    DROP_REQUEST = "drop_request"  # closed before forwarding: the server never sees it
    DROP_RESPONSE = "drop_response"  # the server processed it; the desk hears nothing
    CUT_RESPONSE = "cut_response"  # half the response bytes, then the connection closes
    TRUNCATED_JSON = "truncated_json"  # valid HTTP framing, the JSON body cut in half
    MALFORMED_JSON = "malformed_json"  # 200 with a body that is not JSON
    HTTP_500 = "http_500"  # a 500 without forwarding
    PROCESSED_500 = "processed_500"  # forwarded (and processed), then a 500 instead
    SLOW = "slow"  # forwarded after a delay (longer than the client's timeout)
    SLOW_RESPONSE = "slow_response"  # forwarded and processed; the answer comes after a delay


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    fault: Fault | None
    status: int | None  # upstream status when forwarded


class FaultProxy:
    def __init__(self, upstream_port: int, *, host: str = "127.0.0.1", slow_s: float = 3.0):
        self.upstream = (host, upstream_port)
        self.slow_s = slow_s
        self._plans: list[tuple[str, deque[Fault]]] = []
        self._lock = threading.Lock()
        self.seen: list[Seen] = []
        self._sock = socket.create_server((host, 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._stop = threading.Event()
        self._seen_cond = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)
        self._thread.start()

    # --- planning -----------------------------------------------------------------------------

    def plan(self, path_prefix: str, *faults: Fault) -> None:
        """The next requests whose path starts with ``path_prefix`` get these faults, in order."""
        with self._lock:
            self._plans.append((path_prefix, deque(faults)))

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def pending_faults(self) -> int:
        with self._lock:
            return sum(len(q) for _, q in self._plans)

    def faults_applied(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.fault is not None]

    def wait_seen(self, predicate, timeout: float = 10.0) -> bool:
        """Wait until some request seen so far satisfies ``predicate(Seen)``."""
        with self._seen_cond:
            return self._seen_cond.wait_for(lambda: any(predicate(s) for s in self.seen),
                                            timeout)

    def _take(self, path: str) -> Fault | None:
        with self._lock:
            for prefix, queue in self._plans:
                if path.startswith(prefix) and queue:
                    return queue.popleft()
        return None

    # --- serving ------------------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=5)

    def _accept_loop(self) -> None:
        self._sock.settimeout(0.1)  # so close() is noticed promptly
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30)
            try:
                head, body = _read_request(conn)
            except (OSError, ValueError):
                return
            if head is None:
                return
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, path, _ = request_line.split(" ", 2)
            fault = self._take(path)
            status = None
            try:
                status = self._handle(conn, head, body, fault)
            except OSError:
                pass  # the desk or the server went away: that is the point of this proxy
            with self._lock:
                self.seen.append(Seen(method, path, fault, status))
                self._seen_cond.notify_all()

    def _handle(self, conn: socket.socket, head: bytes, body: bytes, fault: Fault | None):
        if fault is Fault.DROP_REQUEST:
            _reset(conn)
            return None
        if fault is Fault.HTTP_500:
            conn.sendall(_response(500, b'{"detail":"injected"}'))
            return None
        if fault is Fault.SLOW:
            if self._stop.wait(self.slow_s):
                return None
        raw = self._forward(head, body)
        if raw is None:  # server down: like a reset
            _reset(conn)
            return None
        status = int(raw.split(b" ", 2)[1])
        resp_head, _, resp_body = raw.partition(b"\r\n\r\n")
        if fault is Fault.DROP_RESPONSE:
            _reset(conn)
        elif fault is Fault.CUT_RESPONSE:
            conn.sendall(raw[: max(1, len(resp_head) + 4 + len(resp_body) // 2)])
        elif fault is Fault.TRUNCATED_JSON:
            conn.sendall(_response(status, resp_body[: max(1, len(resp_body) // 2)]))
        elif fault is Fault.MALFORMED_JSON:
            conn.sendall(_response(200, b'{"accepted": [nul'))
        elif fault is Fault.SLOW_RESPONSE:
            with self._lock:  # seen before the answer goes out: a test may kill the desk now
                self.seen.append(Seen("-", "(processed)", fault, status))
                self._seen_cond.notify_all()
            if not self._stop.wait(self.slow_s):
                conn.sendall(raw)
        elif fault is Fault.PROCESSED_500:
            conn.sendall(_response(500, b"Internal Server Error", "text/plain"))
        else:
            conn.sendall(raw)
        return status

    def _forward(self, head: bytes, body: bytes) -> bytes | None:
        lines = head.split(b"\r\n")
        kept = [ln for ln in lines[1:] if ln and not ln.lower().startswith(b"connection:")]
        request = b"\r\n".join([lines[0], *kept, b"Connection: close", b"", b""]) + body
        try:
            up = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            return None
        with up:
            try:
                up.sendall(request)
                chunks = []
                while chunk := up.recv(65536):
                    chunks.append(chunk)
            except OSError:
                return None
        raw = b"".join(chunks)
        return raw if raw.startswith(b"HTTP/") else None


def _read_request(conn: socket.socket) -> tuple[bytes | None, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise ValueError("chunked request bodies are not supported by the fault proxy")
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        body += chunk
    return head, body


def _response(status: int, body: bytes, ctype: str = "application/json") -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {len(body)}\r\n"
        f"date: {time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime())}\r\n"
        "connection: close\r\n\r\n"
    ).encode() + body


def _reset(conn: socket.socket) -> None:
    """Close so that the peer sees an abrupt end (RST when possible)."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    conn.close()
