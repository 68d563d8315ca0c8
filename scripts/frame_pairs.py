"""Pairs files for measuring several live photos against one (docs/research/2026-12-faces.md).

From ``east_asian/files.csv``: the people with at least 4 photos. Each of a person's first 4
photos is the ID photo once; the live side is 3 other photos of the person (genuine) and 3
photos of each of 3 other people (impostors, the next people in name order). Written twice:
``frames.csv`` with the 3 live photos of a side as ``a.jpg|b.jpg|c.jpg`` (as a desk decides on
its best frames) and ``single.csv`` with the same comparisons one live photo a line.

    python scripts/frame_pairs.py ../shared/data/faces OUT_DIR
    desk-app eval faces OUT_DIR/frames.csv --degrade-a idcard --json
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path


def people(faces_dir: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with (faces_dir / "east_asian" / "files.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["identity"], []).append(row["file"])
    return {who: sorted(files) for who, files in sorted(out.items()) if len(files) >= 4}


def comparisons(who: dict[str, list[str]]) -> list[tuple[str, list[str], int]]:
    names = list(who)
    rows = []
    for i, name in enumerate(names):
        photos = who[name][:4]
        others = [names[(i + k) % len(names)] for k in (1, 2, 3)]
        for card in photos:
            rows.append((card, [p for p in who[name] if p != card][:3], 1))
            rows.extend((card, who[o][:3], 0) for o in others)
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python scripts/frame_pairs.py FACES_DIR OUT_DIR", file=sys.stderr)
        return 2
    faces_dir, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)

    def here(f: str) -> str:  # eval faces reads a pairs file's paths relative to the file
        return os.path.relpath(faces_dir / f, out)

    rows = [(here(a), [here(x) for x in b], same)
            for a, b, same in comparisons(people(faces_dir))]
    with (out / "frames.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file_a", "file_b", "same_person"])
        w.writerows((a, "|".join(b), same) for a, b, same in rows)
    with (out / "single.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file_a", "file_b", "same_person"])
        w.writerows((a, one, same) for a, b, same in rows for one in b)
    print(f"{len(rows)} comparisons ({sum(r[2] for r in rows)} genuine) in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
