"""Reading records straight from the pages of a damaged SQLite file.

When a page of the schema or of a table's interior tree is overwritten, SQL cannot reach rows
that are still intact on their leaf pages. This reads every table-leaf page (b-tree page type
0x0D) of the file, decodes each cell's record (following overflow chains) and recognises which
table it belongs to by its columns: count, declared types and NOT NULL. The file format is
SQLite's documented one (https://www.sqlite.org/fileformat2.html): big-endian header fields,
varints, record serial types. Anything that does not decode is skipped; nothing here writes.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

_LEAF_TABLE = 0x0D


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text" | "int" | "real" | "blob" | "any"
    notnull: bool
    rowid_alias: bool  # INTEGER PRIMARY KEY: stored as NULL in the record, the rowid is the value


@dataclass(frozen=True)
class Layout:
    table: str
    columns: tuple[Column, ...]


def _kind(decl: str) -> str:
    d = decl.upper()
    if "INT" in d or "BOOL" in d:
        return "int"
    if "CHAR" in d or "TEXT" in d or "CLOB" in d or "DATE" in d or "TIME" in d:
        return "text"
    if "BLOB" in d or "BINARY" in d:
        return "blob"
    if "REAL" in d or "FLOA" in d or "DOUB" in d:
        return "real"
    return "any"


def layouts(db_file: Path, tables: tuple[str, ...]) -> list[Layout]:
    """The column layout of ``tables`` as a sound database of the same schema has them."""
    out = []
    with closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as conn:
        for t in tables:
            info = conn.execute(f'PRAGMA table_info("{t}")').fetchall()
            pks = [r for r in info if r[5]]
            cols = tuple(Column(r[1], _kind(r[2] or ""), bool(r[3]) or bool(r[5]),
                                len(pks) == 1 and r[5] == 1 and (r[2] or "").upper() == "INTEGER")
                         for r in info)
            if cols:
                out.append(Layout(t, cols))
    return out


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    v = 0
    for n in range(9):
        b = buf[i + n]
        if n == 8:
            return (v << 8) | b, i + 9
        v = (v << 7) | (b & 0x7F)
        if b < 0x80:
            return v, i + n + 1
    raise IndexError  # unreachable


def _values(payload: bytes) -> list[object]:
    header_len, i = _varint(payload, 0)
    types = []
    while i < header_len:
        t, i = _varint(payload, i)
        types.append(t)
    pos = header_len
    out: list[object] = []
    for t in types:
        if t == 0:
            out.append(None)
        elif 1 <= t <= 6:
            n = (1, 2, 3, 4, 6, 8)[t - 1]
            out.append(int.from_bytes(payload[pos:pos + n], "big", signed=True))
            pos += n
        elif t == 7:
            out.append(struct.unpack(">d", payload[pos:pos + 8])[0])
            pos += 8
        elif t in (8, 9):
            out.append(t - 8)
        elif t >= 12:
            n = (t - 12) // 2
            raw = payload[pos:pos + n]
            pos += n
            out.append(bytes(raw) if t % 2 == 0 else raw.decode("utf-8"))
        else:
            raise ValueError("reserved serial type")
        if pos > len(payload):
            raise ValueError("record runs past its payload")
    return out


def _fits(layout: Layout, values: list[object]) -> bool:
    if len(values) != len(layout.columns):
        return False
    for col, v in zip(layout.columns, values, strict=True):
        if v is None:
            if col.notnull and not col.rowid_alias:
                return False
            continue
        ok = {"int": isinstance(v, int), "text": isinstance(v, str),
              "blob": isinstance(v, bytes), "real": isinstance(v, (int, float)),
              "any": True}[col.kind]
        if not ok:
            return False
    return True


def scan(path: Path, tables: list[Layout]) -> Iterator[tuple[str, dict[str, object]]]:
    """(table, row) for every record on a table-leaf page that fits exactly one layout."""
    data = path.read_bytes()
    if len(data) < 512:
        return
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        page_size = 4096  # header damaged: the desk's databases use SQLite's default
    reserved = data[20] if data[:16] == b"SQLite format 3\x00" else 0
    usable = page_size - reserved
    pages = len(data) // page_size

    def page(n: int) -> bytes:  # 1-based
        return data[(n - 1) * page_size:n * page_size]

    for n in range(1, pages + 1):
        p = page(n)
        base = 100 if n == 1 else 0
        if p[base] != _LEAF_TABLE:
            continue
        ncells = int.from_bytes(p[base + 3:base + 5], "big")
        for c in range(min(ncells, usable // 4)):
            try:
                yield from _cell(p, base, c, usable, pages, page, tables)
            except (IndexError, ValueError, UnicodeDecodeError, struct.error):
                continue


def _cell(p: bytes, base: int, c: int, usable: int, pages: int, page, tables: list[Layout]
          ) -> Iterator[tuple[str, dict[str, object]]]:
    off = int.from_bytes(p[base + 8 + 2 * c:base + 10 + 2 * c], "big")
    if not 0 < off < usable:
        return
    size, i = _varint(p, off)
    rowid, i = _varint(p, i)
    if size > 64 * 1024 * 1024:
        return
    max_local = usable - 35
    if size <= max_local:
        payload = p[i:i + size]
    else:
        min_local = ((usable - 12) * 32 // 255) - 23
        local = min_local + (size - min_local) % (usable - 4)
        if local > max_local:
            local = min_local
        parts = [p[i:i + local]]
        nxt = int.from_bytes(p[i + local:i + local + 4], "big")
        got, hops = local, 0
        while got < size and 0 < nxt <= pages and hops < pages:
            ov = page(nxt)
            take = min(usable - 4, size - got)
            parts.append(ov[4:4 + take])
            got += take
            nxt = int.from_bytes(ov[:4], "big")
            hops += 1
        payload = b"".join(parts)
    if len(payload) != size:
        return
    values = _values(payload)
    fitting = [t for t in tables if _fits(t, values)]
    if len(fitting) != 1:
        return
    layout = fitting[0]
    row = {}
    for col, v in zip(layout.columns, values, strict=True):
        row[col.name] = rowid if col.rowid_alias and v is None else v
    yield layout.table, row
