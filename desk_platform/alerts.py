"""Alerts for a hospital's desks and security staff (double check-ins, blacklist hits, suspect
reports), written here and pulled by cursor (``office.alerts_delta``); and the suspect reports
desks send."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from desk_platform import db as T
from desk_platform.base import Part, Principal, to_json
from desk_platform.db import next_seq
from desk_platform.errors import Conflict, Forbidden
from sync import protocol as P


class Alerts(Part):
    def add(self, conn: Any, hid: str, items: list[dict[str, Any]],
            now: datetime) -> None:
        base = next_seq(self.db, conn, f"alerts:{hid}", len(items))
        conn.execute(T.alerts.insert(), [dict(
            alert_id=str(uuid.uuid4()), hospital_id=hid, seq=base + i, kind=a["kind"],
            booking_id=a["booking_id"], visit_ids_json=to_json(a["visit_ids"]),
            desk_ids_json=to_json(a["desk_ids"]), created_at=now, detail=a["detail"][:1000])
            for i, a in enumerate(items)])

    def report(self, who: Principal, rep: P.SuspectReport) -> P.ReportResult:
        if rep.hospital_id != who.hospital_id or (
                who.role == P.Role.DESK and rep.desk_id != who.desk_id):
            raise Forbidden("reports are for the caller's own hospital and desk")
        now = self.now()
        with self.db.write() as conn:
            r = conn.execute(self.db.insert(T.reports).values(
                report_id=rep.report_id, hospital_id=rep.hospital_id, desk_id=rep.desk_id,
                day=self.ctx.local_day(rep.reported_at), reported_at=rep.reported_at,
                received_at=now, kind=rep.kind.value, booking_id=rep.booking_id,
                visit_id=rep.visit_id, id_hash=rep.id_hash, id_last4=rep.id_last4,
                note=rep.note).on_conflict_do_nothing(index_elements=["report_id"])
                .returning(T.reports.c.report_id))
            if r.first() is None:
                owner = conn.execute(select(T.reports.c.hospital_id).where(
                    T.reports.c.report_id == rep.report_id)).scalar()
                if owner != rep.hospital_id:
                    raise Conflict("report_id taken")
                return P.ReportResult(report_id=rep.report_id, status="duplicate")
            self.add(conn, rep.hospital_id, [dict(
                kind=P.AlertKind.SUSPECT_REPORT.value, booking_id=rep.booking_id,
                visit_ids=[rep.visit_id] if rep.visit_id else [], desk_ids=[rep.desk_id],
                detail=f"{rep.kind.value}: {rep.note}")], now)
        return P.ReportResult(report_id=rep.report_id, status="stored")
