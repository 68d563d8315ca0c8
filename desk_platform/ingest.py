"""Visit records from the desks: stored exactly once each (keyed by the desk's visit UUID),
double check-ins of one booking found and alerted, overrides recorded afterwards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from desk_platform import db as T
from desk_platform.alerts import Alerts
from desk_platform.base import Context, Part, Principal, to_json
from desk_platform.db import next_seq
from desk_platform.errors import Forbidden, NotFound, NotOwnVisit
from sync import protocol as P

CHECKIN_VERDICTS = ("admit", "review")


class Visits(Part):
    def __init__(self, ctx: Context, alerts: Alerts):
        super().__init__(ctx)
        self.alerts = alerts

    def ingest(self, who: Principal, batch: P.VisitBatch) -> P.BatchResult:
        """Store a batch of visits exactly once each (keyed by the desk's visit UUID).

        A booking checked in (admit/review) by a second visit is stored too; both visits are
        marked as a conflict and an alert goes to the hospital's desks and security staff.
        """
        if who.role != P.Role.DESK:
            raise Forbidden("only desks upload visits")
        for v in batch.visits:
            if v.hospital_id != who.hospital_id or v.desk_id != who.desk_id:
                raise Forbidden("a desk uploads its own visits only")
        hid = who.hospital_id
        assert hid is not None
        now = self.now()
        seen: dict[str, P.VisitRecordWire] = {}
        for v in batch.visits:  # the same visit twice in one batch: once
            seen.setdefault(v.visit_id, v)
        visits = sorted(seen.values(), key=lambda v: v.visit_id)
        hashes = {v.presented_id_hash for v in visits if v.presented_id_hash}
        with self.db.write() as conn:
            hits: set[str] = set()
            if hashes:
                bl = T.blacklist.c
                hits = set(conn.execute(select(bl.id_hash).where(
                    bl.id_hash.in_(sorted(hashes)), bl.deleted.is_(False),
                    bl.valid_from <= now, bl.valid_to > now)).scalars())
            rows = [self._visit_row(v, now, v.presented_id_hash in hits) for v in visits]
            inserted = {r[0] for r in self.db.insert_new(conn, T.visits, rows, "visit_id",
                                                         ("visit_id",))}
            others = [v.visit_id for v in visits if v.visit_id not in inserted]
            owners: dict[str, Any] = {}
            if others:
                for r in conn.execute(select(T.visits.c.visit_id, T.visits.c.hospital_id,
                                             T.visits.c.desk_id, T.visits.c.conflict)
                                      .where(T.visits.c.visit_id.in_(others))):
                    owners[r.visit_id] = r
            # Check-in claims: the first visit of a booking wins the checkins row.
            claims = [v for v in visits if v.visit_id in inserted and v.booking_id
                      and _final(v) in CHECKIN_VERDICTS]
            if claims:  # another hospital's booking cannot be checked in here
                owner = dict(conn.execute(select(T.bookings.c.booking_id,
                                                 T.bookings.c.hospital_id).where(
                    T.bookings.c.booking_id.in_(sorted({v.booking_id for v in claims})))).all())
                claims = [v for v in claims if owner.get(v.booking_id, hid) == hid]
            claims.sort(key=lambda v: (v.booking_id or "", v.visit_id))
            won: dict[str, str] = {}
            if claims:
                won = {visit_id: booking_id for booking_id, visit_id in self.db.insert_new(
                    conn, T.checkins,
                    [dict(booking_id=v.booking_id, visit_id=v.visit_id, hospital_id=hid,
                          desk_id=v.desk_id) for v in claims],
                    "booking_id", ("booking_id", "visit_id"))}
            losers = [v for v in claims if v.visit_id not in won]
            conflict_ids: set[str] = set()
            new_alerts: list[dict[str, Any]] = []
            if losers:
                firsts = {r.booking_id: r for r in conn.execute(
                    select(T.checkins).where(T.checkins.c.booking_id.in_(
                        sorted({v.booking_id for v in losers}))))}
                for v in losers:
                    first = firsts[v.booking_id]
                    conflict_ids.update((first.visit_id, v.visit_id))
                    new_alerts.append(_double_check_in(first, v.visit_id, v.desk_id))
                conn.execute(update(T.visits).where(T.visits.c.visit_id.in_(
                    sorted(conflict_ids))).values(conflict=True))
            for v in visits:
                if v.visit_id in inserted and v.presented_id_hash in hits:
                    new_alerts.append(dict(
                        kind=P.AlertKind.BLACKLIST_HIT.value, booking_id=v.booking_id,
                        visit_ids=[v.visit_id], desk_ids=[v.desk_id],
                        detail="presented ID is on the blacklist"))
            # Bookings checked in: a new version for the desks (status checked_in).
            if won:
                self._set_status(conn, hid, won.values(), "active", "checked_in", now)
            if new_alerts:
                self.alerts.add(conn, hid, new_alerts, now)
        results: list[P.VisitResult] = []
        counts: Counter[str] = Counter()
        for v in seen.values():  # batch order, each visit_id once
            if v.visit_id in inserted:
                c = v.visit_id in conflict_ids
                status = P.VisitStatus.CONFLICT if c and v.visit_id not in won else (
                    P.VisitStatus.STORED)
                results.append(P.VisitResult(visit_id=v.visit_id, status=status, conflict=c))
            else:
                o = owners.get(v.visit_id)
                if o is not None and o.hospital_id == hid and o.desk_id == v.desk_id:
                    results.append(P.VisitResult(visit_id=v.visit_id,
                                                 status=P.VisitStatus.DUPLICATE,
                                                 conflict=bool(o.conflict)))
                else:
                    results.append(P.VisitResult(visit_id=v.visit_id,
                                                 status=P.VisitStatus.REJECTED,
                                                 reason="visit_id_taken"))
            counts[results[-1].status.value] += 1
        return P.BatchResult(results=results, stored=counts["stored"] + counts["conflict"],
                             duplicates=counts["duplicate"], conflicts=counts["conflict"],
                             rejected=counts["rejected"], server_time=now)

    def _visit_row(self, v: P.VisitRecordWire, now: datetime, hit: bool) -> dict[str, Any]:
        return dict(
            visit_id=v.visit_id, hospital_id=v.hospital_id, desk_id=v.desk_id,
            booking_id=v.booking_id, day=self.ctx.local_day(v.checked_in_at),
            checked_in_at=v.checked_in_at, received_at=now, clerk=v.clerk,
            verdict=v.verdict.value, final_verdict=_final(v),
            reasons_json=to_json([r.model_dump() for r in v.reasons]),
            face_distance=v.face_distance, face_outcome=v.face_outcome,
            presented_id_hash=v.presented_id_hash, presented_id_last4=v.presented_id_last4,
            offline=v.offline,
            override_json=v.override.model_dump_json() if v.override else None,
            blacklist_hit=hit or any("blacklist" in r.code for r in v.reasons),
            conflict=False)

    def count(self, hospital_id: str | None = None) -> int:
        with self.db.read() as conn:
            q = select(func.count()).select_from(T.visits)
            if hospital_id:
                q = q.where(T.visits.c.hospital_id == hospital_id)
            return int(conn.execute(q).scalar_one())

    def override(self, who: Principal, ov: P.VisitOverride) -> P.OverrideResult:
        """Record an override of a stored visit: only the desk that uploaded the visit may.

        An override that turns the visit into a check-in (admit/review) or out of one (reject)
        settles its booking in the same transaction, as the upload would have (``_settle``).
        The same override sent again is ``unchanged`` and changes nothing.
        """
        v = T.visits.c
        with self.db.write() as conn:
            row = own_visit(conn, who, ov.visit_id, v.override_json, v.booking_id,
                            v.final_verdict)
            body = ov.override.model_dump_json()
            if row.override_json == body:
                return P.OverrideResult(visit_id=ov.visit_id, status="unchanged")
            verdict = ov.override.verdict.value
            conn.execute(update(T.visits).where(v.visit_id == ov.visit_id).values(
                override_json=body, final_verdict=verdict))
            checks_in = verdict in CHECKIN_VERDICTS
            if row.booking_id and checks_in != (row.final_verdict in CHECKIN_VERDICTS):
                self._settle(conn, row, ov.visit_id, checks_in)
        return P.OverrideResult(visit_id=ov.visit_id, status="stored")

    def _settle(self, conn: Any, row: Any, visit_id: str, checks_in: bool) -> None:
        """A late override's effect on the booking's check-in. Into a check-in: the visit takes
        the free ``checkins`` row (the booking becomes checked_in), or it is a double check-in
        with the visit holding it (both flagged, an alert). Out of one: the visit is no
        conflict; its claim passes to the earliest other visit that still checks the booking
        in, or the booking is active again; a visit left alone is no conflict any more."""
        hid, bid, now = row.hospital_id, row.booking_id, self.now()
        b, c, v = T.bookings.c, T.checkins.c, T.visits.c
        owner = conn.execute(select(b.hospital_id).where(b.booking_id == bid)
                             .with_for_update()).scalar()  # one settling of a booking at once
        if owner not in (None, hid):
            return  # another hospital's booking is never checked in here
        if checks_in:
            if self.db.insert_new(conn, T.checkins, [dict(
                    booking_id=bid, visit_id=visit_id, hospital_id=hid, desk_id=row.desk_id)],
                    "booking_id", ("booking_id",)):
                self._set_status(conn, hid, [bid], "active", "checked_in", now)
                return
            first = conn.execute(select(T.checkins).where(c.booking_id == bid)).one()
            if first.visit_id != visit_id:
                conn.execute(update(T.visits).where(v.visit_id.in_(
                    sorted({first.visit_id, visit_id}))).values(conflict=True))
                self.alerts.add(conn, hid, [_double_check_in(first, visit_id, row.desk_id)],
                                now)
            return
        held = conn.execute(delete(T.checkins).where(c.booking_id == bid, c.visit_id == visit_id)
                            .returning(c.booking_id)).first()
        rest = conn.execute(select(v.visit_id, v.desk_id).where(
            v.booking_id == bid, v.hospital_id == hid, v.final_verdict.in_(CHECKIN_VERDICTS))
            .order_by(v.received_at, v.visit_id)).all()
        alone = [visit_id, rest[0].visit_id] if len(rest) == 1 else [visit_id]
        conn.execute(update(T.visits).where(v.visit_id.in_(alone)).values(conflict=False))
        if held is None:
            return
        if rest:
            conn.execute(insert(T.checkins).values(booking_id=bid, visit_id=rest[0].visit_id,
                                                   hospital_id=hid, desk_id=rest[0].desk_id))
        else:
            self._set_status(conn, hid, [bid], "checked_in", "active", now)

    def _set_status(self, conn: Any, hid: str, booking_ids: Iterable[str], old: str, new: str,
                    now: datetime) -> None:
        """The hospital's bookings among ``booking_ids`` in status ``old`` become ``new``, each
        with a new number in the bookings delta."""
        b = T.bookings.c
        ids = conn.execute(select(b.booking_id).where(
            b.booking_id.in_(sorted(booking_ids)), b.hospital_id == hid,
            b.status == old).order_by(b.booking_id)).scalars().all()
        if ids:
            base = next_seq(self.db, conn, f"bookings:{hid}", len(ids))
            conn.execute(
                update(T.bookings).where(b.booking_id == bindparam("bid"))
                .values(status=new, seq=bindparam("new_seq"), updated_at=now),
                [{"bid": bid, "new_seq": base + i} for i, bid in enumerate(ids)])


def own_visit(conn: Any, who: Principal, visit_id: str, *columns: Any) -> Any:
    """The stored visit's row (hospital, desk and ``columns``) for a later call on it: only
    the desk that uploaded it (or its hospital's other callers) may make one."""
    v = T.visits.c
    row = conn.execute(select(v.hospital_id, v.desk_id, *columns).where(
        v.visit_id == visit_id)).first()
    if row is None:
        raise NotFound("visit not found (upload the visit first)")
    if row.hospital_id != who.hospital_id or (
            who.role == P.Role.DESK and row.desk_id != who.desk_id):
        raise NotOwnVisit("later calls on a visit are for the caller's own visits")
    return row


def _double_check_in(first: Any, visit_id: str, desk_id: str) -> dict[str, Any]:
    """The alert of a booking checked in by ``visit_id`` after ``first`` (its checkins row)."""
    return dict(kind=P.AlertKind.DOUBLE_CHECK_IN.value, booking_id=first.booking_id,
                visit_ids=[first.visit_id, visit_id], desk_ids=sorted({first.desk_id, desk_id}),
                detail="booking checked in twice")


def _final(v: P.VisitRecordWire) -> str:
    return (v.override.verdict if v.override else v.verdict).value
