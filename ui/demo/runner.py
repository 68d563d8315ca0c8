"""``desk-app demo``'s director: the real desk application on simulated devices playing scripted
patients (the desk is wired in :mod:`ui.demo.desk`, the 演示 tab is :mod:`ui.demo.panel`).

The platform runs on loopback (:mod:`ui.demo.environment`); the desk is enrolled with it and
synced; its patient camera is the scene player. For each scenario the director plays a script
— the patient walks up, shows the QR on a phone, puts the card down, looks at the camera — and
waits for the verdict the check-in screen shows. Everything in between is the real thing: the
QR is decoded from the camera frames, the card read reaches the service through the screen's
inbox as the desktop reader's would, and the face is compared on the camera frames.

With ``--offscreen`` the scenarios run without a display and a last-line JSON summary is printed.
With a display the demo plays by itself: every scenario once, one patient after another, with
a caption of what is happening (:mod:`ui.demo.caption`), then says it has ended; Esc or picking
a scenario in the 演示 tab stops it (:meth:`DemoDirector.stop`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import cv2
from PySide6.QtCore import QObject, QTimer, Signal

from devices.camera.scene import SceneStep, card, face, phone, screen
from devices.idcard.synthetic import CardPerson, render_card
from devices.idcard.types import IdCardRead
from ui.demo.caption import Caption
from ui.demo.environment import DemoEnvironment, DemoPatient
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
    face: Any = None  # the FaceView the desk showed with its verdict
    card_checked: bool = False  # the clerk pressed F9 (card read by the camera, checked)


@dataclass
class Outcome:
    name: str
    expected: str
    verdict: str
    reasons: list[str]
    ms: int
    alert: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    face_outcome: str | None = None  # match | undecided | mismatch ... (the last patient's face)
    face_distance: float | None = None

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expected

    def as_json(self) -> dict[str, Any]:
        face = ({} if self.face_outcome is None else
                {"face": self.face_outcome, "face_distance": self.face_distance})
        return {"name": self.name, "expected": self.expected, "verdict": self.verdict,
                "reasons": self.reasons, "ms": self.ms, "alert": self.alert, **face,
                **self.extra}


class DemoDirector(QObject):
    """Plays scenarios one after the other on the real window (GUI thread, timers only)."""

    outcome = Signal(object)  # Outcome, after each scenario
    finished = Signal(list)  # [Outcome]
    progress = Signal(str)
    caption = Signal(object)  # ui.demo.caption.Caption: what is happening now

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
        self._card: tuple[IdCardRead, ...] = ()
        self._prepared: dict[tuple[Any, ...], tuple[list[list[SceneStep]], tuple[IdCardRead, ...]]] = {}
        self.busy = False
        self.autoplaying = False  # playing by itself until the end, Esc or the user's pick
        self._generation = 0  # bumped by run() and stop(): older callbacks do nothing
        self._run_outcomes: list[Outcome] = []
        self._position = (0, 0)
        self._used: set[str] = set()  # patients whose booking was admitted (used up)
        self.builders: tuple[Callable[..., Any], Callable[..., Any]] | None = None
        self._second: Any = None  # window 2 (two_desks_alert), opened when first needed

    # -- scenarios --------------------------------------------------------------------------
    def runnable(self, s: Scenario) -> bool:
        return not s.missing_photos(self.photos)

    def run(self, names: list[str], *, autoplay: bool = False) -> None:
        self._generation += 1
        self._queue = [BY_NAME[n] for n in names]
        self._run_outcomes = []
        self._position = (0, sum(1 for s in self._queue if self.runnable(s)))
        self.autoplaying = autoplay
        self.busy = True
        self._next_scenario()

    def autoplay(self) -> None:
        """Play every scenario that can run, once, by itself (with a display)."""
        self.run([s.name for s in SCENARIOS if self.runnable(s)], autoplay=True)

    def stop(self) -> None:
        """Stop now (Esc, or the user picked a scenario): drop the queue and the patient at the
        window; answers still on their way about them are ignored."""
        if not self.busy:
            self.autoplaying = False
            return
        self._generation += 1
        self._queue = []
        self._timeout.stop()
        self._current, self._after_verdict, self._stages, self._card = None, None, [], ()
        self.busy = self.autoplaying = False
        self.devices.scene.play([SceneStep("empty desk", 5.0, (), noise=2.0)], loop=True)
        self._ensure_platform_up()
        self.progress.emit("stopped")
        self._say("stopped", None)

    def _ensure_platform_up(self) -> None:
        """Stopped in the middle of the outage: the platform comes back."""
        if self.env.server.proc is None:
            self.window.runner.run(self.env.server.start,
                                   on_failure=lambda e: log.error("demo platform: %s", e))

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        """``fn``, or nothing if the director was stopped or restarted in between."""
        generation = self._generation

        def call(*args: Any) -> None:
            if generation == self._generation:
                fn(*args)
        return call

    def _say(self, key: str, s: Scenario | None, **kw: Any) -> None:
        index, total = self._position
        self.caption.emit(Caption(key, s, index, total, autoplay=self.autoplaying, **kw))

    def _next_scenario(self) -> None:
        if not self._queue:
            self.busy = False
            if self._run_outcomes:
                self._say("finished", None, as_expected=sum(
                    o.as_expected for o in self._run_outcomes))
            self.autoplaying = False
            self.finished.emit(self.outcomes)
            return
        s = self._queue.pop(0)
        if not self.runnable(s):
            self.progress.emit(f"{s.name}: skipped (photos not found in {self.photos}: "
                               f"{', '.join(s.missing_photos(self.photos))})")
            self._next_scenario()
            return
        self.progress.emit(f"{s.name}: {s.title.zh}")
        self._position = (self._position[0] + 1, self._position[1])
        self._say("scenario", s)
        started = time.monotonic()
        used = [k for k in s.patients if k in self._used]
        if used:  # played before: new people with new bookings, so it plays as the first time
            self._used.difference_update(used)
            self.window.runner.run(self._fresh_patients, used,
                                   on_success=self._guard(lambda _r: self._begin(s, started)),
                                   on_failure=self._guard(lambda e: self._done(
                                       s, None, started, error=str(e))))
        else:
            self._begin(s, started)

    def _fresh_patients(self, keys: list[str]) -> None:
        """Off the GUI thread: book again, then let the desk sync (blacklist, booking cache)."""
        for key in keys:
            self.env.fresh_patient(key)
        self.desk.sync.sync_now()

    def with_second_window(self, then: Callable[[], None],
                           failed: Callable[[BaseException], None]) -> None:
        """Window 2 (ui.demo.windows.SecondWindow), opened the first time a scenario needs it
        (the desk off the GUI thread, its screen on it), then ``then()``."""
        if self._second is not None:
            then()
            return
        from ui.demo.windows import SecondWindow

        build_core, build_desk = self.builders

        def attach(desk: Any) -> None:
            self._second = SecondWindow.attach(desk, self.window.checkin.lang)
            then()

        self.window.runner.run(SecondWindow.prepare, self.env, build_core, build_desk,
                               DEMO_USERS, on_success=self._guard(attach),
                               on_failure=self._guard(failed))

    def _begin(self, s: Scenario, started: float) -> None:
        from ui.demo.windows import PLAYS

        if s.name in PLAYS:
            PLAYS[s.name](self, s, started)
        elif s.outage:
            self._outage(s, started)
        elif s.twice:
            first = self._play_for(s)
            second = self._play_for(s)
            self._play(first, lambda _v: self._play(second, lambda v: self._done(
                s, v, started, face=second.face)))
        else:
            play = self._play_for(s)
            self._play(play, lambda v: self._done(s, v, started, face=play.face))

    def _play_for(self, s: Scenario, booking_key: str | None = None, card_key: str | None = None,
                  card_photo: str | None = None, live_photo: str | None = None) -> Play:
        p = self.env.patients
        booking = p[booking_key or s.booking_of]
        card_of = p.get(card_key or s.card_of) if (card_key or s.card_of) else None
        qr = booking.token
        if s.forge and qr:
            qr = forge(qr)
        return Play(s, booking, card_of, card_photo or s.card_photo, live_photo or s.live_photo, qr)

    def _done(self, s: Scenario, verdict: Any, started: float, face: Any = None,
              **extra: Any) -> None:
        decided = verdict.decision.value if verdict is not None else "none"
        if extra.get("failed"):  # a scenario of several steps that did not all hold
            decided = f"failed:{extra['failed']}"
        o = Outcome(s.name, s.expected, decided,
                    [r.code for r in verdict.reasons] if verdict is not None else ["timeout"],
                    round((time.monotonic() - started) * 1000),
                    alert=bool(verdict is not None and verdict.alert_security), extra=extra,
                    face_outcome=getattr(face, "outcome", None),
                    face_distance=(None if getattr(face, "distance", None) is None
                                   else round(face.distance, 4)))
        self.outcomes.append(o)
        self._run_outcomes.append(o)
        self.outcome.emit(o)
        self._say("verdict", s, verdict=o.verdict)
        # with a display the verdict stays up a while before the next patient walks up
        QTimer.singleShot(self.pause_ms * (3 if self.autoplaying else 1),
                          self._guard(self._next_scenario))

    # -- one patient -------------------------------------------------------------------------
    def _play(self, play: Play, then: Callable[[Any], None]) -> None:
        self.window.runner.run(self._prepare, play, on_success=self._guard(
            lambda prepared: self._start(play, prepared, then)),
            on_failure=self._guard(lambda err: self._failed(play, err, then)))

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

    def _prepare(self, play: Play) -> tuple[list[list[SceneStep]], tuple[IdCardRead, ...]]:
        """Off the GUI thread: load the photos, render the card, cut the chip portrait (cached:
        a patient who comes twice shows the same card)."""
        key = (play.booking.key, play.card_of.key if play.card_of else None, play.card_photo,
               play.live_photo, play.qr, play.scenario.card_read, play.scenario.holder_photo)
        if key not in self._prepared:
            self._prepared[key] = self._prepare_uncached(play)
        return self._prepared[key]

    def _prepare_uncached(self, play: Play) -> tuple[list[list[SceneStep]], tuple[IdCardRead, ...]]:
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
        reads = (card_reads(play.scenario.card_read, card_read, card_image)
                 if card_read is not None else ())
        return demo_stages(live, card_image, play.qr, holder=holder), reads

    def _photo(self, name: str) -> Any:
        assert self.photos is not None
        img = cv2.imread(str(self.photos / name))
        if img is None:
            raise FileNotFoundError(self.photos / name)
        return img

    def _start(self, play: Play, prepared: tuple[list[list[SceneStep]], tuple[IdCardRead, ...]],
               then: Callable[[Any], None]) -> None:
        stages, card_read = prepared
        # A chip reader without the photo decoder: the desk waits for the counter camera's
        # portrait of the card, as build_window tells it on such a desk.
        self.desk.checkin.expect_camera_portrait(play.scenario.card_read == "reader_no_photo")
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
            else:
                self._say("qr", play.scenario)

        QTimer.singleShot(int(EMPTY_DESK_S * 1000), self._guard(begin))

    def _on_state(self, state: Any) -> None:
        """Advance the scene when the desk has read what the current stage shows."""
        play = self._current
        if play is not None and play.card_checked and play.verdict is None and state is not None \
                and state.card_confirmed_by and state.verdict is not None:
            self._finish(play, state.verdict, state)  # the verdict after the clerk's F9
            return
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
        elif step_name == "looks at camera" and not self._card \
                and state.step(Step.BOOKING).status is not waiting:
            self._next_stage()

    def _next_stage(self) -> None:
        play = self._current
        if play is None or not self._stages:
            return
        stage = self._stages.pop(0)
        self.devices.scene.play(stage, loop=False)
        self._say({"puts card down": "card", "looks at camera": "face"}.get(stage[0].name, "qr"),
                  play.scenario)
        if stage[0].name == "puts card down" and self._card:
            # the reader (or the counter camera) answers once the card lies there
            for i, card_read in enumerate(self._card):
                QTimer.singleShot(600 + 800 * i, lambda r=card_read: self._put_card(play, r))

    def _put_card(self, play: Play, card_read: IdCardRead) -> None:
        if self._current is play and play.verdict is None:
            self.window.checkin.post_card(card_read)  # as the reader or the camera delivers it

    def _on_verdict(self, verdict: Any) -> None:
        play = self._current
        state = self.window.checkin.presenter.state
        if play is None or play.verdict is not None or state is None \
                or state.session_id == self._previous_session:
            return  # a late answer about the previous patient
        if state.card_to_confirm and play.scenario.genuine_card and not play.card_checked:
            # The clerk looks at the card the camera read and presses F9 (not for a printout);
            # the verdict after it is the scenario's (see _on_state).
            play.card_checked = True
            self.window.checkin.trigger("confirm_card")
            return
        self._finish(play, verdict, state)

    def _finish(self, play: Play, verdict: Any, state: Any) -> None:
        play.verdict = verdict
        play.visit_id = state.visit_id if state is not None else None
        play.face = state.face
        if verdict.decision.value == "admit":
            self._used.add(play.booking.key)
        self._timeout.stop()
        then, self._after_verdict = self._after_verdict, None
        if then is not None:
            QTimer.singleShot(self.pause_ms, self._guard(lambda: then(verdict)))

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

        def went_down(_r: Any, generation: int = self._generation) -> None:
            if generation != self._generation:  # stopped while the platform went down
                self._ensure_platform_up()
                return
            self._say("offline", s)
            play_all()

        def play_all(i: int = 0, _v: Any = None) -> None:
            if i < len(plays):
                self._play(plays[i], lambda v: play_all(i + 1, v))
            else:
                self._say("drain", s)
                self.window.runner.run(up_and_drain, on_success=self._guard(finished),
                                       on_failure=self._guard(
                                           lambda e: finished({"error": str(e)})))

        def up_and_drain() -> dict[str, Any]:
            offline_pending = self.desk.store.outbox.count()
            self.env.server.start()
            self.desk.sync.sync_now()
            deadline = time.monotonic() + 60
            while self.desk.store.outbox.count() and time.monotonic() < deadline:
                self.desk.sync.sync_now()
                time.sleep(0.2)
            ids = [p.visit_id for p in plays if p.visit_id]
            return {"queued_offline": offline_pending, "left_in_outbox": self.desk.store.outbox.count(),
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

        self.window.runner.run(down, on_success=went_down, on_failure=self._guard(
            lambda e: self._done(s, None, started, error=str(e))))


def card_reads(how: str, chip: IdCardRead, card_image: Any) -> tuple[IdCardRead, ...]:
    """What reaches the desk when the card is put down: the chip's read ("reader"), the counter
    camera's (number and the portrait it cuts from the card, "camera"), or both from a chip
    reader without the photo decoder ("reader_no_photo": no portrait from the chip)."""
    if how == "reader":
        return (chip,)
    camera = IdCardRead(id_number=chip.id_number, portrait=camera_portrait(card_image),
                        confidence=0.9, source="camera")
    if how == "camera":
        return (camera,)
    return (replace(chip, portrait=None), camera)


def camera_portrait(card_image: Any) -> Any:
    """The card's portrait as the counter camera cuts it (the card found on the counter)."""
    import numpy as np

    from devices.idcard.locate import find_card

    h, w = card_image.shape[:2]
    counter = np.full((h + 200, w + 200, 3), 60, np.uint8)
    counter[100:100 + h, 100:100 + w] = card_image
    view = find_card(counter)
    return view.portrait() if view is not None else None


__all__ = ["DemoDirector", "Outcome", "Play", "camera_portrait", "card_reads", "demo_stages"]
