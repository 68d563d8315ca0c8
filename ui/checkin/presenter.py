"""The check-in presenter: calls :class:`~desk_app.services.api.CheckinOps` through
:class:`ui.operations.Operations` and pushes every resulting
:class:`~desk_app.services.model.CheckinState` to the screen.

* Every call about the patient goes to the serial lane, so steps are applied in the order they
  happened (a scan, then the card, then a face frame), never overtaking each other.
* A new patient cancels the ``patient`` group: a late answer about the previous patient never
  reaches the screen; states of another session id are ignored as well.
* Face frames are cheap to offer and expensive to process: at most one is in flight, the others
  are dropped here (the camera keeps its own frame rate).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from desk_app.checkin.engine import OverrideNotAllowed
from desk_app.errors import AuthError, DeskError
from desk_app.services.api import CheckinOps
from desk_app.services.model import CheckinState, Decision, Step, StepStatus, VerdictView
from ui.operations import Operations

log = logging.getLogger(__name__)

GROUP = "patient"


class CheckinPresenter(QObject):
    state_changed = Signal(object)  # CheckinState, or None while a new patient is being set up
    verdict_reached = Signal(object)  # VerdictView, once per new or changed verdict
    failed = Signal(object)  # the error of a failed call (already shown)
    # an override the signed-in role may not make: (decision, reason, the refusal)
    supervisor_needed = Signal(object, str, object)

    def __init__(self, ops: CheckinOps, runner: Operations,
                 show_error: Callable[[BaseException], None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.runner = runner
        self._show_error = show_error
        self.state: CheckinState | None = None
        self._face_in_flight = False
        self._face_error_shown = False
        self.face_frames_dropped = 0
        self.face_frames_sent = 0
        self._starting = False
        self._waiting: list[tuple[Callable[..., CheckinState], tuple[object, ...]]] = []

    @property
    def session_id(self) -> str | None:
        return self.state.session_id if self.state else None

    # --- commands ---------------------------------------------------------------------------

    def new_patient(self) -> None:
        """Forget the current patient (Esc, Enter after a verdict, idle reset)."""
        self._waiting.clear()
        self._start()

    def _start(self) -> None:
        self.runner.cancel(GROUP)
        self._face_in_flight = False
        self._face_error_shown = False
        self._starting = True
        self.state = None  # commands until the new session exists wait in _waiting
        self.state_changed.emit(None)
        self.runner.run(self.ops.new_patient, serial=True, group=GROUP,
                        on_success=self._started, on_failure=self._start_failed)

    def _started(self, state: CheckinState) -> None:
        self._starting = False
        self._accept(state, new=True)

    def _start_failed(self, error: BaseException) -> None:
        self._starting = False
        self._waiting.clear()
        self._fail(error)

    def submit_code(self, text: str, source: str) -> None:
        self._call(self.ops.submit_code, text, source)

    def submit_id_number(self, text: str) -> None:
        self._call(self.ops.submit_id_number, text)

    def submit_card(self, card: object) -> None:
        self._call(self.ops.submit_card, card)

    def decline_face(self) -> None:
        self._call(self.ops.decline_face)

    def judge_face(self, same: bool) -> None:
        self._call(self.ops.judge_face, same)

    def confirm_card(self) -> None:
        self._call(self.ops.confirm_card)

    def finish_face(self) -> None:
        if self.session_id is not None:
            self._call(self.ops.finish_face)

    def override(self, decision: Decision, reason: str,
                 supervisor: tuple[str, str] | None = None) -> None:
        """A refusal for the clerk's role (no supervisor given yet) is not shown as an error:
        :attr:`supervisor_needed` lets the screen ask a colleague for their credentials. A
        supervisor's credentials refused (mistyped, throttled, a role that may not decide) ask
        again the same way, the reason and the decision kept: the override is not thrown away."""
        sid = self.session_id
        if sid is None:
            return

        def failed(error: BaseException) -> None:
            if isinstance(error, OverrideNotAllowed if supervisor is None else AuthError):
                # the error only when a supervisor's own credentials were refused (to say why)
                self.supervisor_needed.emit(decision, reason,
                                            error if supervisor is not None else None)
            else:
                self._fail(error)

        self.runner.run(self.ops.override, sid, decision, reason, supervisor, serial=True,
                        group=GROUP, on_success=self._accept, on_failure=failed)

    def report_suspect(self, note: str) -> None:
        self._call(self.ops.report_suspect, note)

    def wants_face_frames(self) -> bool:
        """Only while the face step is still open (no verdict, face not yet decided)."""
        s = self.state
        if s is None or s.verdict is not None:
            return False
        face = next((v.status for v in s.steps if v.step == Step.FACE), StepStatus.WAITING)
        return face in (StepStatus.WAITING, StepStatus.WORKING)

    def submit_face_frame(self, frame: object, timestamp: float) -> bool:
        """Offer a camera frame; False if dropped (one already in flight, or not needed)."""
        sid = self.session_id
        if sid is None or self._face_in_flight or not self.wants_face_frames():
            self.face_frames_dropped += 1
            return False
        self._face_in_flight = True
        self.face_frames_sent += 1
        self.runner.run(self.ops.submit_face_frame, sid, frame, timestamp, serial=True,
                        group=GROUP, on_success=self._face_done, on_failure=self._face_failed)
        return True

    def show_state(self, state: CheckinState) -> None:
        """Show a state obtained elsewhere (screenshots, a state restored after a restart)."""
        self._accept(state, new=True)

    # --- results (GUI thread) ---------------------------------------------------------------

    def _call(self, fn: Callable[..., CheckinState], *args: object) -> None:
        sid = self.session_id
        if sid is None:
            # Something was presented before the first session exists (start-up): start one and
            # apply the command once its state is here.
            self._waiting.append((fn, args))
            if not self._starting:
                self._start()
            return
        self.runner.run(fn, sid, *args, serial=True, group=GROUP, on_success=self._accept,
                        on_failure=self._fail)

    def _face_done(self, state: CheckinState) -> None:
        self._face_in_flight = False
        self._accept(state)

    def _face_failed(self, error: BaseException) -> None:
        self._face_in_flight = False
        if isinstance(error, DeskError) and self._face_error_shown:
            log.info("face frame refused again: %s", type(error).__name__)
            return
        self._face_error_shown = True
        self._fail(error)

    def _accept(self, state: CheckinState, new: bool = False) -> None:
        if not new and self.state is not None and state.session_id != self.state.session_id:
            log.info("state of another session ignored")
            return
        previous = self.state.verdict if self.state and not new else None
        self.state = state
        self.state_changed.emit(state)
        if state.verdict is not None and _changed(previous, state.verdict):
            self.verdict_reached.emit(state.verdict)
        waiting, self._waiting = self._waiting, []
        for fn, args in waiting:
            self._call(fn, *args)

    def _fail(self, error: BaseException) -> None:
        self.failed.emit(error)
        if self._show_error is not None:
            self._show_error(error)
        else:
            raise error


def _changed(old: VerdictView | None, new: VerdictView) -> bool:
    return old is None or (old.decision, old.overridden) != (new.decision, new.overridden)
