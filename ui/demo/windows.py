"""Scenarios of more than one window: ``two_desks_alert`` (an impostor at window 1; the alert
on window 2's security screen within 5 s; handled there, gone from both) and
``supervisor_override`` (a REJECT at the clerk's window overridden with a guard's own
credentials; both names in the visit and the audit log).

Window 2 is a second desk of the same hospital built by the same composition-root steps
(``build_core``, ``build_desk``), enrolled as ``desk-02`` and synced, with a guard signed in and
its real security screen (shown as its own window when there is a display). Everything happens
on the GUI thread through timers and the screens' own actions; the checks that read a store run
off it. Each scenario's outcome carries ``expected`` and ``verdict`` like the others: the verdict
is window 1's decision when every step of the scenario held, else ``failed:<step>``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QTimer

from desk_app.services.model import Decision, Role, UserView
from ui.demo.environment import HOSPITAL

log = logging.getLogger(__name__)

SECOND_DESK = "desk-02"
ALERT_WITHIN_S = 5.0
CLEARED_WITHIN_S = 20.0
POLL_MS = 100
GUARD = ("guard", "demo-guard-1")  # a demo account (runner.DEMO_USERS)
HANDLED_NOTE = "保卫科已到窗口核实, 冒用者已离开"
OVERRIDE_REASON = "本人证件照片年代久远, 保卫科当面核实为本人"


@dataclass
class SecondWindow:
    """Window 2: a desk of the same hospital with a guard at its security screen."""

    desk: Any
    screen: Any
    signal: Any

    @staticmethod
    def prepare(env: Any, build_core: Callable[..., Any], build_desk: Callable[..., Any],
                users: tuple[tuple[str, str, str, str], ...]) -> Any:
        """Off the GUI thread: the second desk built, its accounts made, enrolled, synced and
        started (argon2 hashes, a whole first sync: seconds)."""
        core = build_core(env.root / SECOND_DESK)
        s = core.settings
        s.desk.desk_id, s.desk.hospital_id = SECOND_DESK, HOSPITAL
        s.platform.url = env.platform_url
        s.sync.interval_s = 2.0
        desk = build_desk(core)
        try:
            desk.settings.save(s)
            known = {u.username for u in desk.store.users.all()}
            for username, display, role, password in users:
                if username not in known:
                    desk.store.users.create(username, display, role, password, actor="demo")
            desk.session.act_as(UserView("guard", "保卫科 (演示)", Role.SECURITY))
            desk.sync.enroll(env.platform_url, env.seed["enrollment_codes"][SECOND_DESK])
            desk.sync.run_once()
            desk.start()
        except BaseException:
            desk.close()
            raise
        return desk

    @classmethod
    def attach(cls, desk: Any, lang: str) -> SecondWindow:
        """On the GUI thread: window 2's security screen on the prepared desk, live."""
        from sync.qt import OfficeAlertsSignal
        from ui.security.screen import SecurityScreen

        screen = SecurityScreen(desk.security, desk.settings.get(), lang, poll_ms=2000)
        screen.setWindowTitle("窗口 2 · 保卫科 / Window 2 · security")
        signal = OfficeAlertsSignal(desk.sync.office, parent=screen)
        signal.changed.connect(lambda _applied: screen.refresh())
        screen.start()
        screen.show()
        return cls(desk, screen, signal)

    def open_alert_for(self, visit_id: str) -> Any:
        return next((a for a in self.screen.alerts
                     if a.visit_id == visit_id and a.status == "open"), None)

    def close(self) -> None:
        self.screen.shutdown()
        self.screen.close()
        self.desk.close()


