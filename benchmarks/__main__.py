"""Run every ``benchmarks/bench_*.py`` (or the ones named) and print their figures.

Each module exposes ``run() -> dict`` returning flat figures (name -> number or text). A module
that fails prints its error and the others still run; the exit code is 1 if any failed.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    wanted = [a for a in argv if not a.startswith("-")]
    if wanted:
        names = [n for n in names if any(w in n for w in wanted)]
    failed = 0
    results: dict[str, dict] = {}
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            figures = importlib.import_module(f"benchmarks.{name}").run()
        except Exception:  # noqa: BLE001 - report and go on with the other benchmarks
            traceback.print_exc()
            failed += 1
            continue
        results[name] = figures
        for key, value in figures.items():
            shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
            print(f"   {key:<44} {shown}")
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    if "--json" in argv:
        print(json.dumps(results, ensure_ascii=False, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
