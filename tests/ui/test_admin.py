from __future__ import annotations

import threading

from desk_app.errors import Text
from desk_app.services.model import AuditEntryView, AuditVerifyView
from desk_app.settings import Settings
from ui import samples
from ui.admin.audit_screen import AuditScreen
from ui.admin.settings_screen import SettingsScreen


class Saves:
    def __init__(self) -> None:
        self.saved: list[tuple[Settings, int]] = []

    def __call__(self, s: Settings) -> None:
        self.saved.append((s, threading.get_ident()))


def make(qtbot, settings, runner, **kw):
    saves = Saves()
    scr = SettingsScreen(settings, "en", save=saves, runner=runner, **kw)
    qtbot.addWidget(scr)
    return scr, saves


def test_form_shows_current_values_and_saves_only_on_commit(qtbot, settings, runner):
    scr, saves = make(qtbot, settings, runner)
    assert scr.editors[("faces", "match_distance")].value() == settings.faces.match_distance
    scr.set_value("ui", "idle_reset_s", 90)
    scr.set_value("policy", "max_bookings_per_day", 3)
    assert saves.saved == []  # not per keystroke
    assert scr.changes() == {"ui": {"idle_reset_s": 90}, "policy": {"max_bookings_per_day": 3}}
    with qtbot.waitSignal(scr.saved, timeout=5000) as sig:
        assert scr.commit()
    new = sig.args[0]
    assert new.ui.idle_reset_s == 90 and new.policy.max_bookings_per_day == 3
    assert len(saves.saved) == 1 and saves.saved[0][1] != threading.get_ident()
    assert scr.changes() == {}
    assert scr.message.text().startswith("✔")


def test_invalid_values_are_refused_with_the_message(qtbot, settings, runner):
    scr, saves = make(qtbot, settings, runner)
    scr.set_value("platform", "url", "ftp://platform")
    assert not scr.commit()
    assert "platform.url" in scr.message.text()
    scr.set_value("platform", "url", settings.platform.url)
    scr.set_value("faces", "match_distance", 0.7)  # above the mismatch threshold
    assert not scr.commit()
    assert "match_distance" in scr.message.text()
    qtbot.wait(50)
    assert saves.saved == []


def test_language_change_is_announced_after_saving(qtbot, settings, runner):
    scr, _saves = make(qtbot, settings, runner)
    scr.set_value("desk", "language", "en")
    with qtbot.waitSignal(scr.language_changed, timeout=5000) as sig:
        scr.commit()
    assert sig.args == ["en"]


class Enroll:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def enroll(self, url, code):
        self.calls.append((url, code, threading.get_ident()))
        return samples.sync_status()


def test_enrollment_uses_the_address_in_the_form(qtbot, settings, runner):
    sync = Enroll()
    scr, _ = make(qtbot, settings, runner, sync_ops=sync)
    scr.set_value("platform", "url", "https://platform.example:8443")
    scr.enroll_code.setText("ENR-4711")
    scr.enroll()
    qtbot.waitUntil(lambda: scr.enroll_code.text() == "", timeout=5000)
    assert sync.calls[0][:2] == ("https://platform.example:8443", "ENR-4711")
    assert sync.calls[0][2] != threading.get_ident()


class Audit:
    def __init__(self, ok=True):
        self.ok = ok
        self.threads: list[int] = []
        self.rows = [AuditEntryView(i, samples.NOW, "admin", "login", "", "") for i in range(250, 0, -1)]

    def entries(self, limit, offset):
        self.threads.append(threading.get_ident())
        return self.rows[offset:offset + limit]

    def count(self):
        return len(self.rows)

    def verify(self):
        self.threads.append(threading.get_ident())
        if self.ok:
            return AuditVerifyView(True, 250, None, Text("完整", "intact"))
        return AuditVerifyView(False, 250, 17, Text("第 17 条被修改", "entry 17 was edited"),
                               ("17 edited",))


def test_audit_pages_and_verify(qtbot, settings, runner):
    ops = Audit(ok=False)
    scr = AuditScreen(ops, settings, "en", runner=runner)
    qtbot.addWidget(scr)
    scr.refresh()
    qtbot.waitUntil(lambda: scr.table.rowCount() == 100, timeout=5000)
    assert scr.table.item(0, 0).text() == "250"
    assert not scr.newer.isEnabled() and scr.older.isEnabled()
    scr.older.click()
    qtbot.waitUntil(lambda: scr.offset == 100, timeout=5000)
    assert scr.table.item(0, 0).text() == "150"
    scr.verify()
    qtbot.waitUntil(lambda: scr.result is not None, timeout=5000)
    assert scr.verify_label.text().startswith("✖") and "entry 17 was edited" in scr.verify_label.text()
    assert threading.get_ident() not in ops.threads


def test_each_value_says_where_it_comes_from(qtbot, runner, app_paths):
    """Read from the real files off the GUI thread; a save moves a value to "this desk"."""
    from desk_app.settings import load_settings, save_settings, setting_sources

    app_paths.site_config.parent.mkdir(parents=True, exist_ok=True)
    app_paths.site_config.write_text("schema_version = 2\n[policy]\nmax_bookings_per_day = 3\n",
                                     encoding="utf-8")
    settings = load_settings(app_paths.settings_file, app_paths.site_config).settings
    scr = SettingsScreen(
        settings, "en", runner=runner,
        save=lambda s: save_settings(s, app_paths.settings_file, app_paths.site_config),
        sources=lambda: setting_sources(app_paths.settings_file, app_paths.site_config))
    qtbot.addWidget(scr)
    label = scr._source_labels
    qtbot.waitUntil(lambda: label[("policy", "max_bookings_per_day")].text() == "site")
    assert label[("faces", "best_k")].text() == "default"
    scr.set_value("faces", "best_k", 2)
    with qtbot.waitSignal(scr.saved, timeout=5000):
        assert scr.commit()
    qtbot.waitUntil(lambda: label[("faces", "best_k")].text() == "this desk")
    assert label[("policy", "max_bookings_per_day")].text() == "site"
