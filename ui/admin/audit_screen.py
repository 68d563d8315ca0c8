"""The audit log viewer (admin): newest entries first, page by page, and "Verify" which checks
the hash chain of the whole log (``AuditOps.verify``).

Wiring::

    audit = AuditScreen(audit_ops, settings, lang, runner=runner)
    # refreshes itself each time it is shown
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk_app.clock import CHINA_TZ
from desk_app.services.api import AuditOps
from desk_app.services.model import AuditEntryView, AuditVerifyView
from desk_app.settings import Settings
from ui.operations import Operations, current_lang


class AuditScreen(QWidget):
    PAGE = 100

    def __init__(self, ops: AuditOps, settings: Settings, lang: str = "zh_CN", *,
                 runner: Operations | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AuditScreen")
        self.ops = ops
        self.settings = settings
        self.lang = lang
        self.runner = runner or Operations(self, parent=self)
        self.offset = 0
        self.total = 0
        self.entries: list[AuditEntryView] = []
        self.result: AuditVerifyView | None = None
        self.table = QTableWidget(0, 5, self)
        self.table.setObjectName("AuditTable")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.verify_button = QPushButton(self)
        self.verify_button.setObjectName("VerifyAudit")
        self.verify_button.clicked.connect(self.verify)
        self.newer = QPushButton(self)
        self.newer.clicked.connect(lambda: self.load(max(0, self.offset - self.PAGE)))
        self.older = QPushButton(self)
        self.older.clicked.connect(lambda: self.load(self.offset + self.PAGE))
        self.page_label = QLabel(self)
        self.verify_label = QLabel(self)
        self.verify_label.setObjectName("AuditVerifyResult")
        self.verify_label.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.verify_button)
        top.addWidget(self.verify_label, 1)
        nav = QHBoxLayout()
        nav.addWidget(self.newer)
        nav.addWidget(self.page_label, 1)
        nav.addWidget(self.older)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addLayout(nav)
        self.retranslate()

    def refresh(self) -> None:
        self.load(self.offset)

    def load(self, offset: int) -> None:
        self.runner.run(lambda: (self.ops.count(), list(self.ops.entries(self.PAGE, offset))),
                        group="audit", on_success=lambda r: self.set_entries(r[1], offset, r[0]))

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.verify_label.setText(self.tr("Checking..."))
        self.runner.run(self.ops.verify, on_success=self.set_verify_result,
                        on_failure=self._verify_failed)

    def _verify_failed(self, error: BaseException) -> None:
        from ui.errors import show_error

        self.verify_button.setEnabled(True)
        self.verify_label.clear()
        show_error(self, error, self.lang)

    # --- input (view values) ------------------------------------------------------------------

    def set_entries(self, entries, offset: int, total: int) -> None:
        self.entries, self.offset, self.total = list(entries), offset, total
        self.table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            values = (str(e.seq), f"{e.at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M:%S}", e.actor, e.action,
                      f"{e.subject}  {e.detail}".strip())
            for col, v in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(v))
        for col in range(self.table.columnCount() - 1):  # the last one stretches
            self.table.resizeColumnToContents(col)
        self._render_page()

    def set_verify_result(self, result: AuditVerifyView) -> None:
        self.verify_button.setEnabled(True)
        self.result = result
        self._render_result()

    def _render_page(self) -> None:
        first = self.offset + 1 if self.entries else 0
        self.page_label.setText(self.tr("%1–%2 of %3").replace("%1", str(first)).replace(
            "%2", str(self.offset + len(self.entries))).replace("%3", str(self.total)))
        self.newer.setEnabled(self.offset > 0)
        self.older.setEnabled(self.offset + len(self.entries) < self.total)

    def _render_result(self) -> None:
        r = self.result
        if r is None:
            self.verify_label.clear()
            return
        if r.ok:
            text = "✔ " + self.tr("Audit log intact: %1 entries checked.").replace("%1", str(r.checked))
            colour = "#1b7f3b"
        else:
            text = "✖ " + self.tr("Audit log has been tampered with!") + " " + r.message(self.lang)
            if r.problems:
                text += "\n" + "\n".join(r.problems[:10])
            colour = "#b3261e"
        self.verify_label.setText(text)
        self.verify_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Audit log"))
        self.verify_button.setText(self.tr("Verify"))
        self.newer.setText(self.tr("Newer"))
        self.older.setText(self.tr("Older"))
        self.table.setHorizontalHeaderLabels([self.tr("No."), self.tr("Time"), self.tr("User"),
                                              self.tr("Action"), self.tr("Details")])
        self._render_page()
        self._render_result()

    def showEvent(self, event: QShowEvent) -> None:
        """Fresh figures each time the tab is opened (the query runs off the GUI thread)."""
        super().showEvent(event)
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = current_lang()
            self.retranslate()
        super().changeEvent(event)
