"""Statistics and the task force's summary table match the records: the console page (in a real
Chromium), its XLSX export and ``desk-platform report taskforce`` show the same figures, counted
from the cases and visits stored and the figures entered in the console."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from desk_app.identity.testing import make_id_number
from desk_platform import db as T
from desk_platform import taskforce
from desk_platform.cases import Cases

from ..conftest import run_cli
from .conftest import new_page, sign_in

pytestmark = [pytest.mark.xdist_group("platform"), pytest.mark.e2e]

MANUAL_RONGCHENG = {"admin_detention": 2, "criminal_detention": 1, "medical_staff": 0,
                    "hospital_staff": 1, "campaigns": 3, "materials": 1200}


def add_cases(console) -> None:
    cases = Cases(console.platform)
    n = 0
    for county, case, people in (("榕城区", "揭公(榕)刑字[2026]201号", 2),
                                 ("榕城区", "揭公(榕)行字[2026]77号", 1),
                                 ("普宁市", "普公刑字[2026]15号", 1)):
        for _ in range(people):
            n += 1
            cases.add("police1", make_id_number("445202", date(1985, 1, n), 100 + n, sex="M"),
                      case_number=case, county=county, reason="倒号", evidence="笔录")
    # A case of last year is outside the period.
    entry = cases.add("police1", make_id_number("445202", date(1984, 2, 2), 99, sex="F"),
                      case_number="揭公刑字[2025]9号", county="普宁市", reason="倒号",
                      evidence="笔录")
    with console.platform.db.write() as conn:
        conn.execute(T.blacklist_cases.update().where(
            T.blacklist_cases.c.entry_id == entry.entry_id).values(
            created_at=datetime.now(UTC) - timedelta(days=400)))
    taskforce.set_county(console.platform.db, "H001", "榕城区")
    taskforce.set_county(console.platform.db, "H002", "揭西县")


def expected_from_records(console, day_from: date, day_to: date) -> dict[str, dict[str, int]]:
    """Counted here independently, straight from the tables."""
    start, end = taskforce._bounds(day_from, day_to, console.platform.tz)
    c = T.blacklist_cases.c
    out: dict[str, dict[str, int]] = {}
    with console.platform.db.read() as conn:
        for county in conn.execute(select(c.county).distinct()).scalars():
            where = (c.county == county, c.created_at >= start, c.created_at < end)
            out[county] = {
                "cases": conn.execute(select(func.count(func.distinct(c.case_number)))
                                      .where(*where)).scalar_one(),
                "scalpers": conn.execute(select(func.count()).select_from(T.blacklist_cases)
                                         .where(*where)).scalar_one()}
    return out


def test_summary_table_matches_the_records_in_page_xlsx_and_cli(console, browser, shots,
                                                                tmp_path):
    add_cases(console)
    today = datetime.now(console.platform.tz).date()
    day_from, day_to = today.replace(day=1), today
    expected = expected_from_records(console, day_from, day_to)
    assert expected["榕城区"] == {"cases": 2, "scalpers": 3}
    assert expected["普宁市"] == {"cases": 1, "scalpers": 1}

    page = new_page(browser, console)
    sign_in(page, console, "commission1",
            next_=f"/console/taskforce?from={day_from}&to={day_to}")
    page.fill("#county", "榕城区")
    for key, value in MANUAL_RONGCHENG.items():
        page.fill(f"#f-{key}", str(value))
    page.click("#save-figures")
    page.wait_for_url(re.compile(r".*done=saved"))
    # Figures of a spreadsheet-formula-looking county are stored as text, not run.
    page.fill("#county", "=HYPERLINK(\"http://x\")")
    page.fill("#f-campaigns", "1")
    page.click("#save-figures")
    page.wait_for_url(re.compile(r".*done=saved"))
    # A figure the browser lets through but the platform refuses: said, and nothing lost.
    page.fill("#county", "普宁市")
    page.fill("#f-materials", "1e3")  # (an <input type=number> accepts it)
    page.fill("#f-campaigns", "4")
    with page.expect_navigation():
        page.click("#save-figures")
    assert "整数" in page.locator("#form-error").inner_text()
    assert page.input_value("#county") == "普宁市" and page.input_value("#f-campaigns") == "4"
    page.goto(f"{console.base_url}/console/taskforce?from={day_from}&to={day_to}")

    def cell(county: str, key: str) -> int:
        return int(page.locator(f"#summary tr[data-county='{county}'] td[data-key='{key}']")
                   .inner_text())

    for county, counts in expected.items():
        for key, n in counts.items():
            assert cell(county, key) == n, (county, key)
    for key, n in MANUAL_RONGCHENG.items():
        assert cell("榕城区", key) == n
    assert cell("揭西县", "cases") == 0  # a county with a hospital and nothing else: a row of 0
    total = page.locator("#summary tr.total th[data-key='scalpers']").inner_text()
    assert int(total) == sum(c["scalpers"] for c in expected.values())
    page.screenshot(path=str(shots / "console-taskforce.png"), full_page=True)

    # The XLSX export: 附件1's layout, the same figures.
    with page.expect_download() as dl:
        page.click("#xlsx")
    sheet_path = tmp_path / "from-console.xlsx"
    dl.value.save_as(sheet_path)
    ws = load_workbook(sheet_path).active
    assert ws["A1"].value == taskforce.TITLE and ws["B3"].value == "县（市、区）"
    rows = {r[1]: r for r in ws.iter_rows(min_row=4, values_only=True)}
    assert rows["榕城区"][2:4] == (2, 3) and rows["榕城区"][8] == 3 and rows["榕城区"][9] == 1200
    assert rows["合计"][3] == sum(c["scalpers"] for c in expected.values())
    formula_like = [k for k in rows if k and "HYPERLINK" in k]
    assert formula_like == ["'=HYPERLINK(\"http://x\")"]

    # The command line prints the same table and writes the same sheet.
    out = tmp_path / "from-cli.xlsx"
    r = run_cli("report", "taskforce", "--from", str(day_from), "--to", str(day_to), "--xlsx",
                str(out), "--db", console.db_url, "--key-file", str(console.key_file))
    lines = {ln.split("\t")[1]: ln.split("\t") for ln in r.stdout.splitlines() if "\t" in ln}
    assert lines["榕城区"][2:] == [str(rows["榕城区"][i]) for i in range(2, 10)]
    assert lines["合计"][2:] == [str(rows["合计"][i]) for i in range(2, 10)]
    cli_rows = [r for r in load_workbook(out).active.iter_rows(values_only=True)]
    assert cli_rows == [r for r in ws.iter_rows(values_only=True)]


def test_statistics_match_the_visits_and_a_hospital_admin_sees_only_their_own(console,
                                                                              browser):
    now = datetime.now(UTC)
    day = datetime.now(console.platform.tz).date().isoformat()
    rows = []
    for hospital, verdict, n, override in (("H001", "admit", 4, None),
                                           ("H001", "reject", 2, None),
                                           ("H001", "review", 1, {"by": "sup1", "reason": "r",
                                                                  "verdict": "admit"}),
                                           ("H002", "admit", 5, None)):
        for _ in range(n):
            rows.append(dict(
                visit_id=str(uuid.uuid4()), hospital_id=hospital, desk_id="desk-x",
                booking_id=None, day=day, checked_in_at=now, received_at=now, clerk="c1",
                verdict=verdict, final_verdict=override["verdict"] if override else verdict,
                reasons_json=json.dumps([{"code": "blacklist_hit", "severity": "block",
                                          "rule": "blacklist"}] if verdict == "reject" else []),
                face_distance=None, face_outcome=None, presented_id_hash=None,
                presented_id_last4=None, offline=False,
                override_json=json.dumps(override) if override else None,
                blacklist_hit=verdict == "reject", conflict=False))
    with console.platform.db.write() as conn:
        conn.execute(T.visits.insert(), rows)

    def from_records(hospital: str | None) -> tuple[int, int]:
        v = T.visits.c
        where = [v.day == day] + ([v.hospital_id == hospital] if hospital else [])
        with console.platform.db.read() as conn:
            total = conn.execute(select(func.count()).where(*where)).scalar_one()
            hits = conn.execute(select(func.count()).where(*where, v.blacklist_hit.is_(True))
                                ).scalar_one()
        return total, hits

    page = new_page(browser, console)
    sign_in(page, console, "commission1", next_=f"/console/stats?from={day}&to={day}")
    assert (int(page.locator("#total").inner_text()),
            int(page.locator("#hits").inner_text())) == from_records(None)
    assert page.locator("svg.chart").count() >= 5
    page.goto(f"{console.base_url}/console/stats?from={day}&to={day}&hospital=H002")
    assert int(page.locator("#total").inner_text()) == from_records("H002")[0]

    admin = new_page(browser, console)
    sign_in(admin, console, "admin1", next_=f"/console/stats?from={day}&to={day}&hospital=H002")
    assert admin.locator("#hospital").count() == 0  # no choice of hospital
    assert int(admin.locator("#total").inner_text()) == from_records("H001")[0]
    assert "H002" not in admin.locator("#by-hospital + table").inner_text()
    assert "sup1" in admin.content()  # overrides per person

    # The hour of day is the platform's local hour (SQL on PostgreSQL, Python on SQLite).
    from desk_platform import figures

    today = datetime.now(console.platform.tz).date()
    st = figures.stats(console.platform.db, console.platform.tz, today, today)
    assert st.by_hour[now.astimezone(console.platform.tz).hour] == len(rows) == st.visits
    assert st.by_department["—"] == len(rows) and st.overrides_by_person["H001 / sup1"] == 1
