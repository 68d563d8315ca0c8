"""Statistics of a hospital's day: visits, verdicts, rejections by reason, hits, reports."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, select

from desk_platform import db as T
from desk_platform.base import Part
from sync import protocol as P


class Stats(Part):
    def day(self, hospital_id: str, day: date) -> P.DayStats:
        v = T.visits.c
        d = day.isoformat()

        def n(cond: Any) -> Any:
            return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

        where = and_(v.hospital_id == hospital_id, v.day == d)
        with self.db.read() as conn:
            row = conn.execute(select(
                func.count(), n(v.final_verdict == "admit"), n(v.final_verdict == "review"),
                n(v.final_verdict == "reject"), n(v.blacklist_hit.is_(True)),
                n(v.conflict.is_(True)), n(v.offline.is_(True)), n(v.override_json.is_not(None)),
                func.count(func.distinct(v.desk_id)),
            ).where(where)).one()
            reasons: Counter[str] = Counter()
            for text in conn.execute(select(v.reasons_json).where(
                    where, v.final_verdict == "reject")).scalars():
                codes = [r["code"] for r in json.loads(text) if r.get("severity") == "block"]
                reasons.update(set(codes) or {"unspecified"})
            nreports = conn.execute(select(func.count()).select_from(T.reports).where(
                T.reports.c.hospital_id == hospital_id, T.reports.c.day == d)).scalar_one()
        total, admitted, reviewed, rejected, hits, conflicts, offline, overrides, ndesks = (
            int(x) for x in row)
        return P.DayStats(
            hospital_id=hospital_id, day=day, visits=total, checkins=admitted + reviewed,
            admitted=admitted, reviewed=reviewed, rejected=rejected,
            rejections_by_reason=dict(sorted(reasons.items())), blacklist_hits=hits,
            conflicts=conflicts, reports=int(nreports), offline_visits=offline,
            overrides=overrides, desks=ndesks)
