"""Hospital IT's commands on the local records: ``desk-app audit verify`` recomputes the audit
log's keyed hash chain and names every entry that was edited, deleted or added outside the
application; ``desk-app outbox list|retry`` shows what waits for the platform and puts the items
it refused for good (parked) back in the queue."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from desk_app.errors import Text
from desk_app.paths import AppPaths
from desk_app.storage.records import AuditProblem
from desk_app.storage.store import Store

_KIND = {
    "edited": Text("第 {seq} 条被修改", "entry {seq} was edited"),
    "deleted": Text("第 {seq} 条起有记录被删除", "entries from {seq} on were deleted"),
    "truncated": Text("末尾从第 {seq} 条起的记录被删除", "the last entries from {seq} on were deleted"),
    "inserted": Text("第 {seq} 条之后有程序外添加的记录", "entries after {seq} were added outside the app"),
}


def _problem_line(p: AuditProblem, lang: str) -> str:
    if lang.lower().startswith("en"):
        return f"  - {p.message}"
    return f"  - {_KIND[p.kind].format(seq=p.seq)(lang)} ({p.message})"


def _open(args: argparse.Namespace) -> Store | None:
    paths = AppPaths.resolve(getattr(args, "data_dir", None))
    if not paths.database_file.exists():
        print(Text("没有本地数据库: {p}", "No local database at {p}").format(
            p=paths.database_file)(_lang(args)), file=sys.stderr)
        return None
    return Store.open(paths)


def _lang(args: argparse.Namespace) -> str:
    return getattr(args, "lang", None) or "zh_CN"


def audit_verify(args: argparse.Namespace) -> int:
    lang = _lang(args)
    store = _open(args)
    if store is None:
        return 1
    try:
        report = store.audit.verify()
    finally:
        store.close()
    if report.ok:
        print(Text("审计日志完整: 已核对 {n} 条, 哈希链无断裂。",
                   "Audit log intact: {n} entries checked, the hash chain holds.").format(
            n=report.checked)(lang))
        return 0
    print(Text("审计日志被篡改: 已核对 {n} 条, 发现 {k} 处问题:",
               "Audit log tampered with: {n} entries checked, {k} problems:").format(
        n=report.checked, k=len(report.problems))(lang))
    for p in report.problems:
        print(_problem_line(p, lang))
    return 1


def outbox_list(args: argparse.Namespace) -> int:
    """The count waiting and every parked item: number, kind, when queued and parked, why.
    Nothing personal is shown (the payloads stay encrypted)."""
    lang = _lang(args)
    store = _open(args)
    if store is None:
        return 1
    try:
        waiting, parked = store.outbox.count(), store.outbox.parked()
    finally:
        store.close()
    print(Text("等待上传: {n} 条", "Waiting for the platform: {n}").format(n=waiting)(lang))
    print(Text("被平台拒收, 保留在本机: {n} 条", "Refused for good, kept on this PC: {n}").format(
        n=len(parked))(lang))
    for item in parked:
        queued = _local(item.created_at)
        refused = _local(item.sent_at) if item.sent_at else "?"
        print(f"  #{item.id:<6} {item.kind:16} {queued} -> {refused}  {item.last_error}")
    if parked:
        print(Text("问题解决后 (例如平台已修复或本窗口已重新登记), 用 desk-app outbox retry 编号 (或 --all) "
                   "放回队列。",
                   "Once the cause is mended (the platform, or this desk enrolled again), "
                   "`desk-app outbox retry ID ...` (or --all) puts them back in the queue.")(lang))
    return 0


def outbox_retry(args: argparse.Namespace) -> int:
    """Put parked items back in the queue; the desk's next sync cycle sends them again."""
    lang = _lang(args)
    if bool(args.ids) == bool(args.all):
        print(Text("请给出要重试的编号, 或 --all (二者选一)。",
                   "Give the items' numbers or --all (one of the two)."
                   )(lang), file=sys.stderr)
        return 2
    store = _open(args)
    if store is None:
        return 1
    try:
        wanted = {i.id for i in store.outbox.parked(limit=1_000_000)}
        ids = sorted(wanted) if args.all else sorted(set(args.ids))
        unknown = [i for i in ids if i not in wanted]
        moved = store.outbox.requeue([i for i in ids if i in wanted])
        if moved:
            from desk_app.storage.audit import AuditAction

            store.audit.record("cli", AuditAction.OUTBOX_REQUEUED, "",
                               {"ids": [i for i in ids if i in wanted], "count": moved})
    finally:
        store.close()
    print(Text("已放回队列: {n} 条; 本窗口下次同步时重新上传。",
               "Put back in the queue: {n}; the desk sends them at its next sync.").format(
        n=moved)(lang))
    if unknown:
        print(Text("不是被拒收的记录, 未处理: {ids}", "Not parked items, left alone: {ids}").format(
            ids=", ".join(f"#{i}" for i in unknown))(lang), file=sys.stderr)
        return 1
    return 0


def _local(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M")
