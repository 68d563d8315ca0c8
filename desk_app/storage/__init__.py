"""The desk's local store (see ``## Storage`` in docs/architecture.md).

``Store.open(paths)`` opens (creates, upgrades) the encrypted SQLite database and hands out one
part per kind of record (``store.visits``, ``store.outbox``, ``store.alerts``, ``store.blacklist``,
``store.bookings``, ``store.keys``, ``store.cursors``, ``store.users``, ``store.audit``); every
public method of a part is one unit of work returning frozen values from
:mod:`desk_app.storage.records`.
"""

from desk_app.storage.audit import AuditAction
from desk_app.storage.crypto import Crypto, KeyStore
from desk_app.storage.errors import (
    DatabaseTooNewError,
    DecryptionError,
    DuplicateError,
    KeyFileError,
    KeyMismatchError,
    KeyMissingError,
    MigrationError,
    NotFoundError,
    StorageError,
)
from desk_app.storage.records import (
    Alert,
    AlertInput,
    AuditEntry,
    AuditProblem,
    AuditReport,
    BlacklistEntry,
    BlacklistStatus,
    DeltaResult,
    FaceJudgement,
    OutboxItem,
    Override,
    Reason,
    StoredKey,
    StoredKeySet,
    User,
    VisitInput,
    VisitRecord,
)
from desk_app.storage.store import Store

__all__ = [
    "Alert", "AlertInput", "AuditAction", "AuditEntry", "AuditProblem", "AuditReport",
    "BlacklistEntry", "BlacklistStatus", "Crypto", "DatabaseTooNewError", "DecryptionError",
    "DeltaResult", "DuplicateError", "FaceJudgement", "KeyFileError", "KeyMismatchError", "KeyMissingError",
    "KeyStore", "MigrationError", "NotFoundError", "OutboxItem", "Override", "Reason",
    "StorageError", "Store", "StoredKey", "StoredKeySet", "User", "VisitInput", "VisitRecord",
]
