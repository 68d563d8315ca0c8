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
from desk_platform.testing import prepare_platform

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


def test_the_commands_seed_demo_anomaly_scan_and_report_taskforce(tmp_path):
    from ..conftest import new_key_file, run_cli

    db = f"sqlite:///{tmp_path}/p.db"
    key = str(new_key_file(tmp_path))
    r = run_cli("seed-demo", "--db", db, "--key-file", key, "--out", str(tmp_path / "qr"),
                "--history-days", "10")
    assert "history: 10 days" in r.stderr and "demo-pass-1" in r.stderr
    assert '"hospital_id": "H001"' in r.stdout  # the desk demo's summary, as before
    scan = run_cli("anomaly", "scan", "--db", db, "--key-file", key)
    assert "repeat_ip\t203.0.113.77" in scan.stdout
    assert run_cli("anomaly", "scan", "--db", db, "--key-file", key).stdout == ""  # stored
    today = datetime.now().date()
    table = run_cli("report", "taskforce", "--from", str(today - timedelta(days=40)), "--to",
                    str(today), "--db", db, "--key-file", key)
    lines = table.stdout.splitlines()
    assert lines[0] == taskforce.TITLE and lines[2].startswith("序号\t县（市、区）\t查处案件")
    assert lines[-1].startswith("\t合计\t")
    bad = run_cli("report", "taskforce", "--from", "2026-13-01", "--to", "2026-12-01",
                  "--db", db, "--key-file", key, check=False)
    assert bad.returncode == 1 and "YYYY-MM-DD" in bad.stderr
