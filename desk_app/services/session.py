"""Who is at the desk: login, logout, and the role checks every service makes.

Roles are checked here, in the services, not only by hiding buttons: a screen that shows a
button by mistake still cannot make the service do what the role does not allow.
"""

from __future__ import annotations

import logging
import threading

from desk_app.errors import AuthError, Text
from desk_app.services.model import Role, UserView
from desk_app.storage import Store, User

log = logging.getLogger(__name__)

NOT_LOGGED_IN = Text("请先登录。", "Please log in first.")


def _view(user: User) -> UserView:
    return UserView(username=user.username, display_name=user.display_name, role=Role(user.role))


class SessionService:
    """Implements :class:`desk_app.services.api.SessionOps`."""

    def __init__(self, store: Store):
        self.store = store
        self._user: UserView | None = None
        self._lock = threading.Lock()

    def login(self, username: str, password: str) -> UserView:
        user = _view(self.store.authenticate(username.strip(), password))  # audited by the store
        with self._lock:
            self._user = user
        log.info("login: %s (%s)", user.username, user.role.value)
        return user

    def logout(self) -> None:
        with self._lock:
            user, self._user = self._user, None
        if user is not None:
            self.store.audit(user.username, "logout", user.username)

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
