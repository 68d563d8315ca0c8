"""Typed settings with a schema version, migrations and atomic writes.

Two files, both TOML:

* ``site.toml`` (optional, read-only for the app): defaults provisioned by hospital IT for every
  desk of the site, e.g. the platform address and the decision policy;
* ``settings.toml``: this desk's own values, written by the settings dialog and the CLI.

The desk's file is layered over the site's, over the built-in defaults. Old files are migrated
step by step to :data:`SCHEMA_VERSION`. A file that cannot be read or does not validate is never
silently lost: it is moved aside (``settings.toml.corrupt-<time>``), the problem is reported as a
:class:`~desk_app.errors.SettingsCorrupt`, and the app goes on with what it could read.
QSettings is used for window geometry only.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from desk_app.errors import ConfigError, DeskError, SettingsCorrupt, Text
from desk_app.settings_migrations import (
    SCHEMA_VERSION,
    dropped_keys_problem,
    file_version,
    migrate,
    v1_unknown_keys,
)

log = logging.getLogger(__name__)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class DeskSection(_Section):
    desk_id: str = Field("desk-01", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    hospital_id: str = Field("H001", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    hospital_name: str = "示范医院"
    language: Literal["zh_CN", "en"] = "zh_CN"
    # Online backups of the desk database while it runs (a damaged file is recovered from the
    # newest one plus what the damaged file still holds: desk_app/storage/recovery.py).
    backup_every_min: int = Field(10, ge=1, le=24 * 60)
    backups_kept: int = Field(6, ge=1, le=100)


class PlatformSection(_Section):
    url: str = Field("http://127.0.0.1:8765", pattern=r"^https?://[^\s]+$")
    verify_tls: bool = True
    ca_file: str = ""
    timeout_s: float = Field(5.0, gt=0, le=120)


class SyncSection(_Section):
    interval_s: float = Field(15.0, ge=1, le=3600)
    batch_size: int = Field(200, ge=1, le=5000)
    backoff_max_s: float = Field(120.0, ge=1, le=3600)
    # A verdict made with a blacklist older than this carries a warning.
    stale_blacklist_hours: float = Field(24.0, gt=0, le=24 * 30)


class DevicesSection(_Section):
    # "sim" (scripted scenes), a device index ("0"), a video file, a folder of images or an RTSP URL.
    patient_camera: str = "sim"
    # The camera looking down at the counter for QR codes and cards; empty: the patient camera.
    counter_camera: str = ""
    camera_width: int = Field(1280, ge=160, le=7680)
    camera_height: int = Field(720, ge=120, le=4320)
    # Serial port of a desktop ID-card reader ("" = none, "sim" = simulated reader).
    id_reader_port: str = ""
    # Without a reader (or besides it): read the card's number and portrait from the counter
    # camera (OCR, check digit, votes over frames).
    id_by_camera: bool = True
    # Vendor library that decodes the reader's WLT photo (.dll or .so); empty = portrait by camera.
    wlt_decoder_library: str = ""
    scanner_enabled: bool = True
    scanner_max_interkey_ms: float = Field(35.0, gt=0, le=500)


class FacesSection(_Section):
    # ``score`` "cohort" (default since settings version 4): a pair's Euclidean distance between
    # 128-d encodings judged against each face's distance to its nearest strangers, the shipped
    # cohort of centres (desk_app/faces/cohort.py); "distance": the plain distance (what a site
    # calibrated before version 4 keeps). <= match -> MATCH, >= mismatch -> MISMATCH, between ->
    # UNDECIDED (the clerk compares). Defaults (2026-12-03) from `desk-app calibrate cohort
    # lfw_pairs.csv pairs.csv --strict east_asian_pairs.csv` (nested cross-validation by person,
    # ID-card portraits; docs/architecture.md "Face verification"): no listed impostor a MATCH,
    # at most 1 in 1 000 of the East Asian strangers (every photo against every other).
    # Version 5 (later on 2026-12-03): each threshold cap cross-fitted (strangers scored by a
    # cohort built without them, as a patient is never in the shipped cohort) and the cohort
    # chosen among 18 variants; the cohort file changed with it. Version 6 (2026-12-03, night):
    # each person weighs once in a centre (no public figure's face dominates one), another file.
    score: Literal["cohort", "distance"] = "cohort"
    match_distance: float = Field(0.451, gt=0, lt=2)
    mismatch_distance: float = Field(0.637, gt=0, lt=2)
    # Never a MATCH above this plain distance, whatever the score: a brother and sister were
    # measured at 0.493 (issue 17); a pair further apart is at best UNDECIDED, the clerk's call.
    relative_ceiling: float = Field(0.47, gt=0, lt=2)
    # A MATCH whose live face looks, with at least this confidence, the other sex than the ID
    # number records is UNDECIDED (a relative of the other sex; desk_app/faces/sex.py).
    sex_check: bool = True
    sex_confidence: float = Field(0.95, ge=0.5, lt=1)
    best_k: int = Field(3, ge=1, le=10)
    window_s: float = Field(4.0, gt=0, le=30)
    min_face_px: int = Field(60, ge=20, le=1000)
    # "passive": a phone's or a print's edges around the face (no time of the patient's; chosen
    # 2026-12 on LFW, reported on east_asian: docs/architecture.md, "Face verification")
    liveness: Literal["off", "passive", "blink", "turn"] = "passive"

    @model_validator(mode="after")
    def _ordered(self) -> FacesSection:
        if self.match_distance > self.mismatch_distance:
            raise ValueError("match_distance must not be larger than mismatch_distance")
        return self


PolicyAction = Literal["admit", "review", "reject"]  # "admit": a warning only


OverrideRight = Literal["none", "review", "review_reject"]  # which verdicts a role may override


#: The longest override reason the platform takes (``sync.protocol.OverrideWire.reason``): a
#: longer one makes its visit unsendable for good, so the policy allows no more.
OVERRIDE_REASON_MAX_CHARS = 500


class PolicySection(_Section):
    """The decision policy as data; every rule can be tuned or switched off (see
    ``desk_app.checkin.engine`` and "Decision policy" in docs/architecture.md)."""

    # rules switched on or off
    rule_real_name: bool = True
    rule_id_document: bool = True
    rule_face: bool = True
    rule_blacklist: bool = True
    rule_time_window: bool = True
    rule_duplicate: bool = True
    rule_many_bookings: bool = True
    rule_cancel_rebook: bool = True
    rule_bot_speed: bool = True
    # real name and the ID document
    real_name_alert: bool = True  # someone else's booking: security looks at it
    forged_code_alert: bool = True
    expired_card_action: PolicyAction = "review"
    manual_id_action: PolicyAction = "review"
    # A number read by the counter camera is not chip-verified (a printout passes OCR): this
    # action until the clerk confirms the physical card (F9 on the check-in screen).
    camera_id_action: PolicyAction = "review"
    # Only a chip read (desktop reader, SAM module) may lead to ADMIT: a camera-read or typed
    # number stays REVIEW whatever the clerk confirms, and no override admits it.
    require_chip_for_admit: bool = False
    # face
    face_undecided_action: PolicyAction = "review"
    face_unavailable_action: PolicyAction = "review"
    face_mismatch_alert: bool = True
    liveness_failed_action: PolicyAction = "review"
    liveness_failed_alert: bool = False
    # blacklist
    stale_blacklist_hours: float = Field(24.0, gt=0, le=24 * 30)
    stale_blacklist_action: PolicyAction = "admit"
    # time window: from slot start - early to slot end + late
    checkin_early_minutes: int = Field(120, ge=0, le=24 * 60)
    checkin_late_minutes: int = Field(30, ge=0, le=24 * 60)
    early_action: PolicyAction = "review"
    late_action: PolicyAction = "review"
    duplicate_action: PolicyAction = "reject"
    duplicate_alert: bool = True  # a booking used twice: a resold QR or a conflict
    # many bookings (platform counts include this booking)
    max_bookings_per_day: int = Field(2, ge=1, le=50)
    max_same_department_per_day: int = Field(1, ge=1, le=50)
    max_same_doctor_per_day: int = Field(1, ge=1, le=50)
    many_bookings_action: PolicyAction = "review"
    # cancel-and-rebook
    cancel_rebook_minutes: int = Field(90, ge=0, le=24 * 60)
    cancel_rebook_action: PolicyAction = "review"
    # bot speed
    bot_speed_seconds: float = Field(3.0, ge=0, le=3600)
    account_max_patients_30d: int = Field(5, ge=1, le=1000)
    bot_speed_action: PolicyAction = "review"
    # overrides: which verdicts each role may override; the reason's length in characters
    override_clerk: OverrideRight = "review"
    override_security: OverrideRight = "review_reject"
    override_admin: OverrideRight = "review_reject"
    override_reason_min_chars: int = Field(2, ge=1, le=50)
    override_reason_max_chars: int = Field(200, ge=10, le=OVERRIDE_REASON_MAX_CHARS)

    @field_validator("override_reason_max_chars", mode="before")
    @classmethod
    def _within_the_protocol(cls, v: Any) -> Any:
        """Up to 1000 was allowed before 2026-12-04: such a file still loads, capped."""
        if isinstance(v, int) and not isinstance(v, bool) and OVERRIDE_REASON_MAX_CHARS < v <= 1000:
            log.warning("policy.override_reason_max_chars %d capped at %d (the platform's limit)",
                        v, OVERRIDE_REASON_MAX_CHARS)
            return OVERRIDE_REASON_MAX_CHARS
        return v


class PrivacySection(_Section):
    face_retention_days: int = Field(30, ge=1, le=365)
    audit_retention_days: int = Field(365 * 3, ge=30, le=365 * 30)
    # After this a visit keeps only what statistics need (masked number, hashes, verdict,
    # reasons); the encrypted full number, name and face template are deleted.
    visit_pii_days: int = Field(30, ge=1, le=3650)
    # A security alert's two photos (small JPEGs) go to the platform for the security office,
    # kept there until handled + 1 day or the platform's retention; False: they never leave
    # the desk that raised the alert.
    share_alert_photos: bool = True


class UiSection(_Section):
    idle_reset_s: int = Field(60, ge=5, le=3600)
    lock_after_idle_min: int = Field(10, ge=1, le=24 * 60)
    sounds: bool = True
    # Failed logins: from the second one on, the next try waits 2^(n-1) s (at most 30 s);
    # after login_max_failures in a row the account is locked for login_lockout_min.
    login_max_failures: int = Field(5, ge=2, le=100)
    login_lockout_min: int = Field(15, ge=1, le=24 * 60)


class Settings(_Section):
    schema_version: int = SCHEMA_VERSION
    desk: DeskSection = Field(default_factory=DeskSection)
    platform: PlatformSection = Field(default_factory=PlatformSection)
    sync: SyncSection = Field(default_factory=SyncSection)
    devices: DevicesSection = Field(default_factory=DevicesSection)
    faces: FacesSection = Field(default_factory=FacesSection)
    policy: PolicySection = Field(default_factory=PolicySection)
    privacy: PrivacySection = Field(default_factory=PrivacySection)
    ui: UiSection = Field(default_factory=UiSection)


# --- migrations -----------------------------------------------------------------------------------


# --- loading and saving ------------------------------------------------------------------------


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


@dataclass
class LoadedSettings:
    settings: Settings
    problems: list[DeskError] = field(default_factory=list)
    migrated_from: int | None = None


def _read_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def _move_aside(path: Path) -> Path:
    backup = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        n += 1
    os.replace(path, backup)
    return backup


#: What a file that cannot be used raises on the way in: the rest is a bug in a migration.
_BAD_FILE = (ValueError, TypeError, KeyError, OSError, ArithmeticError)


def _read_layer(path: Path, under: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A file's table as read and as migrated, checked over ``under`` (the layer below)."""
    raw = _read_toml(path)
    doc = migrate(raw)
    Settings.model_validate(_deep_merge(under, doc))
    return raw, doc


