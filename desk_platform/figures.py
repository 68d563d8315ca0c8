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

from sqlalchemy import case, func, select

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
    """Counted in the database (GROUP BY); only rejected and overridden visits, a small share,
    are read one by one for their reasons and who overrode them."""
    check_period(day_from, day_to)
    v, b = T.visits.c, T.bookings.c
    where = [v.day >= day_from.isoformat(), v.day <= day_to.isoformat()]
    if hospital_id:
        where.append(v.hospital_id == hospital_id)
    s = Stats(day_from, day_to, hospital_id)
    hit = func.sum(case((v.blacklist_hit.is_(True), 1), else_=0))
    overridden = func.sum(case((v.override_json.is_not(None), 1), else_=0))
    with db.read() as conn:
        for hid, verdict, n, hits, overrides in conn.execute(
                select(v.hospital_id, v.final_verdict, func.count(), hit, overridden)
                .where(*where).group_by(v.hospital_id, v.final_verdict)):
            h = s.by_hospital[hid]
            h["visits"] += n
            h[verdict] += n
            h["blacklist_hits"] += int(hits or 0)
            h["overrides"] += int(overrides or 0)
            s.visits += n
            s.verdicts[verdict] += n
            s.blacklist_hits += int(hits or 0)
        for day, n in conn.execute(select(v.day, func.count()).where(*where).group_by(v.day)):
            s.by_day[day] = n
        for dept, n in conn.execute(
                select(b.department_name, func.count())
                .select_from(T.visits.outerjoin(T.bookings, b.booking_id == v.booking_id))
                .where(*where).group_by(b.department_name)):
            s.by_department[dept or "—"] += n
        if db.dialect == "postgresql":
            hour = func.extract("hour", func.timezone(str(tz), v.checked_in_at))
            for h, n in conn.execute(select(hour, func.count()).where(*where).group_by(hour)):
                s.by_hour[int(h)] = n
        else:  # SQLite (the demo, one machine): the local hour in Python
            for (at,) in conn.execute(select(v.checked_in_at).where(*where)):
                s.by_hour[at.astimezone(tz).hour] += 1
        for text in conn.execute(select(v.reasons_json).where(
                *where, v.final_verdict == "reject")).scalars():
            codes = {x["code"] for x in json.loads(text) if x.get("severity") == "block"}
            s.reasons.update(codes or {"unspecified"})
        for hid, text in conn.execute(select(v.hospital_id, v.override_json).where(
                *where, v.override_json.is_not(None))):
            by = json.loads(text).get("by") or "?"
            s.overrides_by_person[f"{hid} / {by}"] += 1
    return s
