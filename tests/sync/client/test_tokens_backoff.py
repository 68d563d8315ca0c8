"""The token store's file fallback (no keyring backend on this machine) and the back-off curve."""

from __future__ import annotations

import os
import random

import pytest

from desk_app.errors import ConfigError
from sync.backoff import Backoff
from sync.tokens import TokenStore


def test_token_falls_back_to_an_owner_only_file(tmp_path):
    store = TokenStore(tmp_path, "H001-desk-01")
    assert store.get() is None
    store.set("abc.DEF-123")
    assert store.get() == "abc.DEF-123"
    if store.backend == "file":
        assert oct(store.file.stat().st_mode & 0o777) == "0o600"
        assert oct(store.file.parent.stat().st_mode & 0o777) == "0o700"
    store.clear()
    assert store.get() is None


def test_token_file_readable_by_others_is_refused(tmp_path):
    store = TokenStore(tmp_path, "d", use_keyring=False)
    store.set("secret")
    os.chmod(store.file, 0o644)
    with pytest.raises(ConfigError):
        store.get()


def test_token_must_be_one_word(tmp_path):
    with pytest.raises(ValueError):
        TokenStore(tmp_path, "d", use_keyring=False).set("two words")


def test_backoff_grows_to_the_ceiling_with_jitter():
    b = Backoff(base_s=1.0, max_s=30.0, rng=random.Random(7))
    delays = [b.next_delay() for _ in range(40)]
    assert all(0.5 <= d <= 30.0 for d in delays)
    assert max(delays[:3]) <= 4.0  # 1, 2, 4 at most
    assert max(delays[10:]) > 10.0  # reached the higher ranges
    assert len({round(d, 3) for d in delays[10:]}) > 20  # jittered, not a fixed schedule
    b.reset()
    assert b.next_delay() <= 1.0
