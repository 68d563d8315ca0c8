"""Crash safety: a writer is killed with SIGKILL at random moments, 30 times over.

Each writer is a forked child of the test process (so no interpreter start-up per kill), opens
the store and records visits as fast as it can, acknowledging each one on a pipe only after
``record_visit`` returned. After every kill the next writer reopens the same database (a kill may
land while it is being created or upgraded, or in the middle of a transaction). At the end every
acknowledged visit must be there, with exactly one outbox row, and nothing may be orphaned.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
import uuid

import pytest

from desk_app.storage import AlertInput, Store

from .conftest import make_visit

KILLS = 30

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")


def _writer(paths, wfd: int, seed: int) -> None:
    code = 0
    try:
        rng = random.Random(seed)
        store = Store.open(paths)
        while True:
            v = make_visit(visit_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)))
            alert = AlertInput(live_face=os.urandom(2000)) if rng.random() < 0.2 else None
            store.visits.record(v, alert=alert)
            os.write(wfd, v.visit_id.encode() + b"\n")  # acknowledged: the commit returned
    except BaseException:  # noqa: BLE001 - a child must never return into pytest
        code = 1
    finally:
        os._exit(code)


def _drain(fd: int, until: float, lines: int = 0) -> bytes:
    """Read what the writer acknowledged until ``until`` or, when ``lines``, until that many
    acknowledgements arrived (so a loaded machine does not turn the test into a no-op)."""
    out = b""
    while True:
        if lines and out.count(b"\n") >= lines:
            return out
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            if time.monotonic() >= until:
                return out
            time.sleep(0.001)
            continue
        if not chunk:
            return out
        out += chunk


def test_sigkill_at_random_points_loses_no_acknowledged_visit(app_paths, tmp_path):
    # Warm up once in this process (lazy imports, statement caches) so each forked writer
    # opens the store in milliseconds and the random kills land during real work.
    from desk_app.paths import AppPaths

    warm = Store.open(AppPaths.resolve(tmp_path / "warm").ensure())
    warm.visits.record(make_visit(), alert=AlertInput(live_face=b"x"))
    warm.close()
    rng = random.Random(20261122)
    acked: set[str] = set()
    early_exits = 0
    for i in range(KILLS):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _writer(app_paths, w, seed=rng.getrandbits(64) + i)
        os.close(w)
        os.set_blocking(r, False)
        if i % 5 == 0:  # any moment, opening the database included
            data = _drain(r, time.monotonic() + rng.uniform(0.0, 0.05))
        else:  # in the middle of the writing: after a few commits, then a random pause
            data = _drain(r, time.monotonic() + 20, lines=rng.randint(1, 12))
            time.sleep(rng.uniform(0.0, 0.02))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if not os.WIFSIGNALED(status):
            early_exits += 1  # the writer failed by itself: that is a bug too
        os.set_blocking(r, True)
        data += _drain(r, 0)
        os.close(r)
        lines = data.split(b"\n")
        acked.update(x.decode() for x in lines[:-1])  # the last piece may be half a line
    assert early_exits == 0
    assert len(acked) >= 24, "the writers hardly wrote anything: the test proves nothing"

    con = sqlite3.connect(app_paths.database_file)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    visits = {row[0] for row in con.execute("SELECT visit_id FROM visits")}
    missing = acked - visits
    assert not missing, f"{len(missing)} acknowledged visits lost"
    per_visit = dict(con.execute(
        "SELECT visit_id, count(*) FROM outbox WHERE kind='visit' GROUP BY visit_id"))
    assert set(per_visit) == visits and set(per_visit.values()) == {1}
    orphans = con.execute("SELECT count(*) FROM outbox WHERE visit_id NOT IN "
                          "(SELECT visit_id FROM visits)").fetchone()[0]
    assert orphans == 0
    assert con.execute("SELECT count(*) FROM alerts WHERE visit_id NOT IN "
                       "(SELECT visit_id FROM visits)").fetchone()[0] == 0
    con.close()

    store = Store.open(app_paths)
    try:
        report = store.audit.verify()
        assert report.ok, report.problems
        assert report.checked == len(visits)  # one decision entry per visit, none torn
        pending = store.outbox.pending(100_000)
        assert sum(i.kind == "visit" for i in pending) == len(visits)
        # A case with photos and its photos item for the security office: one transaction too.
        assert sum(i.kind == "alert_photos" for i in pending) == len(store.alerts.cases(True))
    finally:
        store.close()
