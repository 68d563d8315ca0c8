"""The booking platform's anomaly rules (as the Zhejiang booking platform runs them), on the
platform's own booking records, and what follows a person's review of a hit.

Rules (``RULES``; thresholds in :class:`Thresholds`):

- ``repeat_ip`` / ``repeat_phone`` / ``repeat_device`` / ``repeat_account``: the same client IP
  address, phone number, device or booking account behind many bookings within a short time;
- ``instant``: bookings made within seconds of the slot's release (a "秒杀器" bot), several
  times by one account;
- ``cancel_rebook``: a slot an account cancelled, booked again by the same account for another
  person soon after (倒号: the slot handed over to a buyer).

A hit is a *candidate*: nothing happens to anyone until a person reviews it in the console.
Confirming one blacklists the ID of the person most of the bookings were for (source
``platform``, 91 days, through the platform's blacklist code: desks get it at their next sync)
and freezes the booking account most of them were made from. A frozen account cannot book; it is
unfrozen by the police in the console, or at a hospital window once the person's ID card is
checked there (a desk action, ``unfreeze``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from desk_app.errors import Text
from desk_platform import db as T
from desk_platform import platform_calls as ops
from desk_platform.errors import Conflict, NotFound
from desk_platform.worded import Worded
from sync import protocol as P

RULES = ("repeat_ip", "repeat_phone", "repeat_device", "repeat_account", "instant",
         "cancel_rebook")
BAN_DAYS = 91


@dataclass(frozen=True)
class Thresholds:
    window: timedelta = timedelta(hours=1)
    ip: int = 5
    phone: int = 3
    device: int = 5
    account: int = 5
    instant_seconds: float = 3.0
    instant_count: int = 3
    instant_window: timedelta = timedelta(days=7)
    rebook_within: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class Candidate:
    candidate_id: str
    rule: str
    key: str
    booking_ids: list[str]
    account_id: str
    patient_last4: str
    first_at: datetime
    last_at: datetime
    count: int
    detected_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    entry_id: str | None


@dataclass(frozen=True)
class FrozenAccount:
    account_id: str
    frozen: bool
    frozen_at: datetime
    frozen_by: str
    reason: str
    unfrozen_at: datetime | None
    unfrozen_by: str | None
    unfrozen_via: str | None


# --- at booking time (called by Platform.book inside its transaction) ----------------------------


def phone_digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())[-15:]


def booking_client_fields(plat: Any, conn: Connection, req: P.BookingRequest,
                          number: str) -> dict[str, Any]:
    """The anomaly columns of a new booking; :class:`Conflict` when its account is frozen."""
    frozen = conn.execute(select(T.frozen_accounts.c.frozen).where(
        T.frozen_accounts.c.account_id == req.account_id)).scalar()
    if frozen:
        raise Conflict("booking account frozen: the person's ID must be checked at a hospital "
                       "window or by the police first")
    phone = phone_digits(req.phone or "")
    return dict(
        client_ip=(req.client_ip or None), device_id=(req.device_id or None),
        phone_key=(hmac.new(plat.secrets.hmac_key(b"phone"), phone.encode(), hashlib.sha256)
                   .hexdigest() if phone else None),
        phone_last4=phone[-4:] if phone else None,
        patient_enc=plat.secrets.encrypt(number.encode("ascii")))


# --- the rules ------------------------------------------------------------------------------------


def _runs(rows: list[Any], window: timedelta, at_least: int) -> list[list[Any]]:
    """The bursts in ``rows`` (sorted by booked_at): maximal runs of rows each of which lies in
    some ``at_least`` consecutive rows spanning at most ``window``."""
    n = len(rows)
    member = [False] * n
    for i in range(n - at_least + 1):
        if rows[i + at_least - 1].booked_at - rows[i].booked_at <= window:
            for k in range(i, i + at_least):
                member[k] = True
    runs: list[list[Any]] = []
    current: list[Any] = []
    for i in range(n):
        if member[i] and current and rows[i].booked_at - current[-1].booked_at > window:
            runs.append(current)
            current = []
        if member[i]:
            current.append(rows[i])
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _cid(rule: str, key: str, first_booking: str) -> str:
    return hashlib.sha256(f"{rule}|{key}|{first_booking}".encode()).hexdigest()[:32]


class Anomalies:
    def __init__(self, platform: Any, thresholds: Thresholds | None = None):
        self.plat = platform
        self.db = platform.db
        self.t = thresholds or Thresholds()

    def scan(self, *, days: int = 7) -> list[Candidate]:
        """Run every rule on the bookings of the last ``days`` days; store and return the new
        candidates (a hit already stored, whatever its review, is not stored again)."""
        since = datetime.now(UTC) - timedelta(days=days)
        b = T.bookings.c
        with self.db.read() as conn:
            rows = conn.execute(select(
                b.booking_id, b.slot_id, b.account_id, b.patient_key, b.patient_last4,
                b.booked_at, b.cancelled_at, b.status, b.client_ip, b.phone_key,
                b.phone_last4, b.device_id, b.risk_json)
                .where(b.booked_at >= since).order_by(b.booked_at)).all()
        t = self.t
        hits: list[tuple[str, str, list[Any]]] = []
        for rule, attr, at_least, show in (
                ("repeat_ip", "client_ip", t.ip, lambda r: r.client_ip),
                ("repeat_phone", "phone_key", t.phone, lambda r: "phone ****" + r.phone_last4),
                ("repeat_device", "device_id", t.device, lambda r: "device " + r.device_id),
                ("repeat_account", "account_id", t.account, lambda r: "account " + r.account_id)):
            groups: dict[str, list[Any]] = defaultdict(list)
            for r in rows:
                if getattr(r, attr):
                    groups[getattr(r, attr)].append(r)
            for group in groups.values():
                for run in _runs(group, t.window, at_least):
                    hits.append((rule, show(run[0]), run))
        # 秒杀器: bookings within seconds of the release, several times for one account
        fast: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            secs = json.loads(r.risk_json).get("booked_seconds_after_release")
            if secs is not None and secs <= t.instant_seconds:
                fast[r.account_id].append(r)
        for account, group in fast.items():
            for run in _runs(group, t.instant_window, t.instant_count):
                hits.append(("instant", "account " + account, run))
        # cancel-and-rebook chains: the same slot, cancelled and rebooked by one account
        by_slot: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            by_slot[r.slot_id].append(r)
        for group in by_slot.values():
            for i, first in enumerate(group):
                if first.cancelled_at is None:
                    continue
                for later in group[i + 1:]:
                    if later.account_id == first.account_id \
                            and later.patient_key != first.patient_key \
                            and later.booked_at - first.cancelled_at <= t.rebook_within:
                        hits.append(("cancel_rebook", "account " + first.account_id,
                                     [first, later]))
        now = datetime.now(UTC)
        new: list[str] = []
        with self.db.write() as conn:
            for rule, key, run in hits:
                cid = _cid(rule, key, run[0].booking_id)
                accounts = Counter(r.account_id for r in run)
                patients = Counter((r.patient_key, r.patient_last4) for r in run)
                (pkey, last4), _ = patients.most_common(1)[0]
                res = conn.execute(self.db.insert(T.anomaly_candidates).values(
                    candidate_id=cid, rule=rule, key=key[:200],
                    booking_ids_json=json.dumps([r.booking_id for r in run]),
                    account_id=accounts.most_common(1)[0][0], patient_key=pkey,
                    patient_last4=last4, first_at=run[0].booked_at, last_at=run[-1].booked_at,
                    count=len(run), detected_at=now, status="open", decided_by=None,
                    decided_at=None, entry_id=None).on_conflict_do_nothing())
                if res.rowcount:
                    new.append(cid)
        return [self.get(c) for c in new]

    # --- review ---------------------------------------------------------------------------------

    def confirm(self, candidate_id: str, actor: str) -> Candidate:
        """Blacklist the ID (91 days, source platform) and freeze the account."""
        c = self.get(candidate_id)
        if c.status != "open":
            raise Worded(Text("该线索已处理。", "This candidate was already reviewed."))
        b = T.bookings.c
        with self.db.read() as conn:
            enc = conn.execute(select(b.patient_enc).where(
                b.booking_id.in_(c.booking_ids), b.patient_enc.is_not(None),
                b.patient_last4 == c.patient_last4)).scalars().first()
        if enc is None:
            raise Worded(Text("这些预约没有保存证件号码（较早的预约），请由公安按证件号码列入黑名单。",
                              "These bookings have no stored ID number (older bookings); the "
                              "police can add the person by ID number."))
        number = self.plat.secrets.decrypt(enc).decode("ascii")
        entry = ops.ban(self.plat, number, source=P.BlacklistSource.PLATFORM,
                        reason=f"预约异常 {c.rule}", days=float(BAN_DAYS), created_by=actor)
        now = datetime.now(UTC)
        with self.db.write() as conn:
            conn.execute(update(T.anomaly_candidates).where(
                T.anomaly_candidates.c.candidate_id == candidate_id).values(
                status="confirmed", decided_by=actor[:64], decided_at=now,
                entry_id=entry.entry_id))
            self._freeze(conn, c.account_id, actor, f"anomaly {c.rule}", candidate_id, now)
        return self.get(candidate_id)

    def dismiss(self, candidate_id: str, actor: str) -> Candidate:
        c = self.get(candidate_id)
        if c.status != "open":
            raise Worded(Text("该线索已处理。", "This candidate was already reviewed."))
        with self.db.write() as conn:
            conn.execute(update(T.anomaly_candidates).where(
                T.anomaly_candidates.c.candidate_id == candidate_id).values(
                status="dismissed", decided_by=actor[:64], decided_at=datetime.now(UTC)))
        return self.get(candidate_id)

    def _freeze(self, conn: Connection, account_id: str, actor: str, reason: str,
                candidate_id: str | None, now: datetime) -> None:
        conn.execute(T.frozen_accounts.delete().where(
            T.frozen_accounts.c.account_id == account_id))
        conn.execute(T.frozen_accounts.insert().values(
            account_id=account_id, frozen=True, frozen_at=now, frozen_by=actor[:64],
            reason=reason[:200], candidate_id=candidate_id, unfrozen_at=None, unfrozen_by=None,
            unfrozen_via=None))

    def unfreeze(self, account_id: str, actor: str, *, via: str) -> FrozenAccount:
        """``via`` is ``police`` (the console) or ``desk`` (the ID checked at a window)."""
        with self.db.write() as conn:
            r = conn.execute(update(T.frozen_accounts).where(
                T.frozen_accounts.c.account_id == account_id,
                T.frozen_accounts.c.frozen.is_(True)).values(
                frozen=False, unfrozen_at=datetime.now(UTC), unfrozen_by=actor[:64],
                unfrozen_via=via))
            if r.rowcount != 1:
                raise Worded(Text("该账号未被冻结。", "This account is not frozen."), status=404)
        return self.account(account_id)

    def unfreeze_at_desk(self, id_hash: str, hospital_id: str, clerk: str) -> list[str]:
        """A desk checked the person's ID card: unfreeze every account frozen for a candidate
        about this person (matched by the blacklist hash of the card's number)."""
        c = T.anomaly_candidates.c
        with self.db.read() as conn:
            rows = conn.execute(select(c.account_id, c.entry_id).select_from(
                T.anomaly_candidates.join(T.blacklist, T.blacklist.c.entry_id == c.entry_id))
                .where(T.blacklist.c.id_hash == id_hash, c.status == "confirmed")).all()
        done = []
        for account_id, _ in rows:
            try:
                self.unfreeze(account_id, f"{hospital_id}/{clerk}", via="desk")
                done.append(account_id)
            except Worded:
                continue  # already unfrozen
        return done

    # --- reading --------------------------------------------------------------------------------

    def get(self, candidate_id: str) -> Candidate:
        with self.db.read() as conn:
            r = conn.execute(select(T.anomaly_candidates).where(
                T.anomaly_candidates.c.candidate_id == candidate_id)).first()
        if r is None:
            raise NotFound("no such candidate")
        return _candidate(r)

    def candidates(self, *, status: str | None = "open", limit: int = 500) -> list[Candidate]:
        q = select(T.anomaly_candidates)
        if status:
            q = q.where(T.anomaly_candidates.c.status == status)
        with self.db.read() as conn:
            rows = conn.execute(q.order_by(T.anomaly_candidates.c.last_at.desc())
                                .limit(limit)).all()
        return [_candidate(r) for r in rows]

    def account(self, account_id: str) -> FrozenAccount:
        with self.db.read() as conn:
            r = conn.execute(select(T.frozen_accounts).where(
                T.frozen_accounts.c.account_id == account_id)).first()
        if r is None:
            raise NotFound("no such frozen account")
        return _frozen(r)

    def frozen_accounts(self, *, only_frozen: bool = True) -> list[FrozenAccount]:
        q = select(T.frozen_accounts)
        if only_frozen:
            q = q.where(T.frozen_accounts.c.frozen.is_(True))
        with self.db.read() as conn:
            rows = conn.execute(q.order_by(T.frozen_accounts.c.frozen_at.desc())).all()
        return [_frozen(r) for r in rows]


def _candidate(r: Any) -> Candidate:
    return Candidate(candidate_id=r.candidate_id, rule=r.rule, key=r.key,
                     booking_ids=json.loads(r.booking_ids_json), account_id=r.account_id,
                     patient_last4=r.patient_last4, first_at=r.first_at, last_at=r.last_at,
                     count=r.count, detected_at=r.detected_at, status=r.status,
                     decided_by=r.decided_by, decided_at=r.decided_at, entry_id=r.entry_id)


def _frozen(r: Any) -> FrozenAccount:
    return FrozenAccount(account_id=r.account_id, frozen=bool(r.frozen), frozen_at=r.frozen_at,
                         frozen_by=r.frozen_by, reason=r.reason, unfrozen_at=r.unfrozen_at,
                         unfrozen_by=r.unfrozen_by, unfrozen_via=r.unfrozen_via)
