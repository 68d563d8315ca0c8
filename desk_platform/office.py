"""The security office on the platform: every window's alerts of a hospital, handled once for
all desks, and the watch that pushes new ones to the desks as they happen.

Alerts (table ``alerts``) are made by the platform (double check-in, blacklist hit, suspect
report) and, since 2026-12-03, for a desk's own verdict that alerted security (``desk_alert``:
the visit came with ``alert: true``, or the desk flagged it after the upload, ``VisitAlert``)
and for a person booked at a hospital who was caught on the blacklist at another one
(``blacklist_elsewhere``, for the hospital where they are booked).
Handling one (``handle``) records who, when, at which desk and a note, and gives the alert a new
``seq``: the alerts delta is ordered by ``seq``, so every desk sees the handled state at its next
pull or push, without a second cursor.

:class:`AlertWatch` is the push's shared part: per API process and hospital, one task reads the
hospital's alert counter every ``interval`` seconds while at least one desk waits, and wakes
them all when it moves (the platform is stateless, several processes serve one database, so a
change made by another process is seen through the database). The transports (long-poll,
server-sent events) are in ``app.py``; see docs/architecture.md for the measurement that picked
server-sent events.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool

from desk_app.alert_ids import DESK_ALERT_DETAIL, LATE_DESK_ALERT_DETAIL
from desk_platform import db as T
from desk_platform.base import Principal
from desk_platform.db import current_seq, delta_page, next_seq
from desk_platform.errors import Forbidden, NotFound
from desk_platform.ingest import own_visit
from desk_platform.service import Platform
from sync import protocol as P

HEARTBEAT_S = 15.0  # a comment line on an idle event stream (proxies, dead peers)


def alert_wire(r: Any) -> P.AlertWire:
    return P.AlertWire(
        alert_id=r.alert_id, seq=r.seq, kind=P.AlertKind(r.kind), hospital_id=r.hospital_id,
        booking_id=r.booking_id, visit_ids=json.loads(r.visit_ids_json),
        desk_ids=json.loads(r.desk_ids_json), created_at=r.created_at, detail=r.detail,
        handled_by=r.handled_by, handled_at=r.handled_at, handled_note=r.handled_note or "",
        handled_desk=r.handled_desk)


def alerts_delta(plat: Platform, hospital_id: str, cursor: int, limit: int) -> P.AlertsDelta:
    """The hospital's alerts created or handled after ``cursor`` (handled state included)."""
    a = T.alerts.c
    with plat.db.read() as conn:
        rows, new_cursor, more = delta_page(
            conn, f"alerts:{hospital_id}", select(T.alerts).where(a.hospital_id == hospital_id),
            a.seq, cursor, limit)
    return P.AlertsDelta(hospital_id=hospital_id, more=more, cursor=new_cursor,
                         alerts=[alert_wire(r) for r in rows])


def head(plat: Platform, hospital_id: str) -> int:
    with plat.db.read() as conn:
        return current_seq(conn, f"alerts:{hospital_id}")


def handle(plat: Platform, who: Principal, hospital_id: str, alert_id: str,
           body: P.AlertHandled) -> P.AlertWire:
    """Mark an alert handled, once: a second desk handling it too gets the first handling."""
    a = T.alerts.c
    with plat.db.write() as conn:
        row = conn.execute(select(T.alerts).where(a.alert_id == alert_id,
                                                  a.hospital_id == hospital_id)).first()
        if row is None:
            raise NotFound("no such alert at this hospital")
        if row.handled_at is None:
            conn.execute(update(T.alerts).where(a.alert_id == alert_id).values(
                seq=next_seq(plat.db, conn, f"alerts:{hospital_id}"),
                handled_by=body.handled_by, handled_at=plat.now(),
                handled_note=body.note[:500], handled_desk=who.desk_id or who.name[:64]))
            row = conn.execute(select(T.alerts).where(a.alert_id == alert_id)).one()
    return alert_wire(row)


def token_valid(plat: Platform, token_hash: str) -> bool:
    """Whether the token behind an open stream still stands (not revoked, not expired)."""
    t = T.tokens.c
    with plat.db.read() as conn:
        row = conn.execute(select(t.revoked_at, t.expires_at).where(
            t.token_hash == token_hash)).first()
    now = plat.now()
    return row is not None and row.revoked_at is None and (
        row.expires_at is None or row.expires_at > now)


