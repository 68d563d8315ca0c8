"""Statistics, exports and the audit log viewer (admin and security)."""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from desk_app.clock import CHINA_TZ
from desk_app.errors import Text, UserInputError
from desk_app.faces.history import fast_same, rubber_stamp
from desk_app.logs import MASKER
from desk_app.services import insiders
from desk_app.services.model import (
    AuditEntryView,
    AuditVerifyView,
    ClerkJudgementsView,
    Role,
    StatsView,
)
from desk_app.services.session import SessionService
from desk_app.storage import AuditAction, FaceJudgement, VisitRecord
from desk_app.storage.audit import AuditLog
from desk_app.storage.visits import Visits

MAX_DAYS = 366
# A spreadsheet reads a text cell that starts with one of these as a formula (CSV injection):
# a clerk's override reason "=HYPERLINK(...)" would run in the task force's spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = ("visit_id", "checked_in_at", "desk_id", "clerk", "booking_id", "verdict",
                  "final_verdict", "reasons", "face_outcome", "face_distance", "id_last4",
                  "offline", "override_by", "override_reason")


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise UserInputError(Text("结束日期早于开始日期。", "The end date is before the start date."))
    if (end - start).days > MAX_DAYS:
        raise UserInputError(Text("一次最多统计一年。", "At most one year at a time."))
    return (datetime.combine(start, time.min, CHINA_TZ),
            datetime.combine(end + timedelta(days=1), time.min, CHINA_TZ))


