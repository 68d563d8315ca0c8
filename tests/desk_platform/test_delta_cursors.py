"""Delta cursors never pass a change a desk was not sent, whatever commits while a page is read.

A delta page reads its rows and the counter's head in two statements. Under PostgreSQL's READ
COMMITTED each statement sees what was committed when it began, so a writer committing between
them used to leave its row out of the page while the cursor moved to the head past it: the desk
never got that ban, booking, revocation, alert or account. Here a real writer, in a thread of
its own, commits exactly between the page's first and second statement (an engine event hook
waits for it), for each of the five deltas, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from desk_app.identity.testing import make_id_number
from desk_platform import office
from desk_platform.base import Principal
from desk_platform.staff import Staff
from sync import protocol as P

from .conftest import Server

pytestmark = pytest.mark.xdist_group("platform")

H = "H001"
_n = itertools.count(1)
Page = tuple[set[str], int, bool]  # (ids in the page, next cursor, more)


@dataclass
class Case:
    read: Callable[[int], Page]
    write: Callable[[], str]  # commits one change; returns its id as the page names it


def _booking(plat: Any) -> str:
    n = next(_n)
    start = datetime(2034, 2, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * n) \
        + timedelta(days=uuid.uuid4().int % 3000)
    return plat.bookings.book(P.BookingRequest(
        hospital_id=H, department_code="CUR", department_name="游标", doctor_name="并发",
        slot_start=start, id_number=make_id_number(birth=date(1980, 1, 1), seq=n % 1000),
        account_id="acct-cursor")).booking.booking_id


def _alert(plat: Any) -> str:
    detail = f"cursor race {uuid.uuid4().hex}"
    with plat.db.write() as conn:
        plat.alerts.add(conn, H, [dict(kind=P.AlertKind.SUSPECT_REPORT.value, booking_id=None,
                                       visit_ids=[], desk_ids=["desk-01"], detail=detail)],
                        plat.now())
    return detail


def make_case(kind: str, plat: Any) -> Case:
    desk = Principal(P.Role.DESK, "desk-01", H, "desk-01", "-")
    if kind == "blacklist":
        def read(c: int) -> Page:
            d = plat.blacklist.delta(c, 50)
            return {e.entry_id for e in d.entries}, d.version, d.more
        return Case(read, lambda: plat.blacklist.add(
            make_id_number(birth=date(1970, 1, 1) + timedelta(days=uuid.uuid4().int % 9000),
                           seq=next(_n) % 1000),
            source=P.BlacklistSource.POLICE, reason="cursor race", created_by="test").entry_id)
    if kind == "bookings":
        def read(c: int) -> Page:
            d = plat.bookings.delta(H, c, 50)
            return {b.booking_id for b in d.bookings}, d.cursor, d.more
        return Case(read, lambda: _booking(plat))
    if kind == "revocations":
        def read(c: int) -> Page:
            d = plat.keys.revocations_delta(desk, c, 50)
            return {r.item_id for r in d.items}, d.version, d.more
        booked: list[str] = []

        def cancel() -> str:
            plat.bookings.cancel(booked[0])
            return booked[0]
        booked.append(_booking(plat))  # booked before the race; cancelled in it
        return Case(read, cancel)
    if kind == "alerts":
        def read(c: int) -> Page:
            d = office.alerts_delta(plat, H, c, 50)
            return {a.detail for a in d.alerts}, d.cursor, d.more
        return Case(read, lambda: _alert(plat))
    staff = Staff(plat.db)

    def read_staff(c: int) -> Page:
        d = staff.delta(H, c, 50)
        return {m.username for m, _ in d.members}, d.version, d.more
    return Case(read_staff, lambda: staff.add(f"cursor{uuid.uuid4().hex[:10]}", "游标", "clerk",
                                             "long-enough-pw", hospital_id=H).username)


def catch_up(read: Callable[[int], Page], cursor: int) -> tuple[set[str], int]:
    seen: set[str] = set()
    while True:
        ids, cursor, more = read(cursor)
        seen |= ids
        if not more:
            return seen, cursor


@pytest.mark.parametrize("kind", ["blacklist", "bookings", "revocations", "alerts", "staff"])
def test_a_change_committed_between_the_two_reads_of_a_page_is_sent_next(server: Server,
                                                                         kind: str):
    plat = server.platform()
    case = make_case(kind, plat)
    _, cursor = catch_up(case.read, 0)
    reader = threading.get_ident()
    written: list[str] = []

    def between(conn: Any, cursor_: Any, statement: str, *args: Any) -> None:
        # After the page's first SELECT, before its second: another thread commits a change.
        if (threading.get_ident() != reader or written
                or not statement.lstrip().upper().startswith("SELECT")):
            return
        writer = threading.Thread(target=lambda: written.append(case.write()))
        writer.start()
        writer.join(30)
        assert written, "the writer did not commit"

    event.listen(plat.db.engine, "after_cursor_execute", between)
    try:
        first, cursor, _ = case.read(cursor)
    finally:
        event.remove(plat.db.engine, "after_cursor_execute", between)
    assert written, "the page ran no SELECT"
    rest, _ = catch_up(case.read, cursor)
    assert written[0] in first | rest, f"{kind}: the change committed mid-page was never sent"


@pytest.mark.parametrize("kind", ["blacklist", "bookings", "revocations", "alerts", "staff"])
def test_a_cursor_ahead_of_the_head_comes_back_to_it(server: Server, kind: str):
    """Only a database restored from a backup leaves a desk ahead of the head: it is answered
    the head, not its own cursor, so the changes numbered next are not behind it."""
    case = make_case(kind, server.platform())
    _, head = catch_up(case.read, 0)
    ids, cursor, more = case.read(head + 1000)
    assert (ids, cursor, more) == (set(), head, False)


def test_the_restored_command_gives_desks_a_new_database_epoch(server: Server):
    def epoch() -> str:
        with server.client(server.desk_tokens["desk-03"]) as c:
            return P.DeskConfig.model_validate(c.get("/v1/desk/config").json()).epoch

    before = epoch()
    assert len(before) == 32 and epoch() == before  # made once, then kept
    out = server.cli("restored").stdout
    assert "every desk pulls every delta from the start" in out and before not in out
    after = epoch()
    assert after != before and epoch() == after
