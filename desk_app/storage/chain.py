"""The audit log's hash chain.

Each row's ``row_hash`` is HMAC-SHA256(audit key, prev_hash || canonical row), where the audit key
is derived from the desk's master key. A plain SHA-256 chain would catch careless edits only: a
thief holding the database file could rewrite a row and recompute every later hash. With the
keyed chain, rewriting needs the key, which lives in the OS keyring or the key file, not in the
database. The head of the chain (last seq and hash) is kept in ``store_meta`` with its own MAC,
so deleting the newest rows (truncating the tail) is detected as well; the only thing the chain
cannot tell is a whole database file swapped for an older copy of itself.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desk_app.storage.records import AuditProblem, AuditReport

GENESIS = b"\x00" * 32
HEAD_KEY = "audit_head"
ANCHOR_KEY = "audit_anchor"  # where the chain starts after old entries were purged


@dataclass(frozen=True)
class ChainRow:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail_json: str
    prev_hash: bytes
    row_hash: bytes


def canonical(seq: int, at: datetime, actor: str, action: str, subject: str,
              detail_json: str) -> bytes:
    return json.dumps([seq, at.isoformat(), actor, action, subject, detail_json],
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def detail_to_json(detail: dict[str, Any] | None) -> str:
    return json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)


def row_hash(mac: Callable[[bytes], bytes], prev_hash: bytes, seq: int, at: datetime, actor: str,
             action: str, subject: str, detail_json: str) -> bytes:
    return mac(prev_hash + canonical(seq, at, actor, action, subject, detail_json))


def head_value(mac: Callable[[bytes], bytes], seq: int, last_hash: bytes,
               label: bytes = b"head") -> str:
    """A chain position (seq and row hash) with a MAC: the head, or the anchor (``label``)."""
    tag = mac(label + b"|" + str(seq).encode() + b"|" + last_hash)
    return json.dumps({"seq": seq, "hash": last_hash.hex(), "mac": tag.hex()})


def parse_head(value: str) -> tuple[int, bytes, bytes]:
    d = json.loads(value)
    return int(d["seq"]), bytes.fromhex(d["hash"]), bytes.fromhex(d["mac"])


def verify_chain(mac: Callable[[bytes], bytes], rows: Iterable[ChainRow],
                 head: str | None, anchor: str | None = None) -> AuditReport:
    """Walk the chain in seq order and name every row that was edited, deleted or added.

    ``anchor``: after a retention purge the chain starts after this position."""
    problems: list[AuditProblem] = []
    expected_seq = 1
    prev = GENESIS
    if anchor is not None:
        a_seq, a_hash, a_mac = parse_head(anchor)
        if hmac.compare_digest(mac(b"anchor|" + str(a_seq).encode() + b"|" + a_hash), a_mac):
            expected_seq, prev = a_seq + 1, a_hash
        else:
            problems.append(AuditProblem(a_seq, "edited",
                                         "the record of purged old entries was edited"))
    checked = 0
    last_seq = expected_seq - 1
    for row in rows:
        checked += 1
        if row.seq > expected_seq:
            gone = (f"{expected_seq}" if row.seq - expected_seq == 1
                    else f"{expected_seq}-{row.seq - 1}")
            problems.append(AuditProblem(expected_seq, "deleted",
                                         f"entries {gone} are missing (deleted)"))
        elif row.seq < expected_seq:  # cannot happen with a primary key, but be exact
            problems.append(AuditProblem(row.seq, "inserted", f"entry {row.seq} is out of order"))
        recomputed = row_hash(mac, row.prev_hash, row.seq, row.at, row.actor, row.action,
                              row.subject, row.detail_json)
        if not hmac.compare_digest(recomputed, row.row_hash):
            problems.append(AuditProblem(row.seq, "edited",
                                         f"entry {row.seq} was edited (its hash does not match)"))
        elif row.seq == expected_seq and not hmac.compare_digest(row.prev_hash, prev):
            problems.append(AuditProblem(row.seq, "edited",
                                         f"entry {row.seq} does not follow entry {row.seq - 1}"))
        prev = row.row_hash
        expected_seq = row.seq + 1
        last_seq = row.seq
    if head is None:
        if checked:
            problems.append(AuditProblem(0, "edited", "the chain head record is missing"))
        return AuditReport(checked, tuple(problems))
    head_seq, head_hash, head_mac = parse_head(head)
    want_mac = mac(b"head|" + str(head_seq).encode() + b"|" + head_hash)
    if not hmac.compare_digest(want_mac, head_mac):
        problems.append(AuditProblem(head_seq, "edited", "the chain head record was edited"))
    elif head_seq > last_seq:
        gone = f"{last_seq + 1}" if head_seq == last_seq + 1 else f"{last_seq + 1}-{head_seq}"
        problems.append(AuditProblem(last_seq + 1, "truncated",
                                     f"entries {gone} at the end are missing (deleted)"))
    elif head_seq < last_seq:
        problems.append(AuditProblem(head_seq + 1, "inserted",
                                     f"entries after {head_seq} were added outside the app"))
    elif head_seq and not hmac.compare_digest(head_hash, prev):
        problems.append(AuditProblem(head_seq, "edited",
                                     f"entry {head_seq} differs from the recorded chain head"))
    return AuditReport(checked, tuple(problems))