def _wait(director: Any, check: Callable[[], Any], within_s: float,
          then: Callable[[Any], None], failed: Callable[[], None]) -> None:
    """Call ``then(result)`` as soon as ``check()`` is truthy (polled on the GUI thread every
    100 ms), ``failed()`` after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s

    def poll() -> None:
        result = check()
        if result:
            then(result)
        elif time.monotonic() > deadline:
            failed()
        else:
            QTimer.singleShot(POLL_MS, director._guard(poll))

    poll()


def two_desks_alert(director: Any, s: Any, started: float) -> None:
    play = director._play_for(s)
    shown: list[float] = []  # when window 1 showed its verdict (the 5 s count from there)
    presenter = director.window.checkin.presenter

    def verdict_shown(_verdict: Any) -> None:
        if not shown:
            shown.append(time.monotonic())
            presenter.verdict_reached.disconnect(verdict_shown)

    def fail(step: str, verdict: Any, **extra: Any) -> None:
        log.error("two_desks_alert: %s", step)
        director._done(s, verdict, started, face=play.face, failed=step, **extra)

    def after_verdict(verdict: Any) -> None:
        if verdict.decision is not Decision.REJECT or play.visit_id is None:
            director._done(s, verdict, started, face=play.face)
            return
        raised = shown[0] if shown else time.monotonic()
        window2 = director._second
        director.desk.sync.sync_now()  # the visit goes up now (the worker is woken anyway)
        _wait(director, lambda: window2.open_alert_for(play.visit_id), ALERT_WITHIN_S,
              lambda alert: seen(verdict, window2, alert, raised),
              lambda: fail("alert_not_on_window_2", verdict))

    def seen(verdict: Any, window2: Any, alert: Any, raised: float) -> None:
        ms = round((time.monotonic() - raised) * 1000)
        director._say("scenario", s)
        screen = window2.screen
        screen.select(alert.alert_id)
        screen.mark_handled()  # the guard at window 2: 标记已处理, with a note
        dialog = screen.dialog
        if dialog is None:
            fail("no_handle_dialog", verdict, window_2_ms=ms)
            return
        dialog.set_text(HANDLED_NOTE)
        dialog.accept()
        window1 = director.window.security
        window1.refresh()

        def cleared() -> bool:
            gone2 = window2.open_alert_for(play.visit_id) is None
            gone1 = not any(a.visit_id == play.visit_id and a.status == "open"
                            for a in window1.alerts)
            if not gone1:
                window1.refresh()
            return gone1 and gone2

        _wait(director, cleared, CLEARED_WITHIN_S,
              lambda _ok: director._done(s, verdict, started, face=play.face, window_2_ms=ms,
                                         handled_at="window 2", cleared_on_both=True),
              lambda: fail("not_cleared_on_both", verdict, window_2_ms=ms))

    # Window 2 is up (and current) before the impostor walks up to window 1.
    def walk_up() -> None:
        presenter.verdict_reached.connect(verdict_shown)
        director._play(play, after_verdict)

    director.with_second_window(walk_up, lambda e: fail(f"window_2: {e}", None))


def supervisor_override(director: Any, s: Any, started: float) -> None:
    play = director._play_for(s)
    checkin = director.window.checkin
    presenter = checkin.presenter

    def fail(step: str, verdict: Any) -> None:
        log.error("supervisor_override: %s", step)
        director._done(s, verdict, started, face=play.face, failed=step)

    def after_verdict(verdict: Any) -> None:
        if verdict.decision is not Decision.REJECT:
            fail("no_reject_to_override", verdict)
            return
        # The clerk presses F2 and asks to admit; a clerk may not override a REJECT, so the
        # same dialog asks a guard for their own credentials (the screen's real path).
        presenter.override(Decision.ADMIT, OVERRIDE_REASON)
        _wait(director, lambda: (checkin.dialog if checkin.dialog is not None
                                 and checkin.dialog.supervisor else None), 10.0,
              lambda dialog: credentials(verdict, dialog),
              lambda: fail("no_supervisor_dialog", verdict))

    def credentials(verdict: Any, dialog: Any) -> None:
        dialog.supervisor_user.setText(GUARD[0])
        dialog.supervisor_password.setText(GUARD[1])
        dialog.accept()
        _wait(director, lambda: (presenter.state is not None and presenter.state.verdict
                                 is not None and presenter.state.verdict.decision
                                 is Decision.ADMIT and presenter.state.verdict), 15.0,
              lambda final: director.window.runner.run(
                  _both_names, director.desk.store, play.visit_id,
                  on_success=director._guard(lambda names: checked(final, names)),
                  on_failure=director._guard(lambda e: fail(f"check: {e}", final))),
              lambda: fail("override_not_recorded", verdict))

    def checked(final: Any, names: dict[str, Any]) -> None:
        if names["visit_clerk"] == "clerk" and names["override_by"] == GUARD[0] \
                and names["audit_actor"] == GUARD[0] and names["audit_at_window_of"] == "clerk":
            director._done(s, final, started, face=play.face, **names)
        else:
            director._done(s, final, started, face=play.face, failed="names", **names)

    director._play(play, after_verdict)


def _both_names(store: Any, visit_id: str) -> dict[str, Any]:
    """Off the GUI thread: who the visit and the audit log name."""
    v = store.visits.get(visit_id)
    entry = next((e for e in store.audit.entries(limit=50, action="checkin.override")
                  if e.subject == visit_id), None)
    return {"visit_clerk": v.clerk if v else None,
            "override_by": v.override.by if v and v.override else None,
            "audit_actor": entry.actor if entry else None,
            "audit_at_window_of": entry.detail.get("at_window_of") if entry else None}


PLAYS: dict[str, Callable[[Any, Any, float], None]] = {
    "two_desks_alert": two_desks_alert,
    "supervisor_override": supervisor_override,
}
