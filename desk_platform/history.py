"""A month of history for the console's demo (``desk-platform seed-demo --history-days N``):
several hospitals in the counties of Jieyang, their check-ins day by day (verdicts, reasons,
blacklist hits, overrides), police cases with blacklist entries, appeals, the task force's
manual figures, and booking-platform traffic with the patterns the anomaly rules look for.

Separate from :func:`desk_platform.seed.seed_demo` (the desk demo's morning, which stays as it
was). History bookings are records for the console only: they carry sequence number 0, so no
desk ever pulls them (desks pull ``seq > cursor``), and a dummy QR token.

Seeding is deterministic for a given ``seed`` and reproducible on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from desk_platform import db as T
from desk_platform import platform_calls as ops
from desk_platform import taskforce
from desk_platform.appeals import Appeals
from desk_platform.cases import Cases
from desk_platform.seed import make_id_number
from desk_platform.staff import Staff
from sync import protocol as P

HOSPITALS = (
    ("H001", "揭阳市人民医院", "榕城区"),
    ("H002", "揭阳市中医院", "榕城区"),
    ("H003", "普宁市人民医院", "普宁市"),
    ("H004", "揭西县人民医院", "揭西县"),
    ("H005", "惠来县人民医院", "惠来县"),
    ("H006", "揭东区人民医院", "揭东区"),
)
REGION = {"榕城区": "445202", "揭东区": "445203", "揭西县": "445222", "惠来县": "445224",
          "普宁市": "445281"}
DEPARTMENTS = (("CARD", "心内科"), ("PED", "儿科"), ("OBS", "妇产科"), ("GAS", "消化内科"),
               ("ORTH", "骨科"), ("DERM", "皮肤科"))
REJECT_REASONS = ("blacklist_hit", "face_mismatch", "patient_mismatch", "booking_revoked",
                  "booking_already_used")
DEMO_STAFF = (("police", "揭阳市公安局 王警官", "police"),
              ("commission", "揭阳市卫健局 李科长", "commission"),
              ("platform", "预约挂号平台 张工", "platform"))
DEMO_PASSWORD = "demo-pass-1"


@dataclass
class HistoryResult:
    days: int
    visits: int = 0
    bookings: int = 0
    cases: int = 0
    appeals: int = 0
    staff_created: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = (f"history: {self.days} days, {self.visits} visits, {self.bookings} bookings, "
                f"{self.cases} blacklist cases, {self.appeals} appeals at "
                f"{len(HOSPITALS)} hospitals")
        if self.staff_created:
            text += (f"; console accounts {', '.join(self.staff_created)} with password "
                     f"{DEMO_PASSWORD!r} (demo only)")
        return text


def seed_history(plat: Any, *, days: int = 30, seed: int = 2026) -> HistoryResult:
    rng = random.Random(seed)
    tz = plat.tz
    now = datetime.now(UTC)
    today = now.astimezone(tz).date()
    res = HistoryResult(days)
    for hid, name, county in HOSPITALS:
        ops.ensure_hospital(plat, hid, name)
        taskforce.set_county(plat.db, hid, county)
    staff = Staff(plat.db)
    existing = {m.username for m in staff.members()}
    for username, display, role in DEMO_STAFF:
        if username not in existing:
            staff.add(username, display, role, DEMO_PASSWORD, actor="seed-demo")
            res.staff_created.append(username)

    # --- police cases: blacklist entries filed over the month ---------------------------------
    cases = Cases(plat)
    banned: list[tuple[str, str, str]] = []  # (number, entry_id, county)
    counties = list(REGION)
    for k in range(14):
        county = counties[k % len(counties)]
        filed = today - timedelta(days=rng.randrange(0, days))
        number = make_id_number(REGION[county], f"19{rng.randrange(60, 99)}0{rng.randrange(1, 9)}"
                                f"1{rng.randrange(0, 9)}", 300 + k, rng.choice("MF"))
        case_no = f"揭公({county[:2]})刑字[{filed.year}]{100 + k // 2}号"
        entry = cases.add("police", number, case_number=case_no, county=county,
                          reason=rng.choice(("倒卖专家号", "倒号", "网络医托", "秒杀器抢号")),
                          evidence=rng.choice(("监控录像", "微信转账记录", "询问笔录")),
                          days=91)
        at = datetime.combine(filed, time(10, rng.randrange(0, 59)), tz).astimezone(UTC)
        with plat.db.write() as conn:
            conn.execute(T.blacklist_cases.update().where(
                T.blacklist_cases.c.entry_id == entry.entry_id).values(created_at=at))
        banned.append((number, entry.entry_id, county))
        res.cases += 1
    hashes = {e: plat.blacklist_hash(n) for n, e, _ in banned[:6]}  # seen at the desks

    # --- visits and their bookings, day by day --------------------------------------------------
    bookings: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for d in range(days, 0, -1):
        day = today - timedelta(days=d)
        for hid, _, county in HOSPITALS:
            base = {"H001": 60, "H002": 35, "H003": 45}.get(hid, 20)
            for _ in range(max(5, int(rng.gauss(base, base / 5)))):
                hour = rng.choices(range(7, 18), weights=(4, 9, 10, 8, 5, 2, 3, 5, 5, 3, 1))[0]
                at = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)),
                                      tz).astimezone(UTC)
                code, dept = rng.choice(DEPARTMENTS)
                number = make_id_number(REGION[county], "19800101", rng.randrange(1, 999), "M")
                bid = "BH" + uuid.uuid4().hex[:18].upper()
                bookings.append(_booking(plat, bid, hid, code, dept, at, number, rng,
                                         account=f"acct-{rng.randrange(1, 4000)}"))
                roll = rng.random()
                verdict = "admit" if roll < 0.86 else "review" if roll < 0.95 else "reject"
                reasons = []
                hit = None
                if verdict == "reject":
                    code_ = rng.choice(REJECT_REASONS)
                    reasons = [{"code": code_, "severity": "block", "rule": code_.split("_")[0]}]
                    if code_ == "blacklist_hit":
                        hit = rng.choice(list(hashes.values()))
                override = None
                if verdict == "review" and rng.random() < 0.6:
                    override = {"by": f"{hid.lower()}-sup{rng.randrange(1, 4)}",
                                "reason": "人工核验身份一致", "verdict": "admit"}
                visits.append(dict(
                    visit_id=str(uuid.uuid4()), hospital_id=hid,
                    desk_id=f"desk-0{rng.randrange(1, 4)}", booking_id=bid,
                    day=day.isoformat(), checked_in_at=at, received_at=at,
                    clerk=f"{hid.lower()}-clerk{rng.randrange(1, 6)}", verdict=verdict,
                    final_verdict=override["verdict"] if override else verdict,
                    reasons_json=json.dumps(reasons), face_distance=round(rng.uniform(.2, .5), 3),
                    face_outcome="match", presented_id_hash=hit, presented_id_last4=number[-4:],
                    offline=rng.random() < 0.03,
                    override_json=json.dumps(override) if override else None,
                    blacklist_hit=hit is not None, conflict=False))
    # --- booking-platform traffic the anomaly rules catch (the last days) -----------------------
    bot_at = datetime.combine(today - timedelta(days=2), time(7, 0, 1), tz).astimezone(UTC)
    scalper = make_id_number("445202", "19910304", 777, "M")
    for i in range(7):  # one IP, one device, one account, within minutes of the 7:00 release
        bookings.append(_booking(
            plat, "BH" + uuid.uuid4().hex[:18].upper(), "H001", "CARD", "心内科",
            bot_at + timedelta(seconds=20 * i), scalper if i < 4 else
            make_id_number("445202", "19850101", 700 + i, "F"), rng,
            account="acct-bot-01", client_ip="203.0.113.77", device_id="dev-emulator-9",
            phone="13800138000", instant=1.2 + i * 0.3))
    with plat.db.write() as conn:
        for chunk in range(0, len(bookings), 500):
            conn.execute(T.bookings.insert(), bookings[chunk:chunk + 500])
        for chunk in range(0, len(visits), 500):
            conn.execute(T.visits.insert(), visits[chunk:chunk + 500])
    res.bookings, res.visits = len(bookings), len(visits)

    # --- appeals (two pending) and a lifted ban --------------------------------------------------
    appeals = Appeals(plat)
    for number, _entry_id, _county in banned[6:8]:
        appeals.file(id_hash=plat.blacklist_hash(number), hospital_id="H003", desk_id="desk-01",
                     clerk="h003-clerk2", statement="本人证件曾遗失，未参与倒号")
        res.appeals += 1
    cases.lift("police", banned[8][1], "经复核证据不足")

    # --- the task force's manual figures for this month and last -------------------------------
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    for county in REGION:
        for start, end in ((last_month_end.replace(day=1), last_month_end), (first, today)):
            taskforce.set_figures(plat.db, county, start, end, {
                "admin_detention": rng.randrange(0, 6), "criminal_detention": rng.randrange(0, 3),
                "medical_staff": rng.randrange(0, 2), "hospital_staff": rng.randrange(0, 3),
                "campaigns": rng.randrange(1, 6), "materials": rng.randrange(2, 40) * 50},
                "commission")
    with plat.db.read() as conn:
        assert conn.execute(select(T.hospitals.c.hospital_id)).first() is not None
    return res


def _booking(plat: Any, bid: str, hid: str, code: str, dept: str, at: datetime, number: str,
             rng: random.Random, *, account: str, client_ip: str | None = None,
             device_id: str | None = None, phone: str | None = None,
             instant: float | None = None) -> dict[str, Any]:
    patient_key = hmac.new(plat.secrets.hmac_key(b"patient"), number.encode(),
                           hashlib.sha256).hexdigest()
    phone_key = (hmac.new(plat.secrets.hmac_key(b"phone"), phone.encode(), hashlib.sha256)
                 .hexdigest() if phone else None)
    start = at + timedelta(minutes=rng.randrange(5, 90))
    released = at - timedelta(seconds=instant) if instant is not None else at - timedelta(days=3)
    risk = P.BookingRiskWire(booked_at=at, slot_released_at=released,
                             booked_seconds_after_release=round((at - released).total_seconds(), 1),
                             account_id=account)
    return dict(
        booking_id=bid, reference=bid[2:], hospital_id=hid, slot_id="S" + bid, department_code=code,
        department_name=dept, doctor_name=f"{dept}医生", slot_start=start,
        slot_end=start + timedelta(minutes=15), day=start.astimezone(plat.tz).date().isoformat(),
        patient_hash="history", patient_salt="", patient_last4=number[-4:],
        patient_key=patient_key,
        account_id=account, status="active", booked_at=at, cancelled_at=None,
        risk_json=risk.model_dump_json(), kid="history", token="history", seq=0, updated_at=at,
        client_ip=client_ip, phone_key=phone_key, phone_last4=phone[-4:] if phone else None,
        device_id=device_id,
        # the ID kept encrypted for a confirmation, as Platform.book keeps it (bot traffic only:
        # the bulk of the history needs no number)
        patient_enc=plat.secrets.encrypt(number.encode()) if client_ip else None)

