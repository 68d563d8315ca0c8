"""Who is at the desk: login, logout, and the role checks every service makes.

Roles are checked here, in the services, not only by hiding buttons: a screen that shows a
button by mistake still cannot make the service do what the role does not allow.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from datetime import timedelta

from desk_app.clock import Clock
from desk_app.errors import AuthError, Text
from desk_app.services.model import Role, UserView
from desk_app.settings import Settings, UiSection
from desk_app.storage import User
from desk_app.storage.audit import AuditAction, AuditLog
from desk_app.storage.users import Users

log = logging.getLogger(__name__)

NOT_LOGGED_IN = Text("请先登录。", "Please log in first.")


def _view(user: User) -> UserView:
    return UserView(username=user.username, display_name=user.display_name, role=Role(user.role))


MAX_DELAY_S = 30


class LoginRefused(AuthError):
    """Too many failed logins for this account: refused before the password is tried."""

    title_text = Text("登录受限", "Login restricted")


class SessionService:
    """Implements :class:`desk_app.services.api.SessionOps`.

    Failed logins are counted from the audit log (persistent across restarts, one record of
    truth): after the n-th failure in a row (n >= 2) the next try waits 2^(n-1) s (at most 30 s), and
    after ``ui.login_max_failures`` the account is locked for ``ui.login_lockout_min``. Unknown
    user names are throttled the same way, so the answer tells nothing about which names exist.
    A successful login or ``desk-app users unlock`` starts the count again."""

    def __init__(self, users: Users, audit: AuditLog, clock: Clock,
                 settings: Callable[[], Settings] | None = None):
        self.users = users
        self.audit = audit
        self.clock = clock
        self._settings = settings or Settings
        self._user: UserView | None = None
        self._lock = threading.Lock()
        self._signed_out: list[Callable[[UserView], None]] = []

    def _throttle(self, username: str, ui: UiSection) -> None:
        history = self.audit.logins(username, ui.login_max_failures)
        failures = []
        for action, at in history:
            if action != AuditAction.LOGIN_FAILED:
                break
            failures.append(at)
        if len(failures) < 2:  # one slip of the finger costs nothing
            return
        now = self.clock.now()
        if len(failures) >= ui.login_max_failures:
            wait = failures[0] + timedelta(minutes=ui.login_lockout_min) - now
        else:
            wait = failures[0] + timedelta(seconds=min(2 ** (len(failures) - 1), MAX_DELAY_S)) - now
        if wait.total_seconds() <= 0:
            return
        self.audit.record(username, AuditAction.LOGIN_REFUSED, username,
                         {"failures": len(failures), "wait_s": math.ceil(wait.total_seconds())})
        log.warning("login refused: %d failed logins in a row", len(failures))
        if len(failures) >= ui.login_max_failures:
            minutes = math.ceil(wait.total_seconds() / 60)
            raise LoginRefused(Text(
                f"连续 {len(failures)} 次登录失败, 该账号已锁定, 请 {minutes} 分钟后再试, 或请管理员解锁。",
                f"{len(failures)} failed logins in a row: the account is locked. Try again in "
                f"{minutes} min, or ask an administrator to unlock it."))
        seconds = math.ceil(wait.total_seconds())
        raise LoginRefused(Text(f"登录失败次数过多, 请 {seconds} 秒后再试。",
                                f"Too many failed logins: try again in {seconds} s."))

    def login(self, username: str, password: str) -> UserView:
        username = username.strip()
        self._throttle(username, self._settings().ui)
        user = _view(self.users.authenticate(username, password))  # audited by the store
        with self._lock:
            self._user = user
        log.info("login: %s (%s)", user.username, user.role.value)
        return user

    def verify(self, username: str, password: str) -> UserView:
        """A colleague's credentials for one action at this desk (a supervisor's override at the
        clerk's window): checked and throttled like a login, audited, and the desk stays signed
        in as before."""
        username = username.strip()
        self._throttle(username, self._settings().ui)
        return _view(self.users.authenticate(username, password))  # audited by the store

    def logout(self) -> None:
        with self._lock:
            user, self._user = self._user, None
        if user is not None:
            self.audit.record(user.username, "logout", user.username)

    def add_signed_out_listener(self, fn: Callable[[UserView], None]) -> None:
        """``fn(user)`` when :meth:`sign_out_if` ended that user's session (on the caller's
        thread: the UI re-emits it as a Qt signal)."""
        self._signed_out.append(fn)

    def sign_out_if(self, usernames: frozenset[str]) -> UserView | None:
        """Sign out whoever is signed in, when their account is among ``usernames`` (disabled or
        changed on the platform: the sync worker calls this after applying the accounts).
        Returns the user signed out, if any."""
        with self._lock:
            user = self._user
            if user is None or user.username not in usernames:
                return None
            self._user = None
        self.audit.record("sync", "logout", user.username, {"why": "account_changed"})
        log.warning("signed out: the account was disabled or changed on the platform")
        for fn in list(self._signed_out):
            fn(user)
        return user

    def current_user(self) -> UserView | None:
        with self._lock:
            return self._user

    def act_as(self, user: UserView) -> None:
        """Set the user without a password: for the demo's and tests' scripted desks only."""
        with self._lock:
            self._user = user

    def require(self, *roles: Role) -> UserView:
        """The current user, if logged in with one of ``roles`` (any role when none given)."""
        user = self.current_user()
        if user is None:
            raise AuthError(NOT_LOGGED_IN)
        if roles and user.role not in roles:
            raise AuthError(Text(
                f"当前账号 ({user.role.value}) 无权执行此操作。",
                f"Your account ({user.role.value}) is not allowed to do this."))
        return user
