"""The "about" screen: version, data folder, and which parts of the desk are ready."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget


class AboutScreen(QWidget):
    def __init__(self, version: str, data_dir: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("AboutScreen")
        self._version = QLabel(version, self)
        self._data = QLabel(data_dir, self)
        self._version_label = QLabel(self)
        self._data_label = QLabel(self)
        form = QFormLayout(self)
        form.addRow(self._version_label, self._version)
        form.addRow(self._data_label, self._data)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("About"))
        self._version_label.setText(self.tr("Version"))
        self._data_label.setText(self.tr("Data folder"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
