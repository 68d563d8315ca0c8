"""The desk's local store: the only code that talks to the database.

Every public method is one unit of work (one session, one transaction) and takes and returns
frozen values from :mod:`desk_app.storage.records` (bookings: ``desk_app.booking.model``).
Driver errors become :class:`~desk_app.storage.errors.StorageError` here. Methods may block on
disk: callers run them off the GUI thread (the desk's single database-writer executor).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, inspect, select, text, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from desk_app.clock import CHINA_TZ, Clock, SystemClock
from desk_app.errors import AuthError, Text
from desk_app.identity.hashing import ScryptParams
from desk_app.storage import audit as chain
from desk_app.storage import recovery
from desk_app.storage.crypto import Crypto, KeyStore
from desk_app.storage.db import make_engines
from desk_app.storage.errors import (
    DuplicateError,
    KeyMismatchError,
    NotFoundError,
    StorageError,
)
from desk_app.storage.migrate import MigrationResult, upgrade
from desk_app.storage.records import (
    ROLES,
    Alert,
    AlertInput,
    AuditEntry,
    AuditReport,
    BlacklistEntry,
    BlacklistStatus,
    DeltaResult,
    FaceJudgement,
    OutboxItem,
    Override,
    Reason,
    StoredKey,
    StoredKeySet,
    User,
    VisitInput,
    VisitRecord,
)
from desk_app.storage.schema import (
    AlertRow,
    AuditRow,
    BlacklistRow,
    BookingRow,
    CursorRow,
    FaceJudgementRow,
    KeyRow,
    Meta,
    OutboxRow,
    RevocationRow,
    UserRow,
    VisitRow,
)

if TYPE_CHECKING:
    from desk_app.booking.model import Booking
    from desk_app.paths import AppPaths

log = logging.getLogger(__name__)

_FINGERPRINT = "key_fingerprint"
_KEYSET_VERSION = "keyset_version"
BLACKLIST_CURSOR = "blacklist"
BOOKINGS_CURSOR = "bookings"
_BLACKLIST_UPDATED = "blacklist_updated_at"
_CHUNK = 20_000


class AuditAction(StrEnum):
    DECISION = "checkin.decision"
    OVERRIDE = "checkin.override"
    CARD_CONFIRMED = "checkin.card_confirmed"  # a camera-read card checked by the clerk
    FACE_JUDGED = "face.judged"  # the clerk's call on an undecided face
    JUDGEMENTS_VIEWED = "stats.judgements_viewed"  # the per-clerk figures were looked at
    ALERT_CREATED = "alert.created"
    ALERT_VIEWED = "alert.viewed"  # a flagged case (and its photos) was looked at
    ALERT_HANDLED = "alert.handled"
    EXPORT = "export"
    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGIN_REFUSED = "login.refused"  # too many failures: refused without trying the password
    LOGIN_UNLOCKED = "login.unlocked"
    DATABASE_RECOVERED = "database.recovered"
    VISIT_PII_PURGED = "visits.pii_purged"
    RETENTION_RUN = "retention.run"
    LOGOUT = "logout"
    SETTINGS_CHANGED = "settings.changed"
    USER_CHANGED = "user.changed"
    FACES_PURGED = "faces.purged"
    AUDIT_PURGED = "audit.purged"


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return at


def _ts(at: datetime) -> int:
    return int(_aware(at).timestamp())


class Store:
    """Build with :meth:`open`. Thread-safe: every call has its own session."""

    def __init__(self, write_engine: Engine, read_engine: Engine, crypto: Crypto, *,
                 clock: Clock | None = None, migration: MigrationResult | None = None,
                 key_location: str = ""):
        self._w = write_engine
        self._r = read_engine
        self._crypto = crypto
        self._clock = clock or SystemClock()
        self._hasher = PasswordHasher()
        self._dummy: str | None = None  # made on the first failed look-up
        self.migration = migration
        self.key_location = key_location  # "keyring" | "file" | "" (key given by the caller)
        self.recovery: recovery.Recovery | None = None  # set when open() found the file damaged
        name = write_engine.dialect.name
        self._insert = pg_dialect.insert if name == "postgresql" else sqlite_dialect.insert

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, paths: AppPaths | None = None, *, url: str | None = None,
             crypto: Crypto | None = None, key_store: KeyStore | None = None,
             clock: Clock | None = None, schema: str | None = None) -> Store:
        """Open (create, upgrade) the desk database.

        Default: SQLite at ``paths.database_file``, key from the OS keyring or
        ``paths.key_file``. A database that has data but no key raises ``KeyMissingError``; a
        key that does not fit the database raises ``KeyMismatchError``."""
        if url is None:
            if paths is None:
                raise ValueError("Store.open needs paths or a url")
            paths.data_dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{paths.database_file}"
        db_file: Path | None = None
        u = make_url(url)
        if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:"):
            db_file = Path(u.database)
        recovering: recovery.Recovery | None = None
        if db_file is not None and (trouble := recovery.problem(db_file)) is not None:
            recovering = _begin_recovery(db_file, paths, trouble)
        if db_file is not None and not db_file.exists():
            # Owner-only from the first byte; SQLite gives the -wal and -shm files the same mode.
            db_file.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(db_file, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            w, r = make_engines(url, schema=schema)
            if schema and w.dialect.name == "postgresql":
                with w.begin() as conn:
                    conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            stored_fp = _read_fingerprint(r)
            location = ""
            if crypto is None:
                if key_store is None:
                    if paths is None:
                        raise ValueError("Store.open needs paths, a key_store or a crypto")
                    key_store = KeyStore(paths.key_file)
                crypto = Crypto(key_store.load(create=stored_fp is None))
                location = key_store.location
            if stored_fp is not None and stored_fp != crypto.fingerprint:
                raise KeyMismatchError(detail="key fingerprint differs from the database's")
            result = upgrade(w, db_file=db_file,
                             backup_dir=paths.backup_dir if paths is not None else None)
            store = cls(w, r, crypto, clock=clock, migration=result, key_location=location)
            store._init_meta()
            if recovering is not None and db_file is not None:
                store._finish_recovery(db_file, recovering)
        except SQLAlchemyError as exc:
            raise StorageError(detail=f"open: {type(exc).__name__}") from exc
        if db_file is not None and db_file.exists():
            db_file.chmod(0o600)
        return store

    def _finish_recovery(self, db_file: Path, rec: recovery.Recovery) -> None:
        """Merge what the damaged file still holds into the database now open (the restored
        backup, or a new one) and queue again every visit the platform has not acknowledged."""
        found = recovery.salvage(rec.damaged_file, layout_from=db_file)
        merged = recovery.merge(db_file, found)
        now = self.now()
        requeued = 0
        with self._write() as s:
            for vid in sorted(merged.new_visits):
                row = s.get(VisitRow, vid)
                if row is None or s.scalars(select(OutboxRow.id).where(
                        OutboxRow.visit_id == vid, OutboxRow.kind == "visit")).first() is not None:
                    continue
                record = self._visit_record(row)
                if vid not in merged.acked_visits:
                    s.add(self._outbox_row("visit", vid, record.to_wire(), now, visit_id=vid))
                    requeued += 1
                elif record.override is not None and vid not in merged.acked_overrides:
                    at = (row.overridden_at or now).isoformat()
                    s.add(self._outbox_row("visit_override", f"{vid}:override:{at}",
                                           {"visit_id": vid, "override": record.override.to_wire(),
                                            "at": at}, now, visit_id=vid))
                    requeued += 1
            visits = int(s.scalar(select(func.count()).select_from(VisitRow)) or 0)
            rec.method, rec.merged, rec.requeued, rec.visits = (
                found.method, merged.counts, requeued, visits)
            self._append_audit(s, "system", AuditAction.DATABASE_RECOVERED, db_file.name, {
                "damaged_file": rec.damaged_file.name,
                "backup": rec.backup_used.name if rec.backup_used else None,
                "method": found.method, "merged": merged.counts, "requeued": requeued,
                "unreadable": found.unreadable, "visits": visits}, now)
        log.error("damaged database recovered: backup %s, merged %s, %d uploads queued again; "
                  "the damaged file is kept at %s", rec.backup_used, merged.counts, requeued,
                  rec.damaged_file)
        self.recovery = rec

    def close(self) -> None:
        self._w.dispose()
        if self._r is not self._w:
            self._r.dispose()

    def _init_meta(self) -> None:
        with self._write() as s:
            if s.get(Meta, _FINGERPRINT) is None:
                s.add(Meta(key=_FINGERPRINT, value=self._crypto.fingerprint))
            if s.get(Meta, chain.HEAD_KEY) is None:
                s.add(Meta(key=chain.HEAD_KEY,
                           value=chain.head_value(self._crypto.audit_mac, 0, chain.GENESIS)))

    # --- units of work --------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with Session(self._w, expire_on_commit=False) as s, s.begin():
                yield s
        except IntegrityError as exc:
            raise DuplicateError(detail=f"integrity: {type(exc.orig).__name__}") from exc
        except SQLAlchemyError as exc:
            log.error("database write failed: %s", type(exc).__name__)
            raise StorageError(detail=type(exc).__name__) from exc

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self._r, expire_on_commit=False) as s, s.begin():
                yield s
        except SQLAlchemyError as exc:
            log.error("database read failed: %s", type(exc).__name__)
            raise StorageError(detail=type(exc).__name__) from exc

    def now(self) -> datetime:
        return self._clock.now()

    # --- visits and the outbox ----------------------------------------------------------------

    def record_visit(self, visit: VisitInput, alert: AlertInput | None = None) -> VisitRecord:
        """The visit, its outbox row, its audit entry (and a flagged case when ``alert``), in one
        transaction: either all are on disk when this returns, or none is. An admitted visit
        also marks its cached booking ``checked_in``."""
        now = self.now()
        c = self._crypto
        vid = visit.visit_id
        row = VisitRow(
            visit_id=vid, booking_id=visit.booking_id, hospital_id=visit.hospital_id,
            desk_id=visit.desk_id, clerk=visit.clerk, checked_in_at=visit.checked_in_at,
            local_day=visit.checked_in_at.astimezone(CHINA_TZ).date().isoformat(),
            verdict=visit.verdict, reasons_json=json.dumps([r.to_wire() for r in visit.reasons]),
            face_distance=visit.face_distance, face_outcome=visit.face_outcome,
            presented_id_hash=visit.presented_id_hash,
            presented_id_last4_enc=c.encrypt_text(visit.presented_id_last4, _aad("v.l4", vid)),
            id_lookup=c.lookup_hash(visit.id_number) if visit.id_number else None,
            id_number_enc=c.encrypt_text(visit.id_number, _aad("v.id", vid)),
            person_name_enc=c.encrypt_text(visit.person_name, _aad("v.name", vid)),
            face_template_enc=(c.encrypt(visit.face_template, _aad("v.tpl", vid))
                               if visit.face_template is not None else None),
            offline=visit.offline,
            override_by=visit.override.by if visit.override else None,
            override_reason=visit.override.reason if visit.override else None,
            override_verdict=visit.override.verdict if visit.override else None,
            overridden_at=now if visit.override else None,
            recorded_at=now,
        )
        record = self._visit_record(row)
        with self._write() as s:
            if s.get(VisitRow, vid) is not None:
                raise DuplicateError(detail="visit_id exists")
            s.add(row)
            s.flush()
            s.add(self._outbox_row("visit", vid, record.to_wire(), now, visit_id=vid))
            if alert is not None:
                self._add_alert(s, vid, alert, now)
            self._mark_checked_in(s, record, now)
            self._append_audit(s, visit.clerk, AuditAction.DECISION, vid, {
                "verdict": visit.verdict, "reasons": [r.code for r in visit.reasons],
                "offline": visit.offline, "booking_id": visit.booking_id,
                "override": visit.override.verdict if visit.override else None,
                "alert": alert is not None,
            }, now)
        return record

    def override_visit(self, visit_id: str, override: Override) -> VisitRecord:
        """Record a clerk's or security's override of a recorded verdict (audited). If the visit
        is still waiting in the outbox its payload is updated; if it was sent already, a
        ``visit_override`` item ({"visit_id", "override", "at"}) is queued."""
        now = self.now()
        with self._write() as s:
            return self._override(s, self._visit_row(s, visit_id), override, now)

    def _override(self, s: Session, row: VisitRow, override: Override, now: datetime
                  ) -> VisitRecord:
        visit_id = row.visit_id
        row.override_by, row.override_reason = override.by, override.reason
        row.override_verdict, row.overridden_at = override.verdict, now
        record = self._visit_record(row)
        pending = s.scalars(select(OutboxRow).where(
            OutboxRow.visit_id == visit_id, OutboxRow.kind == "visit",
            OutboxRow.sent_at.is_(None))).first()
        if pending is not None:
            pending.payload_enc = self._enc_payload(record.to_wire(), pending.dedup_key)
        else:
            s.add(self._outbox_row("visit_override", f"{visit_id}:override:{now.isoformat()}",
                                   {"visit_id": visit_id, "override": override.to_wire(),
                                    "at": now.isoformat()}, now, visit_id=visit_id))
        self._mark_checked_in(s, record, now)
        self._append_audit(s, override.by, AuditAction.OVERRIDE, visit_id, {
            "from": row.verdict, "to": override.verdict, "reason": override.reason}, now)
        return record

    @staticmethod
    def _visit_row(s: Session, visit_id: str) -> VisitRow:
        row = s.get(VisitRow, visit_id)
        if row is None:
            raise NotFoundError(detail="visit")
        return row

    def confirm_card(self, visit_id: str, by: str, at: datetime,
                     override: Override | None = None) -> VisitRecord:
        """The clerk checked the physical card of a camera-read number: who and when (``at``,
        the desk's time of the key) go into the visit and the audit log, with the verdict this
        changes (``override``) in the same transaction."""
        now = self.now()
        with self._write() as s:
            row = self._visit_row(s, visit_id)
            row.card_confirmed_by, row.card_confirmed_at = by, _aware(at)
            s.flush()
            self._append_audit(s, by, AuditAction.CARD_CONFIRMED, visit_id, {
                "at": at.isoformat(),
                "verdict": override.verdict if override else row.verdict}, now)
            return (self._override(s, row, override, now) if override is not None
                    else self._visit_record(row))

    def record_face_judgement(self, judgement: FaceJudgement, override: Override | None = None
                              ) -> VisitRecord:
        """The clerk's call on an undecided face (distance and judgement, no image), audited,
        with the verdict it changes (``override``) in the same transaction."""
        now = self.now()
        j = judgement
        with self._write() as s:
            row = self._visit_row(s, j.visit_id)
            s.add(FaceJudgementRow(
                judgement_id=j.judgement_id, visit_id=j.visit_id, clerk=j.clerk,
                judged_at=j.judged_at, distance=j.distance, judgement=j.judgement,
                seconds=j.seconds, match_distance=j.match_distance,
                mismatch_distance=j.mismatch_distance))
            s.flush()
            self._append_audit(s, j.clerk, AuditAction.FACE_JUDGED, j.visit_id, {
                "judgement": j.judgement, "seconds": round(j.seconds, 2),
                "distance": None if j.distance is None else round(j.distance, 4)}, now)
            return (self._override(s, row, override, now) if override is not None
                    else self._visit_record(row))

    def face_judgements(self, start: datetime | None = None, end: datetime | None = None
                        ) -> list[FaceJudgement]:
        """The clerks' calls on undecided faces with ``start <= judged_at < end`` (oldest
        first)."""
        q = select(FaceJudgementRow)
        if start is not None:
            q = q.where(FaceJudgementRow.judged_at >= _aware(start))
        if end is not None:
            q = q.where(FaceJudgementRow.judged_at < _aware(end))
        with self._read() as s:
            return [FaceJudgement(
                judgement_id=r.judgement_id, visit_id=r.visit_id, clerk=r.clerk,
                judged_at=r.judged_at, distance=r.distance, judgement=r.judgement,
                seconds=r.seconds, match_distance=r.match_distance,
                mismatch_distance=r.mismatch_distance)
                for r in s.scalars(q.order_by(FaceJudgementRow.judged_at))]

    @staticmethod
    def _mark_checked_in(s: Session, record: VisitRecord, now: datetime) -> None:
        """An admitted visit marks its cached booking ``checked_in`` in the same transaction,
        so a crash cannot leave a booking that was let in looking unused."""
        if record.final_verdict != "admit" or record.booking_id is None:
            return
        booking = s.get(BookingRow, record.booking_id)
        if booking is not None and booking.status == "active":
            booking.status, booking.updated_at = "checked_in", now

    def visit(self, visit_id: str) -> VisitRecord | None:
        with self._read() as s:
            row = s.get(VisitRow, visit_id)
            return self._visit_record(row) if row else None

    def visits_for_id_number(self, id_number: str, since: datetime | None = None
                             ) -> list[VisitRecord]:
        """The desk's own history of one person, found by the keyed hash (newest first)."""
        q = select(VisitRow).where(VisitRow.id_lookup == self._crypto.lookup_hash(id_number))
        if since is not None:
            q = q.where(VisitRow.checked_in_at >= since)
        with self._read() as s:
            return [self._visit_record(r) for r in
                    s.scalars(q.order_by(VisitRow.checked_in_at.desc()))]

    def visits_for_booking(self, booking_id: str) -> list[VisitRecord]:
        with self._read() as s:
            rows = s.scalars(select(VisitRow).where(VisitRow.booking_id == booking_id)
                             .order_by(VisitRow.checked_in_at))
            return [self._visit_record(r) for r in rows]

    def visits_between(self, start: datetime, end: datetime) -> list[VisitRecord]:
        """Visits with ``start <= checked_in_at < end`` (oldest first), for statistics."""
        with self._read() as s:
            rows = s.scalars(select(VisitRow).where(VisitRow.checked_in_at >= start,
                                                    VisitRow.checked_in_at < end)
                             .order_by(VisitRow.checked_in_at))
            return [self._visit_record(r) for r in rows]

    def visit_count(self) -> int:
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(VisitRow)) or 0)

    def enqueue(self, kind: str, key: str, payload: dict[str, Any],
                visit_id: str | None = None) -> int:
        """Queue any other message for the platform (e.g. ``suspect_report``); returns its id."""
        with self._write() as s:
            row = self._outbox_row(kind, key, payload, self.now(), visit_id=visit_id)
            s.add(row)
            s.flush()
            return row.id

    def pending_outbox(self, limit: int = 200) -> list[OutboxItem]:
        """Unsent items, oldest first."""
        with self._read() as s:
            rows = s.scalars(select(OutboxRow).where(OutboxRow.sent_at.is_(None))
                             .order_by(OutboxRow.id).limit(limit))
            return [self._outbox_item(r) for r in rows]

    def mark_outbox_sent(self, ids: Iterable[int]) -> int:
        ids = list(ids)
        if not ids:
            return 0
        with self._write() as s:
            res = s.execute(update(OutboxRow).where(OutboxRow.id.in_(ids),
                                                    OutboxRow.sent_at.is_(None))
                            .values(sent_at=self.now()))
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

    def mark_outbox_failed(self, ids: Iterable[int], error: str) -> None:
        """Count a failed attempt (``error``: a short code or message, no personal data)."""
        ids = list(ids)
        with self._write() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id.in_(ids))
                      .values(attempts=OutboxRow.attempts + 1, last_error=error[:500]))

    def outbox_count(self) -> int:
        """Items not yet sent."""
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(OutboxRow)
                                .where(OutboxRow.sent_at.is_(None))) or 0)

    def purge_sent_outbox(self, older_than: timedelta = timedelta(days=7)) -> int:
        with self._write() as s:
            res = s.execute(delete(OutboxRow).where(OutboxRow.sent_at.is_not(None),
                                                    OutboxRow.sent_at < self.now() - older_than))
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

    def _outbox_row(self, kind: str, key: str, payload: dict[str, Any], now: datetime,
                    visit_id: str | None) -> OutboxRow:
        return OutboxRow(kind=kind, dedup_key=key, visit_id=visit_id, attempts=0,
                         payload_enc=self._enc_payload(payload, key), created_at=now)

    def _enc_payload(self, payload: dict[str, Any], key: str) -> bytes:
        return self._crypto.encrypt(json.dumps(payload, ensure_ascii=False).encode(),
                                    _aad("outbox", key))

    def _outbox_item(self, r: OutboxRow) -> OutboxItem:
        payload = json.loads(self._crypto.decrypt(r.payload_enc, _aad("outbox", r.dedup_key)))
        return OutboxItem(id=r.id, kind=r.kind, key=r.dedup_key, payload=payload,
                          created_at=r.created_at, attempts=r.attempts, last_error=r.last_error,
                          visit_id=r.visit_id)

    def _visit_record(self, r: VisitRow) -> VisitRecord:
        c, vid = self._crypto, r.visit_id
        override = (Override(r.override_by or "", r.override_reason or "", r.override_verdict)
                    if r.override_verdict else None)
        return VisitRecord(
            visit_id=vid, booking_id=r.booking_id, hospital_id=r.hospital_id, desk_id=r.desk_id,
            clerk=r.clerk, checked_in_at=r.checked_in_at, local_day=r.local_day,
            verdict=r.verdict,
            reasons=tuple(Reason(d["code"], d["severity"], d.get("rule", ""))
                          for d in json.loads(r.reasons_json)),
            face_distance=r.face_distance, face_outcome=r.face_outcome,
            presented_id_hash=r.presented_id_hash,
            presented_id_last4=c.decrypt_text(r.presented_id_last4_enc, _aad("v.l4", vid)),
            offline=r.offline, override=override, recorded_at=r.recorded_at,
            id_number=c.decrypt_text(r.id_number_enc, _aad("v.id", vid)),
            person_name=c.decrypt_text(r.person_name_enc, _aad("v.name", vid)),
            face_template=(c.decrypt(r.face_template_enc, _aad("v.tpl", vid))
                           if r.face_template_enc is not None else None),
            card_confirmed_by=r.card_confirmed_by, card_confirmed_at=r.card_confirmed_at,
        )

    # --- flagged cases --------------------------------------------------------------------------

    def _add_alert(self, s: Session, visit_id: str, alert: AlertInput, now: datetime) -> AlertRow:
        aid = str(uuid.uuid4())
        c = self._crypto
        row = AlertRow(
            alert_id=aid, visit_id=visit_id, created_at=now, status="open", note=alert.note,
            handled_by="", conflict=alert.conflict,
            id_photo_enc=(c.encrypt(alert.id_photo, _aad("a.id", aid))
                          if alert.id_photo is not None else None),
            live_face_enc=(c.encrypt(alert.live_face, _aad("a.live", aid))
                           if alert.live_face is not None else None),
        )
        s.add(row)
        return row

    def create_alert(self, visit_id: str, alert: AlertInput, actor: str = "system") -> Alert:
        """Flag an already recorded visit (e.g. the platform reports a conflict)."""
        now = self.now()
        with self._write() as s:
            visit = s.get(VisitRow, visit_id)
            if visit is None:
                raise NotFoundError(detail="visit")
            row = self._add_alert(s, visit_id, alert, now)
            self._append_audit(s, actor, AuditAction.ALERT_CREATED, row.alert_id,
                               {"visit_id": visit_id, "conflict": alert.conflict}, now)
            return self._alert(row, visit)

    def alerts(self, include_handled: bool = False) -> list[Alert]:
        """Flagged cases, newest first (open ones only unless ``include_handled``)."""
        q = select(AlertRow, VisitRow).join(VisitRow, VisitRow.visit_id == AlertRow.visit_id)
        if not include_handled:
            q = q.where(AlertRow.status == "open")
        with self._read() as s:
            return [self._alert(a, v) for a, v in s.execute(q.order_by(AlertRow.created_at.desc()))]

    def alert(self, alert_id: str) -> Alert:
        with self._read() as s:
            a = s.get(AlertRow, alert_id)
            if a is None:
                raise NotFoundError(detail="alert")
            return self._alert(a, s.get(VisitRow, a.visit_id))  # type: ignore[arg-type]

    def alert_photos(self, alert_id: str, viewer: str) -> tuple[bytes | None, bytes | None]:
        """(ID photo, live face) while retention allows. The view is written to the audit log
        in the same transaction: no one sees a face without leaving a trace."""
        now = self.now()
        with self._write() as s:
            a = s.get(AlertRow, alert_id)
            if a is None:
                raise NotFoundError(detail="alert")
            self._append_audit(s, viewer, AuditAction.ALERT_VIEWED, alert_id,
                               {"visit_id": a.visit_id, "photos": a.id_photo_enc is not None
                                or a.live_face_enc is not None}, now)
            c = self._crypto
            return (c.decrypt(a.id_photo_enc, _aad("a.id", alert_id)) if a.id_photo_enc else None,
                    c.decrypt(a.live_face_enc, _aad("a.live", alert_id))
                    if a.live_face_enc else None)

    def mark_alert_handled(self, alert_id: str, by: str, note: str) -> Alert:
        now = self.now()
        with self._write() as s:
            a = s.get(AlertRow, alert_id)
            if a is None:
                raise NotFoundError(detail="alert")
            a.status, a.note, a.handled_by, a.handled_at = "handled", note, by, now
            self._append_audit(s, by, AuditAction.ALERT_HANDLED, alert_id,
                               {"visit_id": a.visit_id}, now)
            return self._alert(a, s.get(VisitRow, a.visit_id))  # type: ignore[arg-type]

    def purge_face_images(self, retention_days: int) -> int:
        """Delete face images of flagged cases older than ``retention_days`` (settings:
        ``privacy.face_retention_days``). Templates and scores stay with the visit."""
        now = self.now()
        cutoff = now - timedelta(days=retention_days)
        with self._write() as s:
            res = s.execute(update(AlertRow).where(
                AlertRow.created_at < cutoff,
                (AlertRow.id_photo_enc.is_not(None)) | (AlertRow.live_face_enc.is_not(None)))
                .values(id_photo_enc=None, live_face_enc=None, photos_purged_at=now))
            n = int(res.rowcount or 0)  # type: ignore[attr-defined]
            if n:
                self._append_audit(s, "system", AuditAction.FACES_PURGED, "",
                                   {"alerts": n, "retention_days": retention_days}, now)
        if n and self._w.dialect.name == "sqlite":
            # The images were ciphertext, but do not keep old copies of their pages in the WAL.
            with self._w.connect() as conn:
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return n

    def purge_visit_pii(self, retention_days: int) -> int:
        """After ``retention_days`` (``privacy.visit_pii_days``) a visit keeps only what the
        statistics need: the masked number, the hashes, verdict and reasons. The encrypted full
        ID number, name and face template are deleted (audited)."""
        now = self.now()
        cutoff = now - timedelta(days=retention_days)
        with self._write() as s:
            res = s.execute(update(VisitRow).where(
                VisitRow.checked_in_at < cutoff,
                VisitRow.id_number_enc.is_not(None) | VisitRow.person_name_enc.is_not(None)
                | VisitRow.face_template_enc.is_not(None))
                .values(id_number_enc=None, person_name_enc=None, face_template_enc=None))
            n = int(res.rowcount or 0)  # type: ignore[attr-defined]
            if n:
                self._append_audit(s, "system", AuditAction.VISIT_PII_PURGED, "",
                                   {"visits": n, "retention_days": retention_days}, now)
        return n

    def _alert(self, a: AlertRow, v: VisitRow) -> Alert:
        return Alert(alert_id=a.alert_id, visit_id=a.visit_id, created_at=a.created_at,
                     status=a.status, note=a.note, handled_by=a.handled_by,
                     handled_at=a.handled_at, conflict=a.conflict,
                     has_photos=a.id_photo_enc is not None or a.live_face_enc is not None,
                     photos_purged_at=a.photos_purged_at, visit=self._visit_record(v))

    # --- blacklist ------------------------------------------------------------------------------

    def apply_blacklist_delta(self, entries: Sequence[BlacklistEntry], version: int
                              ) -> DeltaResult:
        """Upsert entries and tombstones (``deleted=True``) by (id_hash, entry_id); a row is
        only replaced by one with the same or a higher version. Records ``version`` as the
        ``blacklist`` cursor. One transaction: a crash leaves the old list whole."""
        c = self._crypto
        # Sorted by key, the upserts walk the clustered index in order instead of jumping
        # around it, which matters for a large delta into a large table.
        entries = sorted(entries, key=lambda e: (e.id_hash, e.entry_id))
        applied = 0
        now = self.now()
        with self._write() as s:
            conn = s.connection()
            for i in range(0, len(entries), _CHUNK):
                rows = [(e.id_hash, e.entry_id, e.source,
                         c.encrypt(_bl_detail(e.last4, e.reason), e.id_hash + e.entry_id.encode()),
                         _ts(e.valid_from), _ts(e.valid_to), e.version, e.deleted)
                        for e in entries[i:i + _CHUNK]]
                if self._w.dialect.name == "sqlite":
                    # A million rows: straight to the driver, SQLAlchemy's per-row parameter
                    # processing would cost more than the inserts themselves.
                    rc = conn.exec_driver_sql(_SQLITE_BL_UPSERT, rows).rowcount
                else:
                    rc = conn.execute(self._bl_upsert(), [dict(zip(_BL_COLS, r, strict=True))
                                                          for r in rows]).rowcount
                applied += rc if rc is not None and rc >= 0 else len(rows)
            self._set_cursor(s, BLACKLIST_CURSOR, str(version), now)
            self._set_meta(s, _BLACKLIST_UPDATED, now.isoformat())
        return DeltaResult(applied=applied, skipped=len(entries) - applied, version=version)

    def _bl_upsert(self) -> Any:
        table = BlacklistRow.__table__
        stmt = self._insert(table)
        return stmt.on_conflict_do_update(
            index_elements=[table.c.id_hash, table.c.entry_id],
            set_={k: stmt.excluded[k] for k in _BL_COLS[2:]},
            where=stmt.excluded.version >= table.c.version,
        )

    def blacklist_lookup(self, id_hash: bytes, at: datetime | None = None
                         ) -> BlacklistEntry | None:
        """The entry in force for this slow hash at ``at`` (the one running longest), or None."""
        t = _ts(at or self.now())
        table = BlacklistRow.__table__
        q = (select(table).where(table.c.id_hash == id_hash, table.c.deleted.is_(False),
                                 table.c.valid_from <= t, table.c.valid_to > t)
             .order_by(table.c.valid_to.desc()).limit(1))
        try:
            with self._r.connect() as conn:
                row = conn.execute(q).first()
        except SQLAlchemyError as exc:
            raise StorageError(detail=type(exc).__name__) from exc
        return self._bl_entry(row) if row else None  # type: ignore[arg-type]

    def blacklist_entries(self, id_hash: bytes) -> list[BlacklistEntry]:
        """Every stored row for this hash, tombstones and expired ones included."""
        with self._read() as s:
            return [self._bl_entry(r) for r in
                    s.scalars(select(BlacklistRow).where(BlacklistRow.id_hash == id_hash))]

    def blacklist_status(self) -> BlacklistStatus:
        t = _ts(self.now())
        with self._read() as s:
            n = s.scalar(select(func.count()).select_from(BlacklistRow).where(
                BlacklistRow.deleted.is_(False), BlacklistRow.valid_from <= t,
                BlacklistRow.valid_to > t))
            cur = s.get(CursorRow, BLACKLIST_CURSOR)
            upd = s.get(Meta, _BLACKLIST_UPDATED)
            return BlacklistStatus(version=int(cur.value) if cur else 0,
                                   updated_at=datetime.fromisoformat(upd.value) if upd else None,
                                   active_entries=int(n or 0))

    def purge_expired_blacklist(self, grace: timedelta = timedelta(days=30)) -> int:
        """Drop rows that ended (or were removed) more than ``grace`` ago."""
        t = _ts(self.now() - grace)
        with self._write() as s:
            res = s.execute(delete(BlacklistRow).where(
                (BlacklistRow.valid_to < t) | (BlacklistRow.deleted.is_(True))))
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

    def _bl_entry(self, r: BlacklistRow) -> BlacklistEntry:
        last4, _, reason = self._crypto.decrypt(
            r.detail_enc, r.id_hash + r.entry_id.encode()).decode().partition("\x00")
        return BlacklistEntry(
            entry_id=r.entry_id, id_hash=r.id_hash, last4=last4, source=r.source, reason=reason,
            valid_from=datetime.fromtimestamp(r.valid_from, UTC),
            valid_to=datetime.fromtimestamp(r.valid_to, UTC), version=r.version,
            deleted=r.deleted)

    # --- bookings ------------------------------------------------------------------------------

    def apply_bookings_delta(self, bookings: Iterable[Booking], cursor: str | None) -> int:
        """Upsert bookings by id and, in the same transaction, move the ``bookings`` cursor."""
        now = self.now()
        n = 0
        with self._write() as s:
            for b in bookings:
                s.merge(self._booking_row(b, now))
                n += 1
            if cursor is not None:
                self._set_cursor(s, BOOKINGS_CURSOR, cursor, now)
        return n

    def booking_by_id(self, booking_id: str) -> Booking | None:
        with self._read() as s:
            row = s.get(BookingRow, booking_id)
            return self._booking(row) if row else None

    def booking_by_ref(self, reference: str) -> Booking | None:
        """By the short plain code (case and surrounding spaces ignored)."""
        with self._read() as s:
            row = s.scalars(select(BookingRow).where(
                BookingRow.reference == reference.strip().upper())).first()
            return self._booking(row) if row else None

    def set_booking_status(self, booking_id: str, status: str) -> None:
        if status not in ("active", "cancelled", "checked_in"):
            raise ValueError(f"unknown booking status {status!r}")
        with self._write() as s:
            row = s.get(BookingRow, booking_id)
            if row is None:
                raise NotFoundError(detail="booking")
            row.status, row.updated_at = status, self.now()

    def purge_bookings(self, slot_before: datetime) -> int:
        with self._write() as s:
            res = s.execute(delete(BookingRow).where(BookingRow.slot_end < slot_before))
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

    def _booking_row(self, b: Booking, now: datetime) -> BookingRow:
        return BookingRow(
            booking_id=b.booking_id, reference=b.reference.strip().upper(),
            hospital_id=b.hospital_id, department_code=b.department_code,
            department_name=b.department_name, doctor_name=b.doctor_name,
            slot_start=b.slot_start, slot_end=b.slot_end, patient_hash=b.patient_hash,
            patient_salt=b.patient_salt,
            patient_last4_enc=self._crypto.encrypt(b.patient_last4.encode(),
                                                   _aad("b.l4", b.booking_id)),
            status=b.status,
            risk_json=json.dumps(_plain(b.risk)),
            kdf_json=json.dumps(b.kdf.as_dict()),
            updated_at=now,
        )

    def _booking(self, r: BookingRow) -> Booking:
        from desk_app.booking.model import Booking, BookingRisk

        risk_fields = {f.name for f in dataclasses.fields(BookingRisk)}
        risk = BookingRisk(**{k: _unplain(v) for k, v in json.loads(r.risk_json).items()
                              if k in risk_fields})
        return Booking(
            booking_id=r.booking_id, reference=r.reference, hospital_id=r.hospital_id,
            department_code=r.department_code, department_name=r.department_name,
            doctor_name=r.doctor_name, slot_start=r.slot_start, slot_end=r.slot_end,
            patient_hash=r.patient_hash, patient_salt=r.patient_salt,
            patient_last4=self._crypto.decrypt(r.patient_last4_enc,
                                               _aad("b.l4", r.booking_id)).decode(),
            status=r.status, risk=risk,  # type: ignore[arg-type]
            kdf=ScryptParams.from_dict(json.loads(r.kdf_json)),
        )

    # --- booking keys and revocations ----------------------------------------------------------

    def save_keyset(self, keyset: StoredKeySet) -> None:
        """Replace the platform's signing keys with this set (a set is always sent whole)."""
        with self._write() as s:
            s.execute(delete(KeyRow))
            for k in keyset.keys:
                s.add(KeyRow(kid=k.kid, alg=k.alg, x=k.x, not_after=k.not_after))
            self._set_meta(s, _KEYSET_VERSION, str(keyset.version))

    def keyset(self) -> StoredKeySet:
        with self._read() as s:
            keys = tuple(StoredKey(r.kid, r.alg, r.x, r.not_after)
                         for r in s.scalars(select(KeyRow).order_by(KeyRow.kid)))
            ver = s.get(Meta, _KEYSET_VERSION)
            return StoredKeySet(keys=keys, version=int(ver.value) if ver else 0)

    def apply_revocations(self, item_ids: Iterable[str], version: int,
                          kind: str = "booking") -> int:
        """Add revoked booking ids (``kind="booking"``) or key ids (``kind="key"``)."""
        now = self.now()
        table = RevocationRow.__table__
        rows = [{"kind": kind, "item_id": i, "version": version, "revoked_at": now}
                for i in item_ids]
        with self._write() as s:
            if rows:
                stmt = self._insert(table)
                s.execute(stmt.on_conflict_do_nothing(
                    index_elements=[table.c.kind, table.c.item_id]), rows)
            self._set_cursor(s, f"revocations.{kind}", str(version), now)
        return len(rows)

    def revocations(self, kind: str = "booking") -> frozenset[str]:
        with self._read() as s:
            return frozenset(s.scalars(select(RevocationRow.item_id)
                                       .where(RevocationRow.kind == kind)))

    # --- sync cursors ------------------------------------------------------------------------

    def get_cursor(self, name: str) -> str | None:
        with self._read() as s:
            row = s.get(CursorRow, name)
            return row.value if row else None

    def set_cursor(self, name: str, value: str) -> None:
        with self._write() as s:
            self._set_cursor(s, name, value, self.now())

    @staticmethod
    def _set_cursor(s: Session, name: str, value: str, now: datetime) -> None:
        row = s.get(CursorRow, name)
        if row is None:
            s.add(CursorRow(name=name, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now

    @staticmethod
    def _set_meta(s: Session, key: str, value: str) -> None:
        row = s.get(Meta, key)
        if row is None:
            s.add(Meta(key=key, value=value))
        else:
            row.value = value

    # --- users --------------------------------------------------------------------------------

    def create_user(self, username: str, display_name: str, role: str, password: str,
                    actor: str = "system") -> User:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if len(password) < 8:
            raise AuthError(Text("密码至少 8 位。", "The password needs at least 8 characters."))
        now = self.now()
        row = UserRow(username=username, display_name=display_name, role=role,
                      password_hash=self._hasher.hash(password), active=True, created_at=now)
        with self._write() as s:
            if s.get(UserRow, username) is not None:
                raise DuplicateError(Text("用户名已存在。", "That user name is taken."))
            s.add(row)
            self._append_audit(s, actor, AuditAction.USER_CHANGED, username,
                               {"change": "created", "role": role}, now)
        return _user(row)

    def authenticate(self, username: str, password: str) -> User:
        """The user when the password is right (login audited); else ``AuthError`` (the failed
        attempt is audited too). Old argon2 parameters are upgraded on the way."""
        now = self.now()
        failed = AuthError(Text("用户名或密码错误。", "Wrong user name or password."))
        with self._write() as s:
            row = s.get(UserRow, username)
            ok = False
            # Unknown users cost one argon2 verify as well: no user-name probing by timing.
            known = row is not None and row.active
            if not known and self._dummy is None:
                self._dummy = self._hasher.hash(uuid.uuid4().hex)
            stored = row.password_hash if known else self._dummy
            try:
                ok = self._hasher.verify(stored, password) and known
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok:
                self._append_audit(s, username, AuditAction.LOGIN_FAILED, username, {}, now)
            else:
                assert row is not None
                if self._hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = self._hasher.hash(password)
                row.last_login_at = now
                self._append_audit(s, username, AuditAction.LOGIN, username, {}, now)
                user = _user(row)
        if not ok:
            raise failed
        return user

    def login_history(self, username: str, limit: int) -> list[tuple[str, datetime]]:
        """The newest ``limit`` login outcomes of ``username`` (action, time), newest first:
        what the login throttle counts (failures since the last login or unlock)."""
        actions = (AuditAction.LOGIN, AuditAction.LOGIN_FAILED, AuditAction.LOGIN_UNLOCKED)
        q = (select(AuditRow.action, AuditRow.at)
             .where(AuditRow.action.in_([a.value for a in actions]), AuditRow.subject == username)
             .order_by(AuditRow.seq.desc()).limit(limit))
        with self._read() as s:
            return [(a, at) for a, at in s.execute(q)]

    def set_password(self, username: str, password: str, actor: str) -> None:
        if len(password) < 8:
            raise AuthError(Text("密码至少 8 位。", "The password needs at least 8 characters."))
        now = self.now()
        with self._write() as s:
            row = s.get(UserRow, username)
            if row is None:
                raise NotFoundError(detail="user")
            row.password_hash = self._hasher.hash(password)
            self._append_audit(s, actor, AuditAction.USER_CHANGED, username,
                               {"change": "password"}, now)

    def set_user_active(self, username: str, active: bool, actor: str) -> User:
        now = self.now()
        with self._write() as s:
            row = s.get(UserRow, username)
            if row is None:
                raise NotFoundError(detail="user")
            row.active = active
            self._append_audit(s, actor, AuditAction.USER_CHANGED, username,
                               {"change": "active" if active else "disabled"}, now)
            return _user(row)

    def users(self) -> list[User]:
        with self._read() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def user(self, username: str) -> User | None:
        with self._read() as s:
            row = s.get(UserRow, username)
            return _user(row) if row else None

    # --- audit log -----------------------------------------------------------------------------

    def audit(self, actor: str, action: str, subject: str = "",
              detail: dict[str, Any] | None = None) -> AuditEntry:
        """Append one entry (exports, logouts, settings changes ...). ``detail`` must hold no
        personal data: ids and codes, not names or ID numbers."""
        with self._write() as s:
            return self._append_audit(s, actor, action, subject, detail, self.now())

    def _append_audit(self, s: Session, actor: str, action: str, subject: str,
                      detail: dict[str, Any] | None, at: datetime) -> AuditEntry:
        head = s.scalars(select(Meta).where(Meta.key == chain.HEAD_KEY).with_for_update()).one()
        seq, prev, _ = chain.parse_head(head.value)
        seq += 1
        detail_json = chain.detail_to_json(detail)
        h = chain.row_hash(self._crypto.audit_mac, prev, seq, at, actor, str(action), subject,
                           detail_json)
        s.add(AuditRow(seq=seq, at=at, actor=actor, action=str(action), subject=subject,
                       detail_json=detail_json, prev_hash=prev, row_hash=h))
        head.value = chain.head_value(self._crypto.audit_mac, seq, h)
        return AuditEntry(seq, at, actor, str(action), subject, json.loads(detail_json))

    def purge_audit(self, retention_days: int) -> int:
        """Delete entries older than ``retention_days`` (settings:
        ``privacy.audit_retention_days``). The chain then starts at a MAC'd anchor (the last
        deleted entry's seq and hash), so it still verifies, and the purge itself is logged."""
        now = self.now()
        cutoff = now - timedelta(days=retention_days)
        with self._write() as s:
            last = s.scalars(select(AuditRow).where(AuditRow.at < cutoff)
                             .order_by(AuditRow.seq.desc()).limit(1)).first()
            if last is None:
                return 0
            self._set_meta(s, chain.ANCHOR_KEY, chain.head_value(
                self._crypto.audit_mac, last.seq, last.row_hash, label=b"anchor"))
            s.flush()  # the delete guard reads the anchor
            res = s.execute(delete(AuditRow).where(AuditRow.seq <= last.seq))
            n = int(res.rowcount or 0)  # type: ignore[attr-defined]
            self._append_audit(s, "system", AuditAction.AUDIT_PURGED, "",
                               {"entries": n, "up_to_seq": last.seq,
                                "retention_days": retention_days}, now)
        return n

    def audit_entries(self, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
        """Newest first."""
        q = select(AuditRow)
        if action is not None:
            q = q.where(AuditRow.action == action)
        with self._read() as s:
            return [AuditEntry(r.seq, r.at, r.actor, r.action, r.subject,
                               json.loads(r.detail_json))
                    for r in s.scalars(q.order_by(AuditRow.seq.desc()).limit(limit))]

    def verify_audit(self) -> AuditReport:
        """Recompute the whole chain; see :func:`desk_app.storage.audit.verify_chain`."""
        with self._read() as s:
            head = s.get(Meta, chain.HEAD_KEY)
            anchor = s.get(Meta, chain.ANCHOR_KEY)
            rows = (chain.ChainRow(r.seq, r.at, r.actor, r.action, r.subject, r.detail_json,
                                   r.prev_hash, r.row_hash)
                    for r in s.scalars(select(AuditRow).order_by(AuditRow.seq))
                    .yield_per(1000))
            return chain.verify_chain(self._crypto.audit_mac, rows,
                                      head.value if head else None,
                                      anchor.value if anchor else None)


def _begin_recovery(db_file: Path, paths: AppPaths | None, trouble: str) -> recovery.Recovery:
    """Move the damaged file aside and put the newest good backup in its place (what the damaged
    file still holds is merged once the store is open: see ``Store._finish_recovery``)."""
    log.error("the desk database is damaged (%s); recovering", trouble)
    damaged = recovery.quarantine(db_file, db_file.parent / "damaged")
    base = recovery.restore_base(db_file, paths.backup_dir if paths is not None else None)
    return recovery.Recovery(damaged, trouble, base)


_BL_COLS = ("id_hash", "entry_id", "source", "detail_enc", "valid_from", "valid_to", "version",
            "deleted")
_SQLITE_BL_UPSERT = (
    f"INSERT INTO blacklist ({', '.join(_BL_COLS)}) VALUES ({', '.join('?' * len(_BL_COLS))}) "
    "ON CONFLICT (id_hash, entry_id) DO UPDATE SET "
    + ", ".join(f"{k} = excluded.{k}" for k in _BL_COLS[2:])
    + " WHERE excluded.version >= blacklist.version"
)


def _plain(obj: Any) -> dict[str, Any]:
    """A flat dataclass as JSON-able values (datetimes tagged so they come back as such)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        out[f.name] = {"$dt": v.isoformat()} if isinstance(v, datetime) else v
    return out


def _unplain(v: Any) -> Any:
    return datetime.fromisoformat(v["$dt"]) if isinstance(v, dict) and "$dt" in v else v


def _bl_detail(last4: str, reason: str) -> bytes:
    return f"{last4}\x00{reason}".encode()


def _aad(column: str, row_id: str) -> bytes:
    return f"{column}|{row_id}".encode()


def _user(r: UserRow) -> User:
    return User(username=r.username, display_name=r.display_name, role=r.role, active=r.active,
                created_at=r.created_at, last_login_at=r.last_login_at)


def _read_fingerprint(engine: Engine) -> str | None:
    """The key fingerprint stored in the database, None for a new (or empty) database."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(Meta.__tablename__):
            return None
        row = conn.execute(text("SELECT value FROM store_meta WHERE key = :k"),
                           {"k": _FINGERPRINT}).first()
        return row[0] if row else None
