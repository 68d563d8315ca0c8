"""The platform, independent of HTTP: one small facade over its parts, used by the API
(``app.py``), the CLI and the seed.

``Platform`` is the shared :class:`~desk_platform.base.Context` (database, data key, clock,
``meta`` values) and hands out one part per aggregate, each in its own module::

    platform.keys         keys.py        signing keys, revocations
    platform.enrollment   enrollment.py  hospitals, desks, enrollment codes, bearer tokens
    platform.bookings     bookings.py    slots, bookings, cancellations, booking deltas
    platform.blacklist    blacklist.py   bans, reveal for the police, blacklist deltas
    platform.visits       ingest.py      visit batches, double check-ins, overrides
    platform.alerts       alerts.py      alerts by cursor, suspect reports
    platform.stats        stats.py       a hospital's day in figures
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from desk_app.identity.hashing import DEFAULT_SCRYPT, b64e
from desk_platform import db as T
from desk_platform import idrepair
from desk_platform.alerts import Alerts
from desk_platform.base import Context, to_json
from desk_platform.blacklist import Blacklist
from desk_platform.bookings import Bookings, CancelPolicy
from desk_platform.db import Database
from desk_platform.enrollment import Enrollment
from desk_platform.ingest import Visits
from desk_platform.keys import Keys
from desk_platform.secrets import PlatformSecrets
from desk_platform.stats import Stats


class Platform(Context):
    def __init__(
        self,
        db: Database,
        secrets_: PlatformSecrets,
        *,
        now: Callable[[], datetime] | None = None,
        cancel_policy: CancelPolicy | None = None,
        rng: random.Random | None = None,
    ):
        super().__init__(db, secrets_, now=now)
        self.keys = Keys(self)
        self.enrollment = Enrollment(self)
        self.bookings = Bookings(self, self.keys, cancel_policy=cancel_policy, rng=rng)
        self.blacklist = Blacklist(self)
        self.alerts = Alerts(self)
        self.visits = Visits(self, self.alerts)
        self.stats = Stats(self)

    def initialize(self, *, timezone: str = "Asia/Shanghai") -> bool:
        """Create the platform-wide values once (blacklist salt, time zone) and a signing key;
        put ID numbers stored before 2026-12 in the canonical form (:mod:`.idrepair`, once).
        Returns whether anything was created."""
        ZoneInfo(timezone)  # refuse an unknown zone early
        created = False
        with self.db.write() as conn:
            for key, value in (
                ("blacklist_salt", b64e(secrets.token_bytes(16))),
                ("scrypt", to_json(DEFAULT_SCRYPT.as_dict())),
                ("timezone", timezone),
                ("created_at", self.now().isoformat()),
            ):
                r = conn.execute(self.db.insert(T.meta).values(key=key, value=value)
                                 .on_conflict_do_nothing().returning(T.meta.c.key))
                created |= r.first() is not None
            has_key = conn.execute(select(func.count()).select_from(T.signing_keys)).scalar_one()
        if not has_key:
            self.keys.rotate()
            created = True
        self.forget_meta()
        if idrepair.repair_needed(self):
            idrepair.canonicalize_blacklist(self)
        return created
