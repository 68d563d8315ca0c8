"""The console's commands of ``desk-platform`` (registered by ``cli.build_parser``):
``report taskforce`` prints (and exports) the task force's summary table, ``anomaly scan`` runs
the booking anomaly rules."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any


def cmd_report_taskforce(args: argparse.Namespace) -> int:
    from desk_platform import taskforce
    from desk_platform.cli import _platform

    plat = _platform(args)
    try:
        day_from, day_to = date.fromisoformat(args.day_from), date.fromisoformat(args.day_to)
    except ValueError:
        print("invalid input: dates are written YYYY-MM-DD", file=sys.stderr)
        return 1
    s = taskforce.summary(plat.db, plat.tz, day_from, day_to)
    sys.stdout.write(taskforce.text(s))
    if args.xlsx:
        out = taskforce.write_xlsx(s, args.xlsx, unit=args.unit)
        print(f"written: {out}", file=sys.stderr)
    return 0


def cmd_anomaly_scan(args: argparse.Namespace) -> int:
    from desk_platform.anomaly import Anomalies
    from desk_platform.cli import _platform

    found = Anomalies(_platform(args)).scan(days=args.days)
    for c in found:
        print(f"{c.candidate_id}\t{c.rule}\t{c.key}\t{c.count}\t{c.account_id}")
    print(f"{len(found)} new candidates", file=sys.stderr)
    return 0


def add_commands(sub: Any, add: Any) -> None:
    rp = sub.add_parser("report", help="reports").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = add("taskforce", cmd_report_taskforce,
            "the task force's summary table (附件1) for a period; --xlsx writes it as a sheet", rp)
    p.add_argument("--from", dest="day_from", required=True, metavar="DAY")
    p.add_argument("--to", dest="day_to", required=True, metavar="DAY")
    p.add_argument("--xlsx", metavar="FILE", help="also write the table in the 附件1 layout")
    p.add_argument("--unit", default="", help="填报单位 (the reporting body) for the sheet")
    an = sub.add_parser("anomaly", help="booking anomaly rules").add_subparsers(
        dest="what", metavar="WHAT", required=True)
    p = add("scan", cmd_anomaly_scan, "run the rules on recent bookings; new candidates", an)
    p.add_argument("--days", type=int, default=7, help="look back this many days (default 7)")
