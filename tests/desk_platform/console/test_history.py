"""``seed-demo``'s month of history gives the console something real to show, and no desk ever
pulls its bookings."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from desk_platform import figures, taskforce
from desk_platform import platform_calls as ops
from desk_platform.anomaly import Anomalies
from desk_platform.history import HOSPITALS, seed_history
from desk_platform.service import Platform
from sync.loopback import prepare_platform

pytestmark = pytest.mark.xdist_group("platform")


def test_a_month_at_several_hospitals_with_cases_figures_and_bot_traffic(tmp_path):
    base = prepare_platform(f"sqlite:///{tmp_path}/p.db", tmp_path / "k")
    plat: Platform = base
    try:
        res = seed_history(plat, days=30)
        assert res.visits > 30 * len(HOSPITALS) * 5 and res.cases >= 10 and res.appeals == 2
        today = datetime.now(plat.tz).date()
        s = figures.stats(plat.db, plat.tz, today - timedelta(days=30), today)
        assert len(s.by_hospital) == len(HOSPITALS) and len(s.by_day) == 30
        assert s.blacklist_hits > 0 and s.overrides_by_person and len(s.by_department) >= 5
        table = taskforce.summary(plat.db, plat.tz, today - timedelta(days=62), today)
        assert len(table.rows) >= 5 and table.total["cases"] > 0 and table.total["materials"] > 0
        found = {c.rule for c in Anomalies(plat).scan()}
        assert {"repeat_ip", "repeat_device", "repeat_phone", "instant"} <= found
        bot = next(c for c in Anomalies(plat).candidates() if c.rule == "repeat_ip")
        assert Anomalies(plat).confirm(bot.candidate_id, "platform").status == "confirmed"
        # History bookings are records only: a desk's bookings delta from cursor 0 is empty.
        assert ops.bookings_delta(plat, "H001", 0, 100).bookings == []
        again = seed_history(plat, days=2)  # demo accounts exist: not made again
        assert again.staff_created == []
    finally:
        plat.db.close()
