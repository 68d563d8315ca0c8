"""ORM tables of the desk database (the current schema; Alembic revisions in ``migrations/``
record how it got here). Nothing outside ``desk_app.storage`` sees these classes.

Columns ending in ``_enc`` hold AES-GCM ciphertext (see :mod:`desk_app.storage.crypto`);
``id_lookup`` is the keyed hash of an ID number. No name, ID number or face is stored in clear.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC (SQLite has no zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Meta(Base):
    """Small facts about this database: the key fingerprint, the audit chain head."""

    __tablename__ = "store_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class BookingRow(Base):
    __tablename__ = "bookings"
    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), index=True)
    hospital_id: Mapped[str] = mapped_column(String(64))
    department_code: Mapped[str] = mapped_column(String(64))
    department_name: Mapped[str] = mapped_column(String(200))
    doctor_name: Mapped[str] = mapped_column(String(200))
    slot_start: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    slot_end: Mapped[datetime] = mapped_column(UtcDateTime)
    patient_hash: Mapped[bytes] = mapped_column(LargeBinary(64))
    patient_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Last 4 of the ID with the per-booking salt would shrink a brute force 10,000-fold: encrypted.
    patient_last4_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    risk_json: Mapped[str] = mapped_column(Text)
    kdf_json: Mapped[str] = mapped_column(Text)  # ScryptParams of patient_hash
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BlacklistRow(Base):
    """Clustered on the slow hash (no rowid in SQLite): a look-up is one B-tree descent."""

    __tablename__ = "blacklist"
    id_hash: Mapped[bytes] = mapped_column(LargeBinary(64), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    detail_enc: Mapped[bytes] = mapped_column(LargeBinary)  # {"last4","reason"} encrypted
    valid_from: Mapped[int] = mapped_column(BigInteger)  # Unix seconds: compact and fast
    valid_to: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = ({"sqlite_with_rowid": False},)


class KeyRow(Base):
    __tablename__ = "booking_keys"
    kid: Mapped[str] = mapped_column(String(128), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    x: Mapped[str] = mapped_column(String(128))
    not_after: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class RevocationRow(Base):
    __tablename__ = "revocations"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "booking" | "key"
    item_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VisitRow(Base):
    __tablename__ = "visits"
    visit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    booking_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    hospital_id: Mapped[str] = mapped_column(String(64))
    desk_id: Mapped[str] = mapped_column(String(64))
    clerk: Mapped[str] = mapped_column(String(64))
    checked_in_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Local (Beijing) calendar day of the check-in, for the statistics screen (revision 2).
    local_day: Mapped[str] = mapped_column(String(10), index=True)
    verdict: Mapped[str] = mapped_column(String(8))
    reasons_json: Mapped[str] = mapped_column(Text)
    face_distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    face_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    presented_id_hash: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    presented_id_last4_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    id_lookup: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True, nullable=True)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    person_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    face_template_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    offline: Mapped[bool] = mapped_column(Boolean)
    override_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    override_verdict: Mapped[str | None] = mapped_column(String(8), nullable=True)
    overridden_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A number read by the camera: the clerk who checked the physical card, and when (rev. 3).
    card_confirmed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    card_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class FaceJudgementRow(Base):
    """The clerk's call on an undecided face (revision 3): the distance and the judgement, never
    an image; what ``calibrate faces --from-desk-history`` and the per-clerk figures read."""

    __tablename__ = "face_judgements"
    judgement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.visit_id"), index=True)
    clerk: Mapped[str] = mapped_column(String(64), index=True)
    judged_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    judgement: Mapped[str] = mapped_column(String(16))  # "same" | "different"
    seconds: Mapped[float] = mapped_column(Float)  # from the undecided verdict to the key
    match_distance: Mapped[float] = mapped_column(Float)  # the thresholds in force then
    mismatch_distance: Mapped[float] = mapped_column(Float)
    # the unit of ``distance`` (revision 5, ``cohort.score_basis``): "distance" or
    # "cohort:<file digest>"; "" for calls recorded before
    score_basis: Mapped[str] = mapped_column(String(64), default="", server_default="")


class OutboxRow(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(128))
    visit_id: Mapped[str | None] = mapped_column(
        ForeignKey("visits.visit_id"), index=True, nullable=True)
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_outbox_pending", "sent_at", "id"),)


class AlertRow(Base):
    """A flagged case for security staff. Face images only here, encrypted, purged later."""

    __tablename__ = "alerts"
    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.visit_id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # "open" | "handled"
    note: Mapped[str] = mapped_column(Text, default="")
    handled_by: Mapped[str] = mapped_column(String(64), default="")
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    id_photo_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    live_face_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    photos_purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class OfficeAlertRow(Base):
    """An alert of any window of the hospital, or the platform's own (revision 4): what the
    security office sees. No photos here (they stay on the desk that raised the alert)."""

    __tablename__ = "office_alerts"
    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)  # the platform's: a newer one replaces the row
    kind: Mapped[str] = mapped_column(String(32))
    booking_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    visit_ids_json: Mapped[str] = mapped_column(Text)
    desk_ids_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    detail_enc: Mapped[bytes] = mapped_column(LargeBinary)
    handled_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    handled_note_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    handled_desk: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Handled at this desk, not yet confirmed by the platform's delta.
    handled_here: Mapped[bool] = mapped_column(Boolean, default=False)


class UserRow(Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # "local" (made on this desk) or "platform" (cached from the platform, revision 4: not
    # edited here; the platform's version of the account in source_version).
    source: Mapped[str] = mapped_column(String(16), default="local", server_default="local")
    source_version: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AuditRow(Base):
    """Append-only. ``row_hash`` = HMAC(audit key, prev_hash + canonical row); see audit.py."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(128))
    detail_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    row_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class CursorRow(Base):
    """Sync cursors (where each pull stopped), kept apart from the settings."""

    __tablename__ = "sync_cursors"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
