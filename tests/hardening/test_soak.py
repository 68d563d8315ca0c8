"""Soak: a desk's 8-hour day (4 patients a minute = 1,920 check-ins) played at full speed through
the check-in service, the real store and the sync worker against the real platform process, with
random device faults (garbage codes and cards before the real ones) and network faults (a fault
proxy in front of the platform). At the end every visit is on the platform exactly once, memory
has not grown and no thread has leaked.

Not part of the default run (``slow``, and skipped unless ``DESK_SOAK=1``): ``make soak`` runs it
and prints memory at start and end. ``SOAK_PATIENTS`` shortens or lengthens the day.
"""

from __future__ import annotations

import gc
import json
import os
import random
import threading
import time
from datetime import UTC, date, datetime, timedelta

import psutil
import pytest

from desk_app.identity.testing import make_id_number
from desk_app.services.checkin import PLATFORM_CONFIG_CURSOR, CheckinService
from desk_app.services.session import SessionService
from desk_app.settings import Settings
from devices.idcard.types import IdCardRead
from sync import protocol as P
from sync.chaos import Fault
from tests.sync.client.conftest import make_desk

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600),
              pytest.mark.skipif(not os.environ.get("DESK_SOAK"),
                                 reason="soak test: run with `make soak` (DESK_SOAK=1)")]

PATIENTS = int(os.environ.get("SOAK_PATIENTS", 8 * 60 * 4))
NET_FAULTS = [Fault.DROP_REQUEST, Fault.DROP_RESPONSE, Fault.CUT_RESPONSE, Fault.TRUNCATED_JSON,
              Fault.MALFORMED_JSON, Fault.HTTP_500, Fault.PROCESSED_500]
JUNK_CODES = ["", "RNB1:", "RNB1:" + "A" * 5000, "\x00\x1b[2J", "not a code", "RNB1:a.b.c"]


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def test_a_desk_day_with_faults(platform, proxy, tmp_path):
    rng = random.Random(20261122)
    desk = make_desk(platform, tmp_path, proxy.url, desk_id="soak-01", timeout_s=1.0,
                     batch_size=100, interval_s=1.0, backoff_max_s=1.0)
    svc_platform = platform.service
    # Bookings issued by the platform (its key signs them; the desk syncs the key set).
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=20)
    people = [make_id_number("110101", date(1950, 1, 1) + timedelta(days=i), i % 999 + 1)
              for i in range(PATIENTS)]
    tokens = []
    for i, number in enumerate(people):
        issued = svc_platform.book(P.BookingRequest(
            hospital_id="H001", department_code="NEU", department_name="神经内科",
            doctor_name=f"医生{i}", slot_start=start + timedelta(minutes=15 * (i % 4)),
            slot_minutes=15, id_number=number, account_id=f"acct-{i}"))
        tokens.append(issued.token)
    store = desk.store
    store.create_user("clerk1", "挂号员一", "clerk", "clerk-pass-1")
    session = SessionService(store)
    session.login("clerk1", "clerk-pass-1")
    settings = Settings()
    settings = settings.model_copy(update={"desk": settings.desk.model_copy(
        update={"desk_id": desk.desk_id, "hospital_id": "H001"})})
    worker = desk.worker
    worker.run_once()  # keys, config, blacklist, bookings
    cfg = json.loads(store.get_cursor(PLATFORM_CONFIG_CURSOR) or "{}")
    assert cfg, "the desk has the platform's config"
    service = CheckinService(store, session, lambda: settings, desk.clock,
                             on_recorded=worker.notify_outbox)
    worker.start()

    visit_ids: list[str] = []
    faults_planned = 0
    typed_errors = 0
    threads_start = rss_start = None
    t0 = time.monotonic()
    try:
        for i, (number, token) in enumerate(zip(people, tokens, strict=True)):
            if i == min(100, PATIENTS // 10):  # after warm-up: caches, model, pools are built
                gc.collect()
                rss_start, threads_start = _rss_mb(), threading.active_count()
                print(f"\nsoak: memory at start {rss_start:.1f} MB, threads {threads_start}")
            if rng.random() < 0.05:
                proxy.plan("/v1/visits", rng.choice(NET_FAULTS))
                faults_planned += 1
            s = service.new_patient()
            if rng.random() < 0.1:  # a scanner or camera delivering junk first
                s = service.submit_code(s.session_id, rng.choice(JUNK_CODES), "scanner")
                typed_errors += bool(s.errors)
            s = service.submit_code(s.session_id, token, "camera")
            if rng.random() < 0.05:  # a garbled card read first
                s = service.submit_card(s.session_id, _bad_card())
                typed_errors += bool(s.errors)
            s = service.submit_card(s.session_id, IdCardRead(
                id_number=number, name=f"患者{i}", valid_to=date(2040, 1, 1), source="reader"))
            s = service.decline_face(s.session_id)
            assert s.verdict is not None and s.visit_id, (i, s.errors)
            visit_ids.append(s.visit_id)
        day_s = time.monotonic() - t0
        # the network heals: everything reaches the platform
        proxy.clear()
        deadline = time.monotonic() + 120
        while store.outbox_count() and time.monotonic() < deadline:
            worker.sync_now()
            time.sleep(0.5)
        assert store.outbox_count() == 0, store.outbox_count()
    finally:
        worker.stop()
        desk.api.close()
    stored = platform.stored_visits(visit_ids)
    gc.collect()
    rss_end, threads_end = _rss_mb(), threading.active_count()
    store.close()
    print(f"soak: {PATIENTS} patients in {day_s:.1f} s ({PATIENTS / day_s:.1f}/s), "
          f"{faults_planned} network faults planned, {len(proxy.faults_applied())} applied, "
          f"{typed_errors} junk inputs refused")
    print(f"soak: memory at end {rss_end:.1f} MB (start {rss_start:.1f} MB, "
          f"+{rss_end - rss_start:.1f} MB), threads {threads_end} (start {threads_start})")
    assert len(visit_ids) == PATIENTS == len(set(visit_ids))
    assert stored == {v: 1 for v in visit_ids}, "every visit on the platform exactly once"
    assert rss_end - rss_start < 80, (rss_start, rss_end)
    assert threads_end <= threads_start, (threads_start, threads_end)


def _bad_card() -> IdCardRead:
    """A card read whose number fails its check (what a garbled OCR gives)."""
    class Garbled:
        id_number = "11010119500101000X"
        name = "乱码"
        valid_to = date(2040, 1, 1)
        long_term = False
        source = "camera"
        portrait = None
    return Garbled()  # type: ignore[return-value]
