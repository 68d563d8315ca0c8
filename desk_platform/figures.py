"""Statistics for the health commission, the hospitals and the police: check-ins by hospital,
department, day and hour; verdicts, reasons, blacklist hits and overrides per person.

Counted from the visits the desks uploaded (``visits``; the department from the booking the
visit checked in). The hour is the local hour of the check-in (the platform's time zone).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from desk_platform import db as T
from desk_platform.db import Database
from desk_platform.taskforce import check_period

VERDICTS = ("admit", "review", "reject")


@dataclass
class Stats:
    day_from: date
    day_to: date
    hospital_id: str | None
    visits: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    by_hospital: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_department: Counter[str] = field(default_factory=Counter)
    by_day: Counter[str] = field(default_factory=Counter)
    by_hour: Counter[int] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    blacklist_hits: int = 0
    overrides_by_person: Counter[str] = field(default_factory=Counter)

    def days(self) -> list[str]:
        n = (self.day_to - self.day_from).days + 1
        return [(self.day_from + timedelta(days=i)).isoformat() for i in range(n)]


def stats(db: Database, tz: ZoneInfo, day_from: date, day_to: date,
          hospital_id: str | None = None) -> Stats:
    check_period(day_from, day_to)
    v, b = T.visits.c, T.bookings.c
    q = (select(v.hospital_id, v.checked_in_at, v.day, v.final_verdict, v.reasons_json,
                v.blacklist_hit, v.override_json, b.department_name)
         .select_from(T.visits.outerjoin(T.bookings, b.booking_id == v.booking_id))
         .where(v.day >= day_from.isoformat(), v.day <= day_to.isoformat()))
    if hospital_id:
        q = q.where(v.hospital_id == hospital_id)
    s = Stats(day_from, day_to, hospital_id)
    with db.read() as conn:
        for r in conn.execute(q):
            s.visits += 1
            s.verdicts[r.final_verdict] += 1
            h = s.by_hospital[r.hospital_id]
            h["visits"] += 1
            h[r.final_verdict] += 1
            s.by_day[r.day] += 1
            s.by_hour[r.checked_in_at.astimezone(tz).hour] += 1
            s.by_department[r.department_name or "—"] += 1
            if r.blacklist_hit:
                s.blacklist_hits += 1
                h["blacklist_hits"] += 1
            if r.final_verdict == "reject":
                codes = {x["code"] for x in json.loads(r.reasons_json)
                         if x.get("severity") == "block"}
                s.reasons.update(codes or {"unspecified"})
            if r.override_json:
                h["overrides"] += 1
                by = json.loads(r.override_json).get("by") or "?"
                s.overrides_by_person[f"{r.hospital_id} / {by}"] += 1
    return s
