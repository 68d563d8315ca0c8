from __future__ import annotations

import pytest

from desk_app.clock import SystemClock
from desk_app.services.session import SessionService
from desk_app.storage import Store


@pytest.fixture
def store(app_paths):
    s = Store.open(app_paths)
    yield s
    s.close()


@pytest.fixture
def users(store):
    store.users.create("clerk1", "挂号员一", "clerk", "clerk-pass-1")
    store.users.create("guard1", "保卫科一", "security", "guard-pass-1")
    store.users.create("admin1", "信息科", "admin", "admin-pass-1")
    return {"clerk": ("clerk1", "clerk-pass-1"), "security": ("guard1", "guard-pass-1"),
            "admin": ("admin1", "admin-pass-1")}


@pytest.fixture
def session(store, users):
    return SessionService(store.users, store.audit, SystemClock())
