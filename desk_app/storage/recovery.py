"""A damaged desk database does not lose the day.

Three parts, all plain ``sqlite3`` (they run before the store, or beside it):

* **Online backups** while the desk runs (:func:`backup_online`, driven by a
  :class:`desk_app.storage.retention.Periodic`): SQLite's backup API copies a consistent snapshot, WAL included,
  into ``backups/live/``; the newest ``kept`` stay. The copies hold what the database holds:
  encrypted fields stay encrypted (same key).
* **Detection** at open (:func:`problem`): ``PRAGMA quick_check`` on the file. A file that is
  not a database, or whose pages do not check out, is damaged.
* **Recovery** (:func:`salvage` and :meth:`desk_app.storage.Store.open`): the damaged file and
  its -wal/-shm are moved to ``damaged/`` for hospital IT; the newest backup that checks out
  becomes the database (an empty one when there is none); then every row that can still be read
  from the damaged file is salvaged (through SQL table by table, bisecting around unreadable
  pages, then by reading the table-leaf pages themselves: :mod:`desk_app.storage.pages`) and
  merged: visits, users, flagged cases and pending outbox items that the backup lacks. Every visit without a queued or
  acknowledged upload is queued again: the platform's ingest is idempotent on the visit id, so a
  resend is harmless and nothing is lost. The audit entries written after the backup are not
  merged (their hash chain would not fit); they stay readable in the kept file, and the recovery
  itself is an audit entry.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

LIVE_DIR = "live"
#: tables whose rows are merged from a damaged file (in this order: foreign keys first)
MERGED_TABLES = ("users", "visits", "alerts", "outbox")
_CHUNK = 512


def problem(db_file: Path) -> str | None:
    """None when the file checks out (or does not exist); else what SQLite says is wrong."""
    if not db_file.exists() or db_file.stat().st_size == 0:
        return None
    try:
        with closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=5)) as conn:
            rows = conn.execute("PRAGMA quick_check(20)").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    answers = [r[0] for r in rows]
    return None if answers == ["ok"] else "; ".join(str(a) for a in answers)[:500]


# --- online backups ----------------------------------------------------------------------------


def backup_online(db_file: Path, backup_dir: Path, kept: int) -> Path:
    """A consistent copy of the live database in ``backup_dir/live`` (owner-only); only the
    newest ``kept`` copies stay."""
    live = backup_dir / LIVE_DIR
    live.mkdir(parents=True, exist_ok=True)
    ns = time.time_ns()  # one instant for both parts: names sort in time order
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(ns // 10**9))
    target = live / f"desk-{stamp}-{ns % 10**9:09d}.sqlite3"
    partial = target.with_suffix(".partial")
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    with closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30)) as src, \
            closing(sqlite3.connect(partial)) as dst:
        src.backup(dst, pages=1024, sleep=0.005)  # in steps: writers are not held up for long
    os.replace(partial, target)
    for old in live_backups(backup_dir)[kept:]:
        old.unlink(missing_ok=True)
    return target


def live_backups(backup_dir: Path) -> list[Path]:
    """Newest first."""
    live = backup_dir / LIVE_DIR
    if not live.is_dir():
        return []
    return sorted(live.glob("desk-*.sqlite3"), key=lambda p: p.name, reverse=True)


# --- recovery ----------------------------------------------------------------------------------


@dataclass
class Salvage:
    """Rows read back from a damaged file, per table (column name -> value)."""

    rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)  # rowid ranges that failed, per table
    method: str = "tables"


@dataclass
class Recovery:
    """What happened when a damaged database was found at open (shown once, audited)."""

    damaged_file: Path
    problem: str
    backup_used: Path | None
    method: str = ""
    merged: dict[str, int] = field(default_factory=dict)
    requeued: int = 0
    visits: int = 0  # visits in the recovered database

    def as_problem(self):  # type: ignore[no-untyped-def]
        """What the desk shows once at start (and hospital IT reads in the log)."""
        from desk_app.errors import Text
        from desk_app.storage.errors import DatabaseRecovered

        came_back = self.merged.get("visits", 0)
        since = (f"从 {self.backup_used.name} 备份恢复, " if self.backup_used else "没有可用的备份, ")
        since_en = (f"restored from the backup {self.backup_used.name}, " if self.backup_used
                    else "no backup was available, ")
        return DatabaseRecovered(Text(
            f"本地数据库已损坏, 已自动恢复: {since}另从损坏的文件中找回 {came_back} 条就诊记录, "
            f"{self.requeued} 条重新排队上传。损坏的文件保存在 {self.damaged_file}, 请通知信息科。"
            "核验可以继续。",
            f"The local database was damaged and has been recovered: {since_en}and {came_back} "
            f"visit records were read back from the damaged file; {self.requeued} were queued "
            f"for upload again. The damaged file is kept at {self.damaged_file}; please tell "
            "hospital IT. Check-ins can go on."), detail=self.problem[:200])


def quarantine(db_file: Path, damaged_dir: Path) -> Path:
    """Move the damaged file and its -wal/-shm beside each other into ``damaged_dir``. Their
    modification time becomes now: retention keeps a moved-aside file for hospital IT by the
    time it was set aside, not by its last write (a desk left off for weeks)."""
    damaged_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = damaged_dir / f"{db_file.stem}-{stamp}{db_file.suffix}"
    n = 1
    while target.exists():
        target = damaged_dir / f"{db_file.stem}-{stamp}-{n}{db_file.suffix}"
        n += 1
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{db_file}{suffix}")
        if src.exists():
            os.replace(src, Path(f"{target}{suffix}"))
            os.utime(Path(f"{target}{suffix}"))
    return target


def restore_base(db_file: Path, backup_dir: Path | None) -> Path | None:
    """Copy the newest backup that checks out to ``db_file`` (owner-only); None when none."""
    candidates = live_backups(backup_dir) if backup_dir is not None else []
    if backup_dir is not None and backup_dir.is_dir():  # backups taken before migrations too
        candidates += sorted(backup_dir.glob("desk-*.sqlite3"), key=lambda p: p.stat().st_mtime,
                             reverse=True)
    for candidate in candidates:
        if problem(candidate) is None:
            os.close(os.open(db_file, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
            with closing(sqlite3.connect(f"file:{candidate}?mode=ro", uri=True)) as src, \
                    closing(sqlite3.connect(db_file)) as dst:
                src.backup(dst)
            return candidate
        log.warning("backup %s is damaged too; trying an older one", candidate.name)
    return None


#: what identifies a row of each merged table (rows found twice are taken once)
_ROW_KEY = {"users": ("username",), "visits": ("visit_id",), "alerts": ("alert_id",),
            "outbox": ("id",)}


def salvage(damaged: Path, layout_from: Path, tables: tuple[str, ...] = MERGED_TABLES) -> Salvage:
    """Every row of ``tables`` that can still be read from ``damaged``: first through SQL, table
    by table (bisecting around unreadable pages); then, whatever SQL could not reach (a damaged
    schema or tree page hides whole tables), by reading every table-leaf page of the file and
    recognising each record by its table's columns (taken from ``layout_from``, a sound
    database of the same schema): what ``sqlite3 .recover`` does, which is not in every SQLite
    build (Debian's 3.40 lacks it, Windows desks have no sqlite3 program)."""
    out = _read_tables(damaged, tables)
    if not out.unreadable:
        return out
    from desk_app.storage import pages

    seen = {t: {tuple(r.get(k) for k in _ROW_KEY.get(t, ())) for r in rows}
            for t, rows in out.rows.items()}
    added = 0
    for table, row in pages.scan(damaged, pages.layouts(layout_from, tables)):
        key = tuple(row.get(k) for k in _ROW_KEY.get(table, ()))
        if key in seen.setdefault(table, set()):
            continue
        seen[table].add(key)
        out.rows.setdefault(table, []).append(row)
        added += 1
    out.method = f"tables + page scan (+{added} rows)"
    return out


def _read_tables(path: Path, tables: tuple[str, ...]) -> Salvage:
    out = Salvage()
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.DatabaseError as exc:
        log.error("damaged database cannot be opened at all: %s", exc)
        return out
    with closing(conn):
        for table in tables:
            rows, bad = _read_table(conn, table)
            out.rows[table] = rows
            if bad:
                out.unreadable[table] = bad
    return out


def _read_table(conn: sqlite3.Connection, table: str) -> tuple[list[dict[str, object]], int]:
    try:
        cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        hi = conn.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]
    except sqlite3.DatabaseError as exc:
        log.warning("table %s: %s", table, exc)
        return [], 1
    if not cols or hi is None:
        return [], 0
    rows: list[dict[str, object]] = []
    bad = 0
    for lo in range(0, hi + 1, _CHUNK):
        got, b = _read_range(conn, table, cols, lo, min(hi, lo + _CHUNK - 1))
        rows += got
        bad += b
    return rows, bad


