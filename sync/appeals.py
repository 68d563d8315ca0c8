"""Two desk actions for the task force's console, below any screen: a person's appeal against
the blacklist, and unfreezing their booking account, both after the clerk checked the ID card.

:class:`WindowService` is what the check-in screen calls (``desk_app.services.api.WindowOps``):
it takes the number of the card checked in the open check-in, sends the action at once and,
when the platform cannot be reached, keeps it in the outbox (kinds ``appeal`` / ``unfreeze``)
for the sync worker to send (:func:`send_queued`); either way the desk's audit log has it.

The number goes no further than this desk: the platform gets the blacklist hash the desk
computes with the platform's salt (the one it compares with its blacklist copy). Typed errors
come back worded for the clerk (bad number, platform unreachable, nothing to appeal).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from desk_app.errors import ConfigError, NetworkError, Text, UserInputError
from desk_app.identity.hashing import ScryptParams, b64d, b64e, slow_hash
from desk_app.identity.idnumber import parse_id_number
from desk_app.logs import MASKER, mask_id_number
from desk_app.services.model import WindowActionView
from desk_app.services.session import SessionService
from desk_app.storage import Store
from desk_app.storage.audit import AuditAction
from sync.client import DeskApi, PlatformRefused

log = logging.getLogger(__name__)

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


# --- the window's actions, sent now or queued ----------------------------------------------------

KIND_APPEAL = "appeal"
KIND_UNFREEZE = "unfreeze"
WINDOW_KINDS = (KIND_APPEAL, KIND_UNFREEZE)
MAX_STATEMENT = 500


def check_statement(statement: str) -> str:
    """The person's statement: required, at most :data:`MAX_STATEMENT` characters, ID numbers
    and phone numbers in it masked (it is kept in the outbox and sent to the platform)."""
    statement = statement.strip()
    if len(statement) < 2:
        raise UserInputError(Text("请填写申诉人的陈述 (申诉理由)。",
                                  "Please write the person's statement (why they appeal)."),
                             detail="appeal: empty statement")
    if len(statement) > MAX_STATEMENT:
        raise UserInputError(Text(f"申诉理由不能超过 {MAX_STATEMENT} 字。",
                                  f"The statement may have at most {MAX_STATEMENT} characters."),
                             detail="appeal: statement too long")
    return MASKER.mask(statement)


def send_queued(api: DeskApi, kind: str, payload: dict[str, Any]) -> str:
    """Send one queued window action (the sync worker's push); a short result for the log.
    Raises :class:`PlatformRefused` (the item is kept, marked) or a network error (retried)."""
    if kind == KIND_APPEAL:
        filed = api.file_appeal(payload["id_hash"], payload["clerk"], payload["statement"])
        return f"appeal(s) {', '.join(a.appeal_id for a in filed.appeals)}"
    done = api.unfreeze_accounts(payload["id_hash"], payload["clerk"]).accounts
    return f"{len(done)} account(s) unfrozen"


class WindowService:
    """Implements :class:`desk_app.services.api.WindowOps` (composition root: ``build_desk``).

    ``checked_number(session_id)`` gives the number of the card checked in the open check-in
    (``CheckinService.checked_number``); ``api()`` the sync worker's current client."""

    def __init__(self, store: Store, session: SessionService, api: Callable[[], DeskApi],
                 checked_number: Callable[[str], str],
                 on_outbox: Callable[[], None] = lambda: None):
        self.store = store
        self.session = session
        self.api = api
        self.checked_number = checked_number
        self.on_outbox = on_outbox

    def record_appeal(self, session_id: str, statement: str) -> WindowActionView:
        user = self.session.require()
        statement = check_statement(statement)
        number = self.checked_number(session_id)
        id_hash = blacklist_hash(self.store, number)
        key = str(uuid.uuid4())
        try:
            filed = self.api().file_appeal(id_hash, user.username, statement)
        except PlatformRefused as exc:
            if exc.status == 404:
                raise UserInputError(NOT_LISTED, detail="appeal: not listed") from None
            raise
        except NetworkError:
            self._queue(KIND_APPEAL, key, {"id_hash": id_hash, "clerk": user.username,
                                           "statement": statement})
            self._audit(user.username, AuditAction.APPEAL_RECORDED, key, queued=True)
            return WindowActionView(KIND_APPEAL, mask_id_number(number), queued=True)
        ids = tuple(a.appeal_id for a in filed.appeals)
        self._audit(user.username, AuditAction.APPEAL_RECORDED, key, queued=False,
                    appeal_ids=list(ids))
        return WindowActionView(KIND_APPEAL, mask_id_number(number), queued=False,
                                appeal_ids=ids)

    def unfreeze(self, session_id: str) -> WindowActionView:
        user = self.session.require()
        number = self.checked_number(session_id)
        id_hash = blacklist_hash(self.store, number)
        key = str(uuid.uuid4())
        try:
            done = self.api().unfreeze_accounts(id_hash, user.username).accounts
        except NetworkError:
            self._queue(KIND_UNFREEZE, key, {"id_hash": id_hash, "clerk": user.username})
            self._audit(user.username, AuditAction.ACCOUNT_UNFROZEN, key, queued=True)
            return WindowActionView(KIND_UNFREEZE, mask_id_number(number), queued=True)
        if not done:
            raise UserInputError(NOT_FROZEN, detail="unfreeze: none frozen")
        self._audit(user.username, AuditAction.ACCOUNT_UNFROZEN, key, queued=False,
                    accounts=len(done))
        return WindowActionView(KIND_UNFREEZE, mask_id_number(number), queued=False,
                                accounts=tuple(done))

    def _queue(self, kind: str, key: str, payload: dict[str, Any]) -> None:
        self.store.outbox.enqueue(kind, key, {**payload, "queued_at": self.store.now().isoformat()})
        log.info("platform unreachable: %s %s queued in the outbox", kind, key)
        self.on_outbox()

    def _audit(self, actor: str, action: AuditAction, key: str, **detail: Any) -> None:
        # ids and flags only: the number, the name and the statement stay out of the audit log
        self.store.audit.record(actor, action, key, detail)
