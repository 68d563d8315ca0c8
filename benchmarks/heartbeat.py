"""How long the GUI thread's event loop stalls: a timer on it, and how late each beat comes.

A beat due every ``interval_ms`` that arrives late by *d* ms means the event loop was busy (or
blocked) for about that long: a clerk's key press or a repaint waits as long. Used by
``benchmarks/bench_app.py`` (the whole desk during real check-ins) and by the soak test
(``tests/hardening/test_soak.py``: a desk day through the real screens)::

    beat = Heartbeat(10)
    beat.start()            # GUI thread, with its event loop running afterwards
    ...
    beat.stop()
    beat.figures()          # {"heartbeats": ..., "stall_ms_max": ..., "stall_ms_p99": ...}
"""

from __future__ import annotations

import math
import time
from array import array

from PySide6.QtCore import QObject, Qt, QTimer


class Heartbeat(QObject):
    """Create and start it on the GUI thread; the lateness of every beat is kept (8 bytes a beat:
    an 8-hour soak at 10 ms is 23 MB, a test-length run well under one)."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.late_ms = array("d")
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def skip(self) -> None:
        """Do not count the time up to now (the measuring code's own pause, e.g. gc.collect)."""
        self._last = time.perf_counter()

    def _beat(self) -> None:
        now = time.perf_counter()
        self.late_ms.append((now - self._last) * 1000 - self.interval_ms)
        self._last = now

    def figures(self) -> dict[str, float | int | None]:
        gaps = sorted(self.late_ms)
        if not gaps:
            return {"heartbeats": 0, "stall_ms_max": None, "stall_ms_p99": None,
                    "stall_ms_p50": None}
        return {
            "heartbeats": len(gaps),
            "stall_ms_max": round(gaps[-1], 1),
            "stall_ms_p99": round(_percentile(gaps, 0.99), 1),
            "stall_ms_p50": round(_percentile(gaps, 0.50), 1),
        }


def _percentile(ordered: list[float], q: float) -> float:
    """The smallest value that at least ``q`` of the values do not exceed (nearest rank)."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
