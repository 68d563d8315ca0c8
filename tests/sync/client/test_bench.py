"""`desk-app bench sync` end to end, small: real platform, real desk stores, chaos on."""

from __future__ import annotations

from sync.bench import run


def test_small_chaos_bench_loses_and_duplicates_nothing():
    lines: list[str] = []
    result = run(desks=3, visits=90, chaos=True, store="real", say=lines.append)
    assert result["sent"] == result["stored"] == 90
    assert result["lost"] == 0 and result["duplicated"] == 0
    assert any("platform killed" in line for line in lines)
    assert result["pull_p95_ms"] is not None and result["visits_per_s"] > 0
