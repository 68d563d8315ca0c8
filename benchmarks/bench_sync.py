"""Sync: the real platform process (SQLite) with simulated desks, and a 100,000-entry blacklist
delta pulled and applied by one desk. The goal configuration (200 desks, 100,000 visits on
PostgreSQL) is ``desk-app bench sync --desks 200 --visits 100000 --db postgresql+psycopg://...``.
"""

from __future__ import annotations

from sync.bench import run as run_bench


def run() -> dict:
    figures = run_bench(desks=20, visits=5000, blacklist=100_000, say=lambda _line: None)
    return {
        "desks": figures["desks"],
        "visits sent": figures["sent"],
        "visits lost": figures["lost"],
        "visits duplicated": figures["duplicated"],
        "ingest visits/s (SQLite, 1 API process)": figures["visits_per_s"],
        "pull p95 ms (under push load)": figures["pull_p95_ms"],
        **{k: v for k, v in figures.items() if k.startswith("blacklist")},
    }
