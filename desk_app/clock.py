"""Time, injected: services take a Clock so tests and the demo can set the day and hour."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

#: Hospitals in mainland China keep Beijing time; slot times are shown in it.
CHINA_TZ = ZoneInfo("Asia/Shanghai")
#: A platform clock more than this off the desk's is no clock at all (a proxy sending a Date of
#: 9999-12-31): the sync client ignores such a Date, and a saved skew this large is ignored.
MAX_CLOCK_SKEW_S = 366 * 86400.0


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (tests, scripted demo scenarios)."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def advance(self, **kwargs: float) -> None:
        with self._lock:
            self._at = self._at + timedelta(**kwargs)

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = at
