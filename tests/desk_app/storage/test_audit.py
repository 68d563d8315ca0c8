"""The audit log's keyed hash chain and `desk-app audit verify`."""

from __future__ import annotations

import hashlib
import sqlite3

from desk_app.cli import main as cli_main
from desk_app.storage import AlertInput, Store

from .conftest import make_visit


def _fill(store) -> None:
    store.users.create("admin", "管理员", "admin", "admin-pass-1")
    store.users.authenticate("admin", "admin-pass-1")
    v = store.visits.record(make_visit(), alert=AlertInput(live_face=b"x"))
    store.alerts.photos(store.alerts.cases()[0].alert_id, viewer="admin")
    store.audit.record("admin", "export", "stats-2026-03.xlsx", {"rows": 12})
    store.audit.record("admin", "settings.changed", "faces.best_k", {"from": 3, "to": 4})
    assert v


def _sql(app_paths, statement: str, *args) -> None:
    """What someone with the database file (but not the key) can do: drop the guard
    triggers, then edit."""
    con = sqlite3.connect(app_paths.database_file)
    with con:
        con.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        con.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        con.execute(statement, args)
    con.close()


def test_the_app_cannot_rewrite_the_log(store, app_paths):
    import pytest

    _fill(store)
    con = sqlite3.connect(app_paths.database_file)
    for statement in ("UPDATE audit_log SET actor='x' WHERE seq=1", "DELETE FROM audit_log"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(statement)
    con.close()
    assert store.audit.verify().ok


def test_intact_chain(store, app_paths, capsys):
    _fill(store)
    report = store.audit.verify()
    assert report.ok and report.checked == 6
    assert [e.action for e in store.audit.entries(10)][::-1] == [
        "user.changed", "login", "checkin.decision", "alert.viewed", "export",
        "settings.changed"]
    assert cli_main(["audit", "verify", "--data-dir", str(app_paths.config_dir.parent),
                     "--lang", "en"]) == 0
    assert "6 entries checked" in capsys.readouterr().out


def test_edited_row_is_named(store, app_paths, capsys):
    _fill(store)
    _sql(app_paths, "UPDATE audit_log SET actor='someone' WHERE seq=4")
    report = store.audit.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(4, "edited")]
    assert cli_main(["audit", "verify", "--data-dir", str(app_paths.config_dir.parent),
                     "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "entry 4 was edited" in out


def test_recomputing_an_unkeyed_hash_does_not_help_a_thief(store, app_paths):
    _fill(store)
    con = sqlite3.connect(app_paths.database_file)
    prev, = con.execute("SELECT prev_hash FROM audit_log WHERE seq=5").fetchone()
    con.close()
    forged = hashlib.sha256(prev + b"export by nobody").digest()
    _sql(app_paths, "UPDATE audit_log SET subject='nothing', row_hash=? WHERE seq=5", forged)
    assert [(p.seq, p.kind) for p in store.audit.verify().problems][0] == (5, "edited")


def test_deleted_middle_rows_are_named(store, app_paths):
    _fill(store)
    _sql(app_paths, "DELETE FROM audit_log WHERE seq IN (3, 4)")
    report = store.audit.verify()
    assert (3, "deleted") in [(p.seq, p.kind) for p in report.problems]
    assert "3-4" in report.problems[0].message


def test_deleted_last_row_is_found_by_the_head(store, app_paths):
    _fill(store)
    _sql(app_paths, "DELETE FROM audit_log WHERE seq = 6")
    assert [(p.seq, p.kind) for p in store.audit.verify().problems] == [(6, "truncated")]


def test_chain_continues_across_reopen(app_paths, clock):
    s = Store.open(app_paths, clock=clock)
    s.audit.record("a", "export", "x")
    s.close()
    s = Store.open(app_paths, clock=clock)
    s.audit.record("a", "export", "y")
    assert s.audit.verify().ok and s.audit.verify().checked == 2
    s.close()


def test_verify_without_database(tmp_path, capsys):
    assert cli_main(["audit", "verify", "--data-dir", str(tmp_path / "none")]) == 1
    assert "没有本地数据库" in capsys.readouterr().err


def test_threads_appending_at_once_keep_one_chain(store):
    import threading

    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(15):
                if i % 3:
                    store.audit.record(f"user{n}", "export", f"f{n}-{i}")
                else:
                    store.visits.record(make_visit(clerk=f"user{n}"))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = store.audit.verify()
    assert report.ok and report.checked == 60


def test_retention_purge_keeps_the_chain_verifiable(store, clock, app_paths):
    import pytest

    _fill(store)  # 6 entries at T0
    clock.advance(days=400)
    store.audit.record("admin", "export", "late.xlsx")  # seq 7
    assert store.audit.purge(365) == 6
    entries = store.audit.entries(10)
    assert [e.seq for e in entries] == [8, 7] and entries[0].action == "audit.purged"
    report = store.audit.verify()
    assert report.ok and report.checked == 2
    con = sqlite3.connect(app_paths.database_file)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM audit_log WHERE seq = 7")  # newer than the anchor: refused
    con.close()
    _sql(app_paths, "DELETE FROM audit_log WHERE seq = 7")
    assert [(p.seq, p.kind) for p in store.audit.verify().problems] == [(7, "deleted")]
    assert store.audit.purge(365) == 0


def test_forged_anchor_is_detected(store, clock, app_paths):
    import json

    _fill(store)
    clock.advance(days=400)
    store.audit.record("admin", "export", "late.xlsx")
    store.audit.purge(365)
    con = sqlite3.connect(app_paths.database_file)
    value, = con.execute("SELECT value FROM store_meta WHERE key='audit_anchor'").fetchone()
    con.close()
    d = json.loads(value)
    d["seq"] = 3  # pretend fewer entries were purged
    _sql(app_paths, "UPDATE store_meta SET value=? WHERE key='audit_anchor'", json.dumps(d))
    assert "edited" in [p.kind for p in store.audit.verify().problems]
