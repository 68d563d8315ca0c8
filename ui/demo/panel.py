"""The demo's controls with a display: the 演示 tab (:class:`DemoPanel`: pick the next
scenario, watch what the desk concluded), the caption bar above the desk and Esc to stop the
self-playing demo (:func:`add_demo_controls`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui.demo.caption import DemoCaption, EscStopsAutoplay
from ui.demo.runner import DemoDirector
from ui.demo.scenarios import BY_NAME, SCENARIOS
from ui.operations import current_lang

if TYPE_CHECKING:
    from ui.demo.desk import DemoDesk


class DemoPanel(QWidget):
    """Choose the next scenario (named in the UI language); watch what the desk concluded.
    Choosing stops the self-playing demo."""

    def __init__(self, director: DemoDirector, lang: str = "zh_CN",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("DemoPanel")
        self.director = director
        self.lang = lang
        self.list = QListWidget(self)
        for s in SCENARIOS:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, s.name)
            item.setToolTip(s.name)
            if not director.runnable(s):
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self._play_selected())
        self.play = QPushButton(self)
        self.play_all = QPushButton(self)
        self.log = QTextEdit(self)
        self.log.setReadOnly(True)
        self.heading = QLabel(self)
        lay = QVBoxLayout(self)
        for w in (self.heading, self.list, self.play, self.play_all, self.log):
            lay.addWidget(w)
        self.play.clicked.connect(self._play_selected)
        self.play_all.clicked.connect(
            lambda: self._run([s.name for s in SCENARIOS if director.runnable(s)]))
        director.progress.connect(self.log.append)
        director.outcome.connect(lambda o: self.log.append(
            f"  → {o.verdict} ({'✓' if o.as_expected else '✗ ' + o.expected}) "
            f"{', '.join(o.reasons)}  {o.ms} ms"))
        self.retranslate()

    def _play_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._run([item.data(Qt.ItemDataRole.UserRole)])

    def _run(self, names: list[str]) -> None:
        if self.director.autoplaying:
            self.director.stop()  # the user's pick wins over the self-playing demo
        if not self.director.busy:
            self.director.run(names)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Demo"))
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setText(BY_NAME[item.data(Qt.ItemDataRole.UserRole)].title(self.lang))
        self.heading.setText(self.tr("Pick the next patient; the check-in screen shows what "
                                     "the desk concludes."))
        self.play.setText(self.tr("Play the selected scenario"))
        self.play_all.setText(self.tr("Play all scenarios"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = current_lang()
            self.retranslate()
        super().changeEvent(event)


def add_demo_controls(demo: DemoDesk) -> tuple[DemoPanel, DemoCaption]:
    """With a display: the 演示 tab, the caption bar above the desk, and Esc to stop."""
    director, main = demo.director, demo.window.main
    lang = demo.desk.settings.get().desk.language
    panel = DemoPanel(director, lang)
    main.add_screen(panel)
    bar = DemoCaption(lang, parent=main)
    main.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    director.caption.connect(bar.show_caption)
    app = QApplication.instance()
    if app is not None:
        esc = EscStopsAutoplay(director, parent=main)
        app.installEventFilter(esc)  # removed with its parent, the window
    main.tabs.setCurrentIndex(0)
    return panel, bar


__all__ = ["DemoPanel", "add_demo_controls"]
