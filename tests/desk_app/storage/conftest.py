"""A fresh store per test, on a clock the test controls."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from desk_app.clock import FixedClock
from desk_app.storage import Reason, Store, VisitInput

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Beijing


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(app_paths, clock):
    s = Store.open(app_paths, clock=clock)
    yield s
    s.close()


def make_visit(**kw) -> VisitInput:
    base = dict(
        visit_id=str(uuid.uuid4()), booking_id="BK-1", hospital_id="H001", desk_id="desk-01",
        clerk="clerk1", checked_in_at=T0, verdict="review",
        reasons=(Reason("face_undecided", "warn", "faces"),), face_distance=0.55,
        face_outcome="undecided", presented_id_hash=b"\x01" * 32, presented_id_last4="1234",
        offline=True, id_number="110101199003071234", person_name="张三丰",
        face_template=b"\x00\x01" * 64,
    )
    base.update(kw)
    return VisitInput(**base)


def synced(store, skew_s: float = 0.0) -> None:
    """A sync cycle just completed, as the sync worker records it: the platform's clock minus
    the desk's (``skew_s``) and the platform's time of the cycle. Ages the retention purges
    judge on the platform's time need it (``Cursors.platform_now``)."""
    from datetime import timedelta

    from desk_app.storage.keys import LAST_SYNC_CURSOR, SKEW_CURSOR

    store.cursors.set(SKEW_CURSOR, f"{skew_s:.3f}")
    store.cursors.set(LAST_SYNC_CURSOR,
                      (store.now() + timedelta(seconds=skew_s)).isoformat())