def _read_range(conn: sqlite3.Connection, table: str, cols: list[str], lo: int, hi: int
                ) -> tuple[list[dict[str, object]], int]:
    """Rows with rowid in [lo, hi]; a range that fails is halved until single rows fail."""
    names = ", ".join(f'"{c}"' for c in cols)
    try:
        found = conn.execute(f'SELECT {names} FROM "{table}" WHERE rowid BETWEEN ? AND ?',
                             (lo, hi)).fetchall()
        return [dict(zip(cols, r, strict=True)) for r in found], 0
    except sqlite3.DatabaseError:
        if lo == hi:
            return [], 1
        mid = (lo + hi) // 2
        a, ba = _read_range(conn, table, cols, lo, mid)
        b, bb = _read_range(conn, table, cols, mid + 1, hi)
        return a + b, ba + bb


def iter_rows(s: Salvage, table: str) -> Iterator[dict[str, object]]:
    yield from s.rows.get(table, [])


@dataclass(frozen=True)
class Merged:
    counts: dict[str, int]
    new_visits: frozenset[str]  # salvaged visits the base did not have
    acked_visits: frozenset[str]  # visits whose upload the platform had acknowledged
    acked_overrides: frozenset[str]  # visits whose override upload was acknowledged


def merge(db_file: Path, found: Salvage) -> Merged:
    """Insert the salvaged rows the base database lacks (raw values, as stored). Outbox items are
    merged only while pending (a new id; the payload is sealed with its dedup key, which is kept);
    acknowledged ones only say what the platform already has."""
    counts: dict[str, int] = {}
    new_visits: set[str] = set()
    acked: set[str] = set()
    acked_overrides: set[str] = set()
    with closing(sqlite3.connect(db_file, timeout=30)) as conn, conn:
        for table in MERGED_TABLES:
            cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
            if table == "outbox":
                cols.discard("id")
                have = {r[0] for r in conn.execute("SELECT dedup_key FROM outbox")}
            n = 0
            for row in iter_rows(found, table):
                if table == "outbox":
                    if row.get("sent_at") is not None:
                        if row.get("kind") == "visit":
                            acked.add(str(row.get("visit_id")))
                        elif row.get("kind") == "visit_override":
                            acked_overrides.add(str(row.get("visit_id")))
                        continue
                    if row.get("dedup_key") in have:
                        continue
                keep = {k: v for k, v in row.items() if k in cols}
                if not keep:
                    continue
                if table == "outbox" and keep.get("visit_id") is not None and conn.execute(
                        "SELECT 1 FROM visits WHERE visit_id = ?", (keep["visit_id"],)
                ).fetchone() is None:
                    keep["visit_id"] = None  # the visit row was lost; its payload still holds it
                names = ", ".join(f'"{k}"' for k in keep)
                marks = ", ".join("?" for _ in keep)
                cur = conn.execute(f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})',
                                   tuple(keep.values()))
                if cur.rowcount > 0:
                    n += 1
                    if table == "visits":
                        new_visits.add(str(keep["visit_id"]))
            counts[table] = n
    return Merged(counts, frozenset(new_visits), frozenset(acked), frozenset(acked_overrides))
