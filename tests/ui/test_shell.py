from __future__ import annotations

import xml.etree.ElementTree as ET

from PySide6.QtWidgets import QApplication

from ui.about.screen import AboutScreen
from ui.i18n import TRANSLATIONS_DIR, Translations
from ui.shell.main_window import MainWindow


def test_tabs_follow_language_changes(qtbot):
    app = QApplication.instance()
    tr = Translations(app)
    window = MainWindow()
    qtbot.addWidget(window)
    window.add_screen(AboutScreen("1.0", "/tmp/x"))
    assert tr.set_language("zh_CN")
    assert window.windowTitle() == "实名就诊核验"
    assert window.tabs.tabText(0) == "关于"
    tr.set_language("en")
    assert window.windowTitle() == "Real-name check-in"
    assert window.tabs.tabText(0) == "About"
    tr.set_language("zh_CN")


def test_no_string_is_left_untranslated_in_zh_cn():
    root = ET.parse(TRANSLATIONS_DIR / "desk_zh_CN.ts").getroot()
    missing = [
        (ctx.findtext("name"), m.findtext("source"))
        for ctx in root.iter("context")
        for m in ctx.iter("message")
        if (m.find("translation").get("type") == "unfinished") or not (m.findtext("translation") or "").strip()
    ]
    assert not missing, missing