def _add_once(plat: Platform, conn: Any, hospital_id: str, kind: P.AlertKind, key: str,
              values: dict[str, Any], now: datetime) -> bool:
    """Insert one alert unless it exists (its id is made from kind, hospital and ``key``, so a
    batch sent again makes no second alert)."""
    alert_id = P.made_alert_id(kind, hospital_id, key)
    if conn.execute(select(T.alerts.c.alert_id).where(
            T.alerts.c.alert_id == alert_id)).first() is not None:
        return False
    conn.execute(T.alerts.insert().values(
        alert_id=alert_id, hospital_id=hospital_id, kind=kind.value,
        seq=next_seq(plat.db, conn, f"alerts:{hospital_id}"), created_at=now, **values))
    return True


def _desk_alert(plat: Platform, conn: Any, hospital_id: str, visit_id: str,
                booking_id: str | None, desk_id: str, detail: str, now: datetime) -> bool:
    """The ``desk_alert`` of one visit, once (an upload with ``alert: true`` and a later
    ``VisitAlert`` of the same visit make one alert)."""
    return _add_once(plat, conn, hospital_id, P.AlertKind.DESK_ALERT, visit_id, dict(
        booking_id=booking_id, visit_ids_json=json.dumps([visit_id]),
        desk_ids_json=json.dumps([desk_id]), detail=detail[:1000]), now)


def alert_after_visit(plat: Platform, who: Principal, body: P.VisitAlert) -> P.VisitAlertResult:
    """A desk flagged one of its uploaded visits later (the clerk's "not the same person"):
    the visit's ``desk_alert``, made once. Only the desk that uploaded the visit may."""
    now = plat.now()
    with plat.db.write() as conn:
        row = own_visit(conn, who, body.visit_id, T.visits.c.booking_id)
        made = _desk_alert(plat, conn, row.hospital_id, body.visit_id, row.booking_id,
                           row.desk_id, LATE_DESK_ALERT_DETAIL + ", ".join(body.codes), now)
    return P.VisitAlertResult(
        visit_id=body.visit_id, status="stored" if made else "duplicate",
        alert_id=P.made_alert_id(P.AlertKind.DESK_ALERT, row.hospital_id, body.visit_id))


def after_ingest(plat: Platform, who: Principal, batch: P.VisitBatch,
                 result: P.BatchResult) -> int:
    """The alerts a stored batch makes besides the platform's own (idempotent: a batch sent
    again after a lost answer makes none twice). Returns how many were made."""
    hid = who.hospital_id
    assert hid is not None
    kept = {r.visit_id for r in result.results if r.status is not P.VisitStatus.REJECTED}
    visits = {v.visit_id: v for v in batch.visits if v.visit_id in kept}
    if not visits:
        return 0
    now = plat.now()
    made = 0
    with plat.db.write() as conn:
        for v in visits.values():
            if v.alert:
                codes = [r.code for r in v.reasons if r.severity != "info"][:8]
                made += _desk_alert(plat, conn, hid, v.visit_id, v.booking_id, v.desk_id,
                                    DESK_ALERT_DETAIL + ", ".join(codes), now)
        hit_rows = conn.execute(select(T.visits.c.visit_id, T.visits.c.presented_id_hash).where(
            T.visits.c.visit_id.in_(sorted(visits)), T.visits.c.blacklist_hit.is_(True),
            T.visits.c.presented_id_hash.is_not(None))).all()
        for visit_id, id_hash in hit_rows:
            entry = conn.execute(select(T.blacklist.c.id_number_enc).where(
                T.blacklist.c.id_hash == id_hash, T.blacklist.c.deleted.is_(False))).first()
            if entry is None:
                continue
            key = plat.patient_key(plat.secrets.decrypt(entry.id_number_enc).decode())
            b = T.bookings.c
            booked = conn.execute(select(b.hospital_id, b.booking_id).where(
                b.patient_key == key, b.hospital_id != hid, b.status == "active",
                b.slot_end > now).order_by(b.hospital_id, b.booking_id)).all()
            for other_hid, booking_id in booked:
                made += _add_once(plat, conn, other_hid, P.AlertKind.BLACKLIST_ELSEWHERE,
                                  f"{visit_id}:{booking_id}", dict(
                                      booking_id=booking_id, visit_ids_json="[]",
                                      desk_ids_json="[]",
                                      detail=f"blacklist hit at hospital {hid}; booked here"),
                                  now)
    return made


