"""The platform's database: SQLAlchemy Core tables, engines, and Alembic migrations.

Core, not the ORM: bulk inserts, conditional updates and aggregates. All state but the rate-limit
buckets lives in the database, so any number of API processes can serve the same database.

Cursors are made from *counter rows* (``counters``): a writer bumps the row by the number of items
it changes and keeps the row lock until it commits, so sequence numbers become visible in the
order they were given out (with a plain sequence a reader could see 11 committed before 10).

SQLite (the demo, one machine) runs in WAL mode, with ``BEGIN IMMEDIATE`` for write transactions
so two writers queue on the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the database keeps (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the platform database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

meta = Table(
    "platform_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

counters = Table(
    "counters", metadata,
    Column("name", String(128), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

hospitals = Table(
    "hospitals", metadata,
    Column("hospital_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex of the bearer token
    Column("role", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("hospital_id", String(64), nullable=True),
    Column("desk_id", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Index("ix_tokens_desk", "hospital_id", "desk_id"),
)

desks = Table(
    "desks", metadata,
    Column("hospital_id", String(64), primary_key=True),
    Column("desk_id", String(64), primary_key=True),
    Column("label", String(200), nullable=False, default=""),
    Column("enrolled_at", UtcDateTime, nullable=True),
    Column("last_seen_at", UtcDateTime, nullable=True),
)

enrollment_codes = Table(
    "enrollment_codes", metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("hospital_id", String(64), nullable=False),
    Column("desk_id", String(64), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
)

signing_keys = Table(
    "signing_keys", metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_enc", LargeBinary, nullable=False),  # Fernet(raw Ed25519 private key)
    Column("x", String(64), nullable=False),  # b64e(raw public key)
    Column("created_at", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=True),  # None: the current signing key
    Column("revoked_at", UtcDateTime, nullable=True),
)

slots = Table(
    "slots", metadata,
    Column("slot_id", String(64), primary_key=True),
    Column("hospital_id", String(64), nullable=False),
    Column("department_code", String(64), nullable=False),
    Column("doctor_name", String(200), nullable=False),
    Column("slot_start", UtcDateTime, nullable=False),
    Column("slot_end", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # open | booked | cooling
    Column("released_at", UtcDateTime, nullable=True),  # when it (last) became bookable
    Column("release_at", UtcDateTime, nullable=True),  # cooling: when it goes back to the pool
    Column("last_cancelled_at", UtcDateTime, nullable=True),
    Index("ux_slots_natural", "hospital_id", "department_code", "doctor_name", "slot_start",
          unique=True),
)

bookings = Table(
    "bookings", metadata,
    Column("booking_id", String(64), primary_key=True),
    Column("reference", String(32), nullable=False, unique=True),
    Column("hospital_id", String(64), nullable=False),
    Column("slot_id", String(64), nullable=False),
    Column("department_code", String(64), nullable=False),
    Column("department_name", String(200), nullable=False),
    Column("doctor_name", String(200), nullable=False),
    Column("slot_start", UtcDateTime, nullable=False),
    Column("slot_end", UtcDateTime, nullable=False),
    Column("day", String(10), nullable=False),  # local date of slot_start, YYYY-MM-DD
    Column("patient_hash", String(128), nullable=False),
    Column("patient_salt", String(64), nullable=False),
    Column("patient_last4", String(4), nullable=False),
    Column("patient_key", String(64), nullable=False),  # HMAC of the ID: counting, no plaintext
    Column("account_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("booked_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("risk_json", Text, nullable=False),
    Column("kid", String(64), nullable=False),
    Column("token", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # What the booking platform saw of the client (optional): the phone as an HMAC and last 4.
    Column("client_ip", String(64), nullable=True),
    Column("phone_key", String(64), nullable=True),
    Column("phone_last4", String(4), nullable=True),
    Column("device_id", String(128), nullable=True),
    # Fernet(ID number): what a confirmed anomaly blacklists (sealed like the police's).
    Column("patient_enc", LargeBinary, nullable=True),
    Index("ix_bookings_hospital_seq", "hospital_id", "seq"),
    Index("ix_bookings_hospital_day_seq", "hospital_id", "day", "seq"),
    Index("ix_bookings_patient", "patient_key", "booked_at"),
    Index("ix_bookings_account", "account_id", "booked_at"),
)

revocations = Table(
    "revocations", metadata,
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),  # booking | key
    Column("item_id", String(128), nullable=False),
    Column("hospital_id", String(64), nullable=True),  # bookings: only that hospital's desks
    Column("revoked_at", UtcDateTime, nullable=False),
)

blacklist = Table(
    "blacklist", metadata,
    Column("entry_id", String(64), primary_key=True),
    Column("id_hash", String(128), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("source", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_to", UtcDateTime, nullable=False),
    Column("version", BigInteger, nullable=False, unique=True),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("id_number_enc", LargeBinary, nullable=False),  # Fernet: for the police only
    Column("created_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ux_blacklist_hash_source", "id_hash", "source", unique=True),
)

visits = Table(
    "visits", metadata,
    Column("visit_id", String(36), primary_key=True),
    Column("hospital_id", String(64), nullable=False),
    Column("desk_id", String(64), nullable=False),
    Column("booking_id", String(64), nullable=True),
    Column("day", String(10), nullable=False),  # local date of checked_in_at
    Column("checked_in_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("clerk", String(64), nullable=False),
    Column("verdict", String(8), nullable=False),
    Column("final_verdict", String(8), nullable=False),  # the override's verdict if any
    Column("reasons_json", Text, nullable=False),
    Column("face_distance", Float, nullable=True),
    Column("face_outcome", String(16), nullable=True),
    Column("presented_id_hash", String(128), nullable=True),
    Column("presented_id_last4", String(4), nullable=True),
    Column("offline", Boolean, nullable=False),
    Column("override_json", Text, nullable=True),
    Column("blacklist_hit", Boolean, nullable=False),
    Column("conflict", Boolean, nullable=False),
    Index("ix_visits_hospital_day", "hospital_id", "day"),
    Index("ix_visits_booking", "booking_id"),
)

# The first visit that checked a booking in; a second one finds the row taken: a conflict.
checkins = Table(
    "checkins", metadata,
    Column("booking_id", String(64), primary_key=True),
    Column("visit_id", String(36), nullable=False),
    Column("hospital_id", String(64), nullable=False),
    Column("desk_id", String(64), nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("hospital_id", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("booking_id", String(64), nullable=True),
    Column("visit_ids_json", Text, nullable=False),
    Column("desk_ids_json", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("detail", String(1000), nullable=False),
    # Handled once for all desks (revision 0004); handling gives the alert a new seq.
    Column("handled_by", String(64), nullable=True),
    Column("handled_at", UtcDateTime, nullable=True),
    Column("handled_note", String(500), nullable=True),
    Column("handled_desk", String(64), nullable=True),
    Index("ux_alerts_hospital_seq", "hospital_id", "seq", unique=True),
)

# Insiders (revision 0004): per hospital, person and ISO week, a desk's counts of that person's
# decisions and whether it flagged them as far above colleagues. A desk's latest report wins.
insider_weeks = Table(
    "insider_weeks", metadata,
    Column("hospital_id", String(64), primary_key=True),
    Column("desk_id", String(64), primary_key=True),
    Column("person", String(64), primary_key=True),
    Column("week", String(8), primary_key=True),  # ISO week, e.g. 2026-W49
    Column("decisions", Integer, nullable=False),
    Column("overrides", Integer, nullable=False),
    Column("fast_confirms", Integer, nullable=False),
    Column("judged", Integer, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("reasons_json", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

# A desk alert's two photos (revision 0005), purged early: see desk_platform/alert_photos.py.
alert_photos = Table(
    "alert_photos", metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("hospital_id", String(64), nullable=False),
    Column("photos_enc", LargeBinary, nullable=False),  # Fernet(JSON of the two base64 JPEGs)
    Column("keep_until", UtcDateTime, nullable=False),  # the alert's time + the retention
)

reports = Table(
    "reports", metadata,
    Column("report_id", String(36), primary_key=True),
    Column("hospital_id", String(64), nullable=False),
    Column("desk_id", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("reported_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("booking_id", String(64), nullable=True),
    Column("visit_id", String(36), nullable=True),
    Column("id_hash", String(128), nullable=True),
    Column("id_last4", String(4), nullable=True),
    Column("note", Text, nullable=False),
    Index("ix_reports_hospital_day", "hospital_id", "day"),
)

# Staff accounts of every side: a hospital's (cached by its desks with argon2 hashes) and the
# console's (police, booking platform, commission). ``version``: counter "staff".
staff = Table(
    "staff", metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("hospital_id", String(64), nullable=True),  # hospital roles only
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", BigInteger, nullable=False, unique=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Index("ix_staff_hospital_version", "hospital_id", "version"),
)

# --- the task force's console (migration 0003) ------------------------------------------------
# Who viewed or changed what, when: personal data shown or changes made (last 4 at most).
audit_log = Table(
    "audit_log", metadata,
    Column("audit_id", String(36), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("hospital_id", String(64), nullable=True),  # the actor's (hospital roles)
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    Column("detail", Text, nullable=False),
    Column("address", String(64), nullable=False),
    Index("ix_audit_at", "at"),
    Index("ix_audit_actor_at", "actor", "at"),
)

# Console sign-ins: the cookie holds a random token, the table its sha256 (expiry per request).
console_sessions = Table(
    "console_sessions", metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Index("ix_console_sessions_user", "username"),
)

# The police's case files behind a blacklist entry: one row per case, a second never replaces.
blacklist_cases = Table(
    "blacklist_cases", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("entry_id", String(64), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("county", String(64), nullable=False),
    Column("evidence_enc", LargeBinary, nullable=False),  # Fernet(evidence note)
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("lifted_at", UtcDateTime, nullable=True),
    Column("lifted_by", String(64), nullable=True),
    Column("lift_reason", String(500), nullable=True),
    Index("ix_blacklist_cases_county_created", "county", "created_at"),
    Index("ix_blacklist_cases_entry", "entry_id"),
)

# Which county (县/市/区) a hospital is in: the rows of the task force's summary table.
hospital_regions = Table(
    "hospital_regions", metadata,
    Column("hospital_id", String(64), primary_key=True),
    Column("county", String(64), nullable=False),
)

# Figures of the summary table the platform cannot know, entered per county and period.
taskforce_figures = Table(
    "taskforce_figures", metadata,
    Column("county", String(64), primary_key=True),
    Column("period_from", String(10), primary_key=True),
    Column("period_to", String(10), primary_key=True),
    Column("field", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# A person's appeal against a blacklist entry, recorded at a hospital window; decided by police.
appeals = Table(
    "appeals", metadata,
    Column("appeal_id", String(36), primary_key=True),
    Column("entry_id", String(64), nullable=False),
    Column("id_last4", String(4), nullable=False),
    Column("hospital_id", String(64), nullable=False),
    Column("desk_id", String(64), nullable=True),
    Column("clerk", String(64), nullable=False),
    Column("statement_enc", LargeBinary, nullable=False),  # Fernet(the person's statement)
    Column("filed_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # pending | lifted | upheld
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decision_note", String(500), nullable=True),
    Index("ix_appeals_status_filed", "status", "filed_at"),
)

# Hits of the booking platform's anomaly rules: candidates for a person's review.
anomaly_candidates = Table(
    "anomaly_candidates", metadata,
    Column("candidate_id", String(32), primary_key=True),  # digest of rule + key + bookings
    Column("rule", String(32), nullable=False),
    Column("key", String(200), nullable=False),  # what repeated (masked: IP, phone last 4 ...)
    Column("booking_ids_json", Text, nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("patient_key", String(64), nullable=False),
    Column("patient_last4", String(4), nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("count", Integer, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # open | confirmed | dismissed
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("entry_id", String(64), nullable=True),  # the blacklist entry a confirmation made
    Index("ix_anomaly_status_last", "status", "last_at"),
)

# Booking accounts frozen after a confirmed anomaly; unfrozen by a desk's ID check or the police.
frozen_accounts = Table(
    "frozen_accounts", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("frozen", Boolean, nullable=False),
    Column("frozen_at", UtcDateTime, nullable=False),
    Column("frozen_by", String(64), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("candidate_id", String(32), nullable=True),
    Column("unfrozen_at", UtcDateTime, nullable=True),
    Column("unfrozen_by", String(64), nullable=True),
    Column("unfrozen_via", String(16), nullable=True),  # police | desk
)

# --- engines ------------------------------------------------------------------------------------


def normalize_url(url: str) -> str:
    """Accept a bare file path for SQLite and plain ``postgresql://`` for psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalize_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Database:
    """The engine plus the two kinds of transaction the services use."""

    def __init__(self, url: str, *, pool_size: int = 10):
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, pool_size=pool_size)
        self._write_engine = self.engine.execution_options(write=True)
        self.dialect = self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._write_engine.connect() as conn:
            with conn.begin():
                yield conn

    def insert(self, table: Table) -> Any:
        """A dialect insert with ``on_conflict_do_nothing`` (PostgreSQL and SQLite)."""
        return (postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table))

    def insert_new(self, conn: Connection, table: Table, rows: list[dict[str, Any]],
                   key: str, returning: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING ...`` for many rows: the new ones.
        PostgreSQL: one statement over ``unnest`` of an array per column (SQLAlchemy's multi-VALUES
        made psycopg re-parse a huge statement per batch: 435 -> thousands of visits/s)."""
        if not rows:
            return []
        if self.dialect != "postgresql":
            stmt = (self.insert(table).on_conflict_do_nothing(index_elements=[key])
                    .returning(*(table.c[c] for c in returning)))
            return [tuple(r) for r in conn.execute(stmt, rows)]
        cols = list(rows[0])
        types = [table.c[c].type.compile(dialect=self.engine.dialect) for c in cols]
        sql = (f'INSERT INTO {table.name} ({", ".join(cols)}) '
               f'SELECT * FROM unnest({", ".join(f"%s::{t}[]" for t in types)}) '
               f'ON CONFLICT ({key}) DO NOTHING RETURNING {", ".join(returning)}')
        columns = tuple([r[c] for r in rows] for c in cols)
        return [tuple(r) for r in conn.exec_driver_sql(sql, columns)]

    def close(self) -> None:
        self.engine.dispose()


def next_seq(db: Database, conn: Connection, name: str, count: int = 1) -> int:
    """Reserve ``count`` numbers of counter ``name``; returns the first. Holds the row lock until
    the transaction ends (see the module docstring: that is what makes cursors safe)."""
    conn.execute(db.insert(counters).values(name=name, value=0).on_conflict_do_nothing())
    last = conn.execute(
        update(counters).where(counters.c.name == name)
        .values(value=counters.c.value + count).returning(counters.c.value)
    ).scalar_one()
    return int(last) - count + 1


def current_seq(conn: Connection, name: str) -> int:
    value = conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()
    return int(value or 0)


def delta_page(conn: Connection, counter: str, query: Any, seq: Any, since: int,
               limit: int) -> tuple[list[Any], int, bool]:
    """A delta page by cursor: (rows, next cursor, more). The head is read FIRST, then rows up to
    it (all committed; read after the rows under READ COMMITTED, a row committed in between fell
    behind the cursor for good). A cursor ahead of the head (a restored backup) goes back to it."""
    head = current_seq(conn, counter)
    rows = conn.execute(query.where(seq > since, seq <= head).order_by(seq).limit(limit + 1)).all()
    if since > head:
        log.warning("a cursor (%d) ahead of %s (%d): restored from a backup?", since, counter, head)
    if len(rows) > limit:
        return rows[:limit], int(rows[limit - 1]._mapping[seq]), True
    return rows, head, False


# --- migrations ---------------------------------------------------------------------------------


def alembic_config(db: Database) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def migrate(db: Database) -> None:
    """Bring the schema to the newest revision (idempotent; safe to run from several processes
    on PostgreSQL: an advisory lock serializes them)."""
    from alembic import command

    cfg = alembic_config(db)
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_lock(724001)")
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
        finally:
            if db.dialect == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_unlock(724001)")
                conn.commit()


def schema_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
