"""The status bar: platform connection (online / offline with the upload queue, last sync,
blacklist age) and each device's state, each as a symbol and words, not colour alone.

Wiring::

    status = SyncStatusWidget(sync_ops, settings, lang, runner=runner)
    window.statusBar().addPermanentWidget(status)
    status.start()                                   # polls SyncOps.status every poll_ms
    status.set_device(DeviceStatusView(...))         # from the device owners (GUI thread)
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from desk_app.services.api import SyncOps
from desk_app.services.model import DeviceStatusView, SyncStatusView
from desk_app.settings import Settings
from ui.errors import show_error
from ui.operations import Operations, current_lang

SYNC_LOOK = {"online": ("●", "#1b7f3b"), "syncing": ("⟳", "#1a73e8"),
             "offline": ("○", "#b26a00"), "paused": ("‖", "#5f6368"), "error": ("✖", "#b3261e")}
DEVICE_LOOK = {"running": ("●", "#1b7f3b"), "simulated": ("◆", "#1a73e8"),
               "reconnecting": ("◌", "#b26a00"), "failed": ("✖", "#b3261e"),
               "stopped": ("■", "#5f6368"), "absent": ("–", "#80868b"),
               # on without a check: cards read by the counter camera (no reader), a scanner
               "camera": ("◇", "#1a73e8"), "enabled": ("◇", "#1a73e8")}


class SyncStatusWidget(QWidget):
    def __init__(self, ops: SyncOps | None, settings: Settings, lang: str = "zh_CN", *,
                 runner: Operations | None = None, poll_ms: int = 3000,
                 now=lambda: datetime.now(UTC), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SyncStatusWidget")
        self.ops = ops
        self.settings = settings
        self.lang = lang
        self._now = now
        self._own_runner = runner is None
        self.runner = runner or Operations(self, parent=self)
        self.status: SyncStatusView | None = None
        self.devices: dict[str, DeviceStatusView] = {}
        self.sync_label = QLabel(self)
        self.sync_label.setObjectName("SyncLabel")
        self.device_labels: dict[str, QLabel] = {}
        self.sync_button = QToolButton(self)
        self.sync_button.clicked.connect(self.sync_now)
        self.sync_button.setVisible(ops is not None)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 0, 4, 0)
        self._layout.addWidget(self.sync_label)
        self._layout.addWidget(self.sync_button)
        self.poll = QTimer(self)
        self.poll.setInterval(poll_ms)
        self.poll.timeout.connect(self.refresh)
        self.retranslate()

    def start(self) -> None:
        self.refresh()
        self.poll.start()

    def shutdown(self) -> None:
        self.poll.stop()
        if self._own_runner:
            self.runner.shutdown()

    def refresh(self) -> None:
        if self.ops is not None:
            self.runner.run(self.ops.status, group="sync_status", on_success=self.set_status,
                            on_failure=lambda e: self.set_status(None))

    def sync_now(self) -> None:
        if self.ops is not None:
            self.runner.run(self.ops.sync_now, on_success=lambda _r: self.refresh(),
                            on_failure=lambda e: show_error(self.window(), e, self.lang))

    # --- input (view values) ------------------------------------------------------------------

    def set_status(self, status: SyncStatusView | None) -> None:
        self.status = status
        self._render_sync()

    def set_device(self, device: DeviceStatusView) -> None:
        self.devices[device.device] = device
        if device.device not in self.device_labels:
            lbl = QLabel(self)
            lbl.setObjectName(f"Device_{device.device}")
            self._layout.addWidget(lbl)
            self.device_labels[device.device] = lbl
        self._render_device(device)

    # --- rendering ----------------------------------------------------------------------------

    def _ago(self, when: datetime | None, now: datetime) -> str:
        if when is None:
            return self.tr("never")
        return self._age(max(0.0, (now - when).total_seconds()))

    def _age(self, seconds: float | None) -> str:
        if seconds is None:
            return self.tr("none")
        if seconds < 90:
            return self.tr("%1 s ago").replace("%1", str(int(seconds)))
        if seconds < 90 * 60:
            return self.tr("%1 min ago").replace("%1", str(int(seconds // 60)))
        if seconds < 48 * 3600:
            return self.tr("%1 h ago").replace("%1", str(int(seconds // 3600)))
        return self.tr("%1 days ago").replace("%1", str(int(seconds // 86400)))

    def _state_words(self) -> dict[str, str]:
        return {"online": self.tr("Online"), "syncing": self.tr("Syncing"),
                "offline": self.tr("Offline mode"), "paused": self.tr("Sync paused"),
                "error": self.tr("Sync error")}

    def _render_sync(self) -> None:
        s = self.status
        if s is None:
            self.sync_label.setText("? " + self.tr("Platform status unknown"))
            self.sync_label.setStyleSheet("color: #5f6368;")
            return
        symbol, colour = SYNC_LOOK.get(s.state, ("?", "#5f6368"))
        now = self._now()
        parts = [f"{symbol} {self._state_words().get(s.state, s.state)}",
                 self.tr("Pending upload: %1").replace("%1", str(s.pending)),
                 self.tr("Last sync: %1").replace("%1", self._ago(s.last_sync, now)),
                 self.tr("Blacklist: %1").replace("%1", self._age(s.blacklist_age_s))]
        if s.blacklist_stale:
            parts[-1] = "⚠ " + parts[-1] + " " + self.tr("(out of date)")
            colour = "#b3261e"
        self.sync_label.setText("  |  ".join(parts))
        self.sync_label.setToolTip(s.message(self.lang))
        self.sync_label.setStyleSheet(f"color: {colour};")

    def _device_names(self) -> dict[str, str]:
        return {"patient_camera": self.tr("Patient camera"),
                "counter_camera": self.tr("Counter camera"),
                "id_reader": self.tr("ID card reader"), "scanner": self.tr("Scanner")}

    def _device_states(self) -> dict[str, str]:
        return {"running": self.tr("working"), "simulated": self.tr("simulated"),
                "reconnecting": self.tr("reconnecting"), "failed": self.tr("failed"),
                "stopped": self.tr("stopped"), "absent": self.tr("not connected"),
                "enabled": self.tr("enabled")}

    def _render_device(self, d: DeviceStatusView) -> None:
        symbol, colour = DEVICE_LOOK.get(d.state, ("?", "#5f6368"))
        lbl = self.device_labels[d.device]
        name = self._device_names().get(d.device, d.device)
        text = f"{name}: {self._device_states().get(d.state, d.state)}"
        if d.device == "id_reader" and d.state == "camera":
            text = self.tr("ID card: read by camera (no reader)")
        lbl.setText(f"{symbol} {text}")
        lbl.setToolTip(d.message(self.lang))
        lbl.setStyleSheet(f"color: {colour};")

    def retranslate(self) -> None:
        self.sync_button.setText(self.tr("Sync now"))
        self.sync_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._render_sync()
        for d in self.devices.values():
            self._render_device(d)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = current_lang()
            self.retranslate()
        super().changeEvent(event)
