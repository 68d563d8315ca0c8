"""The main window: a frame with one tab per screen and a status bar. It owns no logic.

Screens set their own (translated) window title; the tab follows it, so a language change
reaches the tabs through the screens' own ``retranslate``.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.tabs = QTabWidget(self)
        self.setCentralWidget(self.tabs)
        self.status_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.status_label)
        self.resize(1280, 800)
        self.retranslate()

    def add_screen(self, widget: QWidget) -> None:
        index = self.tabs.addTab(widget, widget.windowTitle())
        widget.windowTitleChanged.connect(
            lambda title, w=widget: self.tabs.setTabText(self.tabs.indexOf(w), title))
        del index

    def set_role_screens(self, visible: frozenset[str] | set[str]) -> None:
        """Show only the screens (by object name) the logged-in role may use."""
        for i in range(self.tabs.count()):
            self.tabs.setTabVisible(i, self.tabs.widget(i).objectName() in visible)

    def set_locked(self, locked: bool) -> None:
        """While locked (idle or logged out) no screen content is visible."""
        self.tabs.setVisible(not locked)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Real-name check-in"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
