"""The periodic anomaly scan of ``desk-platform serve``: the lease that lets one process of all
scan (SQLite and PostgreSQL), a scan finding what the rules find, and the real server with two
API processes scanning on its own while it answers requests."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from desk_app.identity.testing import make_id_number
from desk_platform import platform_calls as ops
from desk_platform.anomaly import Anomalies
from desk_platform.schedule import LAST_SCAN, LEASE_ANOMALY, PeriodicScan, lease_holder, take_lease
from desk_platform.testing import prepare_platform
from sync.protocol import BookingRequest

from .conftest import BACKENDS, new_key_file, start_server, stop_server

pytestmark = pytest.mark.xdist_group("platform")


@pytest.fixture(params=BACKENDS)
def plat(request, make_db, tmp_path):
    p = prepare_platform(make_db(request.param), new_key_file(tmp_path))
    yield p
    p.db.close()


def burst(plat, ip: str, n: int = 5) -> None:
    """``n`` bookings from one IP address within seconds: what ``repeat_ip`` finds."""
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    for i in range(n):
        ops.book(plat, BookingRequest(
            hospital_id="H001", department_code="CARD", department_name="心内科",
            doctor_name=f"孙医生{ip[-2:]}{i}", slot_start=start, id_number=make_id_number(
                "445202", date(1981, 1, 1 + i), 20 + i, sex="M"),
            account_id=f"acct-{ip}-{i}", client_ip=ip))


def test_the_lease_has_one_holder_until_it_runs_out(plat):
    clock = [1000.0]
    now = lambda: clock[0]  # noqa: E731
    assert take_lease(plat.db, "lease.t", "a", 60, now=now)
    assert not take_lease(plat.db, "lease.t", "b", 60, now=now)
    assert take_lease(plat.db, "lease.t", "a", 60, now=now)  # renewed by its holder
    assert lease_holder(plat.db, "lease.t", now=now) == "a"
    clock[0] += 61  # "a" died: its lease ran out
    assert lease_holder(plat.db, "lease.t", now=now) is None
    assert take_lease(plat.db, "lease.t", "b", 60, now=now)
    assert not take_lease(plat.db, "lease.t", "a", 60, now=now)


def test_of_processes_racing_for_a_free_lease_exactly_one_wins(plat):
    start = threading.Barrier(6)
    won: list[str] = []
    errors: list[BaseException] = []

    def race(name: str) -> None:
        start.wait()
        try:
            if take_lease(plat.db, "lease.race", name, 60):
                won.append(name)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(f"p{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(won) == 1, (won, errors)


def test_a_tick_scans_in_the_holder_only_and_off_means_no_thread(plat):
    burst(plat, "192.0.2.41")
    first = PeriodicScan(plat, 15, holder="proc-1")
    second = PeriodicScan(plat, 15, holder="proc-2")
    assert first.tick() and not second.tick()
    assert (first.runs, second.runs) == (1, 0)
    assert any(c.rule == "repeat_ip" and c.key == "192.0.2.41"
               for c in Anomalies(plat).candidates())
    assert plat.meta(LAST_SCAN).startswith("proc-1|")
    off = PeriodicScan(plat, 0)
    off.start()
    assert off._thread is None  # noqa: SLF001 - 0 = only on demand


@pytest.mark.e2e
def test_serve_with_two_workers_scans_on_its_own_in_one_process(make_db, tmp_path):
    db_url = make_db("sqlite")
    key = new_key_file(tmp_path)
    p = prepare_platform(db_url, key)
    try:
        burst(p, "192.0.2.77")
        proc, base = start_server(db_url, key, tmp_path / "server.log", "--no-init",
                                  "--workers", "2", "--anomaly-every-min", "0.02")
        try:
            deadline = time.monotonic() + 60
            found = []
            while time.monotonic() < deadline and not found:
                assert httpx.get(f"{base}/v1/health", timeout=5).status_code == 200
                found = [c for c in Anomalies(p).candidates() if c.key == "192.0.2.77"]
                time.sleep(0.3)
            assert found and found[0].rule == "repeat_ip"
            holders = set()
            for _ in range(8):  # several ticks (1.2 s each): always the same process
                p.forget_meta()
                holders.add(p.meta(LAST_SCAN).split("|")[0])
                time.sleep(0.5)
            assert len(holders) == 1 and lease_holder(p.db, LEASE_ANOMALY) in holders
        finally:
            stop_server(proc)
    finally:
        p.db.close()


def test_the_photo_purge_runs_at_start_in_one_process_and_deletes_what_is_past_its_time(plat):
    import json as _json

    from desk_platform import db as T
    from desk_platform.schedule import PhotoPurge

    now = datetime.now(UTC)
    with plat.db.write() as conn:
        for aid, created, handled in (("old", now - timedelta(days=8), None),
                                      ("handled", now - timedelta(hours=30),
                                       now - timedelta(hours=25)),
                                      ("fresh", now - timedelta(hours=1), None)):
            conn.execute(T.alerts.insert().values(
                alert_id=aid, hospital_id="H001", seq=hash(aid) % 10**9, kind="desk_alert",
                booking_id=None, visit_ids_json="[]", desk_ids_json=_json.dumps(["d1"]),
                created_at=created, detail="", handled_at=handled))
            conn.execute(T.alert_photos.insert().values(
                alert_id=aid, hospital_id="H001", photos_enc=plat.secrets.encrypt(b"{}"),
                keep_until=created + timedelta(days=7)))
    a, b = PhotoPurge(plat, 60.0, holder="a"), PhotoPurge(plat, 60.0, holder="b")
    a.start()  # the first tick at once: at the start of serve
    try:
        deadline = time.monotonic() + 10
        while a.purged < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert a.purged == 2
        assert not b.tick()  # a holds the lease
    finally:
        a.stop()
    with plat.db.read() as conn:
        left = [r.alert_id for r in conn.execute(T.alert_photos.select())]
    assert left == ["fresh"]


def test_serve_refuses_a_photo_retention_out_of_range(tmp_path):
    from .conftest import run_cli

    for days in ("0", "400"):
        r = run_cli("serve", "--db", f"sqlite:///{tmp_path}/p.db", "--no-init",
                    "--alert-photo-days", days, check=False)
        assert r.returncode == 2 and "--alert-photo-days" in r.stderr