def _log_if_bug(path: Path, exc: Exception) -> None:
    """A file no migration foresaw still ends as a problem; the traceback goes to the log."""
    if not isinstance(exc, _BAD_FILE):
        log.error("settings file %s unusable", path, exc_info=exc)


def _site_problem(site_file: Path, exc: Exception) -> ConfigError:
    # The site file belongs to hospital IT: report it, do not move it.
    log.error("site file %s invalid (%s); ignored", site_file, type(exc).__name__)
    return ConfigError(
        Text(
            f"站点配置 {site_file} 无效, 已忽略。请联系信息科。",
            f"The site configuration {site_file} is invalid and was ignored. "
            "Please call hospital IT.",
        ),
        detail=type(exc).__name__,
    )


def _set_aside(settings_file: Path, exc: Exception) -> ConfigError:
    """Move the desk's unusable file aside and say so; where the folder cannot be written
    (a read-only disk) the file stays, and the message says that instead."""
    try:
        backup = _move_aside(settings_file)
    except OSError as err:
        log.error("settings file %s unusable and not moved aside (%s)", settings_file,
                  type(err).__name__)
        return ConfigError(
            Text(
                f"设置文件 {settings_file} 无法读取, 所在文件夹不可写, 未能备份移开; "
                "当前使用默认设置。请联系信息科核对。",
                f"The settings file {settings_file} cannot be read, and its folder cannot be "
                "written, so it was left in place; default settings are in use. Please call "
                "hospital IT.",
            ),
            title=SettingsCorrupt.title_text,
            detail=type(exc).__name__,
        )
    log.error("settings file unreadable (%s); moved to %s", type(exc).__name__, backup)
    return SettingsCorrupt(str(backup), detail=type(exc).__name__)


