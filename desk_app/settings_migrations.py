"""How an old settings file becomes today's: one step per schema version (:data:`MIGRATIONS`),
and how a file's version is read (:func:`file_version`). Split from :mod:`desk_app.settings`,
which imports it; the models are imported here only inside the functions that need them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desk_app.errors import ConfigError, Text

log = logging.getLogger("desk_app.settings")

SCHEMA_VERSION = 6


def _faces_default(key: str) -> float:
    from desk_app.settings import FacesSection

    return getattr(FacesSection(), key)


def _sections() -> frozenset[str]:
    """The top-level tables of the current format ([desk], [platform], ...)."""
    from desk_app.settings import Settings

    return frozenset(k for k in Settings.model_fields if k != "schema_version")


#: Where version 1 (the first release, one flat table) kept each value; version 2's sections.
V1_MOVES = {
    "desk_id": ("desk", "desk_id"),
    "hospital_id": ("desk", "hospital_id"),
    "language": ("desk", "language"),
    "server_url": ("platform", "url"),
    "camera": ("devices", "patient_camera"),
    "face_tolerance": ("faces", "match_distance"),
    "idle_reset_seconds": ("ui", "idle_reset_s"),
}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _faces(doc: dict[str, Any]) -> dict[str, Any] | None:
    """A copy of a file's [faces] table for a migration to change; None when there is none or
    it is not a table (validation then refuses the file)."""
    faces = doc.get("faces", {})
    return dict(faces) if isinstance(faces, dict) else None


def v1_unknown_keys(doc: dict[str, Any]) -> list[str]:
    """The keys of a version-1 table that version 2 has no place for: the migration drops them."""
    return sorted(set(doc) - set(V1_MOVES) - {"version", "schema_version"})


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 1 (the first release) kept a flat table; version 2 groups settings in sections."""
    out: dict[str, Any] = {"schema_version": 2}
    for old, (section, key) in V1_MOVES.items():
        if old in doc:
            out.setdefault(section, {})[key] = doc[old]
    if dropped := v1_unknown_keys(doc):
        log.warning("settings v1: dropped unknown keys %s", dropped)
    faces = out.get("faces", {})
    # v1 had one tolerance; v2 needs the mismatch threshold to be at least as large.
    if _number(faces.get("match_distance")):  # anything else fails validation
        faces["mismatch_distance"] = max(faces["match_distance"], _faces_default("mismatch_distance"))
    return out


#: The face thresholds versions 1 and 2 shipped (calibrated on LFW, Western faces mostly).
# what a version-2 file holds when nobody chose the value (every save wrote defaults out in full):
# the old thresholds, and liveness "off" (passive liveness is on by default since 2026-12-03)
V2_FACE_DEFAULTS = {"match_distance": 0.537, "mismatch_distance": 0.615, "liveness": "off"}
#: Version 3's face thresholds (plain distance, calibrated for East Asian patients).
V3_FACE_DEFAULTS = {"match_distance": 0.361, "mismatch_distance": 0.615, "liveness": "passive"}
#: Version 4's face thresholds (cohort scores against the first shipped cohort).
V4_FACE_DEFAULTS = {"match_distance": 0.412, "mismatch_distance": 0.681}