def csv_safe(value: object) -> object:
    """A text that a spreadsheet would take for a formula, prefixed with ``'`` (OWASP's advice
    for CSV, where a cell has no type); anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _row(v: VisitRecord) -> dict[str, object]:
    return {
        "visit_id": v.visit_id, "checked_in_at": v.checked_in_at.astimezone(CHINA_TZ).isoformat(),
        "desk_id": v.desk_id, "clerk": v.clerk, "booking_id": v.booking_id or "",
        "verdict": v.verdict, "final_verdict": v.final_verdict,
        "reasons": ";".join(r.code for r in v.reasons), "face_outcome": v.face_outcome or "",
        "face_distance": "" if v.face_distance is None else round(v.face_distance, 4),
        "id_last4": v.presented_id_last4 or "", "offline": v.offline,
        "override_by": v.override.by if v.override else "",
        "override_reason": MASKER.mask(v.override.reason) if v.override else "",
    }


def clerk_figures(clerk: str, judgements: Sequence[FaceJudgement]) -> ClerkJudgementsView:
    """One clerk's calls; "confirms without looking" as :func:`desk_app.faces.history.rubber_stamp`
    (the same test leaves their calls out of ``calibrate faces --from-desk-history``)."""
    same = sum(1 for j in judgements if j.judgement == "same")
    n = len(judgements)
    return ClerkJudgementsView(
        clerk=clerk, judged=n, same=same, different=n - same,
        within_1s=sum(1 for j in judgements if fast_same(j)),
        median_seconds=round(statistics.median(j.seconds for j in judgements), 2) if n else 0.0,
        rubber_stamp=rubber_stamp(judgements))


class ReportsService:
    """Implements StatsOps and AuditOps of :mod:`desk_app.services.api`."""

    def __init__(self, visits: Visits, audit: AuditLog, session: SessionService):
        self.visits = visits
        self.audit = audit
        self.session = session

    # -- statistics --
    def stats(self, start: date, end: date) -> StatsView:
        self.session.require(Role.ADMIN, Role.SECURITY)
        lo, hi = _day_bounds(start, end)
        visits = self.visits.between(lo, hi)
        by_decision = Counter(v.final_verdict for v in visits)
        by_reason = Counter(r.code for v in visits for r in v.reasons)
        by_hour = Counter(v.checked_in_at.astimezone(CHINA_TZ).hour for v in visits)
        by_day = Counter(v.local_day for v in visits)
        hits = sum(1 for v in visits if any(r.code == "blacklist_hit"
                                            for r in v.reasons))
        return StatsView(period_start=lo, period_end=hi, checkins=len(visits),
                         by_decision=dict(by_decision), by_reason=dict(by_reason.most_common()),
                         blacklist_hits=hits, by_hour=dict(sorted(by_hour.items())),
                         by_day=dict(sorted(by_day.items())))

    def clerk_judgements(self, start: date, end: date) -> list[ClerkJudgementsView]:
        """Per clerk, their calls on undecided faces in the period; a clerk who confirms nearly
        every case as the same person within a second is marked (see :func:`rubber_stamp`).
        Looking at these figures is audited."""
        user = self.session.require(Role.ADMIN, Role.SECURITY)
        lo, hi = _day_bounds(start, end)
        by_clerk: dict[str, list[FaceJudgement]] = {}
        judgements = self.visits.face_judgements(lo, hi)
        for j in judgements:
            by_clerk.setdefault(j.clerk, []).append(j)
        # Insiders: overrides per person and who is far above their colleagues, same period.
        figures = {p.person: p for p in insiders.people(self.visits.between(lo, hi),
                                                        judgements)}
        names = sorted(set(by_clerk) | {p for p, f in figures.items() if f.overrides})
        views = [replace(clerk_figures(name, by_clerk.get(name, [])),
                         overrides=figures[name].overrides if name in figures else 0,
                         far_above=figures[name].far_above if name in figures else ())
                 for name in names]
        self.audit.record(user.username, AuditAction.JUDGEMENTS_VIEWED, "",
                         {"from": start.isoformat(), "to": end.isoformat(),
                          "clerks": len(views),
                          "flagged": [v.clerk for v in views if v.rubber_stamp],
                          "far_above": [v.clerk for v in views if v.far_above]})
        return views

    def export(self, start: date, end: date, path: Path, fmt: str) -> Path:
        user = self.session.require(Role.ADMIN, Role.SECURITY)
        lo, hi = _day_bounds(start, end)
        rows = [_row(v) for v in self.visits.between(lo, hi)]
        path = Path(path)
        if fmt == "csv":
            with path.open("w", newline="", encoding="utf-8-sig") as f:  # BOM: Excel opens it right
                w = csv.DictWriter(f, fieldnames=EXPORT_COLUMNS)
                w.writeheader()
                w.writerows({k: csv_safe(x) for k, x in r.items()} for r in rows)
        elif fmt == "xlsx":
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell

            wb = Workbook(write_only=True)
            ws = wb.create_sheet("visits")
            ws.append(list(EXPORT_COLUMNS))

            def cell(value: object) -> object:
                # openpyxl stores a str starting with "=" as a formula; a text cell keeps the
                # clerk's words exactly, as text.
                if not isinstance(value, str):
                    return value
                c = WriteOnlyCell(ws, value)
                c.data_type = "s"
                return c

            for r in rows:
                ws.append([cell(r[c]) for c in EXPORT_COLUMNS])
            wb.save(path)
        else:
            raise UserInputError(Text("只能导出 CSV 或 XLSX。", "Export as CSV or XLSX only."))
        self.audit.record(user.username, "export", path.name,
                         {"format": fmt, "rows": len(rows), "from": start.isoformat(),
                          "to": end.isoformat()})
        return path

    # -- audit log --
    def entries(self, limit: int, offset: int) -> Sequence[AuditEntryView]:
        self.session.require(Role.ADMIN)
        entries = self.audit.entries(limit=limit + offset)[offset:]
        return [AuditEntryView(seq=e.seq, at=e.at, actor=e.actor, action=e.action,
                               subject=e.subject,
                               detail=MASKER.mask(json.dumps(e.detail, ensure_ascii=False,
                                                             sort_keys=True, default=str)))
                for e in entries]

    def count(self) -> int:
        self.session.require(Role.ADMIN)
        newest = self.audit.entries(limit=1)
        return newest[0].seq if newest else 0  # sequence numbers count from 1 without gaps

    def verify(self) -> AuditVerifyView:
        self.session.require(Role.ADMIN)
        report = self.audit.verify()
        first = min((p.seq for p in report.problems), default=None)
        message = (Text(f"审计日志完整, 共核对 {report.checked} 条。",
                        f"The audit log is intact ({report.checked} entries checked).")
                   if report.ok else
                   Text(f"审计日志被改动: 发现 {len(report.problems)} 处问题, 首个在第 {first} 条。",
                        f"The audit log was tampered with: {len(report.problems)} problems, "
                        f"the first at entry {first}."))
        return AuditVerifyView(ok=report.ok, checked=report.checked, first_bad_seq=first,
                               message=message,
                               problems=tuple(f"{p.seq}: {p.kind} {p.message}" for p in report.problems))
