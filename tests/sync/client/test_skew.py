"""Clock skew between desk and platform: freshness is measured on the platform's clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from desk_app.clock import FixedClock
from desk_app.settings import SyncSection
from sync.pull import CUR_BLACKLIST_CHECKED
from sync.worker import CUR_SKEW, SyncWorker

from .test_faults import assert_exactly_once, wait_for


def test_a_desk_clock_days_off_neither_hides_nor_invents_a_stale_blacklist(
        platform, proxy, desks):
    behind = FixedClock(datetime.now(UTC) - timedelta(days=3))
    desk = desks(proxy.url, clock=behind)
    ids = desk.record(5)
    desk.worker.run_once()
    assert_exactly_once(platform, desk, ids)  # desk-clock check-in times are accepted
    status = desk.worker.status()
    assert status.blacklist_age_s is not None and status.blacklist_age_s < 120
    assert not status.blacklist_stale
    skew = float(desk.store.cursors.get(CUR_SKEW))
    assert abs(skew - 3 * 86400) < 120  # the platform is three days ahead of this desk

    # 25 hours pass on the desk without reaching the platform: now the list is stale.
    behind.advance(hours=25)
    status = desk.worker.status()
    assert status.blacklist_stale and 24.9 * 3600 < status.blacklist_age_s < 25.2 * 3600

    # The measured skew is kept: a restarted worker (no network yet) says the same.
    again = SyncWorker(desk.store, desk.api, SyncSection(stale_blacklist_hours=24), clock=behind)
    assert again.status().blacklist_stale
    assert abs(again.status().blacklist_age_s - status.blacklist_age_s) < 5


def test_a_desk_clock_ahead_does_not_make_a_fresh_list_stale(platform, proxy, desks):
    ahead = FixedClock(datetime.now(UTC) + timedelta(days=2))
    desk = desks(proxy.url, clock=ahead)
    desk.worker.run_once()
    status = desk.worker.status()
    assert not status.blacklist_stale and status.blacklist_age_s < 120
    ahead.advance(hours=23)
    assert not desk.worker.status().blacklist_stale
    ahead.advance(hours=2)
    assert desk.worker.status().blacklist_stale


class _BadDateProxy:
    """A tiny forwarding proxy on loopback in front of the real platform that stamps every
    answer ``Date: Fri, 31 Dec 9999 23:59:59 GMT``, as a broken proxy or platform clock did."""

    DATE = "Fri, 31 Dec 9999 23:59:59 GMT"

    def __init__(self, upstream_port: int):
        upstream = httpx.Client(base_url=f"http://127.0.0.1:{upstream_port}", timeout=10)
        date = self.DATE

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                r = upstream.request(self.command, self.path, content=body, headers=headers)
                self.send_response_only(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in ("date", "content-length", "transfer-encoding",
                                         "connection", "content-encoding", "server"):
                        self.send_header(k, v)
                self.send_header("Date", date)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, *args):
                pass

        self._upstream = upstream
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._upstream.close()


def test_a_date_header_of_year_9999_is_ignored_and_the_sync_thread_lives_on(
        platform, desks, caplog):
    proxy = _BadDateProxy(platform.server.port)
    try:
        desk = desks(proxy.url)
        ids = desk.record(3)
        with caplog.at_level("WARNING", logger="sync"):
            desk.worker.start()
            assert wait_for(lambda: desk.store.outbox.count() == 0 and desk.worker.status().state
                            == "online")
            desk.worker.sync_now()  # a second cycle after the first completed
            time.sleep(1.5)
        assert_exactly_once(platform, desk, ids)
        assert desk.worker._thread is not None and desk.worker._thread.is_alive()
        status = desk.worker.status()
        assert status.state == "online" and status.blacklist_stale  # no platform time known
        assert desk.store.cursors.get(CUR_SKEW) is None
        assert desk.worker.platform_now().year < 9000
        warned = [r for r in caplog.records if "Date header" in r.getMessage()]
        assert len(warned) == 1  # logged once, not on every answer
    finally:
        proxy.close()


def test_a_saved_absurd_clock_is_ignored_after_a_restart(platform, proxy, desks):
    """What an older desk saved from such a header: the skew and the blacklist's "checked"
    time near year 9999. A restarted worker ignores both instead of overflowing."""
    desk = desks(proxy.url)
    desk.store.cursors.set(CUR_SKEW, "252423993600.500")
    desk.store.cursors.set(CUR_BLACKLIST_CHECKED, "9999-12-31T23:59:59.500000+00:00")
    again = SyncWorker(desk.store, desk.api, SyncSection(stale_blacklist_hours=24),
                       clock=desk.clock)
    assert again.platform_now().year < 9000
    status = again.status()
    assert status.blacklist_stale and status.blacklist_age_s is None
    again.run_once()  # a cycle against the real platform puts sane values back
    status = again.status()
    assert not status.blacklist_stale and status.blacklist_age_s < 120
    assert abs(float(desk.store.cursors.get(CUR_SKEW))) < 60