def _v2_to_v3(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 3 ships face thresholds calibrated for East Asian patients (docs/architecture.md,
    "Face verification") and the passive liveness check on. A file keeps every value of its own,
    but one of the old shipped defaults was never chosen by the site (every save wrote the defaults out in full): it
    becomes the new default, and the mismatch threshold stays at least the match threshold."""
    out = dict(doc)
    out["schema_version"] = 3
    faces = _faces(out)
    if faces:
        replaced = [k for k, old in V2_FACE_DEFAULTS.items() if faces.get(k) == old]
        for key in replaced:
            faces[key] = V3_FACE_DEFAULTS[key]
        if replaced and all(_number(faces.get(k)) for k in ("match_distance", "mismatch_distance")):
            faces["mismatch_distance"] = max(faces["mismatch_distance"], faces["match_distance"])
        out["faces"] = faces
    return out


def _v3_to_v4(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 4 judges faces by cohort scores (``faces.score`` "cohort"), whose thresholds are
    in another unit. Thresholds still at version 3's defaults become the new defaults; a site's
    own thresholds keep their meaning: such a file gets ``score = "distance"``."""
    out = dict(doc)
    out["schema_version"] = 4
    faces = _faces(out)
    keys = ("match_distance", "mismatch_distance")
    if faces is not None and any(k in faces for k in keys):
        if all(faces.get(k) == V3_FACE_DEFAULTS[k] for k in keys):
            faces.update({k: V4_FACE_DEFAULTS[k] for k in keys}, score="cohort")
        else:
            faces["score"] = "distance"
        out["faces"] = faces
    return out


def _new_cohort_file(version: int, old: dict[str, float], new: dict[str, float] | None
                     ) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The migration to ``version``, which ships another cohort file: cohort-score thresholds
    of the version before (``old`` its defaults) are in a unit that no longer exists and
    become ``new`` (that version's defaults; None: today's). A site's own ones are replaced
    too, with a warning: the old file's scores cannot be translated, and ``calibrate faces
    --from-desk-history`` proposes this site's again from calls made under the new band.
    Plain-distance thresholds are kept."""

    def migrate(doc: dict[str, Any]) -> dict[str, Any]:
        out = dict(doc)
        out["schema_version"] = version
        faces = _faces(out)
        keys = ("match_distance", "mismatch_distance")
        if (faces is not None and faces.get("score", "cohort") == "cohort"
                and any(k in faces for k in keys)):
            if any(faces.get(k, old[k]) != old[k] for k in keys):
                log.warning("settings: the site's own cohort thresholds %s were set against "
                            "the previous cohort file; the new defaults replace them "
                            "(recalibrate)", {k: faces.get(k) for k in keys})
            defaults = new or {k: _faces_default(k) for k in keys}
            faces.update({k: defaults[k] for k in keys})
            out["faces"] = faces
        return out

    migrate.__name__ = f"_to_v{version}"
    return migrate


#: Version 5's default thresholds (its cohort's centres were means of photos, not of people).
V5_FACE_DEFAULTS = {"match_distance": 0.426, "mismatch_distance": 0.615}
# version 5: the study's cap cross-fitted, 18 variants, another file
_v4_to_v5 = _new_cohort_file(5, V4_FACE_DEFAULTS, V5_FACE_DEFAULTS)
# version 6: the cohort's centres weigh each person once (no public figure's face dominates a
# centre), so the file and its thresholds changed again
_v5_to_v6 = _new_cohort_file(6, V5_FACE_DEFAULTS, None)


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5, 5: _v5_to_v6}


def file_version(doc: dict[str, Any]) -> int:
    """The format a file's table is written in: its ``schema_version`` (version 1: ``version``).
    A file without one is version 1, the old flat table, unless its top level holds the current
    section tables ([desk], [platform], ...): hospital IT writes ``site.toml`` by hand from the
    installation guide, and such a file is read as the current version."""
    if "schema_version" not in doc and "version" not in doc:
        return SCHEMA_VERSION if any(isinstance(doc.get(k), dict) for k in _sections()) else 1
    value = doc.get("schema_version", doc.get("version"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _number(value) or not isinstance(value, int) or value < 1:
        raise ValueError(f"schema_version is not a version number ({type(value).__name__})")
    return value


def dropped_keys_problem(path: Path, keys: list[str]) -> ConfigError:
    """What a person is told about a version-1 file whose keys the migration dropped."""
    names = ", ".join(keys)
    return ConfigError(
        Text(
            f"设置文件 {path} 按旧格式 (第 1 版, 不分节) 读取, 其中的 {names} 无法识别, 已忽略。"
            f"请联系信息科核对该文件 (现行格式以 schema_version = {SCHEMA_VERSION} 开头, "
            "各项写在 [desk]、[platform]、[policy] 等节下)。",
            f"The settings file {path} was read in the old format (version 1, no sections); "
            f"{names} in it were not understood and were ignored. Please call hospital IT to "
            f"check the file (the current format starts with schema_version = {SCHEMA_VERSION} "
            "and puts each value under its section: [desk], [platform], [policy] ...).",
        ),
        detail=f"v1 keys dropped: {names}",
    )


def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    version = file_version(doc)
    if version > SCHEMA_VERSION:
        raise ConfigError(
            Text(
                f"设置文件来自更新的版本 (第 {version} 版), 本程序只认识到第 {SCHEMA_VERSION} 版。",
                f"The settings file is from a newer version ({version}); this program knows up to "
                f"{SCHEMA_VERSION}.",
            )
        )
    while version < SCHEMA_VERSION:
        doc = MIGRATIONS[version](doc)
        version = doc["schema_version"]
    return doc