def _write_migrated(settings: Settings, settings_file: Path, site_file: Path | None,
                    version: int) -> None:
    """Keep the old file next to the new one, then write the migrated version; on a folder
    that cannot be written the migrated settings are used from memory (and migrated again at
    the next start)."""
    backup = settings_file.with_name(f"{settings_file.name}.v{version}.bak")
    try:
        backup.write_bytes(settings_file.read_bytes())
        save_settings(settings, settings_file, site_file)
    except OSError as exc:
        log.warning("settings migrated from version %s in memory only: %s not written (%s)",
                    version, settings_file, type(exc).__name__)
        return
    log.info("settings migrated from version %s to %s", version, SCHEMA_VERSION)


def _dropped(path: Path, raw: dict[str, Any]) -> list[DeskError]:
    """The problem to show when ``raw``, read as version 1, had keys the migration dropped."""
    keys = v1_unknown_keys(raw) if file_version(raw) == 1 else []
    return [dropped_keys_problem(path, keys)] if keys else []


def load_settings(settings_file: Path, site_file: Path | None = None) -> LoadedSettings:
    """Read site defaults and the desk's settings; never raises for a bad file: whatever a
    file holds, reading, migrating and checking it ends as settings in force or a problem."""
    problems: list[DeskError] = []
    site: dict[str, Any] = {}
    if site_file is not None:
        try:
            if site_file.is_file():
                raw, site = _read_layer(site_file, {})
                problems.extend(_dropped(site_file, raw))
        except Exception as exc:  # noqa: BLE001 - any content of the file ends as a problem
            _log_if_bug(site_file, exc)
            problems.append(_site_problem(site_file, exc))
            site = {}
    desk: dict[str, Any] = {}
    migrated_from = None
    try:
        if settings_file.is_file():
            raw, desk = _read_layer(settings_file, site)
            problems.extend(_dropped(settings_file, raw))
            if (before := file_version(raw)) != SCHEMA_VERSION:
                migrated_from = before
    except ConfigError as exc:  # newer schema: keep the file untouched for the newer program
        problems.append(exc)
        desk = {}
    except Exception as exc:  # noqa: BLE001 - any content of the file ends as a problem
        _log_if_bug(settings_file, exc)
        problems.append(_set_aside(settings_file, exc))
        desk = {}
    settings = Settings.model_validate(_deep_merge(site, desk))
    if migrated_from is not None:
        _write_migrated(settings, settings_file, site_file, migrated_from)
    return LoadedSettings(settings, problems, migrated_from)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _own(new: dict[str, Any], inherited: dict[str, Any]) -> dict[str, Any]:
    """The part of ``new`` that differs from ``inherited`` (nested tables compared key by key)."""
    out: dict[str, Any] = {}
    for k, v in new.items():
        base = inherited.get(k)
        if isinstance(v, dict) and isinstance(base, dict):
            sub = _own(v, base)
            if sub:
                out[k] = sub
        elif v != base:
            out[k] = v
    return out


