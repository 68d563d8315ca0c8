"""The demo with a display, as a newcomer sees it: real widgets offscreen (pytest-qt), the real
platform process on loopback, the desk and face model on the shipped photos. It plays by itself
with a caption in the UI language, says when it has ended, and stops on Esc or on a pick in the
演示 tab. Its scenario list names the scenarios in the UI language, not by their ids."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from PySide6.QtCore import Qt

from tests.e2e.conftest import demo_desk, message_boxes
from ui.demo.panel import add_demo_controls
from ui.demo.scenarios import BY_NAME, SCENARIOS

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def shown(qapp, tmp_path_factory):
    with demo_desk(tmp_path_factory, "demo-display") as d:
        panel, bar = add_demo_controls(d)
        d.window.main.show()
        yield d, panel, bar


@contextmanager
def in_english(d):
    d.window.translations.set_language("en")
    try:
        yield
    finally:
        d.window.translations.set_language("zh_CN")


def record(director, bar):
    captions, texts = [], []
    director.caption.connect(lambda c: (captions.append(c), texts.append(
        f"{bar.label.text()} | {bar.hint.text()}")))
    return captions, texts


def test_scenario_list_names_scenarios_in_the_ui_language(qtbot, shown):
    d, panel, _bar = shown
    titles = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert titles == [s.title.zh for s in SCENARIOS]
    assert not any(s.name in t for s, t in zip(SCENARIOS, titles, strict=True))
    assert all(panel.list.item(i).flags() & Qt.ItemFlag.ItemIsEnabled
               for i in range(panel.list.count()))  # every scenario runs on the shipped photos
    with in_english(d):
        assert [panel.list.item(i).text() for i in range(panel.list.count())] == \
            [s.title.en for s in SCENARIOS]


def test_plays_by_itself_with_a_chinese_caption_then_says_it_has_ended(qtbot, shown):
    d, _panel, bar = shown
    director = d.director
    captions, texts = record(director, bar)
    director.run(["forged_qr", "cancelled"], autoplay=True)
    assert director.autoplaying
    qtbot.waitUntil(lambda: not director.busy, timeout=120_000)
    keys = [c.key for c in captions]
    assert keys[0] == "scenario" and keys[-1] == "finished", keys
    assert [(c.scenario.name, c.verdict) for c in captions if c.key == "verdict"] == \
        [("forged_qr", "reject"), ("cancelled", "reject")]
    assert any(t.startswith("第 1/2 位患者: 伪造二维码") and "出示手机上的预约二维码" in t
               and "按 Esc 停止演示" in t for t in texts), texts
    assert any("核验结论: 不通过 (与预期一致)" in t for t in texts), texts
    assert "演示结束: 2 位患者中 2 位得到预期的核验结论" in bar.label.text()
    assert not director.autoplaying
    with in_english(d):  # the caption follows the language
        assert bar.label.text().startswith("The demo has ended: 2 of 2 patients")


def test_esc_stops_the_demo_at_once_and_a_pick_in_the_demo_tab_plays(qtbot, shown):
    d, panel, bar = shown
    director = d.director
    captions, _texts = record(director, bar)
    director.autoplay()
    assert director.autoplaying and director.busy
    qtbot.waitUntil(lambda: any(c.key == "qr" for c in captions), timeout=60_000)
    before = len(director.outcomes)
    qtbot.keyClick(d.window.checkin, Qt.Key.Key_Escape)  # wherever the focus is
    assert not director.busy and not director.autoplaying
    assert captions[-1].key == "stopped"
    assert "演示已停止" in bar.label.text()
    qtbot.wait(3000)  # what the desk still says about that patient changes nothing
    assert len(director.outcomes) == before
    assert d.devices.scene.current_step == "empty desk"

    seen = len(captions)
    director.autoplay()  # again, and this time the viewer picks a scenario in the 演示 tab
    qtbot.waitUntil(lambda: any(c.key == "qr" for c in captions[seen:]), timeout=60_000)
    row = [panel.list.item(i).data(Qt.ItemDataRole.UserRole)
           for i in range(panel.list.count())].index("forged_qr")
    panel.list.setCurrentRow(row)
    panel.play.click()
    assert not director.autoplaying and director.busy
    qtbot.waitUntil(lambda: not director.busy, timeout=60_000)
    assert [o.name for o in director.outcomes[before:]] == ["forged_qr"]
    assert director.outcomes[-1].verdict == BY_NAME["forged_qr"].expected
    assert not message_boxes()
