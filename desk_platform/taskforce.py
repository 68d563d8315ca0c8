"""The task force's summary table (附件1 of the Jieyang action plan: 集中整治"号贩子"和"网络医托"专项
行动工作汇总表): one row per county (县/市/区) and a total, for a period.

Two columns come from the platform's own records: 查处案件 is the number of distinct case
numbers the police filed blacklist entries under in the console, 抓获号贩子 the number of people
(blacklist entries) listed under those cases; both counted by the day the entry was filed
(local time), in the county the police gave. The other columns are figures the platform cannot
know; the police or the health commission enter them in the console per county and period
(``taskforce_figures``); a report sums the figures of the periods that lie inside its range.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from desk_app.errors import Text
from desk_platform import db as T
from desk_platform.db import Database
from desk_platform.worded import Worded, required

TITLE = '集中整治"号贩子"和"网络医托"专项行动工作汇总表'


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    from_records: bool


COLUMNS = (
    Column("cases", "查处案件（宗）", "Cases handled", True),
    Column("scalpers", "抓获号贩子（人）", "Scalpers caught", True),
    Column("admin_detention", "治安拘留（人）", "Administrative detention", False),
    Column("criminal_detention", "刑事拘留（人）", "Criminal detention", False),
    Column("medical_staff", "查处医务人员（人）", "Medical staff dealt with", False),
    Column("hospital_staff", "查处医院挂号人员、保安等工作人员（人）",
           "Registration staff, guards etc. dealt with", False),
    Column("campaigns", "举办宣传活动（场）", "Publicity events held", False),
    Column("materials", "发放宣传材料（份）", "Publicity materials handed out", False),
)
MANUAL = tuple(c.key for c in COLUMNS if not c.from_records)


@dataclass(frozen=True)
class Row:
    county: str
    values: dict[str, int]


@dataclass(frozen=True)
class Summary:
    day_from: date
    day_to: date
    rows: list[Row]
    total: dict[str, int] = field(default_factory=dict)


def _bounds(day_from: date, day_to: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day_from, time(0), tz).astimezone(UTC)
    end = datetime.combine(day_to + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end


def check_period(day_from: date, day_to: date) -> None:
    if day_to < day_from:
        raise Worded(Text("结束日期早于开始日期。", "The end date is before the start date."))
    if (day_to - day_from).days > 3 * 366:
        raise Worded(Text("统计时段最长三年。", "A period is at most three years."))


def summary(db: Database, tz: ZoneInfo, day_from: date, day_to: date) -> Summary:
    check_period(day_from, day_to)
    start, end = _bounds(day_from, day_to, tz)
    c = T.blacklist_cases.c
    values: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        (col.key for col in COLUMNS), 0))
    with db.read() as conn:
        counties = set(conn.execute(select(T.hospital_regions.c.county).distinct()).scalars())
        for county, cases, people in conn.execute(
                select(c.county, func.count(func.distinct(c.case_number)),
                       func.count(func.distinct(c.entry_id)))  # a person once per county
                .where(c.created_at >= start, c.created_at < end, c.case_number != "",
                       c.county != "")
                .group_by(c.county)):
            values[county]["cases"] = int(cases)
            values[county]["scalpers"] = int(people)
        f = T.taskforce_figures.c
        for county, key, total in conn.execute(
                select(f.county, f.field, func.sum(f.value))
                .where(f.period_from >= day_from.isoformat(), f.period_to <= day_to.isoformat())
                .group_by(f.county, f.field)):
            if key in MANUAL:
                values[county][key] = int(total or 0)
    for county in counties:
        values[county]  # noqa: B018  (every county of a hospital gets a row, zeros included)
    rows = [Row(county, dict(values[county])) for county in sorted(values)]
    total = {col.key: sum(r.values[col.key] for r in rows) for col in COLUMNS}
    return Summary(day_from, day_to, rows, total)


def figures(db: Database, county: str, day_from: date, day_to: date) -> dict[str, int]:
    """The manual figures stored for exactly this county and period."""
    f = T.taskforce_figures.c
    with db.read() as conn:
        rows = conn.execute(select(f.field, f.value).where(
            f.county == county, f.period_from == day_from.isoformat(),
            f.period_to == day_to.isoformat())).all()
    return {k: int(v) for k, v in rows}


def set_figures(db: Database, county: str, day_from: date, day_to: date,
                values: dict[str, int], actor: str) -> None:
    county = required(county, "县（市、区）", "county", limit=64)
    check_period(day_from, day_to)
    now = datetime.now(UTC)
    f = T.taskforce_figures.c
    with db.write() as conn:
        for key, value in values.items():
            if key not in MANUAL:
                continue
            if not 0 <= value <= 10_000_000:
                raise Worded(Text("数字须在 0 到 10000000 之间。",
                                  "Figures must be between 0 and 10000000."))
            conn.execute(T.taskforce_figures.delete().where(
                f.county == county, f.period_from == day_from.isoformat(),
                f.period_to == day_to.isoformat(), f.field == key))
            conn.execute(T.taskforce_figures.insert().values(
                county=county, period_from=day_from.isoformat(), period_to=day_to.isoformat(),
                field=key, value=int(value), updated_by=actor[:64], updated_at=now))


def set_county(db: Database, hospital_id: str, county: str) -> None:
    with db.write() as conn:
        conn.execute(T.hospital_regions.delete().where(
            T.hospital_regions.c.hospital_id == hospital_id))
        conn.execute(T.hospital_regions.insert().values(hospital_id=hospital_id, county=county))


# --- output -------------------------------------------------------------------------------------


def header(lang: str = "zh") -> list[str]:
    if lang.startswith("en"):
        return ["No.", "County", *(c.en for c in COLUMNS)]
    return ["序号", "县（市、区）", *(c.zh for c in COLUMNS)]


def table(s: Summary, lang: str = "zh") -> list[list[str | int]]:
    """Header, one row per county, the total: the rows of the sheet."""
    out: list[list[str | int]] = [header(lang)]
    for i, r in enumerate(s.rows, 1):
        out.append([i, r.county, *(r.values[c.key] for c in COLUMNS)])
    out.append(["", "Total" if lang.startswith("en") else "合计",
                *(s.total[c.key] for c in COLUMNS)])
    return out


def text(s: Summary) -> str:
    lines = [TITLE, f"统计时段：{s.day_from.isoformat()} 至 {s.day_to.isoformat()}"]
    lines += ["\t".join(str(x) for x in row) for row in table(s)]
    return "\n".join(lines) + "\n"


def _safe(value: str | int) -> str | int:
    """A cell that a spreadsheet never runs as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_xlsx(s: Summary, path: str | Path, *, unit: str = "") -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总表"
    rows = table(s)
    ncols = len(rows[0])
    last = get_column_letter(ncols)
    ws.append([TITLE])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([_safe(f"填报单位：{unit}"), None, None, None, None,
               f"统计时段：{s.day_from.isoformat()} 至 {s.day_to.isoformat()}"])
    thin = Side(style="thin")
    for r, row in enumerate(rows, start=3):
        ws.append([_safe(v) for v in row])
        for col in range(1, ncols + 1):
            cell = ws.cell(row=r, column=col)
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            if r == 3 or r == 2 + len(rows):
                cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 16
    for col in range(3, ncols + 1):
        ws.column_dimensions[get_column_letter(col)].width = 14
    ws.row_dimensions[3].height = 48
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
