"""``desk-app audit verify``: recompute the audit log's keyed hash chain and name every entry
that was edited, deleted or added outside the application."""

from __future__ import annotations

import argparse
import sys

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


def audit_verify(args: argparse.Namespace) -> int:
    lang = getattr(args, "lang", None) or "zh_CN"
    paths = AppPaths.resolve(getattr(args, "data_dir", None))
    if not paths.database_file.exists():
        print(Text("没有本地数据库: {p}", "No local database at {p}").format(
            p=paths.database_file)(lang), file=sys.stderr)
        return 1
    store = Store.open(paths)
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
