"""The settings screen (admin): devices, thresholds, policy, platform address and enrollment,
language, retention. Values are validated with :func:`desk_app.settings.update_settings`
(a refused value keeps the form open with the message) and saved only on an explicit "Save".

Wiring::

    scr = SettingsScreen(settings, lang,
                         save=lambda s: save_settings(s, paths.settings_file, paths.site_config),
                         sources=lambda: setting_sources(paths.settings_file, paths.site_config),
                         sync_ops=sync_ops, runner=runner)
    scr.saved.connect(on_settings_saved)                 # the new Settings value
    scr.language_changed.connect(translations.set_language)
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Callable
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desk_app.errors import ConfigError, DeskError
from desk_app.services.api import SyncOps
from desk_app.settings import Settings, update_settings
from ui.errors import show_error
from ui.operations import Operations, current_lang

log = logging.getLogger(__name__)

SECTIONS = ("desk", "platform", "devices", "faces", "policy", "sync", "privacy", "ui")


def _bounds(info) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in info.metadata:
        if isinstance(m, Ge):
            lo = m.ge
        elif isinstance(m, Gt):
            lo = m.gt
        elif isinstance(m, Le):
            hi = m.le
        elif isinstance(m, Lt):
            hi = m.lt
    return lo, hi


class SettingsScreen(QWidget):
    saved = Signal(object)  # the new Settings
    language_changed = Signal(str)

    def __init__(self, settings: Settings, lang: str = "zh_CN", *,
                 save: Callable[[Settings], None],
                 sync_ops: SyncOps | None = None,
                 device_test: Callable[[str, str], Any] | None = None,
                 sources: Callable[[], dict[tuple[str, str], str]] | None = None,
                 runner: Operations | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SettingsScreen")
        self.settings = settings
        self.lang = lang
        self._save = save
        self.sync_ops = sync_ops
        self.device_test = device_test
        self._sources = sources  # where each value comes from (read off the GUI thread)
        self.source_of: dict[tuple[str, str], str] = {}
        self.runner = runner or Operations(self, parent=self)
        self.editors: dict[tuple[str, str], QWidget] = {}
        self._source_labels: dict[tuple[str, str], QLabel] = {}
        self._row_labels: dict[tuple[str, str], QLabel] = {}
        self.tabs = QTabWidget(self)
        self._pages: dict[str, QWidget] = {}
        self._forms: dict[str, QFormLayout] = {}
        for section in SECTIONS:
            self._build_section(section)
        self.enroll_code = QLineEdit(self)
        self.enroll_code.setObjectName("EnrollCode")
        self.enroll_button = QPushButton(self)
        self.enroll_button.clicked.connect(self.enroll)
        self.enroll_button.setEnabled(sync_ops is not None)
        self._enroll_label = QLabel(self)
        row = QHBoxLayout()
        row.addWidget(self.enroll_code, 1)
        row.addWidget(self.enroll_button)
        self._forms["platform"].addRow(self._enroll_label, row)
        self.test_buttons: dict[str, QPushButton] = {}
        if device_test is not None:
            for key in ("patient_camera", "counter_camera", "id_reader_port"):
                b = QPushButton(self)
                b.clicked.connect(lambda _=False, k=key: self.test_device(k))
                self._forms["devices"].addRow("", b)
                self.test_buttons[key] = b
        self.message = QLabel(self)
        self.message.setObjectName("SettingsMessage")
        self.message.setWordWrap(True)
        self.save_button = QPushButton(self)
        self.save_button.setObjectName("SaveSettings")
        self.save_button.clicked.connect(self.commit)
        self.revert_button = QPushButton(self)
        self.revert_button.clicked.connect(self.load)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addLayout(buttons)
        self.load()
        self.retranslate()

    # --- form ---------------------------------------------------------------------------------

    def _build_section(self, section: str) -> None:
        page = QWidget(self)
        form = QFormLayout(page)
        model = type(getattr(self.settings, section))
        for name, info in model.model_fields.items():
            editor = self._editor_for(info)
            editor.setObjectName(f"setting_{section}_{name}")
            label = QLabel(page)
            source = QLabel(page)
            source.setObjectName(f"source_{section}_{name}")
            source.setStyleSheet("color: #666;")
            row = QHBoxLayout()
            row.addWidget(editor, 1)
            row.addWidget(source)
            form.addRow(label, row)
            self._source_labels[(section, name)] = source
            self.editors[(section, name)] = editor
            self._row_labels[(section, name)] = label
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        self.tabs.addTab(scroll, section)
        self._forms[section] = form
        self._pages[section] = scroll

    def _editor_for(self, info) -> QWidget:
        ann = info.annotation
        if typing.get_origin(ann) is typing.Literal:
            combo = QComboBox(self)
            for v in typing.get_args(ann):
                combo.addItem(str(v), v)
            return combo
        if ann is bool:
            return QCheckBox(self)
        lo, hi = _bounds(info)
        if ann is int:
            spin = QSpinBox(self)
            spin.setRange(int(lo if lo is not None else -1_000_000),
                          int(hi if hi is not None else 1_000_000))
            return spin
        if ann is float:
            dspin = QDoubleSpinBox(self)
            dspin.setDecimals(3)
            # The spin box allows a little beyond the limits so the validation message (not a
            # silently clamped value) tells the admin what is allowed.
            dspin.setRange(float(lo if lo is not None else 0) - 1, float(hi if hi is not None else 1e6) + 1)
            dspin.setSingleStep(0.01 if (hi or 10) <= 2 else 1.0)
            return dspin
        return QLineEdit(self)

    def _get(self, editor: QWidget) -> Any:
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QSpinBox | QDoubleSpinBox):
            return editor.value()
        assert isinstance(editor, QLineEdit)
        return editor.text()

    def _set(self, editor: QWidget, value: Any) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(value)))
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox | QDoubleSpinBox):
            editor.setValue(value)
        else:
            assert isinstance(editor, QLineEdit)
            editor.setText(str(value))

    def load(self) -> None:
        """Fill the form from the current settings (also "Revert")."""
        for (section, name), editor in self.editors.items():
            self._set(editor, getattr(getattr(self.settings, section), name))
        self.message.clear()
        if self._sources is not None:
            self.runner.run(self._sources, on_success=self._show_sources)

    def _show_sources(self, sources: dict[tuple[str, str], str]) -> None:
        self.source_of = dict(sources)
        words = {"desk": self.tr("this desk"), "site": self.tr("site"),
                 "default": self.tr("default")}
        tips = {"desk": self.tr("Set on this desk: a change of site.toml does not reach it."),
                "site": self.tr("From the hospital's site.toml."),
                "default": self.tr("The program's default.")}
        for key, lbl in self._source_labels.items():
            where = self.source_of.get(key, "")
            lbl.setText(words.get(where, ""))
            lbl.setToolTip(tips.get(where, ""))

    def changes(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for (section, name), editor in self.editors.items():
            value = self._get(editor)
            if value != getattr(getattr(self.settings, section), name):
                out.setdefault(section, {})[name] = value
        return out

    def set_value(self, section: str, name: str, value: Any) -> None:
        self._set(self.editors[(section, name)], value)

    # --- commit -------------------------------------------------------------------------------

    def commit(self) -> bool:
        """Validate and save; False (with the message shown) if a value is refused."""
        changes = self.changes()
        if not changes:
            self._say(self.tr("Nothing changed."), ok=True)
            return True
        try:
            new = update_settings(self.settings, changes)
        except ConfigError as exc:
            self._say(exc.message(self.lang), ok=False)
            return False
        old_lang = self.settings.desk.language
        self.save_button.setEnabled(False)
        self.runner.run(self._save, new, on_success=lambda _r: self._saved(new, old_lang),
                        on_failure=self._save_failed)
        return True

    def _saved(self, new: Settings, old_lang: str) -> None:
        self.save_button.setEnabled(True)
        self.settings = new
        self.load()
        self._say(self.tr("Settings saved."), ok=True)
        self.saved.emit(new)
        if new.desk.language != old_lang:
            self.language_changed.emit(new.desk.language)

    def _save_failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(error, DeskError):
            self._say(error.message(self.lang), ok=False)
        show_error(self, error, self.lang)

    def _say(self, text: str, ok: bool) -> None:
        self.message.setText(("✔ " if ok else "✖ ") + text)
        self.message.setStyleSheet(f"color: {'#1b7f3b' if ok else '#b3261e'};")

    # --- enrollment and device tests --------------------------------------------------------

    def enroll(self) -> None:
        if self.sync_ops is None:
            return
        code = self.enroll_code.text().strip()
        url = self._get(self.editors[("platform", "url")])
        if not code:
            self._say(self.tr("Enter the enrollment code from the platform."), ok=False)
            return
        self.enroll_button.setEnabled(False)
        self.runner.run(self.sync_ops.enroll, url, code, on_success=self._enrolled,
                        on_failure=self._enroll_failed)

    def _enrolled(self, status) -> None:
        self.enroll_button.setEnabled(True)
        self.enroll_code.clear()
        self._say(self.tr("Desk enrolled with the platform."), ok=True)

    def _enroll_failed(self, error: BaseException) -> None:
        self.enroll_button.setEnabled(True)
        show_error(self, error, self.lang)

    def test_device(self, key: str) -> None:
        if self.device_test is None:
            return
        value = self._get(self.editors[("devices", key)])
        self.runner.run(self.device_test, key, value,
                        on_success=lambda text: self._say(
                            text(self.lang) if callable(text) else str(text), ok=True),
                        on_failure=lambda e: show_error(self, e, self.lang))

    # --- language -----------------------------------------------------------------------------

    def _section_titles(self) -> dict[str, str]:
        return {"desk": self.tr("Desk"), "platform": self.tr("Platform"),
                "devices": self.tr("Devices"), "faces": self.tr("Face comparison"),
                "policy": self.tr("Policy"), "sync": self.tr("Sync"),
                "privacy": self.tr("Privacy and retention"), "ui": self.tr("Screen")}

    def _field_labels(self) -> dict[tuple[str, str], str]:
        return {
            ("desk", "desk_id"): self.tr("Desk ID"),
            ("desk", "hospital_id"): self.tr("Hospital ID"),
            ("desk", "hospital_name"): self.tr("Hospital name"),
            ("desk", "language"): self.tr("Language"),
            ("desk", "backup_every_min"): self.tr("Back up the database every (min)"),
            ("desk", "backups_kept"): self.tr("Backups kept"),
            ("platform", "url"): self.tr("Platform address"),
            ("platform", "verify_tls"): self.tr("Verify TLS certificate"),
            ("platform", "ca_file"): self.tr("CA certificate file"),
            ("platform", "timeout_s"): self.tr("Timeout (s)"),
            ("sync", "interval_s"): self.tr("Sync interval (s)"),
            ("sync", "batch_size"): self.tr("Upload batch size"),
            ("sync", "backoff_max_s"): self.tr("Longest retry wait (s)"),
            ("sync", "stale_blacklist_hours"): self.tr("Blacklist out of date after (h)"),
            ("devices", "patient_camera"): self.tr("Patient camera"),
            ("devices", "counter_camera"): self.tr("Counter camera"),
            ("devices", "camera_width"): self.tr("Camera width"),
            ("devices", "camera_height"): self.tr("Camera height"),
            ("devices", "id_reader_port"): self.tr("ID card reader port"),
            ("devices", "wlt_decoder_library"): self.tr("Card photo decoder library"),
            ("devices", "id_by_camera"): self.tr("Read ID cards with the counter camera"),
            ("devices", "scanner_enabled"): self.tr("Handheld scanner"),
            ("devices", "scanner_max_interkey_ms"): self.tr("Scanner key interval (ms)"),
            ("faces", "score"): self.tr("Face comparison score"),
            ("faces", "relative_ceiling"): self.tr("Never the same person above distance "
                                                   "(relatives)"),
            ("faces", "sex_check"): self.tr("Hold a match whose face looks the other sex than "
                                            "the ID card"),
            ("faces", "sex_confidence"): self.tr("Confidence needed for that (0.5-1)"),
            ("faces", "match_distance"): self.tr("Same person below distance"),
            ("faces", "mismatch_distance"): self.tr("Different person above distance"),
            ("faces", "best_k"): self.tr("Best frames compared"),
            ("faces", "window_s"): self.tr("Comparison window (s)"),
            ("faces", "min_face_px"): self.tr("Smallest face (pixels)"),
            ("faces", "liveness"): self.tr("Liveness check"),
            ("policy", "rule_real_name"): self.tr("Rule: ID card is the booked patient"),
            ("policy", "rule_id_document"): self.tr("Rule: ID document valid"),
            ("policy", "rule_face"): self.tr("Rule: face comparison"),
            ("policy", "rule_blacklist"): self.tr("Rule: blacklist"),
            ("policy", "rule_time_window"): self.tr("Rule: time slot"),
            ("policy", "rule_duplicate"): self.tr("Rule: duplicate check-in"),
            ("policy", "rule_many_bookings"): self.tr("Rule: many bookings"),
            ("policy", "rule_cancel_rebook"): self.tr("Rule: cancel and rebook"),
            ("policy", "rule_bot_speed"): self.tr("Rule: booked by a bot"),
            ("policy", "real_name_alert"): self.tr("Alert security: not the booked patient"),
            ("policy", "forged_code_alert"): self.tr("Alert security: forged booking code"),
            ("policy", "expired_card_action"): self.tr("Expired ID card"),
            ("policy", "manual_id_action"): self.tr("ID number typed by hand"),
            ("policy", "camera_id_action"): self.tr("ID read by camera, card not yet checked"),
            ("policy", "require_chip_for_admit"): self.tr("Admit only with a chip read"),
            ("policy", "face_undecided_action"): self.tr("Face comparison uncertain"),
            ("policy", "face_unavailable_action"): self.tr("Face comparison unavailable"),
            ("policy", "face_mismatch_alert"): self.tr("Alert security: face mismatch"),
            ("policy", "liveness_failed_action"): self.tr("Liveness check failed"),
            ("policy", "liveness_failed_alert"): self.tr("Alert security: liveness failed"),
            ("policy", "stale_blacklist_hours"): self.tr("Blacklist out of date after (h)"),
            ("policy", "stale_blacklist_action"): self.tr("Blacklist out of date"),
            ("policy", "early_action"): self.tr("Too early for the slot"),
            ("policy", "late_action"): self.tr("Too late for the slot"),
            ("policy", "duplicate_action"): self.tr("Booking already checked in"),
            ("policy", "duplicate_alert"): self.tr("Alert security: duplicate check-in"),
            ("policy", "max_same_doctor_per_day"): self.tr("Same doctor per day"),
            ("policy", "many_bookings_action"): self.tr("Too many bookings"),
            ("policy", "cancel_rebook_action"): self.tr("Cancel and rebook"),
            ("policy", "bot_speed_action"): self.tr("Booked by a bot"),
            ("policy", "override_clerk"): self.tr("Clerk may override"),
            ("policy", "override_security"): self.tr("Security may override"),
            ("policy", "override_admin"): self.tr("Admin may override"),
            ("policy", "override_reason_min_chars"): self.tr("Override reason at least (characters)"),
            ("policy", "override_reason_max_chars"): self.tr("Override reason at most (characters)"),
            ("policy", "checkin_early_minutes"): self.tr("Check-in opens before the slot (min)"),
            ("policy", "checkin_late_minutes"): self.tr("Check-in closes after the slot (min)"),
            ("policy", "max_bookings_per_day"): self.tr("Bookings per patient per day"),
            ("policy", "max_same_department_per_day"): self.tr("Same department per day"),
            ("policy", "cancel_rebook_minutes"): self.tr("Cancel-and-rebook window (min)"),
            ("policy", "bot_speed_seconds"): self.tr("Booked faster than (s) = bot"),
            ("policy", "account_max_patients_30d"): self.tr("Patients per account in 30 days"),
            ("privacy", "face_retention_days"): self.tr("Keep face photos (days)"),
            ("privacy", "visit_pii_days"): self.tr("Keep full ID number and name of a visit (days)"),
            ("privacy", "audit_retention_days"): self.tr("Keep audit log (days)"),
            ("privacy", "share_alert_photos"): self.tr(
                "Show a security alert's photos at the security office (kept on the platform "
                "a few days)"),
            ("ui", "idle_reset_s"): self.tr("Reset screen after idle (s)"),
            ("ui", "lock_after_idle_min"): self.tr("Lock after idle (min)"),
            ("ui", "sounds"): self.tr("Sound cues"),
            ("ui", "login_max_failures"): self.tr("Lock account after failed logins"),
            ("ui", "login_lockout_min"): self.tr("Account locked for (min)"),
        }

    def _value_words(self) -> dict[str, str]:
        """Words for the choices of Literal settings (the stored value stays the code)."""
        return {"off": self.tr("Off"), "blink": self.tr("Blink"), "turn": self.tr("Turn head"),
                "passive": self.tr("Phone/photo edges (passive)"),
                "cohort": self.tr("Against the nearest strangers (cohort)"),
                "distance": self.tr("Plain distance"),
                "admit": self.tr("Admit"), "review": self.tr("Review"), "reject": self.tr("Reject"),
                "none": self.tr("Not allowed"), "review_reject": self.tr("Review and reject")}

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Settings"))
        titles = self._section_titles()
        for i, section in enumerate(SECTIONS):
            self.tabs.setTabText(i, titles[section])
        labels = self._field_labels()
        for key, lbl in self._row_labels.items():
            lbl.setText(labels.get(key, key[1]))
        lang_combo = self.editors[("desk", "language")]
        assert isinstance(lang_combo, QComboBox)
        for i in range(lang_combo.count()):
            lang_combo.setItemText(i, {"zh_CN": "简体中文", "en": "English"}.get(
                lang_combo.itemData(i), str(lang_combo.itemData(i))))
        words = self._value_words()
        for key, editor in self.editors.items():
            if isinstance(editor, QComboBox) and key != ("desk", "language"):
                for i in range(editor.count()):
                    editor.setItemText(i, words.get(editor.itemData(i), str(editor.itemData(i))))
        self._enroll_label.setText(self.tr("Enrollment code"))
        self.enroll_button.setText(self.tr("Enroll desk"))
        for key, b in self.test_buttons.items():
            b.setText(self.tr("Test %1").replace("%1", labels[("devices", key)]))
        self.save_button.setText(self.tr("Save"))
        self.revert_button.setText(self.tr("Revert"))
        if self.source_of:
            self._show_sources(self.source_of)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = current_lang()
            self.retranslate()
        super().changeEvent(event)



