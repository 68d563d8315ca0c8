"""`make translations`: update the .ts sources from the code, then build the .qm files.

    python scripts/translations.py update   # pyside6-lupdate: new strings into the .ts files
    python scripts/translations.py build    # pyside6-lrelease: .ts -> .qm (what the app loads)
    python scripts/translations.py missing  # strings still without a Chinese translation
    python scripts/translations.py set F.tsv  # fill translations: context<TAB>source<TAB>text
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TS_DIR = ROOT / "resources" / "translations"
LANGS = ["zh_CN"]  # the source language of the code is English


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    return str(exe) if exe.exists() else (shutil.which(name) or name)


def sources() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ui").rglob("*.py"))


def update() -> None:
    for lang in LANGS:
        ts = TS_DIR / f"desk_{lang}.ts"
        subprocess.run([_tool("pyside6-lupdate"), *sources(), "-ts", str(ts.relative_to(ROOT)),
                        "-no-obsolete"], cwd=ROOT, check=True)


def build() -> None:
    for ts in sorted(TS_DIR.glob("*.ts")):
        qm = ts.with_suffix(".qm")
        if qm.exists() and qm.stat().st_mtime >= ts.stat().st_mtime:
            continue
        subprocess.run([_tool("pyside6-lrelease"), "-silent", str(ts), "-qm", str(qm)], check=True)


def unfinished(lang: str = "zh_CN") -> list[tuple[str, str]]:
    """(context, source) of every string without a finished translation."""
    root = ET.parse(TS_DIR / f"desk_{lang}.ts").getroot()
    out = []
    for ctx in root.iter("context"):
        name = ctx.findtext("name") or ""
        for msg in ctx.iter("message"):
            tr = msg.find("translation")
            if tr is None or tr.get("type") in ("unfinished", "vanished", "obsolete") or not (tr.text or "").strip():
                out.append((name, msg.findtext("source") or ""))
    return out


def set_translations(pairs: list[tuple[str, str, str]], lang: str = "zh_CN") -> int:
    """Fill (context, source, translation) triples into the .ts file; returns how many matched."""
    path = TS_DIR / f"desk_{lang}.ts"
    tree = ET.parse(path)
    wanted = {(c, s): t for c, s, t in pairs}
    done = 0
    for ctx in tree.getroot().iter("context"):
        name = ctx.findtext("name") or ""
        for msg in ctx.iter("message"):
            key = (name, msg.findtext("source") or "")
            if key in wanted:
                tr = msg.find("translation")
                tr.text = wanted[key]
                tr.attrib.pop("type", None)
                done += 1
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return done


def main(argv: list[str]) -> None:
    cmd = argv[0] if argv else "build"
    if cmd == "missing":
        for ctx, src in unfinished():
            print(f"{ctx}\t{src}")
    elif cmd == "set":  # set FILE.tsv with lines: context<TAB>source<TAB>translation
        rows = [tuple(line.rstrip("\n").split("\t")) for line in open(argv[1], encoding="utf-8")
                if line.strip()]
        print(f"{set_translations([r for r in rows if len(r) == 3])} translations set")
    else:
        {"update": update, "build": build}[cmd]()


if __name__ == "__main__":
    main(sys.argv[1:])
