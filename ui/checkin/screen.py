"""The check-in screen: the clerk's whole day at the registration window.

Wiring (composition root)::

    screen = CheckinScreen(checkin_ops, settings, lang, runner=runner, sounds=sounds, cameras=2)
    camera_signals.frame_ready.connect(lambda f: screen.on_camera_frame(0, f))
    code_feed.connect(lambda read: screen.post_code(read.text, read.source))  # any thread
    # scanner: the screen builds its own ScannerFilter and submits its scans; pass scanner=...
    # to route scans yourself (e.g. into the code feed) instead
    card_reader_callback = screen.post_card                                    # any thread
    card_seen_callback = screen.post_card_seen  # camera-read cards: found, number not read yet
    screen.start()          # first patient; installs the scanner filter

Keys (shown on screen): Enter next patient (or decide a REVIEW), Esc reset, F2 override,
F3 manual ID entry, F4 patient declines the face check, F6 report suspect; the clerk's calls:
F7 same person / F8 not the same person (an undecided face, both photos shown large), F9 the
physical card checked (a number read by the camera). With ``window_ops`` (the window's actions
on the person whose card was checked: ``ui.checkin.window_actions``): F10 record an appeal
against the blacklist, F11 unfreeze the person's booking account.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desk_app.errors import UserInputError, as_desk_error
from desk_app.services.api import CheckinOps, WindowOps
from desk_app.services.model import CheckinState, Decision, VerdictView
from desk_app.settings import Settings
from ui.checkin.presenter import CheckinPresenter
from ui.checkin.preview import CameraPreview
from ui.checkin.scanner import ScannerFilter
from ui.checkin.steps import StepStrip
from ui.checkin.verdict import VerdictPanel
from ui.checkin.window_actions import WindowActions
from ui.dialogs import NoteDialog
from ui.errors import show_error
from ui.operations import Operations, current_lang
from ui.sounds import SoundCues

log = logging.getLogger(__name__)

# How long a chip read without a portrait waits for the counter camera to capture the card's
# photo before the desk decides without a face comparison (saying why).
CARD_PHOTO_WAIT_MS = 10_000
# The clerk's calls: action -> key.
CALL_KEYS = (("same_person", "F7"), ("not_same_person", "F8"), ("confirm_card", "F9"))
# The window's actions on the person (only with window_ops): action -> key.
WINDOW_KEYS = (("appeal", "F10"), ("unfreeze", "F11"))


class _Inbox(QObject):
    """Lives in the GUI thread; devices emit on it from their own threads (queued delivery)."""

    code = Signal(str, str)
    card = Signal(object)
    card_seen = Signal(object)  # the card's polygon in the counter camera's frame


class CheckinScreen(QWidget):
    def __init__(self, ops: CheckinOps, settings: Settings, lang: str = "zh_CN", *,
                 runner: Operations | None = None, sounds: SoundCues | None = None,
                 cameras: int = 1, scanner: ScannerFilter | None = None,
                 window_ops: WindowOps | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CheckinScreen")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.settings = settings
        self.lang = lang
        self._own_runner = runner is None
        self.runner = runner or Operations(self, parent=self)
        self.sounds = sounds or SoundCues(settings.ui.sounds, parent=self)
        self.presenter = CheckinPresenter(ops, self.runner, self._show_error, self)
        self.presenter.state_changed.connect(self._on_state)
        self.presenter.supervisor_needed.connect(self._supervisor_needed)
        self.presenter.verdict_reached.connect(self._on_verdict)
        if scanner is None:
            scanner = ScannerFilter(settings.devices.scanner_max_interkey_ms,
                                    enabled=settings.devices.scanner_enabled, parent=self)
            scanner.scanned.connect(lambda text: self.presenter.submit_code(text, "scanner"))
        # A scanner passed in is routed by its owner (the composition root sends scans through
        # the code feed, debounced with camera reads, which arrive here via post_code); routing
        # it here as well would submit every scan twice.
        self.scanner = scanner
        self.inbox = _Inbox(self)
        self.inbox.code.connect(self.presenter.submit_code)
        self.inbox.card.connect(self._card_arrived)
        self.inbox.card_seen.connect(self._card_seen)
        self.alert_count = 0
        self._supervisor_user = ""  # the supervisor user name last typed in an override
        self.window_actions = WindowActions(
            window_ops, self.runner, self, lambda: self.presenter.session_id,
            self._person_masked, self._show_error, self._refuse)
        window_keys = WINDOW_KEYS if window_ops is not None else ()

        # --- widgets ---
        self.previews = [CameraPreview(name, self)
                         for name in ("patient_camera", "counter_camera")[:max(1, min(cameras, 2))]]
        self.steps = StepStrip(self)
        self.verdict = VerdictPanel(self)
        self.alert_badge = QLabel(self)
        self.alert_badge.setObjectName("AlertBadge")
        self.alert_badge.setStyleSheet(
            "#AlertBadge { background: #b3261e; color: white; border-radius: 12px;"
            " padding: 4px 12px; font-weight: bold; font-size: 16px; }")
        self.alert_badge.hide()
        self.buttons: dict[str, QPushButton] = {}
        keys_row = QHBoxLayout()
        for action, key in (("next", "Enter"), ("reset", "Esc"), ("override", "F2"),
                            ("manual_id", "F3"), ("decline_face", "F4"), ("suspect", "F6"),
                            *CALL_KEYS, *window_keys):
            b = QPushButton(self)
            b.setObjectName(f"key_{action}")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys reach the screen, not a button
            b.setProperty("key", key)
            b.clicked.connect(lambda _=False, a=action: self.trigger(a))
            keys_row.addWidget(b)
            self.buttons[action] = b

        left = QVBoxLayout()
        for pv in self.previews:
            left.addWidget(pv, 1)
        top_right = QHBoxLayout()
        top_right.addWidget(self.steps, 1)
        top_right.addWidget(self.alert_badge, 0, Qt.AlignmentFlag.AlignTop)
        right = QVBoxLayout()
        right.addLayout(top_right)
        right.addWidget(self.verdict, 1)
        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addLayout(right, 3)
        lay = QVBoxLayout(self)
        lay.addLayout(body, 1)
        lay.addLayout(keys_row)
        for pv in self.previews:
            pv.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        # F-keys never pass through the scanner decoder; they work as window shortcuts.
        for key, action in (("F2", "override"), ("F3", "manual_id"), ("F4", "decline_face"),
                            ("F6", "suspect"), *((k, a) for a, k in (*CALL_KEYS, *window_keys))):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(lambda a=action: self.trigger(a))

        # Idle reset: a patient left half-way (or a verdict left on screen) is cleared.
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.setInterval(settings.ui.idle_reset_s * 1000)
        self.idle_timer.timeout.connect(self._idle_reset)
        # A chip read without a portrait: the counter camera has this long to see the card.
        self.card_photo_timer = QTimer(self)
        self.card_photo_timer.setSingleShot(True)
        self.card_photo_timer.setInterval(CARD_PHOTO_WAIT_MS)
        self.card_photo_timer.timeout.connect(self.presenter.finish_face)
        self.dialog: NoteDialog | None = None
        self.retranslate()

    # --- wiring -------------------------------------------------------------------------------

    def start(self) -> None:
        """Install the scanner filter and begin with an empty patient."""
        self.scanner.install()
        self.presenter.new_patient()

    def shutdown(self) -> None:
        self.scanner.uninstall()
        self.idle_timer.stop()
        self.card_photo_timer.stop()
        if self._own_runner:
            self.runner.shutdown()

    def apply_settings(self, settings: Settings) -> None:
        """New settings saved at run time (idle reset, sounds, scanner speed)."""
        self.settings = settings
        self.idle_timer.setInterval(settings.ui.idle_reset_s * 1000)
        self.sounds.enabled = settings.ui.sounds
        self.scanner.enabled = settings.devices.scanner_enabled
        self.scanner.decoder.max_interkey_ms = float(settings.devices.scanner_max_interkey_ms)

    def post_code(self, text: str, source: str = "camera") -> None:
        """Thread-safe: a code from the camera pipeline or another device."""
        self.inbox.code.emit(text, source)

    def post_card(self, card: object) -> None:
        """Thread-safe: a card from the desktop reader or the counter camera
        (``devices.idcard.IdCardRead``); a camera read's ``polygon`` is outlined on the preview."""
        self.inbox.card.emit(card)

    def post_card_seen(self, polygon: object) -> None:
        """Thread-safe: the counter camera sees a card (corners in frame pixels) whose number is
        not read yet; outlined for a moment ("card seen, hold still")."""
        self.inbox.card_seen.emit(polygon)

    def _card_arrived(self, card: object) -> None:
        self.presenter.submit_card(card)
        polygon = getattr(card, "polygon", ())
        if polygon:  # the last preview is the counter's
            self.previews[-1].flash_card_outline(polygon, read=True)

    def _card_seen(self, polygon: object) -> None:
        self.previews[-1].flash_card_outline(polygon, read=False)  # type: ignore[arg-type]

    def on_camera_frame(self, index: int, frame: object) -> None:
        """GUI thread (``CameraSignals.frame_ready``): paint it; offer patient-camera frames to
        the face comparison (dropped while one is being compared)."""
        if index < len(self.previews):
            self.previews[index].show_frame(frame)
        if index == 0:
            ts = float(getattr(frame, "timestamp", time.monotonic()))
            image = getattr(frame, "image", frame)
            self.presenter.submit_face_frame(image, ts)

    def show_code_outline(self, polygon: object) -> None:
        """Outline a code the counter camera just read (the last preview is the counter's)."""
        self.previews[-1].flash_outline(polygon)  # type: ignore[arg-type]

    def set_camera_state(self, index: int, state: str, message: str = "") -> None:
        if index < len(self.previews):
            self.previews[index].set_camera_state(state, message)

    def set_alert_count(self, count: int) -> None:
        """Open alerts for security (``SecurityScreen.open_alerts_changed``); the sound of a new
        alert is played once, by the security screen."""
        self.alert_count = count
        self.alert_badge.setVisible(count > 0)
        self._update_badge()

    # --- actions ------------------------------------------------------------------------------

    def trigger(self, action: str) -> None:
        self.idle_timer.start()  # the clerk is at work: the idle reset starts over
        state = self.presenter.state
        verdict = state.verdict if state else None
        if action in ("appeal", "unfreeze"):
            self.window_actions.ask(action)
        elif action == "reset":
            self._close_dialog()
            self.presenter.new_patient()
        elif action == "next":
            if (verdict is not None and verdict.decision == Decision.REVIEW
                    and not verdict.overridden and state is not None and state.face_to_judge):
                # an undecided face is judged with its own keys, recorded as a face judgement
                self._refuse(self.tr("Compare the two photos: F7 if it is the same person, F8 "
                                     "if not."))
            elif verdict is not None and verdict.decision == Decision.REVIEW and not verdict.overridden:
                self.trigger("override")  # a REVIEW needs the clerk's decision first
            elif verdict is not None:
                self.presenter.new_patient()
        elif action == "override":
            if verdict is None or verdict.decision == Decision.ADMIT:
                self._refuse(self.tr("There is no verdict to override."))
                return
            choices = tuple(d for d in (Decision.ADMIT, Decision.REJECT) if d != verdict.decision
                            or verdict.decision == Decision.REVIEW)
            self._ask_override(choices)
        elif action == "manual_id":
            self._ask("manual_id", lambda d: self.presenter.submit_id_number(d.text()),
                      min_length=6)
        elif action == "decline_face":
            if state is not None and state.face is not None:
                if state.face.outcome != "declined":  # a result, a mismatch above all, stands
                    self._refuse(self.tr("The face comparison already has a result, which "
                                         "stands: the patient can decline the face check only "
                                         "before it is made."))
                return
            self.presenter.decline_face()
        elif action in ("same_person", "not_same_person"):
            if state is None or not state.face_to_judge:
                self._refuse(self.tr("There is no undecided face to judge."))
                return
            self.presenter.judge_face(action == "same_person")
        elif action == "confirm_card":
            if state is None or not state.card_to_confirm:
                self._refuse(self.tr("There is no card to check: only a number read by the "
                                     "camera needs it."))
                return
            self.presenter.confirm_card()
        elif action == "suspect":
            if state is None:
                return
            self._ask("suspect", lambda d: self.presenter.report_suspect(d.text()), min_length=4)

    def _ask_override(self, choices: tuple[Decision, ...], *, supervisor: bool = False,
                      decision: Decision | None = None, reason: str = "") -> None:
        def send(d: NoteDialog) -> None:
            self._supervisor_user = d.supervisor_user.text()  # kept if the password is refused
            self.presenter.override(d.chosen_decision() or Decision.ADMIT, d.text(),
                                    d.supervisor_credentials())

        self._ask("override", send, decisions=choices, supervisor=supervisor,
            min_length=getattr(self.settings.policy, "override_reason_min_chars", 2))
        assert self.dialog is not None
        if decision is not None:
            self.dialog.set_decision(decision)
        if reason:
            self.dialog.set_text(reason)
        if supervisor:
            self.dialog.supervisor_user.setFocus()

    def _supervisor_needed(self, decision: Decision, reason: str, error: object) -> None:
        """The signed-in role may not make this override: the same dialog again, kept as typed,
        now asking a supervisor for their credentials; ``error``, a supervisor's credentials
        refused, is said inside it (the user name kept, the password to type again)."""
        state = self.presenter.state
        verdict = state.verdict if state is not None else None
        if verdict is None:
            return
        choices = tuple(d for d in (Decision.ADMIT, Decision.REJECT) if d != verdict.decision
                        or verdict.decision == Decision.REVIEW)
        self._ask_override(choices, supervisor=True, decision=decision, reason=reason)
        if isinstance(error, BaseException) and self.dialog is not None:
            self.dialog.supervisor_user.setText(self._supervisor_user)
            self.dialog.set_error(as_desk_error(error).message(self.lang))
            self.dialog.supervisor_password.setFocus()

    def _ask(self, kind: str, on_ok, **kw) -> None:
        self._close_dialog()
        dlg = NoteDialog(kind, self, **kw)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: on_ok(dlg))
        dlg.finished.connect(lambda _r: self._dialog_closed(dlg))
        self.dialog = dlg
        dlg.open()

    def _dialog_closed(self, dlg: NoteDialog) -> None:
        if self.dialog is dlg:
            self.dialog = None
        self.setFocus()

    def _person_masked(self) -> str:
        state = self.presenter.state
        return state.person.id_masked if state is not None and state.person is not None else ""

    def _close_dialog(self) -> None:
        self.window_actions.close_dialog()
        if self.dialog is not None:
            self.dialog.reject()
            self.dialog = None

    def _refuse(self, message: str) -> None:
        from desk_app.errors import Text

        self._show_error(UserInputError(Text(message, message)))

    def _show_error(self, error: BaseException) -> None:
        show_error(self, error, self.lang)

    # --- keys ---------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.trigger("next")
        elif key == Qt.Key.Key_Escape:
            self.trigger("reset")
        else:
            super().keyPressEvent(event)

    # --- state --------------------------------------------------------------------------------

    def _on_state(self, state: CheckinState | None) -> None:
        self.idle_timer.start()  # the clerk is at work: the idle reset starts over
        self.steps.set_state(state, self.lang)
        self.verdict.set_state(state, self.lang)
        if state is None:
            for pv in self.previews:  # the next patient: no face box, code or card outline left
                pv.set_overlays()
        else:
            self.previews[0].set_face_boxes([state.face_box] if state.face_box else ())
        if state is None or not state.awaiting_card_photo:
            self.card_photo_timer.stop()
        elif not self.card_photo_timer.isActive():
            self.card_photo_timer.start()
        self._update_buttons()

    def _on_verdict(self, verdict: VerdictView) -> None:
        self.sounds.play(verdict.decision.value)

    def _idle_reset(self) -> None:
        state = self.presenter.state
        busy = state is not None and (state.verdict is not None or state.booking is not None
                                      or state.person is not None)
        if busy:
            log.info("idle for %d s: screen reset for the next patient",
                     self.settings.ui.idle_reset_s)
            self._close_dialog()
            self.presenter.new_patient()

    def _update_buttons(self) -> None:
        state = self.presenter.state
        verdict = state.verdict if state else None
        self.buttons["override"].setEnabled(verdict is not None
                                            and verdict.decision != Decision.ADMIT)
        self.buttons["suspect"].setEnabled(state is not None)
        self.buttons["decline_face"].setEnabled(state is not None and verdict is None
                                                and state.face is None)
        for action in ("same_person", "not_same_person"):
            self.buttons[action].setEnabled(state is not None and state.face_to_judge)
        self.buttons["confirm_card"].setEnabled(state is not None and state.card_to_confirm)
        for action, _key in WINDOW_KEYS:
            if action in self.buttons:
                self.buttons[action].setEnabled(self.window_actions.available())

    def _update_badge(self) -> None:
        self.alert_badge.setText("⚠ " + self.tr("Alerts: %1").replace("%1", str(self.alert_count)))

    # --- language -----------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Check-in"))
        words = {
            "next": self.tr("Next patient"),
            "reset": self.tr("Reset"),
            "override": self.tr("Override"),
            "manual_id": self.tr("Type ID number"),
            "decline_face": self.tr("Declines face check"),
            "suspect": self.tr("Report suspect"),
            "same_person": self.tr("Same person"),
            "not_same_person": self.tr("Not the same person"),
            "confirm_card": self.tr("Card checked"),
            "appeal": self.tr("Record appeal"),
            "unfreeze": self.tr("Unfreeze booking account"),
        }
        for action, b in self.buttons.items():
            b.setText(f"[{b.property('key')}] {words[action]}")
        self._update_badge()
        state = self.presenter.state
        self.steps.set_state(state, self.lang)
        self.verdict.set_state(state, self.lang)
        self._update_buttons()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = current_lang()
            self.retranslate()
        super().changeEvent(event)
