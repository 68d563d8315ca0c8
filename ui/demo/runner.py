"""``desk-app demo``: the real desk application on simulated devices playing scripted patients.

The platform runs on loopback (:mod:`ui.demo.environment`); the desk is enrolled with it and
synced; its patient camera is the scene player. For each scenario the director plays a script
— the patient walks up, shows the QR on a phone, puts the card down, looks at the camera — and
waits for the verdict the check-in screen shows. Everything in between is the real thing: the
QR is decoded from the camera frames, the card read reaches the service through the screen's
inbox as the desktop reader's would, and the face is compared on the camera frames.

With ``--offscreen`` the scenarios run without a display and a last-line JSON summary is printed;
with a display a control panel lets the viewer choose the next scenario.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import cv2
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.model import Role, UserView
from devices.camera.scene import SceneStep, card, face, phone, screen
from devices.idcard.synthetic import CardPerson, render_card
from devices.idcard.types import IdCardRead
from ui.demo.environment import DESK, HOSPITAL, DemoEnvironment, DemoPatient
from ui.demo.scenarios import BY_NAME, OFFLINE_PATIENTS, SCENARIOS, Scenario, forge

log = logging.getLogger(__name__)

PLAY_TIMEOUT_MS = 150_000
EMPTY_DESK_S = 0.5  # the first step of every demo script
DEMO_USERS = (("clerk", "挂号员 (演示)", "clerk", "demo-clerk-1"),
              ("guard", "保卫科 (演示)", "security", "demo-guard-1"),
              ("admin", "信息科 (演示)", "admin", "demo-admin-1"))


HOLD_S = 120.0  # a stage lasts until the desk has read what it shows (or the play times out)


def demo_stages(live: Any, card_image: Any, qr: str | None, *, holder: Any = None
                ) -> list[list[SceneStep]]:
    """A visit in stages: (walks up, shows the QR), (puts the card down), (looks at the camera).
    Each stage's last step holds until the director sees the desk read it, so a slow machine
    only makes the demo slower, never wrong. With ``holder``, ``live`` is a photo on a phone
    that the holder (who walks up and shows the QR) holds up to the camera at the last stage."""
    shown = live
    if holder is not None:
        live = holder
    who = () if live is None else (face(live, at=(0.22, 0.42), size=0.42),)
    first = [SceneStep("empty desk", EMPTY_DESK_S, (), noise=2.0)]
    if live is not None:
        first.append(SceneStep("patient walks up", 1.0, (face(live, at=(0.6, 0.45), to=(0.25, 0.42),
                                                                size=0.2, size_to=0.42),),
                               blur=1.0, noise=3.0))
    stages = [first]
    if qr is not None:
        first.append(SceneStep("shows QR", HOLD_S, (*who, phone(qr, at=(0.6, 0.55), to=(0.58, 0.52),
                                                                size=0.85, angle=-4, angle_to=2)),
                               blur=0.4, noise=2.0))
    if card_image is not None:
        stages.append([SceneStep("puts card down", HOLD_S, (*who, card(
            card_image, at=(0.55, 0.66), to=(0.55, 0.62), size=0.4)), noise=2.0)])
    if holder is not None and shown is not None:
        # the phone covers the holder's face; a hand is never quite still
        stages.append([SceneStep("looks at camera", HOLD_S, (screen(
            shown, at=(0.48, 0.5), to=(0.52, 0.52), size=1.05, size_to=1.1, angle=-4,
            angle_to=3),), blur=0.5, noise=2.0)])
    elif live is not None:
        stages.append([SceneStep("looks at camera", HOLD_S, (face(
            live, at=(0.45, 0.47), to=(0.5, 0.5), size=0.8, size_to=0.95),), noise=2.0)])
    return stages


def _zoomed_on_face(bgr: Any) -> Any:
    """The photo cut to the face and a little around it (head and shoulders)."""
    from desk_app.faces.engine import shared_model

    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    boxes = shared_model().detect(rgb, 0 if max(rgb.shape[:2]) > 900 else 1)
    if not boxes:
        return bgr
    b = max(boxes, key=lambda x: x.width)
    cx, cy, half = (b.left + b.right) / 2, (b.top + b.bottom) / 2, 1.4 * b.width
    h, w = bgr.shape[:2]
    return bgr[int(max(0, cy - 1.3 * half)):int(min(h, cy + 1.6 * half)),
               int(max(0, cx - half)):int(min(w, cx + half))].copy()


@dataclass
class Play:
    """One patient at the window."""

    scenario: Scenario
    booking: DemoPatient
    card_of: DemoPatient | None
    card_photo: str | None
    live_photo: str | None
    qr: str | None
    verdict: Any = None
    visit_id: str | None = None


@dataclass
class Outcome:
    name: str
    expected: str
    verdict: str
    reasons: list[str]
    ms: int
    alert: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expected

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "expected": self.expected, "verdict": self.verdict,
                "reasons": self.reasons, "ms": self.ms, "alert": self.alert, **self.extra}


class DemoDirector(QObject):
    """Plays scenarios one after the other on the real window (GUI thread, timers only)."""

    outcome = Signal(object)  # Outcome, after each scenario
    finished = Signal(list)  # [Outcome]
    progress = Signal(str)

    def __init__(self, window: Any, devices: Any, desk: Any, env: DemoEnvironment,
                 photos: Path | None, *, pause_ms: int = 800, parent: QObject | None = None):
        super().__init__(parent)
        self.window = window
        self.devices = devices
        self.desk = desk
        self.env = env
        self.photos = photos
        self.pause_ms = pause_ms
        self.outcomes: list[Outcome] = []
        self._queue: list[Scenario] = []
        self._current: Play | None = None
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(self._play_timed_out)
        self._after_verdict: Callable[[Any], None] | None = None
        self._previous_session: str | None = None
        window.checkin.presenter.verdict_reached.connect(self._on_verdict)
        window.checkin.presenter.state_changed.connect(self._on_state)
        self._stages: list[list[SceneStep]] = []
        self._card: IdCardRead | None = None
        self._prepared: dict[tuple[Any, ...], tuple[list[list[SceneStep]], IdCardRead | None]] = {}
        self.busy = False

    # -- scenarios --------------------------------------------------------------------------
    def runnable(self, s: Scenario) -> bool:
        return self.photos is not None or not s.needs_photos

    def run(self, names: list[str]) -> None:
        self._queue = [BY_NAME[n] for n in names]
        self.busy = True
        self._next_scenario()

    def _next_scenario(self) -> None:
        if not self._queue:
            self.busy = False
            self.finished.emit(self.outcomes)
            return
        s = self._queue.pop(0)
        if not self.runnable(s):
            self.progress.emit(f"{s.name}: skipped (needs face photos: --photos DIR)")
            self._next_scenario()
            return
        self.progress.emit(f"{s.name}: {s.title.zh}")
        started = time.monotonic()
        if s.outage:
            self._outage(s, started)
        elif s.twice:
            first = self._play_for(s)
            self._play(first, lambda _v: self._play(self._play_for(s),
                                                    lambda v: self._done(s, v, started)))
        else:
            self._play(self._play_for(s), lambda v: self._done(s, v, started))

    def _play_for(self, s: Scenario, booking_key: str | None = None, card_key: str | None = None,
                  card_photo: str | None = None, live_photo: str | None = None) -> Play:
        p = self.env.patients
        booking = p[booking_key or s.booking_of]
        card_of = p.get(card_key or s.card_of) if (card_key or s.card_of) else None
        qr = booking.token
        if s.forge and qr:
            qr = forge(qr)
        return Play(s, booking, card_of, card_photo or s.card_photo, live_photo or s.live_photo, qr)

    def _done(self, s: Scenario, verdict: Any, started: float, **extra: Any) -> None:
        o = Outcome(s.name, s.expected, verdict.decision.value if verdict is not None else "none",
                    [r.code for r in verdict.reasons] if verdict is not None else ["timeout"],
                    round((time.monotonic() - started) * 1000),
                    alert=bool(verdict is not None and verdict.alert_security), extra=extra)
        self.outcomes.append(o)
        self.outcome.emit(o)
        QTimer.singleShot(self.pause_ms, self._next_scenario)

    # -- one patient -------------------------------------------------------------------------
    def _play(self, play: Play, then: Callable[[Any], None]) -> None:
        self.window.runner.run(self._prepare, play, on_success=lambda prepared: self._start(
            play, prepared, then), on_failure=lambda err: self._failed(play, err, then))

    def prewarm(self, names: list[str]) -> None:
        """Prepare every play's pictures now (the benchmark does, so that what it measures is
        the desk at work, not the demo drawing its props)."""
        for name in names:
            s = BY_NAME[name]
            if not self.runnable(s):
                continue
            plays = ([self._play_for(s, key, key, card, live) for key, card, live in OFFLINE_PATIENTS]
                     if s.outage else [self._play_for(s)])
            for play in plays:
                self._prepare(play)

    def _prepare(self, play: Play) -> tuple[list[list[SceneStep]], IdCardRead | None]:
        """Off the GUI thread: load the photos, render the card, cut the chip portrait (cached:
        a patient who comes twice shows the same card)."""
        key = (play.booking.key, play.card_of.key if play.card_of else None, play.card_photo,
               play.live_photo, play.qr)
        if key not in self._prepared:
            self._prepared[key] = self._prepare_uncached(play)
        return self._prepared[key]

    def _prepare_uncached(self, play: Play) -> tuple[list[list[SceneStep]], IdCardRead | None]:
        live = self._photo(play.live_photo) if play.live_photo else None
        card_read, card_image = None, None
        if play.card_of is not None:
            photo = self._photo(play.card_photo) if play.card_photo else None
            number = play.card_of.id_number
            person = CardPerson(name=play.card_of.name, sex="男" if int(number[16]) % 2 else "女",
                                ethnicity="汉", birth=date(int(number[6:10]), int(number[10:12]),
                                                           int(number[12:14])),
                                address="北京市东城区示范路1号", id_number=number,
                                issuer="北京市公安局东城分局", valid_from=date(2020, 1, 1),
                                valid_to=date(2040, 1, 1))
            card_image = render_card(person, photo)
            portrait = None
            if photo is not None:
                from desk_app.faces.degrade import idcard_portrait
                from desk_app.faces.engine import shared_model

                rgb = cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)
                portrait = cv2.cvtColor(idcard_portrait(rgb, shared_model()), cv2.COLOR_RGB2BGR)
            card_read = IdCardRead(id_number=number, name=play.card_of.name,
                                   sex=person.sex, birth=person.birth, valid_from=person.valid_from,
                                   valid_to=person.valid_to, portrait=portrait, source="reader")
        holder = None
        if play.scenario.on_phone and play.scenario.holder_photo and live is not None:
            holder = self._photo(play.scenario.holder_photo)
            live = _zoomed_on_face(live)  # as an attacker shows it: the face fills the screen
        return demo_stages(live, card_image, play.qr, holder=holder), card_read

    def _photo(self, name: str) -> Any:
        assert self.photos is not None
        img = cv2.imread(str(self.photos / name))
        if img is None:
            raise FileNotFoundError(self.photos / name)
        return img

    def _start(self, play: Play, prepared: tuple[list[list[SceneStep]], IdCardRead | None],
               then: Callable[[Any], None]) -> None:
        stages, card_read = prepared
        # The scene changes first; the new patient starts once the empty desk is on camera, so no
        # code still on the previous patient's phone can reach the new case.
        self.devices.scene.play(stages[0], loop=False)
        presenter = self.window.checkin.presenter
        previous = presenter.session_id
        self._stages = list(stages[1:])
        self._card = card_read

        def begin() -> None:
            self._current = play
            self._previous_session = previous
            self._after_verdict = then
            presenter.new_patient()
            self._timeout.start(PLAY_TIMEOUT_MS)
            if play.qr is None:
                self._next_stage()

        QTimer.singleShot(int(EMPTY_DESK_S * 1000), begin)

    def _on_state(self, state: Any) -> None:
        """Advance the scene when the desk has read what the current stage shows."""
        play = self._current
        if play is None or play.verdict is not None or state is None \
                or state.session_id == self._previous_session or not self._stages:
            return
        from desk_app.services.model import Step, StepStatus

        waiting = StepStatus.WAITING
        step_name = self._stages[0][0].name
        if step_name == "puts card down" and state.step(Step.BOOKING).status is not waiting:
            self._next_stage()
        elif step_name == "looks at camera" and (state.step(Step.ID).status is not waiting
                                                 or state.person is not None):
            self._next_stage()
        elif step_name == "looks at camera" and self._card is None \
                and state.step(Step.BOOKING).status is not waiting:
            self._next_stage()

    def _next_stage(self) -> None:
        play = self._current
        if play is None or not self._stages:
            return
        stage = self._stages.pop(0)
        self.devices.scene.play(stage, loop=False)
        if stage[0].name == "puts card down" and self._card is not None:
            card_read = self._card
            # the reader answers once the card lies on it
            QTimer.singleShot(600, lambda: self._put_card(play, card_read))

    def _put_card(self, play: Play, card_read: IdCardRead) -> None:
        if self._current is play and play.verdict is None:
            self.window.checkin.post_card(card_read)  # as the desktop reader delivers it

    def _on_verdict(self, verdict: Any) -> None:
        play = self._current
        state = self.window.checkin.presenter.state
        if play is None or play.verdict is not None or state is None \
                or state.session_id == self._previous_session:
            return  # a late answer about the previous patient
        play.verdict = verdict
        play.visit_id = state.visit_id if state is not None else None
        self._timeout.stop()
        then, self._after_verdict = self._after_verdict, None
        if then is not None:
            QTimer.singleShot(self.pause_ms, lambda: then(verdict))

    def _play_timed_out(self) -> None:
        play, self._current = self._current, None
        then, self._after_verdict = self._after_verdict, None
        log.error("demo: no verdict within %d s", PLAY_TIMEOUT_MS // 1000)
        if then is not None:
            then(None)
        del play

    def _failed(self, play: Play, err: BaseException, then: Callable[[Any], None]) -> None:
        log.error("demo: could not prepare %s: %s", play.scenario.name, err)
        then(None)

    # -- the outage --------------------------------------------------------------------------
    def _outage(self, s: Scenario, started: float) -> None:
        plays = [self._play_for(s, key, key, card, live) for key, card, live in OFFLINE_PATIENTS]

        def down() -> None:
            self.env.server.kill()
            self.desk.sync.sync_now()

        def play_all(i: int = 0, _v: Any = None) -> None:
            if i < len(plays):
                self._play(plays[i], lambda v: play_all(i + 1, v))
            else:
                self.window.runner.run(up_and_drain, on_success=finished,
                                       on_failure=lambda e: finished({"error": str(e)}))

        def up_and_drain() -> dict[str, Any]:
            offline_pending = self.desk.store.outbox_count()
            self.env.server.start()
            self.desk.sync.sync_now()
            deadline = time.monotonic() + 60
            while self.desk.store.outbox_count() and time.monotonic() < deadline:
                self.desk.sync.sync_now()
                time.sleep(0.2)
            ids = [p.visit_id for p in plays if p.visit_id]
            return {"queued_offline": offline_pending, "left_in_outbox": self.desk.store.outbox_count(),
                    "stored": self.env.stored_visit_ids(ids)}

        def finished(info: dict[str, Any]) -> None:
            verdicts = [p.verdict for p in plays]
            stored = info.get("stored", {})
            ok = (all(v is not None and v.decision.value == "admit" for v in verdicts)
                  and len(stored) == len(plays) and all(n == 1 for n in stored.values()))
            worst = next((v for v in verdicts if v is not None and v.decision.value != "admit"),
                         verdicts[-1])
            info["stored_once"] = ok
            info["verdicts"] = [v.decision.value if v is not None else "none" for v in verdicts]
            if not ok and worst is not None and worst.decision.value == "admit":
                worst = None  # admitted but not stored exactly once: not as expected
            self._done(s, worst, started, **info)

        self.window.runner.run(down, on_success=lambda _r: play_all(),
                               on_failure=lambda e: self._done(s, None, started, error=str(e)))


class DemoPanel(QWidget):
    """Choose the next scenario; watch what the desk concluded."""

    def __init__(self, director: DemoDirector, lang: str = "zh_CN",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("DemoPanel")
        self.director = director
        self.lang = lang
        self.list = QListWidget(self)
        for s in SCENARIOS:
            item = QListWidgetItem(f"{s.name} — {s.title(lang)}")
            item.setData(256, s.name)
            if not director.runnable(s):
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.play = QPushButton(self)
        self.play_all = QPushButton(self)
        self.log = QTextEdit(self)
        self.log.setReadOnly(True)
        self.heading = QLabel(self)
        lay = QVBoxLayout(self)
        for w in (self.heading, self.list, self.play, self.play_all, self.log):
            lay.addWidget(w)
        self.play.clicked.connect(self._play_selected)
        self.play_all.clicked.connect(
            lambda: self._run([s.name for s in SCENARIOS if director.runnable(s)]))
        director.progress.connect(self.log.append)
        director.outcome.connect(lambda o: self.log.append(
            f"  → {o.verdict} ({'✓' if o.as_expected else '✗ ' + o.expected}) "
            f"{', '.join(o.reasons)}  {o.ms} ms"))
        self.retranslate()

    def _play_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._run([item.data(256)])

    def _run(self, names: list[str]) -> None:
        if not self.director.busy:
            self.director.run(names)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Demo"))
        self.heading.setText(self.tr("Pick the next patient; the check-in screen shows what "
                                     "the desk concludes."))
        self.play.setText(self.tr("Play the selected scenario"))
        self.play_all.setText(self.tr("Play all scenarios"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def resolve_names(arg: str) -> list[str]:
    if arg in ("", "all"):
        return [s.name for s in SCENARIOS]
    names = [n.strip() for n in arg.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"desk-app demo: unknown scenario {', '.join(unknown)}; "
                         f"choose from {', '.join(BY_NAME)} or all")
    return names


def prepare_desk(desk: Any, env: DemoEnvironment) -> None:
    """Demo accounts, the clerk at the desk, enrollment and a first complete sync."""
    store = desk.store
    existing = {u.username for u in store.users()}
    for username, display, role, password in DEMO_USERS:
        if username not in existing:
            store.create_user(username, display, role, password, actor="demo")
    desk.session.act_as(UserView("clerk", "挂号员 (演示)", Role.CLERK))
    desk.sync.enroll(env.platform_url, env.enrollment_code)
    desk.sync.run_once()


@dataclass
class DemoDesk:
    """The desk application, wired as ``desk-app`` wires it, on the demo's platform."""

    env: DemoEnvironment
    desk: Any
    devices: Any
    window: Any
    director: DemoDirector

    @classmethod
    def start(cls, env: DemoEnvironment, data_dir: Path, photos: Path | None, *, offscreen: bool,
              lang: str | None, build_core: Callable[..., Any], build_desk: Callable[..., Any],
              build_devices: Callable[..., Any], build_window: Callable[..., Any],
              qt_app: Callable[..., Any]) -> DemoDesk:
        core = build_core(data_dir)
        s = core.settings
        s.desk.desk_id, s.desk.hospital_id = DESK, HOSPITAL
        s.platform.url = env.platform_url
        s.sync.interval_s = 2.0
        s.devices.patient_camera, s.devices.counter_camera = "sim", ""
        s.devices.id_reader_port = ""
        s.devices.id_by_camera = False  # the director puts each card "on the reader" itself
        if lang:
            s.desk.language = lang
        app = qt_app(offscreen)
        desk = build_desk(core)
        devices = window = None
        try:
            desk.settings.save(s)
            prepare_desk(desk, env)
            desk.start()
            devices = build_devices(s, scene=[SceneStep("empty desk", 5.0, (), noise=2.0)])
            window = build_window(desk, devices, app)
            devices.start()
        except BaseException:
            if window is not None:
                window.close()
            if devices is not None:
                devices.stop()
            desk.close()
            raise
        director = DemoDirector(window, devices, desk, env, photos,
                                pause_ms=200 if offscreen else 1500, parent=window.main)
        return cls(env, desk, devices, window, director)

    def close(self) -> None:
        self.window.close()
        self.devices.stop()
        self.desk.close()


