"""Two desk actions for the task force's console, below any screen: a person's appeal against
the blacklist, and unfreezing their booking account, both after the clerk checked the ID card.

The number goes no further than this desk: the platform gets the blacklist hash the desk
computes with the platform's salt (the one it compares with its blacklist copy). Typed errors
come back worded for the clerk (bad number, platform unreachable, nothing to appeal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from desk_app.errors import ConfigError, Text, UserInputError
from desk_app.identity.hashing import ScryptParams, b64d, b64e, slow_hash
from desk_app.identity.idnumber import parse_id_number
from desk_app.storage import Store
from sync.client import DeskApi, PlatformRefused

PLATFORM_CONFIG_CURSOR = "platform.config"  # as desk_app.services.checkin keeps it


@dataclass(frozen=True)
class AppealRecorded:
    appeal_ids: tuple[str, ...]
    id_last4: str


def blacklist_hash(store: Store, id_number_text: str, *, today: date | None = None) -> str:
    """The blacklist hash of a typed or read ID number (raises ``InvalidIdNumber``, worded)."""
    number = parse_id_number(id_number_text, today=today).number
    raw = store.cursors.get(PLATFORM_CONFIG_CURSOR)
    try:
        cfg = json.loads(raw or "")
        salt, params = b64d(cfg["blacklist_salt"]), ScryptParams.from_dict(cfg["scrypt"])
    except (ValueError, KeyError, TypeError):
        raise ConfigError(Text("尚未从中心平台取得配置，请先同步后再试。",
                               "The desk has no platform settings yet. Sync, then try again."),
                          detail="platform config missing") from None
    return b64e(slow_hash(number, salt, params))


NOT_LISTED = Text("该证件不在黑名单中，无需申诉。",
                  "This ID is not on the blacklist; there is nothing to appeal.")
NOT_FROZEN = Text("没有因此人被冻结的预约账号。", "No booking account is frozen for this person.")


def record_appeal(store: Store, api: DeskApi, id_number_text: str, clerk: str,
                  statement: str) -> AppealRecorded:
    id_hash = blacklist_hash(store, id_number_text)
    try:
        filed = api.file_appeal(id_hash, clerk, statement)
    except PlatformRefused as exc:
        if exc.status == 404:
            raise UserInputError(NOT_LISTED, detail="appeal: not listed") from None
        raise
    return AppealRecorded(tuple(a.appeal_id for a in filed.appeals),
                          parse_id_number(id_number_text).number[-4:])


def unfreeze_accounts(store: Store, api: DeskApi, id_number_text: str, clerk: str
                      ) -> list[str]:
    """The accounts unfrozen (:class:`UserInputError` when none was frozen for this person)."""
    done = api.unfreeze_accounts(blacklist_hash(store, id_number_text), clerk).accounts
    if not done:
        raise UserInputError(NOT_FROZEN, detail="unfreeze: none frozen")
    return done
