"""Insiders: registration staff and guards who work with scalpers. Per person and week, what
the desk can count of their decisions — overrides made (``override_by``), and undecided faces
confirmed as the same person within a second (not looked at, :func:`fast_same`) — and whether
a person is far above their colleagues.

"Far above" is deliberately simple, so an administrator can check it by hand: at least
:data:`FAR_ABOVE_MIN` of a kind, and at least :data:`FAR_ABOVE_FACTOR` times the median of the
other people's counts of that kind (a median of 0 counts as 1). The same rule runs on the desk
(the statistics screen) and on the platform over every desk of the hospital.

The desk sends each week's figures to the platform as one outbox item (``insider_week``);
the platform keeps them per hospital, desk, person and week (``desk_platform/office.py``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from desk_app.clock import CHINA_TZ
from desk_app.faces.history import fast_same
from desk_app.storage import FaceJudgement, Store, VisitRecord

FAR_ABOVE_MIN = 5
FAR_ABOVE_FACTOR = 3.0
OUTBOX_KIND = "insider_week"


@dataclass(frozen=True)
class PersonWeek:
    person: str
    decisions: int  # visits decided with this person signed in (as the clerk)
    overrides: int  # verdicts this person overrode (their own or at a colleague's window)
    judged: int  # undecided faces they judged
    fast_confirms: int  # ... of which "same person" within a second
    far_above: tuple[str, ...] = ()  # "overrides" / "fast_confirms": far above colleagues

    @property
    def flagged(self) -> bool:
        return bool(self.far_above)


def far_above(counts: Mapping[str, int]) -> set[str]:
    """The people whose count is far above the others' (see the module docstring)."""
    out = set()
    for person, n in counts.items():
        others = [c for p, c in counts.items() if p != person]
        if n < FAR_ABOVE_MIN or not others:
            continue
        if n >= FAR_ABOVE_FACTOR * max(1.0, statistics.median(others)):
            out.add(person)
    return out


def people(visits: Iterable[VisitRecord], judgements: Iterable[FaceJudgement]
           ) -> list[PersonWeek]:
    """Each person's figures over the given visits and calls, with the far-above marks."""
    decisions: Counter[str] = Counter()
    overrides: Counter[str] = Counter()
    judged: Counter[str] = Counter()
    fast: Counter[str] = Counter()
    for v in visits:
        decisions[v.clerk] += 1
        if v.override is not None:
            overrides[v.override.by] += 1
    for j in judgements:
        judged[j.clerk] += 1
        fast[j.clerk] += fast_same(j)
    everyone = sorted(set(decisions) | set(overrides) | set(judged))
    many_overrides = far_above({p: overrides[p] for p in everyone})
    many_fast = far_above({p: fast[p] for p in everyone})
    return [PersonWeek(p, decisions[p], overrides[p], judged[p], fast[p],
                       tuple(k for k, s in (("overrides", many_overrides),
                                            ("fast_confirms", many_fast)) if p in s))
            for p in everyone]


def week_label(day: date) -> str:
    y, w, _ = day.isocalendar()
    return f"{y}-W{w:02d}"


def week_bounds(label: str) -> tuple[datetime, datetime]:
    """The local (Beijing) Monday 00:00 of ISO week ``label`` and the next Monday."""
    monday = date.fromisocalendar(int(label[:4]), int(label[6:8]), 1)
    lo = datetime.combine(monday, time.min, CHINA_TZ)
    return lo, lo + timedelta(days=7)


def week_payload(hospital_id: str, desk_id: str, label: str, rows: Iterable[PersonWeek]
                 ) -> dict[str, object]:
    """The outbox payload of one week (sync.protocol.InsiderWeekReport)."""
    return {"hospital_id": hospital_id, "desk_id": desk_id, "week": label,
            "people": [{"person": r.person, "decisions": r.decisions, "overrides": r.overrides,
                        "judged": r.judged, "fast_confirms": r.fast_confirms,
                        "far_above": list(r.far_above)} for r in rows][:500]}


def queue_weeks(store: Store, hospital_id: str, desk_id: str, today: date) -> int:
    """Queue last week's and this week's figures for the platform (a newer report of the same
    week replaces the older there); returns how many weeks were queued."""
    queued = 0
    for label in sorted({week_label(today - timedelta(days=7)), week_label(today)}):
        lo, hi = week_bounds(label)
        rows = people(store.visits.between(lo, hi), store.visits.face_judgements(lo, hi))
        if rows:
            store.outbox.enqueue(OUTBOX_KIND, f"insiders:{label}:{store.now().isoformat()}",
                          week_payload(hospital_id, desk_id, label, rows))
            queued += 1
    return queued
