"""``desk-app eval ids [FILE] [--json]``: check ID numbers, one per line, print one verdict per line.

Numbers are printed masked (first 6 and last 4 characters), never in full, and without the birth
date (the mask hides exactly the date, so mask and date together are the number): the output of
a check over real data must not become a list of ID numbers. Blank lines and lines starting with
``#`` are skipped. The summary goes to stderr so the verdicts can be piped on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from desk_app.errors import Text, UserInputError
from desk_app.identity.idnumber import InvalidIdNumber, parse_id_number


def verdicts(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One dict per non-blank, non-comment line: the parse result, masked."""
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            n = parse_id_number(line)
        except InvalidIdNumber as exc:
            yield {"line": lineno, "valid": False, "reason": exc.reason,
                   "message_zh": exc.text.zh, "message_en": exc.text.en}
            continue
        yield {"line": lineno, "valid": True, "kind": n.kind.value, "number": n.masked(),
               "sex": n.sex, "region": n.region_name, "nationality": n.nationality}


def _plain(v: dict[str, Any], lang: str) -> str:
    if v["valid"]:
        extra = f" {v['nationality']}" if v["nationality"] else ""
        return f"{v['line']}\tOK\t{v['kind']}\t{v['number']}\t{v['sex']}\t{v['region']}{extra}"
    msg = v["message_en"] if lang.startswith("en") else v["message_zh"]
    return f"{v['line']}\tINVALID\t{v['reason']}\t{msg}"


def run(lines: Iterable[str], out: TextIO, *, as_json: bool, lang: str = "zh_CN") -> Counter[str]:
    counts: Counter[str] = Counter()
    for v in verdicts(lines):
        counts["valid" if v["valid"] else v["reason"]] += 1
        out.write((json.dumps(v, ensure_ascii=False) if as_json else _plain(v, lang)) + "\n")
    return counts


def main(args: argparse.Namespace) -> int:
    lang = getattr(args, "lang", None) or "zh_CN"
    as_json = bool(getattr(args, "json", False))
    file = getattr(args, "file", None)
    if file is None or file == "-":
        counts = run(sys.stdin, sys.stdout, as_json=as_json, lang=lang)
    else:
        path = Path(file)
        try:
            with path.open(encoding="utf-8", errors="replace") as f:
                counts = run(f, sys.stdout, as_json=as_json, lang=lang)
        except OSError as exc:
            raise UserInputError(Text(f"无法读取文件 {path}。", f"Cannot read the file {path}."),
                                 detail=type(exc).__name__) from exc
    total = sum(counts.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"{total} checked: {detail}" if total else "nothing to check", file=sys.stderr)
    return 0