def inherited_settings(site_file: Path | None) -> Settings:
    """What a desk gets when its own file says nothing: the defaults under the site file."""
    if site_file is not None and site_file.is_file():
        try:
            return Settings.model_validate(migrate(_read_toml(site_file)))
        except (*_BAD_FILE, ConfigError):
            log.warning("site file %s unreadable; saving against the defaults", site_file)
    return Settings()


def save_settings(settings: Settings, settings_file: Path, site_file: Path | None = None) -> None:
    """Write only what this desk changed: the values that differ from the defaults under the
    site file (``site_file``). A later change of ``site.toml`` then reaches every desk that did
    not set that value itself."""
    inherited = inherited_settings(site_file).model_dump(mode="json")
    own = _own(settings.model_dump(mode="json"), inherited)
    own["schema_version"] = SCHEMA_VERSION
    data = tomli_w.dumps(dict(sorted(own.items(), key=lambda kv: kv[0] != "schema_version"))
                         ).encode()
    atomic_write_bytes(settings_file, data)


def setting_sources(settings_file: Path, site_file: Path | None) -> dict[tuple[str, str], str]:
    """Where each value in force comes from: "desk" (this desk's file), "site" (site.toml) or
    "default", keyed by (section, name). For the settings screen."""
    def keys(path: Path | None) -> set[tuple[str, str]]:
        if path is None or not path.is_file():
            return set()
        try:
            doc = migrate(_read_toml(path))
        except (*_BAD_FILE, ConfigError):
            return set()
        return {(sec, k) for sec, table in doc.items() if isinstance(table, dict) for k in table}

    site, desk = keys(site_file), keys(settings_file)
    out: dict[tuple[str, str], str] = {}
    for sec, field_info in Settings.model_fields.items():
        model = field_info.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for name in model.model_fields:
            key = (sec, name)
            out[key] = "desk" if key in desk else "site" if key in site else "default"
    return out


def update_settings(settings: Settings, changes: dict[str, Any]) -> Settings:
    """A new validated Settings with ``changes`` ({"faces": {"best_k": 4}}) applied.

    Raises ConfigError with a readable message when a value is refused."""
    merged = _deep_merge(settings.model_dump(mode="json"), changes)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            Text(f"设置项 {where} 的值无效: {first['msg']}", f"Invalid value for {where}: {first['msg']}")
        ) from exc
