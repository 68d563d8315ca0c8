"""The console under test: the real platform process on loopback (SQLite and PostgreSQL), a
real headless Chromium driven by Playwright (the system's ``/usr/bin/chromium``; nothing
downloads a browser), and a real desk (store, sync worker, check-in service) synced with the
platform.

Screenshots go to a temporary folder, or to docs/screenshots/ with ``CONSOLE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from desk_app.clock import SystemClock
from desk_app.services.checkin import CheckinService
from desk_app.services.session import SessionService
from desk_app.settings import PlatformSection, Settings, SyncSection, update_settings
from desk_app.storage import Crypto, Store
from desk_platform import platform_calls as ops
from desk_platform.testing import prepare_platform
from sync.client import DeskApi
from sync.protocol import BookingRequest
from sync.tokens import TokenStore
from sync.worker import SyncWorker

from ..conftest import BACKENDS, ROOT, new_key_file, start_server, stop_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
HOSPITAL = "H001"
PASSWORDS = {"police1": "police-pass-1", "commission1": "commission-pass-1",
             "platform1": "platform-pass-1", "admin1": "admin-pass-1", "clerk9": "clerk-pass-9"}


@dataclass
class Console:
    backend: str
    db_url: str
    key_file: Path
    base_url: str
    platform: Any  # desk_platform.service.Platform, in this process, same database


@pytest.fixture(scope="module", params=BACKENDS)
def console(request: pytest.FixtureRequest, make_db, tmp_path_factory) -> Iterator[Console]:
    from desk_platform.staff import Staff

    work = tmp_path_factory.mktemp(f"console-{request.param}")
    db_url = make_db(request.param)
    key_file = new_key_file(work)
    plat = prepare_platform(db_url, key_file)
    staff = Staff(plat.db)
    staff.add("police1", "王警官", "police", PASSWORDS["police1"])
    staff.add("commission1", "卫健委李科长", "commission", PASSWORDS["commission1"])
    staff.add("platform1", "平台运营张工", "platform", PASSWORDS["platform1"])
    staff.add("admin1", "信息科", "admin", PASSWORDS["admin1"], hospital_id=HOSPITAL)
    staff.add("clerk9", "挂号员九", "clerk", PASSWORDS["clerk9"], hospital_id=HOSPITAL)
    proc, base = start_server(db_url, key_file, work / "server.log", "--no-init",
                              "--rate-token", "0", "--rate-address", "0")
    try:
        yield Console(request.param, db_url, key_file, base, plat)
    finally:
        stop_server(proc)
        plat.db.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; scripts/bootstrap.sh "
                    "installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    if os.environ.get("CONSOLE_SCREENSHOTS"):
        out = ROOT / "docs" / "screenshots"
        out.mkdir(parents=True, exist_ok=True)
        return out
    return tmp_path


def new_page(browser: Any, console: Console, lang: str = "zh"):  # noqa: ANN201
    ctx = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(15000)
    if lang == "en":
        page.goto(f"{console.base_url}/console/lang?to=en&next=/console/login")
    return page


def sign_in(page: Any, console: Console, username: str, *, next_: str = "/console/") -> None:
    """With the keyboard only: the name field has the focus, Tab to the password, Enter."""
    page.goto(f"{console.base_url}/console/login?next={quote(next_, safe='/')}")
    page.focus("#username")  # (autofocus has it once the page is shown; a fast test is earlier)
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORDS[username])
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.startswith(console.base_url + next_))


def press_access_key(page: Any, key: str) -> None:
    """Alt+``key`` as a keyboard sends it, through Chromium's input pipeline (the DevTools
    protocol's key events, what a physical key becomes). Playwright's ``press("Alt+r")`` sends a
    key-down without the key's text, and Blink looks an access key up by that text, so it never
    fires one; this key-down carries it. Alt alone is the access-key modifier on Linux."""
    if len(key) != 1 or not key.isascii() or not key.isalpha():
        raise ValueError(f"access keys here are single letters, not {key!r}")
    cdp = page.context.new_cdp_session(page)
    try:
        base = {"modifiers": 1, "key": key, "code": f"Key{key.upper()}",
                "windowsVirtualKeyCode": ord(key.upper())}
        cdp.send("Input.dispatchKeyEvent", {**base, "type": "keyDown", "text": key,
                                             "unmodifiedText": key})
        cdp.send("Input.dispatchKeyEvent", {**base, "type": "keyUp"})
    finally:
        cdp.detach()


# --- a desk ---------------------------------------------------------------------------------------


@dataclass
class Desk:
    store: Store
    api: DeskApi
    worker: SyncWorker
    service: CheckinService
    session: SessionService

    def sync(self) -> None:
        self.worker.run_once()

    def check_in(self, token: str, id_number: str):  # noqa: ANN201  -> CheckinState
        """A patient shows the booking QR and types the ID number, and declines the face
        check (the clerk checks by eye): the verdict the desk gives."""
        s = self.service.new_patient()
        s = self.service.submit_code(s.session_id, token, "scanner")
        s = self.service.submit_id_number(s.session_id, id_number)
        s = self.service.decline_face(s.session_id)
        assert s.verdict is not None, s
        return s

    def close(self) -> None:
        self.worker.stop()
        self.api.close()
        self.store.close()


@pytest.fixture
def desk(console: Console, tmp_path) -> Iterator[Desk]:
    desk_id = f"desk-{uuid.uuid4().hex[:6]}"
    data = tmp_path / desk_id
    data.mkdir()
    clock = SystemClock()
    store = Store.open(url=f"sqlite:///{data}/desk.sqlite3", crypto=Crypto.generate(), clock=clock)
    api = DeskApi(PlatformSection(url=console.base_url, timeout_s=10),
                  TokenStore(data, desk_id, use_keyring=False))
    api.tokens.set(ops.enroll_desk(console.platform, HOSPITAL, desk_id))
    worker = SyncWorker(store, api, SyncSection(interval_s=60), clock=clock)
    store.users.create("clerk1", "挂号员一", "clerk", "clerk-pass-1")
    session = SessionService(store.users, store.audit, clock)
    session.login("clerk1", "clerk-pass-1")
    settings = update_settings(Settings(), {"desk": {"desk_id": desk_id,
                                                   "hospital_id": HOSPITAL}})
    service = CheckinService(store, session, lambda: settings, clock)
    d = Desk(store, api, worker, service, session)
    try:
        yield d
    finally:
        d.close()


def book(console: Console, id_number: str, *, minutes_ahead: int = 20, account: str = "acct-1",
         **extra: Any) -> str:
    """A booking at H001 a little later today; its QR token."""
    start = (datetime.now(UTC) + timedelta(minutes=minutes_ahead)).replace(second=0,
                                                                          microsecond=0)
    issued = ops.book(console.platform, BookingRequest(
        hospital_id=HOSPITAL, department_code="CARD", department_name="心内科",
        doctor_name=f"李医生{uuid.uuid4().hex[:4]}", slot_start=start, slot_minutes=15,
        id_number=id_number, account_id=account, **extra))
    return issued.token