def run_demo(args: argparse.Namespace, *, build_core: Callable[..., Any],
             build_desk: Callable[..., Any], build_devices: Callable[..., Any],
             build_window: Callable[..., Any], qt_app: Callable[..., Any]) -> int:
    names = resolve_names(getattr(args, "scenario", "all") or "all")
    photos = Path(args.photos).expanduser() if getattr(args, "photos", None) else None
    if photos is not None and not photos.is_dir():
        print(f"desk-app demo: photo folder {photos} not found; running the scenarios that need "
              "no face", file=sys.stderr)
        photos = None
    if photos is None:
        print("desk-app demo: the face scenarios need a folder of face photos (--photos DIR, "
              "e.g. ../shared/data/faces); only forged_qr and cancelled run without one",
              file=sys.stderr)
    offscreen = bool(getattr(args, "offscreen", False))
    env = DemoEnvironment.create()
    demo = None
    try:
        demo = DemoDesk.start(env, Path(getattr(args, "data_dir", None) or env.desk_dir), photos,
                              offscreen=offscreen, lang=getattr(args, "lang", None),
                              build_core=build_core, build_desk=build_desk,
                              build_devices=build_devices, build_window=build_window,
                              qt_app=qt_app)
        app = qt_app(offscreen)
        director, window = demo.director, demo.window
        director.progress.connect(lambda line: print(f"demo: {line}", file=sys.stderr, flush=True))
        if offscreen:
            director.finished.connect(lambda _o: app.quit())
            QTimer.singleShot(0, lambda: director.run(names))
            guard = QTimer(window.main)
            guard.setSingleShot(True)
            guard.timeout.connect(app.quit)
            guard.start(15 * 60 * 1000)
            window.main.show()
            app.exec()
            outcomes = director.outcomes
            for o in outcomes:
                mark = "ok" if o.as_expected else "NOT AS EXPECTED"
                print(f"{o.name:14} expected {o.expected:6} got {o.verdict:6} {mark}  "
                      f"({', '.join(o.reasons)})")
            if getattr(args, "json", False):
                print(json.dumps({"scenarios": [o.as_json() for o in outcomes]},
                                 ensure_ascii=False))
            ran = {o.name for o in outcomes}
            wanted = {n for n in names if director.runnable(BY_NAME[n])}
            return 0 if ran == wanted and all(o.as_expected for o in outcomes) else 1
        lang = demo.desk.settings.get().desk.language
        window.main.add_screen(DemoPanel(director, lang))
        window.main.tabs.setCurrentIndex(0)
        window.main.show()
        QTimer.singleShot(0, lambda: director.run([names[0]]) if len(names) == 1 else None)
        return app.exec()
    finally:
        if demo is not None:
            demo.close()
        env.close()


__all__ = ["DemoDesk", "DemoDirector", "DemoPanel", "Outcome", "run_demo"]