# --- the push -------------------------------------------------------------------------------------


@dataclass
class _Watched:
    head: int = -1
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    waiters: int = 0
    task: asyncio.Task[None] | None = None


class AlertWatch:
    """Wakes the desks waiting on a hospital's alerts when its counter moves (one reader per
    hospital and process, however many desks wait)."""

    def __init__(self, read_head: Callable[[str], int], interval: float = 0.2):
        self.read_head = read_head
        self.interval = interval
        self._watched: dict[str, _Watched] = {}
        self.reads = 0  # database reads made (the idle cost)

    def waiting(self) -> int:
        return sum(w.waiters for w in self._watched.values())

    async def wait_beyond(self, hospital_id: str, cursor: int, timeout: float) -> bool:
        """True as soon as the hospital's alerts moved past ``cursor``; False after
        ``timeout`` seconds without."""
        w = self._watched.setdefault(hospital_id, _Watched())
        w.waiters += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            if w.task is None or w.task.done():
                w.task = asyncio.create_task(self._poll(hospital_id, w))
            while w.head <= cursor:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(w.changed.wait(), remaining)
                except TimeoutError:
                    return w.head > cursor
            return True
        finally:
            w.waiters -= 1

    async def _poll(self, hospital_id: str, w: _Watched) -> None:
        try:
            while w.waiters > 0:
                value = await run_in_threadpool(self.read_head, hospital_id)
                self.reads += 1
                if value != w.head:
                    w.head = value
                    old, w.changed = w.changed, asyncio.Event()
                    old.set()
                await asyncio.sleep(self.interval)
        finally:
            w.task = None
            w.head = -1  # unknown while nobody watches


# --- insiders -------------------------------------------------------------------------------------


def store_insiders(plat: Platform, who: Principal, rep: P.InsiderWeekReport) -> P.InsiderStored:
    """One desk's week replaces what it sent for that week before."""
    if rep.hospital_id != who.hospital_id or rep.desk_id != who.desk_id:
        raise Forbidden("a desk reports its own figures only")
    iw = T.insider_weeks.c
    now = plat.now()
    with plat.db.write() as conn:
        conn.execute(T.insider_weeks.delete().where(
            iw.hospital_id == rep.hospital_id, iw.desk_id == rep.desk_id, iw.week == rep.week))
        if rep.people:
            conn.execute(T.insider_weeks.insert(), [dict(
                hospital_id=rep.hospital_id, desk_id=rep.desk_id, person=p.person,
                week=rep.week, decisions=p.decisions, overrides=p.overrides, judged=p.judged,
                fast_confirms=p.fast_confirms, flagged=bool(p.far_above),
                reasons_json=json.dumps(sorted(p.far_above)), received_at=now)
                for p in rep.people])
    return P.InsiderStored(week=rep.week, stored=len(rep.people))


def insider_week(plat: Platform, hospital_id: str, week: str) -> P.InsiderWeek:
    """Each person's week over every desk of the hospital, far-above marks recomputed over the
    whole hospital's staff (the desk's rule: desk_app.services.insiders.far_above)."""
    from desk_app.services.insiders import far_above

    iw = T.insider_weeks.c
    with plat.db.read() as conn:
        rows = conn.execute(select(T.insider_weeks).where(
            iw.hospital_id == hospital_id, iw.week == week)).all()
    people: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = people.setdefault(r.person, dict(person=r.person, desks=[], decisions=0,
                                              overrides=0, judged=0, fast_confirms=0))
        p["desks"].append(r.desk_id)
        for k in ("decisions", "overrides", "judged", "fast_confirms"):
            p[k] += getattr(r, k)
    marks = {k: far_above({n: p[k] for n, p in people.items()})
             for k in ("overrides", "fast_confirms")}
    return P.InsiderWeek(hospital_id=hospital_id, week=week, people=[
        P.InsiderPersonWeek(**{**p, "desks": sorted(p["desks"])},
                            far_above=[k for k in ("overrides", "fast_confirms")
                                       if n in marks[k]])
        for n, p in sorted(people.items())])
