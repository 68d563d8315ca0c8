from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from ui import samples
from ui.stats.screen import StatsScreen, period_range


class Stats:
    def __init__(self):
        self.calls = []

    def stats(self, start, end):
        self.calls.append(("stats", start, end, threading.get_ident()))
        return samples.stats()

    def clerk_judgements(self, start, end):
        self.calls.append(("clerk_judgements", start, end, threading.get_ident()))
        return samples.clerk_judgements()

    def export(self, start, end, path, fmt):
        self.calls.append(("export", path, fmt, threading.get_ident()))
        return path


def test_period_ranges():
    d = date(2026, 11, 25)  # a Wednesday
    assert period_range("today", d) == (d, date(2026, 11, 26))
    assert period_range("week", d) == (date(2026, 11, 23), date(2026, 11, 30))
    assert period_range("month", date(2026, 12, 31)) == (date(2026, 12, 1), date(2027, 1, 1))


def test_charts_and_export(qtbot, settings, runner, tmp_path):
    ops = Stats()
    chosen = tmp_path / "out.xlsx"
    scr = StatsScreen(ops, settings, "en", runner=runner, choose_path=lambda fmt, name: chosen,
                      today=lambda: date(2026, 11, 25))
    qtbot.addWidget(scr)
    scr.set_period("week")
    qtbot.waitUntil(lambda: scr.view is not None, timeout=5000)
    assert ops.calls[0][1:3] == (date(2026, 11, 23), date(2026, 11, 30))
    assert "1238" in scr.summary.text() and "Blacklist hits: 8" in scr.summary.text()
    for key in ("days", "decisions", "reasons", "hours"):
        assert scr.charts[key].chart().series(), key
    days = scr.charts["days"].chart().series()[0].barSets()[0]
    assert [days.at(i) for i in range(days.count())] == [212, 198, 240, 231, 187, 96, 74]
    scr.export("xlsx")
    qtbot.waitUntil(lambda: scr.last_export is not None, timeout=5000)
    call = [c for c in ops.calls if c[0] == "export"][0]
    assert call[1:3] == (Path(chosen), "xlsx") and call[3] != threading.get_ident()


def test_reason_axis_uses_short_words_then_the_services_text(qtbot, settings, runner):
    scr = StatsScreen(Stats(), settings, "en", runner=runner)
    qtbot.addWidget(scr)
    scr.set_stats(samples.stats())
    axis = [a for a in scr.charts["reasons"].chart().axes() if hasattr(a, "categories")][0]
    cats = axis.categories()
    assert "Blacklist" in cats and "Face uncertain" in cats
    assert "The ID card has expired" in cats  # no short word: the service's Text
    assert not any("_" in c for c in cats)


def test_opening_the_tab_refreshes(qtbot, settings, runner):
    ops = Stats()
    scr = StatsScreen(ops, settings, "en", runner=runner)
    qtbot.addWidget(scr)
    assert ops.calls == []
    scr.show()
    qtbot.waitUntil(lambda: scr.view is not None, timeout=5000)
    assert ops.calls[0][0] == "stats"


def test_the_clerk_who_confirms_without_looking_is_marked(qtbot, settings, runner):
    ops = Stats()
    scr = StatsScreen(ops, settings, "en", runner=runner, today=lambda: date(2026, 11, 25))
    qtbot.addWidget(scr)
    scr.set_period("today")
    qtbot.waitUntil(lambda: scr.judgements.table.rowCount() == 2, timeout=5000)
    assert ("clerk_judgements", date(2026, 11, 25), date(2026, 11, 26)) == \
        next(c[:3] for c in ops.calls if c[0] == "clerk_judgements")
    table = scr.judgements.table
    assert scr.judgements.flagged() == ["clerk2"]
    assert table.item(1, 0).text() == "clerk2" and "without looking" in table.item(1, 7).text()
    assert table.item(1, 4).text() == "30 (97%)" and table.item(0, 7).text() == ""
    assert table.item(0, 6).text() == "0"  # overrides
