"""Staff accounts from the platform: the sync worker's pull of the hospital's accounts.

``GET /v1/hospitals/{id}/staff?since=N`` answers the accounts changed after version ``N`` with
their argon2 hashes (:class:`sync.protocol.StaffDelta`); each page is cached with its cursor in
one transaction (:class:`desk_app.storage.staff_cache.StaffCache`). Accounts that may no longer
sign in (disabled on the platform, or given another role) go to the listeners, so whoever is
signed in under such a name is signed out at once (the composition root wires
``SessionService.sign_out_if``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from desk_app.storage.staff_cache import CachedAccount, StaffCache
from sync import protocol
from sync.client import DeskApi

log = logging.getLogger(__name__)

PATH_STAFF = protocol.API_PREFIX + "/hospitals/{hospital_id}/staff"

SignOut = Callable[[frozenset[str]], Any]


def fetch(api: DeskApi, hospital_id: str, since: int, limit: int) -> protocol.StaffDelta:
    return api.call("GET", PATH_STAFF.format(hospital_id=hospital_id), protocol.StaffDelta,
                    params={"since": since, "limit": limit})[0]


def cached(accounts: Iterable[protocol.StaffAccountWire]) -> list[CachedAccount]:
    return [CachedAccount(username=a.username, display_name=a.display_name, role=a.role.value,
                          active=a.active, version=a.version, password_hash=a.password_hash)
            for a in accounts]


class StaffPull:
    """One part of the pull: the hospital's accounts, page by page, each with its cursor."""

    def __init__(self, cache: StaffCache):
        self.cache = cache
        self._listeners: list[SignOut] = []

    def add_listener(self, fn: SignOut) -> None:
        """``fn(usernames)`` on the sync thread after a page disabled or changed them."""
        self._listeners.append(fn)

    def run(self, fetch_page: Callable[[int], protocol.StaffDelta]) -> int:
        """Pull every page (``fetch_page(since)``); returns the number of accounts applied."""
        since = self.cache.version()
        pulled = 0
        while True:
            d = fetch_page(since)
            if d.accounts or d.version != since:
                applied = self.cache.apply(cached(d.accounts), d.version)
                if applied.changed:
                    log.info("staff accounts: %d changed on the platform", applied.changed)
                if applied.sign_out:
                    for fn in list(self._listeners):
                        try:
                            fn(applied.sign_out)
                        except Exception:  # noqa: BLE001 - a listener's bug must not stop sync
                            log.exception("staff listener failed")
            pulled += len(d.accounts)
            since = d.version
            if not d.more:
                return pulled
