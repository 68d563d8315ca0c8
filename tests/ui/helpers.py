"""Test doubles of the operation Protocols for the screens' own logic (ordering, threading,
what is shown). They record which thread ran each call; they are not end-to-end tests of the
services (those drive the real services through desk_app.app)."""

from __future__ import annotations

import threading
from dataclasses import replace

from desk_app.errors import Text, UserInputError
from desk_app.services.model import CheckinState, Step, StepStatus, StepView
from ui import samples


def empty_state(sid: str) -> CheckinState:
    steps = tuple(StepView(s, StepStatus.WAITING, Text("", "")) for s in Step)
    return CheckinState(sid, steps, Text("请扫描预约二维码或出示身份证", "Scan the booking code or show the ID card"))


class RecordingCheckinOps:
    """Answers each call with a scripted state; ``calls`` holds (name, args, thread id)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, int]] = []
        self.sessions = 0
        self.gate: threading.Event | None = None  # when set, calls wait for it (slow service)
        self.next_state: CheckinState | None = None
        self.fail_with: BaseException | None = None
        self.lock = threading.Lock()

    def _rec(self, name: str, *args) -> None:
        with self.lock:
            self.calls.append((name, args, threading.get_ident()))
        if self.gate is not None:
            self.gate.wait(5)
        if self.fail_with is not None:
            raise self.fail_with

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def new_patient(self) -> CheckinState:
        self._rec("new_patient")
        with self.lock:
            self.sessions += 1
            return empty_state(f"s{self.sessions}")

    def _answer(self, sid: str) -> CheckinState:
        st = self.next_state or empty_state(sid)
        return replace(st, session_id=sid)

    def submit_code(self, session_id, text, source):
        self._rec("submit_code", session_id, text, source)
        return self._answer(session_id)

    def submit_id_number(self, session_id, text):
        self._rec("submit_id_number", session_id, text)
        if not text[:1].isdigit():
            raise UserInputError(Text("证件号码无效", "Invalid ID number"))
        return self._answer(session_id)

    def submit_card(self, session_id, card):
        self._rec("submit_card", session_id, card)
        return self._answer(session_id)

    def submit_face_frame(self, session_id, frame, timestamp):
        self._rec("submit_face_frame", session_id, timestamp)
        return self._answer(session_id)

    def decline_face(self, session_id):
        self._rec("decline_face", session_id)
        return self._answer(session_id)

    def override(self, session_id, decision, reason, supervisor=None):
        self._rec("override", session_id, decision, reason)
        st = self._answer(session_id)
        return replace(st, verdict=replace(st.verdict, decision=decision, overridden=True,
                                           override_reason=reason)) if st.verdict else st

    def report_suspect(self, session_id, note):
        self._rec("report_suspect", session_id, note)
        return self._answer(session_id)


class RecordingSecurityOps:
    def __init__(self, alerts=None) -> None:
        self.items = list(alerts if alerts is not None else samples.alerts())
        self.calls: list[tuple[str, tuple, int]] = []

    def _rec(self, name, *args):
        self.calls.append((name, args, threading.get_ident()))

    def alerts(self, include_handled=False):
        self._rec("alerts", include_handled)
        return [a for a in self.items if include_handled or a.status == "open"]

    def alert_photos(self, alert_id):
        self._rec("alert_photos", alert_id)
        return samples.silhouette_png(), samples.silhouette_png("#f6dede", "#a35d5d")

    def mark_handled(self, alert_id, note):
        self._rec("mark_handled", alert_id, note)
        a = next(a for a in self.items if a.alert_id == alert_id)
        new = replace(a, status="handled", note=note, handled_by="security1")
        self.items = [new if x.alert_id == alert_id else x for x in self.items]
        return new

    def report_suspect(self, alert_id, note):
        self._rec("report_suspect", alert_id, note)
        return next(a for a in self.items if a.alert_id == alert_id)


def show_for_keys(qtbot, widget, width: int = 1280, height: int = 800) -> None:
    """Shown, active and focused before a test presses keys: the screen's F-keys are window
    shortcuts, which Qt fires only in the active window, and the offscreen platform activates a
    window on a later turn of the event loop (a loaded CI run pressed F2 before that turn)."""
    widget.resize(width, height)
    widget.show()
    widget.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(widget.isActiveWindow, timeout=5000)
