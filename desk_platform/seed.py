"""Demo data for the platform: one hospital's morning, with the scalper cases the desk must catch.

``seed_demo`` writes into a platform database (created and migrated if needed) and returns what
the demo and the tests need to play the scenarios: the patients' ID numbers and names (the
platform itself keeps neither), their booking tokens and QR images, enrollment codes for two
desks and tokens for an admin and the police. The clock is moved back while seeding, so the risk
metadata tells true stories (booked 2 s after release, rebooked right after a cancellation...).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import segno

from desk_app.identity.idnumber import check_char, legacy_15_form, parse_id_number
from desk_platform.bookings import CancelPolicy
from desk_platform.db import Database, migrate
from desk_platform.secrets import load_secrets
from desk_platform.service import Platform
from sync import protocol as P

log = logging.getLogger(__name__)


def make_id_number(region: str, birth: str, seq: int, sex: str) -> str:
    """A valid 18-character resident ID number (GB 11643 check character) for test data."""
    odd = seq * 2 + (1 if sex == "M" else 0)
    body = f"{region}{birth}{odd % 1000:03d}"
    return body + check_char(body)


def legacy_15(number: str) -> str:
    """The first-generation 15-digit form of an 18-digit number born 19xx (as old records and
    some police lists still hold it)."""
    return legacy_15_form(parse_id_number(number))  # type: ignore[return-value]


@dataclass(frozen=True)
class SeedPatient:
    scenario: str  # what the desk should conclude (see SCENARIOS)
    name: str
    id_number: str
    booking_id: str | None
    reference: str | None
    token: str | None  # the QR text
    qr_png: Path | None
    status: str | None  # booking status on the platform


@dataclass(frozen=True)
class SeedResult:
    db_url: str
    hospital_id: str
    hospital_name: str
    other_hospital_id: str
    patients: tuple[SeedPatient, ...]
    blacklist_entry_ids: tuple[str, ...]
    enrollment_codes: dict[str, str]  # desk_id -> one-time code
    admin_token: str  # platform_admin
    police_token: str
    security_token: str  # security staff of hospital_id
    key_ids: tuple[str, ...] = field(default=())

    def patient(self, scenario: str) -> SeedPatient:
        for p in self.patients:
            if p.scenario == scenario:
                return p
        raise KeyError(scenario)


SCENARIOS = {
    "normal": "an ordinary booking: admit",
    "scalper_account": "booked 2 s after release by an account that booked for many patients",
    "cancel_rebook": "slot cancelled by one patient and rebooked by another right after release",
    "cancelled": "the booking was cancelled: its QR is revoked",
    "blacklisted_police": "the patient is on the police blacklist",
    "blacklisted_platform": "the patient is on the platform blacklist (no-shows, resale)",
    "other_hospital": "a valid booking, but for another hospital",
    "impostor": "a real booking presented by someone else (ID does not match the booking)",
    "legacy_15_booked": "booked with the old 15-digit number; the card says 18 digits: admit",
    "legacy_15_blacklisted": "banned by the police under the old 15-digit number: reject",
}


class _Clock:
    def __init__(self, t: datetime):
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def seed_demo(
    db_url: str,
    out_dir: str | Path,
    *,
    hospital_id: str = "H001",
    hospital_name: str = "示范医院",
    other_hospital_id: str = "H002",
    desks: tuple[str, ...] = ("desk-01", "desk-02"),
    now: datetime | None = None,
    key_file: str | None = None,
) -> SeedResult:
    """Create (or extend) a demo platform database; write QR PNGs into ``out_dir/qr``."""
    out = Path(out_dir)
    (out / "qr").mkdir(parents=True, exist_ok=True)
    real_now = (now or datetime.now(UTC)).replace(microsecond=0)
    clock = _Clock(real_now - timedelta(days=1))
    db = Database(db_url)
    try:
        migrate(db)
        plat = Platform(db, load_secrets(db_url, key_file, create=True), now=clock,
                        cancel_policy=CancelPolicy())
        plat.initialize()
        plat.enrollment.ensure_hospital(hospital_id, hospital_name)
        plat.enrollment.ensure_hospital(other_hospital_id, "第二人民医院")

        # Today's slots start at the next quarter hour, so every QR is valid for hours.
        first = real_now + timedelta(minutes=15 - real_now.minute % 15, seconds=-real_now.second)
        release = real_now - timedelta(hours=20)  # slots went on sale yesterday afternoon
        doctors = [("NEU", "神经内科", "王建国"), ("CAR", "心血管内科", "李秀英"),
                   ("PED", "儿科", "张明")]
        for code, _name, doctor in doctors:
            plat.bookings.open_slots(hospital_id, code, doctor,
                            [first + timedelta(minutes=15 * i) for i in range(16)], 15,
                            released_at=release)
        plat.bookings.open_slots(other_hospital_id, "ORT", "赵强", [first], 15, released_at=release)

        people = [
            ("normal", "张伟", make_id_number("110101", "19850312", 12, "M")),
            ("scalper_account", "刘洋", make_id_number("310104", "19920708", 33, "M")),
            ("cancel_rebook", "陈静", make_id_number("440106", "19880214", 45, "F")),
            ("cancelled", "杨帆", make_id_number("320102", "19790930", 21, "M")),
            ("blacklisted_police", "黄磊", make_id_number("510104", "19900101", 77, "M")),
            ("blacklisted_platform", "赵敏", make_id_number("420102", "19951120", 58, "F")),
            ("other_hospital", "周杰", make_id_number("330106", "19830505", 64, "M")),
            ("impostor", "吴芳", make_id_number("370102", "19970618", 19, "F")),
            # id_number is what the card says (18 digits); booking and ban use the 15-digit form
            ("legacy_15_booked", "王秀兰", make_id_number("110102", "19560417", 36, "F")),
            ("legacy_15_blacklisted", "李建军", make_id_number("210102", "19680823", 47, "M")),
        ]
        tokens_by: dict[str, P.IssuedBooking] = {}

        def book(scenario: str, number: str, slot: int, doctor: int, account: str,
                 at: datetime, hospital: str = hospital_id) -> P.IssuedBooking:
            clock.t = at
            code, dname, doc = doctors[doctor] if hospital == hospital_id else (
                "ORT", "骨科", "赵强")
            issued = plat.bookings.book(P.BookingRequest(
                hospital_id=hospital, department_code=code, department_name=dname,
                doctor_name=doc, slot_start=first + timedelta(minutes=15 * slot),
                slot_minutes=15, id_number=number, account_id=account))
            tokens_by[scenario] = issued
            return issued

        ids = {s: n for s, _name, n in people}
        book("normal", ids["normal"], 0, 0, "acct-zhangwei", release + timedelta(hours=3))
        # A scalper account: books for several people within seconds of the release.
        for i, extra in enumerate(("11", "22", "33")):
            book(f"_scalper_{i}", make_id_number("230102", f"198{i}0101", int(extra), "M"),
                 2 + i, 1, "acct-8866", release + timedelta(seconds=1 + i))
        book("scalper_account", ids["scalper_account"], 5, 1, "acct-8866",
             release + timedelta(seconds=2))
        book("blacklisted_police", ids["blacklisted_police"], 1, 0, "acct-hl",
             release + timedelta(hours=1))
        book("blacklisted_platform", ids["blacklisted_platform"], 2, 0, "acct-zm",
             release + timedelta(hours=2))
        book("impostor", ids["impostor"], 3, 0, "acct-wf", release + timedelta(hours=4))
        book("legacy_15_booked", legacy_15(ids["legacy_15_booked"]), 6, 0, "acct-wxl",
             release + timedelta(hours=4, minutes=10))
        book("legacy_15_blacklisted", ids["legacy_15_blacklisted"], 7, 0, "acct-ljj",
             release + timedelta(hours=4, minutes=20))
        book("other_hospital", ids["other_hospital"], 0, 0, "acct-zj",
             release + timedelta(hours=5), hospital=other_hospital_id)
        # Cancelled: its QR is revoked for the desks.
        cancelled = book("cancelled", ids["cancelled"], 4, 0, "acct-yf",
                         release + timedelta(hours=2))
        clock.t = real_now - timedelta(hours=3)
        plat.bookings.cancel(cancelled.booking.booking_id)
        # Cancel and rebook: a patient cancels a sought-after slot; it returns to the pool after
        # the cooldown at a random moment; the scalper's script rebooks it 20 s later.
        holder = book("_cancel_holder", make_id_number("110105", "19660101", 5, "F"),
                      0, 2, "acct-holder", release + timedelta(minutes=30))
        clock.t = real_now - timedelta(hours=4)
        cancel = plat.bookings.cancel(holder.booking.booking_id)
        book("cancel_rebook", ids["cancel_rebook"], 0, 2, "acct-8866",
             cancel.slot_release_at + timedelta(seconds=20))

        clock.t = real_now - timedelta(hours=6)
        police = plat.blacklist.add(ids["blacklisted_police"], source=P.BlacklistSource.POLICE,
                                    reason="倒号 (scalping) — 公安通报", created_by="police-demo")
        platform_entry = plat.blacklist.add(
            ids["blacklisted_platform"], source=P.BlacklistSource.PLATFORM,
            reason="多次爽约并转卖号源 (repeated no-shows, resale)", created_by="platform-demo")
        legacy_ban = plat.blacklist.add(
            legacy_15(ids["legacy_15_blacklisted"]), source=P.BlacklistSource.POLICE,
            reason="倒号 (scalping) — 旧15位号码通报", created_by="police-demo")
        lifted = plat.blacklist.add(make_id_number("120101", "19700101", 9, "M"),
                                    source=P.BlacklistSource.PLATFORM, reason="误报",
                                    created_by="platform-demo")
        plat.blacklist.remove(lifted.entry_id)  # a tombstone in the first delta

        clock.t = real_now
        codes = {d: plat.enrollment.create_code(hospital_id, d, created_by="seed").code
                 for d in desks}
        admin, _ = plat.enrollment.issue_token(P.Role.PLATFORM_ADMIN, "platform-admin (demo)")
        police_tok, _ = plat.enrollment.issue_token(P.Role.POLICE, "police (demo)")
        security, _ = plat.enrollment.issue_token(P.Role.SECURITY, "security (demo)",
                                       hospital_id=hospital_id)

        patients = []
        for scenario, name, number in people:
            issued = tokens_by.get(scenario)
            png = None
            status = None
            if issued is not None:
                png = out / "qr" / f"{scenario}-{issued.booking.booking_id}.png"
                segno.make(issued.token, error="m").save(str(png), scale=6, border=4)
                status = plat.bookings.get(issued.booking.booking_id)[0].status.value
            patients.append(SeedPatient(
                scenario=scenario, name=name, id_number=number,
                booking_id=issued.booking.booking_id if issued else None,
                reference=issued.booking.reference if issued else None,
                token=issued.token if issued else None, qr_png=png, status=status))
        return SeedResult(
            db_url=db.url, hospital_id=hospital_id, hospital_name=hospital_name,
            other_hospital_id=other_hospital_id, patients=tuple(patients),
            blacklist_entry_ids=(police.entry_id, platform_entry.entry_id, legacy_ban.entry_id),
            enrollment_codes=codes, admin_token=admin, police_token=police_tok,
            security_token=security,
            key_ids=tuple(k.kid for k in plat.keys.keyset().keys))
    finally:
        db.close()
