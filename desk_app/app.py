"""The composition root: builds paths, logging, settings, storage, services, sync, devices and
the main window, in that order, and passes each in through constructors. Nothing else in the
house looks anything up from globals. Only this module and ``desk_app.cli`` import every layer.

* :func:`build_core` — paths, logging, settings (no Qt, no database).
* :func:`build_desk` — the store, the services and the sync worker (no Qt): usable by the GUI,
  the demo, the CLI and tests.
* :func:`build_devices` — cameras, the QR decoder worker, the ID-card reader (QtCore only).
* :func:`build_window` — the screens, wired to the services and the devices.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from desk_app import __version__
from desk_app.clock import CHINA_TZ, Clock, SystemClock
from desk_app.errors import DeskError
from desk_app.logs import MASKER, setup_logging
from desk_app.paths import AppPaths
from desk_app.settings import Settings, load_settings, save_settings

log = logging.getLogger(__name__)


@dataclass
class Core:
    """What the desk is made of before any database or Qt."""

    paths: AppPaths
    settings: Settings
    problems: list[DeskError] = field(default_factory=list)


def build_core(data_dir: str | os.PathLike[str] | None, *, console_log: bool = False) -> Core:
    paths = AppPaths.resolve(data_dir).ensure()
    setup_logging(paths.log_dir, console=console_log)
    loaded = load_settings(paths.settings_file, paths.site_config)
    log.info("desk-app %s starting; data in %s", __version__, paths.data_dir)
    return Core(paths=paths, settings=loaded.settings, problems=list(loaded.problems))


class SettingsHolder:
    """The settings in force; the settings screen replaces them with a validated copy."""

    def __init__(self, core: Core, on_saved: Callable[[Settings, Settings], None] | None = None):
        self._core = core
        self._lock = threading.Lock()
        self.on_saved = on_saved
        self.on_saved_listeners: list[Callable[[Settings, Settings], None]] = []

    def get(self) -> Settings:
        with self._lock:
            return self._core.settings

    def save(self, new: Settings) -> None:
        save_settings(new, self._core.paths.settings_file, self._core.paths.site_config)
        with self._lock:
            old, self._core.settings = self._core.settings, new
        if self.on_saved is not None:
            self.on_saved(old, new)
        for listener in self.on_saved_listeners:
            listener(old, new)


@dataclass
class Desk:
    """The store, the services and the sync worker of one desk."""

    core: Core
    settings: SettingsHolder
    clock: Clock
    store: Any
    session: Any
    checkin: Any
    security: Any
    reports: Any
    sync: Any
    face_model: Any
    #: what went wrong at start without stopping the desk (shown to the clerk once)
    problems: list[DeskError] = field(default_factory=list)
    #: the window's actions on the person at the counter: appeal, unfreeze (sync.appeals)
    window: Any = None
    #: online backups and retention purges (desk_app.storage.retention.Periodic), while running
    maintenance: list[Any] = field(default_factory=list)
    #: the push of the hospital's alerts (sync.office.AlertPush), started with the sync worker
    push: Any = None

    def start(self) -> None:
        # The face models (~3 s to load) are loaded now, before any window shows: dlib holds the
        # GIL while it loads, which would freeze the GUI thread for that long mid check-in. The
        # descriptors are computed in child processes (see desk_app.faces.remote).
        from desk_app.faces.engine import FaceModelUnavailable
        from desk_app.identity import regions
        from desk_app.storage.recovery import backup_online
        from desk_app.storage.retention import Periodic, run_retention

        if self.store.recovery is not None:  # the database was damaged and recovered at open
            self.problems.append(self.store.recovery.as_problem())
        paths = self.core.paths
        self.maintenance = [
            Periodic("desk-backup", lambda: backup_online(
                paths.database_file, paths.backup_dir, self.settings.get().desk.backups_kept),
                lambda: 60.0 * self.settings.get().desk.backup_every_min,
                errors=(OSError, sqlite3.Error)),
            # every purge at start and daily (PIPL retention: desk_app/storage/retention.py)
            Periodic("desk-retention", lambda: run_retention(self.store,
                                                             self.settings.get().privacy),
                     lambda: 24 * 3600.0, at_start=True, errors=(DeskError,)),
            # insiders: each person's weekly figures to the platform (services/insiders.py)
            Periodic("desk-insiders", self._queue_insiders, lambda: 6 * 3600.0, at_start=True,
                     errors=(DeskError,)),
        ]
        for task in self.maintenance:
            task.start()
        regions.preload()  # the first card's number is not slowed by reading it
        try:
            self.face_model.load()
        except FaceModelUnavailable as exc:  # damaged or missing files: faces compared by hand
            log.error("face model unavailable at start (%s)", exc.detail)
            self.problems.append(exc)
        self.face_model.start()
        self.sync.start()
        if self.push is not None:
            self.push.start()

    def _queue_insiders(self) -> None:
        from desk_app.services.insiders import queue_weeks

        d = self.settings.get().desk
        if queue_weeks(self.store, d.hospital_id, d.desk_id,
                       self.clock.now().astimezone(CHINA_TZ).date()):
            self.sync.notify_outbox()

    def close(self) -> None:
        for task in self.maintenance:
            task.stop()
        if self.push is not None:
            self.push.stop()
        self.sync.stop()
        self.sync.api.close()
        self.face_model.close()
        self.store.close()


def build_desk(core: Core, *, clock: Clock | None = None) -> Desk:
    from desk_app.faces.remote import ProcessFaceModel
    from desk_app.services.checkin import CheckinService
    from desk_app.services.reports import ReportsService
    from desk_app.services.security import SecurityService
    from desk_app.services.session import SessionService
    from desk_app.storage import Store
    from sync.appeals import WindowService
    from sync.office import AlertPush, fetch_photos
    from sync.worker import SyncState, build_worker

    clock = clock or SystemClock()
    holder = SettingsHolder(core)
    s = holder.get()
    store = Store.open(core.paths, clock=clock)
    session = SessionService(store.users, store.audit, clock, holder.get)
    sync = build_worker(store, s, core.paths.data_dir, clock=clock)
    # A person disabled (or given another role) on the platform is signed out after the sync.
    sync.staff.add_listener(session.sign_out_if)
    face_model = ProcessFaceModel()
    checkin = CheckinService(
        store, session, holder.get, clock, masker=MASKER, on_recorded=sync.notify_outbox,
        offline=lambda: sync.status().state != SyncState.ONLINE.value, face_model=face_model)
    security = SecurityService(
        store, session, holder.get, on_outbox=sync.notify_outbox,
        remote_photos=lambda hid, aid, who, role: fetch_photos(sync.api, hid, aid, who, role))
    sync.office.share_photos = lambda: holder.get().privacy.share_alert_photos
    reports = ReportsService(store.visits, store.audit, session)
    window = WindowService(store, session, lambda: sync.api, checkin.checked_number,
                           on_outbox=sync.notify_outbox)

    def saved(old: Settings, new: Settings) -> None:
        who = session.current_user()
        changed = sorted(k for k in type(new).model_fields
                         if getattr(old, k) != getattr(new, k) and k != "schema_version")
        store.audit.record(who.username if who else "system", "settings.changed", "settings",
                    {"sections": changed})

    holder.on_saved = saved
    # The security office: new alerts of every window pushed by the platform (its own thread).
    push = AlertPush(sync.office, s.platform, sync.api.tokens, s.desk.hospital_id)
    sync.add_listener(lambda _status: push.set_paused(sync.paused))  # paused: no traffic
    return Desk(core, holder, clock, store, session, checkin, security, reports, sync, face_model,
                window=window, push=push)


# --- devices ------------------------------------------------------------------------------------


@dataclass
class Devices:
    """The desk's running devices; ``reader_listeners`` get the reader poller's every event."""

    cameras: Any
    qr_worker: Any
    feed: Any
    reader_poller: Any = None
    scene: Any = None  # the scene player when the patient camera is simulated
    reader: Any = None  # devices.idcard.factory.ReaderSetup (with its simulator for "sim")
    reader_listeners: list[Callable[[Any], None]] = field(default_factory=list)  # poller thread
    # A chip reader without the photo decoder: the counter camera reads the card as well, for
    # its portrait (the check-in service keeps the chip's number and takes only the photo).
    portrait_poller: Any = None

    @property
    def portrait_by_camera(self) -> bool:
        return self.portrait_poller is not None

    def start(self) -> None:
        self.cameras.start()
        self.qr_worker.start()
        for poller in (self.reader_poller, self.portrait_poller):
            if poller is not None:
                poller.start()

    def stop(self) -> None:
        for poller in (self.reader_poller, self.portrait_poller):
            if poller is not None:
                poller.stop()
        if self.reader is not None:
            self.reader.close()
        self.qr_worker.stop()
        self.cameras.stop()


def build_devices(settings: Settings, scene: Sequence[Any] | None = None,
                  on_card: Callable[[Any], None] | None = None,
                  on_card_seen: Callable[[Any], None] | None = None) -> Devices:
    """``on_card(IdCardRead)`` and, when the camera reads cards, ``on_card_seen(polygon)`` (a card
    found in a frame whose number is not read yet) are called on the reader's worker thread.

    Cards come from the desktop reader when a port is set, else from the counter camera
    (``id_by_camera``). A reader without the vendor's photo decoder gives the number but no
    portrait: the counter camera then reads the card too, and its portrait is compared."""
    from devices.camera.factory import DeskCameras
    from devices.qr.pipeline import CodeFeed, QrFrameWorker

    d = settings.devices
    cameras = DeskCameras.from_settings(d, scene)
    feed = CodeFeed()
    qr_worker = QrFrameWorker(cameras.counter, feed)
    player = getattr(cameras.patient, "source", None)
    poller = reader = portraits = None
    reader_listeners: list[Callable[[Any], None]] = []

    def camera_cards() -> Any:
        from devices.idcard.camera_reader import CameraIdCardSource
        from devices.idcard.poller import ReaderPoller

        def on_camera_card(event: Any) -> None:
            if event.kind == "card" and event.read is not None and on_card is not None:
                on_card(event.read)

        return ReaderPoller(CameraIdCardSource(cameras.counter, on_seen=on_card_seen),
                            on_camera_card, interval_s=0.5)

    if d.id_reader_port.strip():
        from devices.idcard.factory import make_reader
        from devices.idcard.poller import ReaderPoller

        reader = make_reader(d)  # a serial port, or "sim" (the reader simulator on a pty)

        def on_event(event: Any) -> None:
            if event.kind == "card" and event.read is not None and on_card is not None:
                on_card(event.read)
            for listener in reader_listeners:  # connected, disconnected, error, card, removed
                listener(event)

        poller = ReaderPoller(reader.reader, on_event)
        if reader.reader.portrait_decoder is None and d.id_by_camera:
            portraits = camera_cards()  # the portrait the chip's photo decoder would give
    elif d.id_by_camera:
        # No desktop reader: the counter camera finds the card and reads its number line.
        poller = camera_cards()
    return Devices(cameras=cameras, qr_worker=qr_worker, feed=feed, reader_poller=poller,
                   scene=player, reader=reader, portrait_poller=portraits,
                   reader_listeners=reader_listeners)


def card_sinks(window_holder: list[Window]) -> dict[str, Callable[[Any], None]]:
    """``build_devices``' card callbacks into the check-in screen of the window that
    ``window_holder`` holds once it is built (both are thread-safe; cards pass its gate)."""
    return {"on_card": lambda card: window_holder[0].gate.post_card(card),
            "on_card_seen": lambda polygon: window_holder[0].checkin.post_card_seen(polygon)}


# --- the window ----------------------------------------------------------------------------------


def _qt_app(offscreen: bool):
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") \
            and sys.platform.startswith("linux") and "QT_QPA_PLATFORM" not in os.environ:
        print("desk-app: no display found; running offscreen (use Xvfb for a real window)",
              file=sys.stderr)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("desk-app")
    app.setApplicationVersion(__version__)
    return app


@dataclass
class Window:
    """The main window and the Qt objects it owns (kept alive together)."""

    main: Any
    checkin: Any
    security: Any
    translations: Any
    hook: Any
    runner: Any
    adapters: list[Any] = field(default_factory=list)
    started: list[Any] = field(default_factory=list)  # screens with start()/shutdown()
    gate: Any = None  # ui.shell.login.PatientGate: no patient input while nobody is signed in

    def close(self) -> None:
        for screen in self.started:
            screen.shutdown()
        for close in filter(None, (getattr(a, "close", None) for a in self.adapters)):
            close()
        self.runner.shutdown()
        self.hook.uninstall()


def build_window(desk: Desk, devices: Devices | None, app: Any) -> Window:
    """The main window with every screen, wired to the services and devices."""
    from desk_app.errors import Text
    from desk_app.services.model import DeviceStatusView
    from desk_app.settings import setting_sources
    from devices.selftest import test_device
    from sync.qt import OfficeAlertsSignal
    from ui.about.screen import AboutScreen
    from ui.admin.audit_screen import AuditScreen
    from ui.admin.settings_screen import SettingsScreen
    from ui.checkin.scanner import ScannerFilter
    from ui.checkin.screen import CheckinScreen
    from ui.errors import ExceptionHook, show_error
    from ui.i18n import Translations
    from ui.operations import Operations
    from ui.security.screen import SecurityScreen
    from ui.shell.login import PatientGate
    from ui.shell.main_window import MainWindow
    from ui.shell.status import SyncStatusWidget
    from ui.sounds import SoundCues
    from ui.stats.screen import StatsScreen

    s = desk.settings.get()
    lang = s.desk.language
    translations = Translations(app)
    translations.set_language(lang)
    hook = ExceptionHook(lang, parent=app).install()
    window = MainWindow()
    runner = Operations(window, parent=window)
    sounds = SoundCues(s.ui.sounds, parent=window)
    scanner = ScannerFilter(s.devices.scanner_max_interkey_ms, enabled=s.devices.scanner_enabled,
                            parent=window)
    cameras = 1 if devices is None or devices.cameras.single else 2
    checkin = CheckinScreen(desk.checkin, s, lang, runner=runner, sounds=sounds, cameras=cameras,
                            scanner=scanner, window_ops=desk.window)
    security = SecurityScreen(desk.security, s, lang, runner=runner, sounds=sounds)
    security.open_alerts_changed.connect(checkin.set_alert_count)
    office_signal = OfficeAlertsSignal(desk.sync.office, parent=window)  # live, GUI thread
    office_signal.changed.connect(lambda _applied: security.refresh())
    stats = StatsScreen(desk.reports, s, lang, runner=runner)
    audit = AuditScreen(desk.reports, s, lang, runner=runner)
    paths = desk.core.paths
    settings_screen = SettingsScreen(
        s, lang, save=desk.settings.save, sync_ops=desk.sync, runner=runner,
        sources=lambda: setting_sources(paths.settings_file, paths.site_config),
        device_test=lambda key, value: test_device(key, value, desk.settings.get().devices))
    settings_screen.language_changed.connect(translations.set_language)
    settings_screen.saved.connect(checkin.apply_settings)
    for screen in (checkin, security, stats, audit, settings_screen,
                   AboutScreen(__version__, str(desk.core.paths.data_dir))):
        window.add_screen(screen)
    status = SyncStatusWidget(desk.sync, s, lang, runner=runner)
    window.statusBar().addWidget(status, 1)
    hook.parent_widget = window
    for problem in desk.core.problems:
        show_error(window, problem, lang)
    gate = PatientGate(window, checkin.post_card)
    w = Window(window, checkin, security, translations, hook, runner,
               started=[checkin, security, status], gate=gate)
    if devices is not None:
        desk.checkin.expect_camera_portrait(devices.portrait_by_camera)
        from devices.camera.qt import CameraSignals
        from devices.qr.pipeline import CodeRead
        from devices.qr.qt import CodeSignals

        names = ["patient_camera", "counter_camera"][:1 if devices.cameras.single else 2]

        def camera_state(i: int, state: str, err: object) -> None:
            message = err.text if isinstance(err, DeskError) else Text("", "")
            checkin.set_camera_state(i, state, message(lang))
            status.set_device(DeviceStatusView(names[i], state, message))

        for index, cam in enumerate(devices.cameras.all()):
            sig = CameraSignals(cam, parent=window)
            sig.frame_ready.connect(lambda f, i=index: gate.open() and checkin.on_camera_frame(i, f))
            sig.state_changed.connect(lambda state, err, i=index: camera_state(i, state, err))
            w.adapters.append(sig)
        if devices.reader is not None:  # the desktop reader: its state, a hint while it fails
            from devices.idcard.qt import ReaderSignals
            from ui.shell.reader_hint import ReaderHint

            reader = ReaderSignals(window)  # the poller's events, queued to the GUI thread
            ReaderHint.attach(reader, status, checkin)
            devices.reader_listeners.append(reader)
        else:  # no reader: the counter camera reads cards (never "working": nothing to detect)
            status.set_device(DeviceStatusView("id_reader", "camera" if devices.reader_poller
                                               is not None else "absent", Text("", "")))
        status.set_device(DeviceStatusView(  # a keyboard-wedge scanner cannot be detected
            "scanner", "enabled" if s.devices.scanner_enabled else "stopped", Text("", "")))
        codes = CodeSignals(parent=window)  # decoded on the QR worker, delivered on the GUI thread
        devices.feed.connect(codes.sink)

        def code_read(read: Any) -> None:
            if gate.open():  # behind the login (nobody signed in) a code is dropped
                checkin.post_code(read.text, read.source)
                if read.polygon:
                    checkin.show_code_outline(read.polygon)

        codes.code_read.connect(code_read)
        scanner.scanned.connect(lambda text: devices.feed.submit(
            CodeRead(text, "scanner", "scanner", time.monotonic())))
        checkin.presenter.state_changed.connect(
            lambda state: devices.feed.debouncer.reset() if state is None else None)
    for screen in w.started:
        screen.start()
    return w


def wire_login(w: Window, desk: Desk, *, office: bool = False) -> Any:
    """Login at start, screens by role, and the idle lock (logout, then log in again).
    ``office``: the security office window (``run --security-office``): only the security
    screen, only for security staff and administrators."""
    from ui.shell.login import (
        OFFICE_ROLES,
        IdleLock,
        LoginDialog,
        SettingsRelay,
        SignedOutRelay,
        screens_for,
    )

    s = desk.settings.get()
    login = LoginDialog(desk.session, s, s.desk.language, runner=w.runner, parent=w.main)
    lock = IdleLock(s.ui.lock_after_idle_min * 60_000, parent=w.main).install()
    w.main.set_locked(True)

    def logged_in(user: Any) -> None:
        if office and user.role not in OFFICE_ROLES:
            w.runner.run(desk.session.logout)
            login.user = None
            login.refuse_role()
            return
        w.main.set_role_screens(screens_for(user.role, office=office))
        w.main.set_user(user)
        w.main.set_locked(False)

    def hide_all() -> None:  # nobody signed in: no screen shows anything, no photo stays loaded
        w.main.set_locked(True)
        w.main.set_user(None)
        w.security.forget_photos()
        w.checkin.trigger("reset")  # as Esc: the last patient's case and dialogs are gone

    def locked() -> None:
        hide_all()
        w.runner.run(desk.session.logout)
        login.open_locked()

    def signed_out() -> None:  # a colleague takes over the desk: a fresh login, no name kept
        hide_all()
        w.runner.run(desk.session.logout)
        login.user = None
        login.open_fresh()

    def account_ended(_user: Any) -> None:  # disabled on the platform (already signed out)
        hide_all()
        login.user = None
        login.open_fresh(account_ended=True)

    relay = SignedOutRelay(w.main)
    relay.signed_out.connect(account_ended)
    desk.session.add_signed_out_listener(relay)
    login.logged_in.connect(logged_in)
    login.accepted.connect(w.main.focus_screen)  # the clerk's keys work without a mouse click
    lock.locked.connect(locked)
    w.main.sign_out_requested.connect(signed_out)
    # Settings are saved on a pool thread: the lock's timer is restarted on the GUI thread.
    settings_relay = SettingsRelay(w.main)
    settings_relay.saved.connect(lock.apply_settings)
    desk.settings.on_saved_listeners.append(settings_relay)
    login.open()
    return login, lock


# --- commands ------------------------------------------------------------------------------------


def run_main(args: argparse.Namespace) -> int:
    core = build_core(getattr(args, "data_dir", None))
    if getattr(args, "lang", None):
        core.settings.desk.language = args.lang
    app = _qt_app(getattr(args, "offscreen", False))
    office = bool(getattr(args, "security_office", False))
    desk = build_desk(core)
    devices = None
    try:
        window_holder: list[Window] = []
        if not office:  # the security office has no cameras or card reader
            devices = build_devices(core.settings, **card_sinks(window_holder))
        w = build_window(desk, devices, app)
        window_holder.append(w)
        if office:
            w.main.set_office_mode()
        desk.start()
        if devices is not None:
            devices.start()
        w.main.show()
        if desk.problems:
            from ui.errors import show_error

            for problem in desk.problems:
                show_error(w.main, problem, core.settings.desk.language)
        if not desk.store.users.all():
            print("desk-app: no user accounts yet; create one with "
                  "'desk-app users add NAME --role admin'", file=sys.stderr)
        _login = wire_login(w, desk, office=office)
        if getattr(args, "offscreen", False):
            app.processEvents()
            print(f"desk-app {__version__}: window built offscreen "
                  f"({w.main.tabs.count()} screens)")
            code = 0
        else:
            code = app.exec()
        w.close()
        return code
    finally:
        if devices is not None:
            devices.stop()
        desk.close()


def demo_main(args: argparse.Namespace) -> int:
    from ui.demo.desk import run_demo

    return run_demo(args, build_core=build_core, build_desk=build_desk,
                    build_devices=build_devices, build_window=build_window, qt_app=_qt_app)


def users_main(args: argparse.Namespace) -> int:
    """``desk-app users add|list|unlock``: local accounts (argon2 password hashes)."""
    import getpass

    from desk_app.storage import Store
    from desk_app.storage.audit import AuditAction

    core = build_core(getattr(args, "data_dir", None))
    store = Store.open(core.paths)
    try:
        if args.what == "unlock":
            store.audit.record("cli", AuditAction.LOGIN_UNLOCKED, args.username, {})
            print(f"user {args.username}: failed logins forgotten, the account is unlocked")
            return 0
        if args.what == "list":
            from desk_app.storage.staff_cache import StaffCache

            sources = StaffCache(store).sources()
            for u in store.users.all():
                src = sources[u.username].source if u.username in sources else "local"
                print(f"{u.username:16} {u.role:9} {'active' if u.active else 'disabled':8} "
                      f"{src:8} {u.display_name}")
            return 0
        password = os.environ.get("DESK_APP_NEW_PASSWORD") or getpass.getpass(
            f"password for {args.username}: ")
        store.users.create(args.username, args.display_name or args.username, args.role, password,
                          actor="cli")
        print(f"user {args.username} ({args.role}) created")
        return 0
    finally:
        store.close()
