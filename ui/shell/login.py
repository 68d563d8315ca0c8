"""Login with a local account, lock after idle time, and which screens each role sees.

Hiding a screen is only convenience: every service checks the role of the logged-in user too.

Wiring::

    login = LoginDialog(session_ops, settings, lang, runner=runner, parent=window)
    login.logged_in.connect(lambda user: (window.set_role_screens(screens_for(user.role)),
                                          window.set_locked(False)))
    lock = IdleLock(settings.ui.lock_after_idle_min * 60_000, parent=window).install()
    lock.locked.connect(lambda: (window.set_locked(True), runner.run(session_ops.logout),
                                 login.open_locked()))
    login.open()
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk_app.errors import DeskError
from desk_app.services.api import SessionOps
from desk_app.services.model import Role, UserView
from desk_app.settings import Settings
from ui.operations import Operations, current_lang

# Screen object names each role may see (the tab is hidden for the others); the services check
# the role again on every call. Clerks see the alert list (not the photos: SecurityService).
ROLE_SCREENS: dict[Role, frozenset[str]] = {
    Role.CLERK: frozenset({"CheckinScreen", "SecurityScreen", "AboutScreen", "DemoPanel"}),
    Role.SECURITY: frozenset({"CheckinScreen", "SecurityScreen", "StatsScreen", "AboutScreen",
                              "DemoPanel"}),
    Role.ADMIN: frozenset({"CheckinScreen", "SecurityScreen", "StatsScreen", "AuditScreen",
                           "SettingsScreen", "AboutScreen", "DemoPanel"}),
}


#: ``desk-app run --security-office``: the window shows only these, to these roles.
OFFICE_SCREENS = frozenset({"SecurityScreen", "AboutScreen"})
OFFICE_ROLES = frozenset({Role.SECURITY, Role.ADMIN})


def screens_for(role: Role, *, office: bool = False) -> frozenset[str]:
    screens = ROLE_SCREENS.get(role, frozenset({"AboutScreen"}))
    if office:
        return screens & OFFICE_SCREENS if role in OFFICE_ROLES else frozenset()
    return screens


class LoginDialog(QDialog):
    logged_in = Signal(object)  # UserView

    def __init__(self, ops: SessionOps, settings: Settings, lang: str = "zh_CN", *,
                 runner: Operations | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LoginDialog")
        self.setModal(True)
        self.ops = ops
        self.settings = settings
        self.lang = lang
        self.runner = runner or Operations(self, parent=self)
        self.user: UserView | None = None
        self.locked_for: str | None = None  # username when re-opened by the idle lock
        self.account_ended = False  # re-opened because the platform disabled the account
        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.username = QLineEdit(self)
        self.username.setObjectName("LoginUsername")
        self.password = QLineEdit(self)
        self.password.setObjectName("LoginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel(self)
        self.error.setObjectName("LoginError")
        self.error.setStyleSheet("color: #b3261e;")
        self.error.setWordWrap(True)
        self.button = QPushButton(self)
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        self.password.returnPressed.connect(self.submit)
        self._user_label = QLabel(self)
        self._password_label = QLabel(self)
        form = QFormLayout()
        form.addRow(self._user_label, self.username)
        form.addRow(self._password_label, self.password)
        lay = QVBoxLayout(self)
        lay.addWidget(self.banner)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.button)
        self.retranslate()

    def open_locked(self) -> None:
        """Re-open after the idle lock: the screen stays hidden behind the dialog."""
        self.locked_for = self.user.username if self.user else None
        self.user = None
        self.password.clear()
        self.error.clear()
        if self.locked_for:
            self.username.setText(self.locked_for)
        self.retranslate()
        self.open()
        self.password.setFocus()

    def open_fresh(self, *, account_ended: bool = False) -> None:
        """Re-open after "sign out / switch user": empty fields, the next person logs in
        (``account_ended``: the account was disabled or changed on the platform)."""
        self.user = None
        self.locked_for = None
        self.account_ended = account_ended
        self.username.clear()
        self.password.clear()
        self.error.clear()
        self.retranslate()
        self.open()
        self.username.setFocus()

    def refuse_role(self) -> None:
        """The security office window: only security staff and administrators sign in (called
        from ``logged_in``: the dialog opens again once it has closed)."""
        self.user = None
        QTimer.singleShot(0, self._refused)

    def _refused(self) -> None:
        self.open_fresh()
        self.error.setText(self.tr("This window is the security office: sign in as security "
                                   "staff or an administrator."))

    def submit(self) -> None:
        name, pw = self.username.text().strip(), self.password.text()
        if not name or not pw:
            self.error.setText(self.tr("Enter your user name and password."))
            return
        self.button.setEnabled(False)
        self.error.clear()
        # Password hashing (argon2) takes a while: never on the GUI thread.
        self.runner.run(self.ops.login, name, pw, on_success=self._ok, on_failure=self._failed)

    def _ok(self, user: UserView) -> None:
        self.button.setEnabled(True)
        self.password.clear()
        self.user = user
        self.locked_for = None
        self.account_ended = False
        self.logged_in.emit(user)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.button.setEnabled(True)
        self.password.clear()
        if isinstance(error, DeskError):
            self.error.setText(error.message(self.lang))
        else:
            from ui.errors import show_error

            show_error(self, error, self.lang)

    def reject(self) -> None:
        """Esc / close does not get past the login."""
        if self.user is not None:
            super().reject()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Log in"))
        if self.account_ended:
            self.banner.setText(self.tr(
                "You were signed out: your account was disabled or changed by the hospital's "
                "administrator."))
        else:
            self.banner.setText(self.tr("Locked after inactivity. Log in again to continue.")
                                if self.locked_for else self.tr("Log in with your desk account."))
        self._user_label.setText(self.tr("User name"))
        self._password_label.setText(self.tr("Password"))
        self.button.setText(self.tr("Log in"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = current_lang()
            self.retranslate()
        super().changeEvent(event)


class SignedOutRelay(QObject):
    """``signed_out(UserView)`` on the GUI thread when the session service ended a session from
    another thread (the sync worker, after the platform disabled the account)."""

    signed_out = Signal(object)

    def __call__(self, user: UserView) -> None:
        self.signed_out.emit(user)


class PatientGate(QObject):
    """What the devices bring of a patient reaches the check-in screen only while someone is
    signed in (``window.locked`` false): behind the login no code, card or face is processed,
    and no error about it opens over the login. Cards come from the reader's thread; they are
    checked on the GUI thread, where the lock is set, so a card read as the desk locks is
    dropped too."""

    _card = Signal(object)

    def __init__(self, window: QWidget, deliver_card: Callable[[object], None]) -> None:
        super().__init__(window)
        self.window = window
        self._deliver_card = deliver_card
        self._card.connect(self._card_in)  # queued from another thread

    def open(self) -> bool:
        return not getattr(self.window, "locked", False)

    def post_card(self, card: object) -> None:
        """Any thread."""
        self._card.emit(card)

    def _card_in(self, card: object) -> None:
        if self.open():
            self._deliver_card(card)


class SettingsRelay(QObject):
    """``saved(Settings)`` on the GUI thread for a ``SettingsHolder`` listener: the holder runs
    its listeners on the thread that saved (the settings screen's pool worker), and timers and
    widgets may only be touched on their own thread. Create it in the GUI thread; append it to
    ``on_saved_listeners`` and connect ``saved`` to the GUI-side slots."""

    saved = Signal(object)  # the new Settings

    def __call__(self, _old: Settings, new: Settings) -> None:
        self.saved.emit(new)


class IdleLock(QObject):
    """Emits :attr:`locked` after ``timeout_ms`` without keyboard or mouse input anywhere in
    the application (an application-wide event filter restarts the timer)."""

    locked = Signal()

    _ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                 QEvent.Type.Wheel, QEvent.Type.TouchBegin}

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(timeout_ms)
        self.timer.timeout.connect(self._expired)
        self.enabled = True
        self.minute_ms = 60_000  # the length of a settings minute (tests shorten it)

    def install(self) -> IdleLock:
        QApplication.instance().installEventFilter(self)
        self.timer.start()
        return self

    def uninstall(self) -> None:
        QApplication.instance().removeEventFilter(self)
        self.timer.stop()

    def set_timeout_min(self, minutes: int) -> None:
        """GUI thread only (the timer's own thread): connect it through :class:`SettingsRelay`."""
        self.timer.setInterval(minutes * self.minute_ms)
        self.timer.start()

    def apply_settings(self, settings: Settings) -> None:
        self.set_timeout_min(settings.ui.lock_after_idle_min)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in self._ACTIVITY and self.enabled:
            self.timer.start()
        return False

    def _expired(self) -> None:
        if self.enabled:
            self.locked.emit()

