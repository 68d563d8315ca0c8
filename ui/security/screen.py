"""The security screen: live list of alerts with both photos, reasons, desk and time; mark
handled with a note; report a suspect to the platform. The list holds this desk's flagged cases
and, as the security office, the alerts of every other window of the hospital and the
platform's own (``AlertView.source == "office"``: handled once for all desks; a window's alert
has its two photos on the platform for a short time when the site shares them, fetched into
memory only while shown, else they stay on the desk that raised it). The composition root calls :meth:`refresh` when the push brings
a change, so the list is live while online.

Wiring (composition root)::

    sec = SecurityScreen(security_ops, settings, lang, runner=runner, sounds=sounds)
    sec.open_alerts_changed.connect(checkin_screen.set_alert_count)   # badge + sound
    sec.start()      # polls SecurityOps.alerts every ``poll_ms`` (also call refresh() on demand)

The screen polls even while its tab is hidden (the check-in badge counts open alerts), but it
fetches an alert's photos only while it is on screen: viewing them is audited as a view, and
the role at the desk may not be allowed to (a clerk's desk polls too). Photos the account may
not see are said so in the photo boxes, never with a dialog the user did not ask for.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk_app.clock import CHINA_TZ
from desk_app.errors import AuthError, PhotosNotHere
from desk_app.services.api import SecurityOps
from desk_app.services.model import AlertView, Decision
from desk_app.settings import Settings
from ui.checkin.verdict import SEVERITY_COLOUR, SEVERITY_MARK, PhotoBox
from ui.dialogs import NoteDialog
from ui.errors import show_error
from ui.operations import Operations, current_lang
from ui.sounds import SoundCues
from ui.widgets import DECISION_COLOURS

log = logging.getLogger(__name__)

COLUMNS = ("time", "desk", "decision", "person", "reason", "status")


class SecurityScreen(QWidget):
    open_alerts_changed = Signal(int)  # number of open alerts (for the check-in badge)
    new_alert = Signal(object)  # AlertView never seen before

    def __init__(self, ops: SecurityOps, settings: Settings, lang: str = "zh_CN", *,
                 runner: Operations | None = None, sounds: SoundCues | None = None,
                 poll_ms: int = 5000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SecurityScreen")
        self.ops = ops
        self.settings = settings
        self.lang = lang
        self._own_runner = runner is None
        self.runner = runner or Operations(self, parent=self)
        self.sounds = sounds or SoundCues(settings.ui.sounds, parent=self)
        self.alerts: list[AlertView] = []
        self._seen: set[str] | None = None  # None until the first load (no sound for old ones)
        self._photo_for: str | None = None

        self.show_handled = QCheckBox(self)
        self.show_handled.toggled.connect(lambda _=False: self.refresh())
        self.refresh_button = QPushButton(self)
        self.refresh_button.clicked.connect(self.refresh)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("AlertTable")
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.itemSelectionChanged.connect(self._on_select)

        self.id_photo = PhotoBox(self)
        self.live_photo = PhotoBox(self)
        self.id_caption = QLabel(self)
        self.live_caption = QLabel(self)
        self.detail_title = QLabel(self)
        f = self.detail_title.font()
        f.setPixelSize(20)
        f.setBold(True)
        self.detail_title.setFont(f)
        self.reasons = QListWidget(self)
        self.reasons.setObjectName("AlertReasons")
        self.fields = {k: QLabel(self) for k in ("desk", "time", "person", "booking", "status", "note")}
        for lbl in self.fields.values():
            lbl.setWordWrap(True)
            lbl.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._field_labels = {k: QLabel(self) for k in self.fields}
        self.handle_button = QPushButton(self)
        self.handle_button.setObjectName("HandleAlert")
        self.handle_button.clicked.connect(self.mark_handled)
        self.report_button = QPushButton(self)
        self.report_button.setObjectName("ReportSuspect")
        self.report_button.clicked.connect(self.report_suspect)

        top = QHBoxLayout()
        top.addWidget(self.show_handled)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(top)
        ll.addWidget(self.table)
        photos = QHBoxLayout()
        for box, cap in ((self.id_photo, self.id_caption), (self.live_photo, self.live_caption)):
            col = QVBoxLayout()
            col.addWidget(box)
            col.addWidget(cap, 0, Qt.AlignmentFlag.AlignCenter)
            photos.addLayout(col)
        photos.addStretch(1)
        form = QFormLayout()
        for k, lbl in self.fields.items():
            form.addRow(self._field_labels[k], lbl)
        buttons = QHBoxLayout()
        buttons.addWidget(self.handle_button)
        buttons.addWidget(self.report_button)
        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.detail_title)
        rl.addLayout(photos)
        rl.addLayout(form)
        rl.addWidget(self.reasons, 1)
        rl.addLayout(buttons)
        split = QSplitter(self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.addWidget(split)

        self.poll = QTimer(self)
        self.poll.setInterval(poll_ms)
        self.poll.timeout.connect(self.refresh)
        self.dialog: NoteDialog | None = None
        self.retranslate()

    # --- wiring -------------------------------------------------------------------------------

    def start(self) -> None:
        self.refresh()
        self.poll.start()

    def shutdown(self) -> None:
        self.poll.stop()
        if self._own_runner:
            self.runner.shutdown()

    def refresh(self) -> None:
        self.runner.run(self.ops.alerts, self.show_handled.isChecked(), group="alerts",
                        on_success=self.set_alerts, on_failure=self._failed_quietly)

    # --- input (view values) ------------------------------------------------------------------

    def set_alerts(self, alerts) -> None:
        alerts = sorted(alerts, key=lambda a: a.created_at, reverse=True)
        selected = self.selected()
        fresh = [a for a in alerts if self._seen is not None and a.alert_id not in self._seen
                 and a.status == "open"]
        self._seen = (self._seen or set()) | {a.alert_id for a in alerts}
        self.alerts = list(alerts)
        self._fill_table()
        if selected is not None:
            self.select(selected.alert_id)
        elif self.alerts and self.table.currentRow() < 0:
            self.table.selectRow(0)
        self.open_alerts_changed.emit(sum(1 for a in alerts if a.status == "open"))
        for a in fresh:
            self.new_alert.emit(a)
        if fresh:
            self.sounds.play("alert")

    def update_alert(self, alert: AlertView) -> None:
        self.set_alerts([alert if a.alert_id == alert.alert_id else a for a in self.alerts])

    def selected(self) -> AlertView | None:
        row = self.table.currentRow()
        return self.alerts[row] if 0 <= row < len(self.alerts) else None

    def select(self, alert_id: str) -> None:
        for i, a in enumerate(self.alerts):
            if a.alert_id == alert_id:
                self.table.selectRow(i)
                return

    # --- actions ------------------------------------------------------------------------------

    def mark_handled(self) -> None:
        alert = self.selected()
        if alert is None or alert.status != "open":
            return
        self._ask("handled", lambda note: self.runner.run(
            self.ops.mark_handled, alert.alert_id, note, on_success=self.update_alert,
            on_failure=self._show_error))

    def report_suspect(self) -> None:
        alert = self.selected()
        if alert is None:
            return
        self._ask("suspect", lambda note: self.runner.run(
            self.ops.report_suspect, alert.alert_id, note, on_success=self.update_alert,
            on_failure=self._show_error))

    def _ask(self, kind: str, on_ok) -> None:
        dlg = NoteDialog(kind, self, min_length=2)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: on_ok(dlg.text()))
        self.dialog = dlg
        dlg.open()

    def _show_error(self, error: BaseException) -> None:
        show_error(self, error, self.lang)

    def _failed_quietly(self, error: BaseException) -> None:
        """Polling failures are shown once, not every five seconds. Not being allowed to see
        alerts (logged out, or a clerk) is not a failure: the list and the badge are emptied."""
        if isinstance(error, AuthError):
            log.info("alerts not available to the current user")
            self.alerts = []
            self._fill_table()
            self.open_alerts_changed.emit(0)
            return
        if getattr(self, "_poll_error_shown", False):
            log.warning("alerts refresh failed again: %s", type(error).__name__)
            return
        self._poll_error_shown = True
        self._show_error(error)

    # --- rendering ----------------------------------------------------------------------------

    def _decision_words(self) -> dict[Decision, str]:
        return {Decision.ADMIT: self.tr("Admit"), Decision.REVIEW: self.tr("Review"),
                Decision.REJECT: self.tr("Reject")}

    def _status_words(self, a: AlertView) -> str:
        return self.tr("Handled") if a.status == "handled" else self.tr("Open")

    def _fill_table(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.alerts))
        words = self._decision_words()
        for row, a in enumerate(self.alerts):
            first = a.reasons[0].text(self.lang) if a.reasons else ""
            if a.conflict:
                conflict = self.tr("Conflict")
                first = f"{conflict}: {first}"
            values = (f"{a.created_at.astimezone(CHINA_TZ):%m-%d %H:%M}", a.desk_id,
                      f"{ {Decision.REJECT: '✖', Decision.REVIEW: '?', Decision.ADMIT: '✔'}[a.decision]} "
                      f"{words[a.decision]}",
                      a.person.name_masked if a.person else "—", first, self._status_words(a))
            for col, v in enumerate(values):
                item = QTableWidgetItem(v)
                if col == 2:
                    item.setForeground(DECISION_COLOURS[a.decision])
                if a.status == "handled":
                    item.setForeground(QColor("#80868b"))
                self.table.setItem(row, col, item)
        for col in range(self.table.columnCount() - 1):  # the last one stretches
            self.table.resizeColumnToContents(col)
        self.table.blockSignals(False)
        self._on_select()

    def _on_select(self) -> None:
        a = self.selected()
        self.handle_button.setEnabled(a is not None and a.status == "open")
        # Another window's alert is reported at that window (its visit and photos are there).
        self.report_button.setEnabled(a is not None and a.source == "desk")
        self.reasons.clear()
        if a is None:
            self.detail_title.setText(self.tr("No alert selected"))
            for lbl in self.fields.values():
                lbl.setText("")
            self.id_photo.set_png(None, "")
            self.live_photo.set_png(None, "")
            self._photo_for = None
            return
        self.detail_title.setText(f"{self._decision_words()[a.decision]} · {a.desk_id}")
        self.fields["desk"].setText(a.desk_id)
        self.fields["time"].setText(f"{a.created_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M:%S}")
        self.fields["person"].setText(
            f"{a.person.name_masked}  {a.person.id_masked}" if a.person else "—")
        b = a.booking
        self.fields["booking"].setText(
            f"{b.department} · {b.doctor} · {b.slot_start.astimezone(CHINA_TZ):%H:%M} · {b.reference}"
            if b else "—")
        status = self._status_words(a)
        if a.handled_by:
            where = f" @ {a.handled_desk}" if a.handled_desk else ""
            status = f"{status} ({a.handled_by}{where})"
        self.fields["status"].setText(status)
        self.fields["note"].setText(a.note or "—")
        for r in a.reasons:
            item = QListWidgetItem(f"{SEVERITY_MARK.get(r.severity, '·')}  {r.text(self.lang)}")
            item.setForeground(QColor(SEVERITY_COLOUR.get(r.severity, "#202124")))
            self.reasons.addItem(item)
        if a.conflict:
            self.reasons.addItem(self.tr("The same booking was checked in at another desk."))
        if a.alert_id != self._photo_for:  # viewing photos is audited: fetch once per selection
            self._load_photos(a)

    def forget_photos(self) -> None:
        """The desk is locked or changes hands: the face photos leave the screen, and the next
        person to look fetches them again through the role check and the audited view."""
        self.runner.cancel("photos")
        self._photo_for = None
        self.id_photo.set_png(None, "")
        self.live_photo.set_png(None, "")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        a = self.selected()
        if a is not None and a.alert_id != self._photo_for:
            self._load_photos(a)

    def _load_photos(self, a: AlertView) -> None:
        if a.source == "office" and not a.has_photos:  # the site keeps them at that window
            none_text = self.tr("Photos only at the window that raised the alert")
        else:
            none_text = self.tr("No photo kept") if not a.has_photos else self.tr("Loading...")
        self.id_photo.set_png(None, none_text)
        self.live_photo.set_png(None, none_text)
        if not self.isVisible():  # nobody looks: no audited view, no question of the role
            self._photo_for = None
            return
        self._photo_for = a.alert_id
        if not a.has_photos:
            return
        self.runner.cancel("photos")
        self.runner.run(self.ops.alert_photos, a.alert_id, group="photos",
                        on_success=lambda photos, aid=a.alert_id: self._show_photos(aid, photos),
                        on_failure=lambda err, aid=a.alert_id: self._photos_failed(aid, err))

    def _photos_failed(self, alert_id: str, error: BaseException) -> None:
        if alert_id != self._photo_for:
            return
        if isinstance(error, AuthError):  # e.g. a clerk: the boxes say so, no dialog
            text = self.tr("Photos only for security staff and administrators")
            self.id_photo.set_png(None, text)
            self.live_photo.set_png(None, text)
            return
        if isinstance(error, PhotosNotHere):  # another window's: purged, offline, not shared
            text = {"gone": self.tr("Photos no longer kept"),
                    "offline": self.tr("Offline: photos at the window that raised it"),
                    }.get(error.reason, self.tr("Photos only at the window that raised the alert"))
            self.id_photo.set_png(None, text)
            self.live_photo.set_png(None, text)
            return
        self.id_photo.set_png(None, "")
        self.live_photo.set_png(None, "")
        self._show_error(error)

    def _show_photos(self, alert_id: str, photos: tuple[bytes | None, bytes | None]) -> None:
        if alert_id != self._photo_for:
            return
        gone = self.tr("Photo deleted (retention)")
        self.id_photo.set_png(photos[0], gone)
        self.live_photo.set_png(photos[1], gone)

    # --- language -----------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Security"))
        self.show_handled.setText(self.tr("Show handled alerts"))
        self.refresh_button.setText(self.tr("Refresh"))
        self.table.setHorizontalHeaderLabels([
            self.tr("Time"), self.tr("Desk"), self.tr("Verdict"), self.tr("Name"),
            self.tr("Reason"), self.tr("Status")])
        self.id_caption.setText(self.tr("ID card photo"))
        self.live_caption.setText(self.tr("Live face"))
        labels = {"desk": self.tr("Desk"), "time": self.tr("Time"), "person": self.tr("Person"),
                  "booking": self.tr("Booking"), "status": self.tr("Status"),
                  "note": self.tr("Note")}
        for k, lbl in self._field_labels.items():
            lbl.setText(labels[k])
        self.handle_button.setText(self.tr("Mark handled..."))
        self.report_button.setText(self.tr("Report suspect..."))
        self._fill_table()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = current_lang()
            self.retranslate()
        super().changeEvent(event)
