"""The police's blacklist work in the console: add an entry with its case file, extend or lift a
ban, and see where a listed person was seen (visits, alerts and suspect reports at every
hospital).

The ban itself goes through the platform's own blacklist code (``Platform.blacklist_add`` /
``blacklist_remove``), so every desk gets it in its next blacklist delta; this module keeps the
case file beside it (``blacklist_cases``: case number, county, encrypted evidence note).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update

from desk_app.errors import Text
from desk_platform import db as T
from desk_platform import platform_calls as ops
from desk_platform.errors import NotFound
from desk_platform.worded import Worded, id_number, required
from sync import protocol as P

DEFAULT_BAN_DAYS = 91  # "3 months"
MAX_BAN_DAYS = 3 * 366


@dataclass(frozen=True)
class CaseFile:
    """One police case behind an entry (an entry may have several: one per case filed)."""

    case_id: str
    case_number: str  # "" for the file of a lifting of an entry made elsewhere (CLI, API)
    county: str
    created_at: datetime
    created_by: str
    lifted_at: datetime | None
    lifted_by: str | None
    lift_reason: str | None


@dataclass(frozen=True)
class CaseEntry:
    """A blacklist entry as the console lists it: last 4 only, with its case files (newest
    first)."""

    entry_id: str
    last4: str
    source: str
    reason: str
    valid_from: datetime
    valid_to: datetime
    deleted: bool
    created_by: str
    files: tuple[CaseFile, ...] = ()

    @property
    def masked(self) -> str:
        return "*" * 14 + self.last4

    @property
    def case_number(self) -> str:
        """Every case number filed against the entry, newest first."""
        return ", ".join(dict.fromkeys(f.case_number for f in self.files if f.case_number))

    @property
    def county(self) -> str:
        return ", ".join(dict.fromkeys(f.county for f in self.files if f.county))

    @property
    def lifting(self) -> CaseFile | None:
        """The file recording the lifting of a lifted entry (None while it stands)."""
        lifted = [f for f in self.files if f.lifted_at is not None]
        return max(lifted, key=lambda f: f.lifted_at) if self.deleted and lifted else None

    @property
    def lifted_at(self) -> datetime | None:
        return self.lifting.lifted_at if self.lifting else None

    @property
    def lifted_by(self) -> str | None:
        return self.lifting.lifted_by if self.lifting else None

    @property
    def lift_reason(self) -> str | None:
        return self.lifting.lift_reason if self.lifting else None

    def active(self, now: datetime) -> bool:
        return not self.deleted and self.valid_from <= now < self.valid_to


@dataclass(frozen=True)
class Sighting:
    kind: str  # visit | alert | report
    at: datetime
    hospital_id: str
    desk_id: str
    verdict: str
    detail: str


class Cases:
    def __init__(self, platform):  # noqa: ANN001  (desk_platform.service.Platform)
        self.plat = platform
        self.db = platform.db

    # --- changes ------------------------------------------------------------------------------

    def add(self, actor: str, number_text: str, *, case_number: str, county: str, reason: str,
            evidence: str, days: int = DEFAULT_BAN_DAYS) -> CaseEntry:
        number = id_number(number_text)
        case_number = required(case_number, "案件编号", "case number", limit=64)
        county = required(county, "县（市、区）", "county", limit=64)
        reason = required(reason, "原因", "reason", limit=200)
        evidence = required(evidence, "证据说明", "evidence note", limit=4000)
        if not 1 <= days <= MAX_BAN_DAYS:
            raise Worded(Text(f"限制期须在 1 到 {MAX_BAN_DAYS} 天之间。",
                              f"The ban period must be 1 to {MAX_BAN_DAYS} days."))
        # A person already banned by the police keeps their entry: the ban is renewed, never
        # shortened (the later end wins), and this case is one more file beside the others.
        entry = ops.ban(self.plat, number, source=P.BlacklistSource.POLICE, reason=reason,
                        days=float(days), created_by=actor)
        with self.db.write() as conn:
            conn.execute(T.blacklist_cases.insert().values(
                case_id=str(uuid.uuid4()), entry_id=entry.entry_id, case_number=case_number,
                county=county, evidence_enc=self.plat.secrets.encrypt(evidence.encode("utf-8")),
                created_at=datetime.now(UTC), created_by=actor[:64], lifted_at=None,
                lifted_by=None, lift_reason=None))
        return self.get(entry.entry_id)

    def extend(self, actor: str, entry_id: str, days: int) -> CaseEntry:
        """Move the end of an active ban ``days`` further (the same entry, a new version)."""
        if not 1 <= days <= MAX_BAN_DAYS:
            raise Worded(Text(f"延长天数须在 1 到 {MAX_BAN_DAYS} 之间。",
                              f"Extend by 1 to {MAX_BAN_DAYS} days."))
        current = self.get(entry_id)
        _police_owned(current)
        if current.deleted:
            raise Worded(Text("该限制已解除，无法延长；如需要请重新登记。",
                              "This ban was lifted and cannot be extended; add a new entry."))
        plain = ops.reveal(self.plat, entry_id)
        end = max(current.valid_to, datetime.now(UTC)) + timedelta(days=days)
        span = (end - current.valid_from) / timedelta(days=1)
        ops.ban(self.plat, plain.id_number, source=P.BlacklistSource(current.source),
                reason=current.reason, days=span, created_by=actor,
                valid_from=current.valid_from)
        return self.get(entry_id)

    def lift(self, actor: str, entry_id: str, reason: str, *, appeal: bool = False
             ) -> CaseEntry:
        """Lift a police ban; with ``appeal`` (the police decide every appeal) any source's."""
        reason = required(reason, "解除原因", "reason for lifting", limit=500)
        current = self.get(entry_id)
        if not appeal:
            _police_owned(current)
        if current.deleted:
            raise Worded(Text("该限制已经解除。", "This ban is already lifted."))
        ops.unban(self.plat, entry_id)
        self.mark_lifted(entry_id, actor, reason)
        return self.get(entry_id)

    def mark_lifted(self, entry_id: str, actor: str, reason: str) -> None:
        now = datetime.now(UTC)
        c = T.blacklist_cases.c
        with self.db.write() as conn:  # every open case of the entry ends with the ban
            r = conn.execute(update(T.blacklist_cases).where(
                c.entry_id == entry_id, c.lifted_at.is_(None)).values(
                lifted_at=now, lifted_by=actor[:64], lift_reason=reason[:500]))
            if r.rowcount == 0:  # an entry made elsewhere (CLI, API): a file for the lifting
                conn.execute(T.blacklist_cases.insert().values(
                    case_id=str(uuid.uuid4()), entry_id=entry_id, case_number="", county="",
                    evidence_enc=self.plat.secrets.encrypt(b""), created_at=now,
                    created_by=actor[:64], lifted_at=now, lifted_by=actor[:64],
                    lift_reason=reason[:500]))

    # --- reading ------------------------------------------------------------------------------

    def _query(self):  # noqa: ANN202
        b = T.blacklist.c
        return select(b.entry_id, b.last4, b.source, b.reason, b.valid_from, b.valid_to,
                      b.deleted, b.created_by)

    def _entries(self, conn, rows) -> list[CaseEntry]:  # noqa: ANN001
        """The entries of ``rows`` with their case files, newest first."""
        c = T.blacklist_cases.c
        files: dict[str, list[CaseFile]] = defaultdict(list)
        ids = [r.entry_id for r in rows]
        for i in range(0, len(ids), 500):
            for f in conn.execute(select(T.blacklist_cases).where(c.entry_id.in_(ids[i:i + 500]))
                                  .order_by(c.created_at.desc(), c.case_id)):
                files[f.entry_id].append(CaseFile(
                    case_id=f.case_id, case_number=f.case_number, county=f.county,
                    created_at=f.created_at, created_by=f.created_by, lifted_at=f.lifted_at,
                    lifted_by=f.lifted_by, lift_reason=f.lift_reason))
        return [CaseEntry(entry_id=r.entry_id, last4=r.last4, source=r.source, reason=r.reason,
                          valid_from=r.valid_from, valid_to=r.valid_to, deleted=bool(r.deleted),
                          created_by=r.created_by, files=tuple(files[r.entry_id]))
                for r in rows]

    def get(self, entry_id: str) -> CaseEntry:
        with self.db.read() as conn:
            row = conn.execute(self._query().where(T.blacklist.c.entry_id == entry_id)).first()
            if row is None:
                raise NotFound("no such blacklist entry")
            return self._entries(conn, [row])[0]

    def entries(self, *, include_lifted: bool = False, last4: str = "",
                limit: int = 500) -> list[CaseEntry]:
        b = T.blacklist.c
        q = self._query()
        if not include_lifted:
            q = q.where(b.deleted.is_(False))
        if last4:
            q = q.where(b.last4 == last4.upper())
        with self.db.read() as conn:
            rows = conn.execute(q.order_by(b.version.desc()).limit(limit)).all()
            return self._entries(conn, rows)

    def find(self, number_text: str) -> list[CaseEntry]:
        number = id_number(number_text)
        id_hash = self.plat.blacklist_hash(number)
        with self.db.read() as conn:
            rows = conn.execute(self._query().where(T.blacklist.c.id_hash == id_hash)).all()
            return self._entries(conn, rows)

    def evidences(self, entry_id: str) -> dict[str, str]:
        """The evidence note of each case file of the entry, by ``case_id``."""
        c = T.blacklist_cases.c
        with self.db.read() as conn:
            rows = conn.execute(select(c.case_id, c.evidence_enc).where(
                c.entry_id == entry_id)).all()
        return {r.case_id: self.plat.secrets.decrypt(r.evidence_enc).decode("utf-8")
                for r in rows}

    def evidence(self, entry_id: str) -> str:
        """Every case's evidence note of the entry, newest first, one paragraph each."""
        notes = self.evidences(entry_id)
        return "\n\n".join(n for f in self.get(entry_id).files if (n := notes.get(f.case_id)))

    def where_seen(self, entry_id: str, limit: int = 500) -> list[Sighting]:
        """Visits with this ID at any hospital, the alerts they raised, and suspect reports."""
        with self.db.read() as conn:
            id_hash = conn.execute(select(T.blacklist.c.id_hash).where(
                T.blacklist.c.entry_id == entry_id)).scalar()
            if id_hash is None:
                raise NotFound("no such blacklist entry")
            v = T.visits.c
            visits = conn.execute(select(
                v.visit_id, v.checked_in_at, v.hospital_id, v.desk_id, v.final_verdict,
                v.blacklist_hit, v.booking_id).where(v.presented_id_hash == id_hash)
                .order_by(v.checked_in_at.desc()).limit(limit)).all()
            out = [Sighting("visit", r.checked_in_at, r.hospital_id, r.desk_id, r.final_verdict,
                            ("blacklist_hit " if r.blacklist_hit else "")
                            + (f"booking {r.booking_id}" if r.booking_id else ""))
                   for r in visits]
            ids = {r.visit_id for r in visits}
            bids = {r.booking_id for r in visits if r.booking_id}
            if ids or bids:
                a = T.alerts.c
                conds = [a.booking_id.in_(sorted(bids))] if bids else []
                conds += [a.visit_ids_json.contains(i) for i in sorted(ids)[:100]]
                for r in conn.execute(select(T.alerts).where(or_(*conds))
                                      .order_by(a.created_at.desc()).limit(limit)):
                    if ids & set(json.loads(r.visit_ids_json)) or r.booking_id in bids:
                        desks = json.loads(r.desk_ids_json)
                        out.append(Sighting("alert", r.created_at, r.hospital_id,
                                            ",".join(desks), r.kind, r.detail[:200]))
            rp = T.reports.c
            for r in conn.execute(select(T.reports).where(rp.id_hash == id_hash)
                                  .order_by(rp.reported_at.desc()).limit(limit)):
                out.append(Sighting("report", r.reported_at, r.hospital_id, r.desk_id, r.kind,
                                    r.note[:200]))
        out.sort(key=lambda s: s.at, reverse=True)
        return out


_OWNERS = {"police": Text("公安", "the police"),
           "platform": Text("预约挂号平台", "the booking platform"),
           "hospital": Text("医院", "a hospital")}


def _police_owned(entry: CaseEntry) -> None:
    """The console is the police's: it renews and lifts police entries only (another source's
    ban is its owner's to change; an appeal against it is decided in 申诉)."""
    if entry.source != P.BlacklistSource.POLICE.value:
        owner = _OWNERS.get(entry.source, Text(entry.source, entry.source))
        raise Worded(Text(f"该限制由{owner.zh}登记，只能由登记方延长或解除；当事人可提出申诉。",
                          f"This ban was entered by {owner.en}; only they extend or lift it "
                          "(the person may appeal)."), status=403)

