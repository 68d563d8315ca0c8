from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from desk_app.errors import ConfigError, SettingsCorrupt
from desk_app.settings import (
    SCHEMA_VERSION,
    FacesSection,
    Settings,
    load_settings,
    save_settings,
    update_settings,
)


def test_defaults_when_no_file(app_paths):
    loaded = load_settings(app_paths.settings_file, app_paths.site_config)
    assert loaded.problems == []
    assert loaded.settings == Settings()
    assert loaded.settings.desk.language == "zh_CN"


def test_save_and_load_round_trip_is_atomic_and_private(app_paths):
    s = update_settings(Settings(), {"faces": {"best_k": 5}, "desk": {"desk_id": "w-07"}})
    save_settings(s, app_paths.settings_file)
    assert stat.S_IMODE(os.stat(app_paths.settings_file).st_mode) == 0o600
    assert not [p for p in app_paths.config_dir.iterdir() if p.name.startswith(".settings")]
    again = load_settings(app_paths.settings_file).settings
    assert again.faces.best_k == 5 and again.desk.desk_id == "w-07"


def test_version_1_file_is_migrated_and_kept(app_paths):
    app_paths.settings_file.write_text(
        'version = 1\ndesk_id = "east-3"\nserver_url = "https://platform.example:8443"\n'
        "face_tolerance = 0.45\nidle_reset_seconds = 90\n",
        encoding="utf-8",
    )
    loaded = load_settings(app_paths.settings_file)
    assert loaded.migrated_from == 1
    s = loaded.settings
    assert (s.desk.desk_id, s.platform.url) == ("east-3", "https://platform.example:8443")
    assert s.faces.match_distance == 0.45 and s.faces.mismatch_distance >= 0.45
    assert s.ui.idle_reset_s == 90
    on_disk = tomllib.loads(app_paths.settings_file.read_text(encoding="utf-8"))
    assert on_disk["schema_version"] == SCHEMA_VERSION
    backup = app_paths.settings_file.with_name("settings.toml.v1.bak")
    assert "east-3" in backup.read_text(encoding="utf-8")


def test_version_2_file_takes_the_new_face_thresholds_unless_the_site_chose_its_own(app_paths):
    """Every save wrote the defaults out in full: a v2 file holding the old shipped thresholds
    (0.537 / 0.615, calibrated on Western faces) gets the v3 defaults, and those the v4 ones (cohort
    scores); a site's own stay, in plain distance."""
    new = FacesSection()
    app_paths.settings_file.write_text(
        'schema_version = 2\n[desk]\ndesk_id = "w-1"\n[faces]\nmatch_distance = 0.537\n'
        'mismatch_distance = 0.615\nbest_k = 4\nliveness = "off"\n', encoding="utf-8")
    loaded = load_settings(app_paths.settings_file)
    assert loaded.migrated_from == 2
    f = loaded.settings.faces
    assert (f.score, f.match_distance, f.mismatch_distance, f.best_k) == (
        "cohort", new.match_distance, new.mismatch_distance, 4)
    assert f.liveness == "passive"  # the old default "off" was nobody's choice
    assert loaded.settings.desk.desk_id == "w-1"
    assert app_paths.settings_file.with_name("settings.toml.v2.bak").exists()

    app_paths.settings_file.write_text(
        "schema_version = 2\n[faces]\nmatch_distance = 0.41\nmismatch_distance = 0.66\n"
        'liveness = "blink"\n', encoding="utf-8")
    f = load_settings(app_paths.settings_file).settings.faces
    assert (f.score, f.match_distance, f.mismatch_distance, f.liveness) == (
        "distance", 0.41, 0.66, "blink")
    # one threshold the site's, the other the old default: the default one moves, in order
    app_paths.settings_file.write_text(
        "schema_version = 2\n[faces]\nmatch_distance = 0.60\nmismatch_distance = 0.615\n",
        encoding="utf-8")
    f = load_settings(app_paths.settings_file).settings.faces
    assert (f.score, f.match_distance, f.mismatch_distance) == ("distance", 0.60, 0.615)


def test_version_3_thresholds_become_cohort_scores_unless_the_site_chose_its_own(app_paths):
    """Version 4 judges faces by cohort scores, in another unit: v3's own defaults (0.361 /
    0.615) become the new ones; a site's calibrated plain thresholds keep their meaning."""
    new = FacesSection()
    app_paths.settings_file.write_text(
        "schema_version = 3\n[faces]\nmatch_distance = 0.361\nmismatch_distance = 0.615\n"
        "best_k = 4\n", encoding="utf-8")
    loaded = load_settings(app_paths.settings_file)
    assert loaded.migrated_from == 3
    f = loaded.settings.faces
    assert (f.score, f.match_distance, f.mismatch_distance, f.best_k) == (
        "cohort", new.match_distance, new.mismatch_distance, 4)
    app_paths.settings_file.write_text(
        "schema_version = 3\n[faces]\nmatch_distance = 0.39\nmismatch_distance = 0.615\n",
        encoding="utf-8")
    f = load_settings(app_paths.settings_file).settings.faces
    assert (f.score, f.match_distance, f.mismatch_distance) == ("distance", 0.39, 0.615)
    app_paths.settings_file.write_text("schema_version = 3\n[faces]\nbest_k = 2\n",
                                       encoding="utf-8")
    assert load_settings(app_paths.settings_file).settings.faces.score == "cohort"


def test_version_4_cohort_thresholds_follow_the_new_cohort_file_and_plain_ones_stay(
        app_paths, caplog):
    """Version 5 ships another cohort file: version 4's default cohort thresholds become the
    new defaults, quietly (a site's own: the test below)."""
    new = FacesSection()
    assert (new.match_distance, new.mismatch_distance) != (0.412, 0.681)
    app_paths.settings_file.write_text(
        "schema_version = 4\n[faces]\nscore = \"cohort\"\nmatch_distance = 0.412\n"
        "mismatch_distance = 0.681\nbest_k = 4\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="desk_app.settings"):
        loaded = load_settings(app_paths.settings_file)
    assert loaded.migrated_from == 4 and not caplog.records
    f = loaded.settings.faces
    assert (f.score, f.match_distance, f.mismatch_distance, f.best_k) == (
        "cohort", new.match_distance, new.mismatch_distance, 4)
    assert app_paths.settings_file.with_name("settings.toml.v4.bak").exists()


def test_version_5_cohort_thresholds_follow_the_person_weighed_cohort_quietly_when_defaults(
        app_paths, caplog):
    """Version 6's cohort weighs each person once in a centre: another file, another unit.
    Version 5's defaults (and version 4's, through 5) become today's without a warning."""
    new = FacesSection()
    assert (new.match_distance, new.mismatch_distance) != (0.426, 0.615)
    for text in ("schema_version = 5\n[faces]\nscore = \"cohort\"\nmatch_distance = 0.426\n"
                 "mismatch_distance = 0.615\nbest_k = 4\n",
                 "schema_version = 4\n[faces]\nscore = \"cohort\"\nmatch_distance = 0.412\n"
                 "mismatch_distance = 0.681\nbest_k = 4\n"):
        app_paths.settings_file.write_text(text, encoding="utf-8")
        caplog.clear()
        with caplog.at_level("WARNING", logger="desk_app.settings"):
            loaded = load_settings(app_paths.settings_file)
        assert not caplog.records, caplog.text
        f = loaded.settings.faces
        assert (f.score, f.match_distance, f.mismatch_distance, f.best_k) == (
            "cohort", new.match_distance, new.mismatch_distance, 4)
    assert app_paths.settings_file.with_name("settings.toml.v5.bak").exists()


@pytest.mark.parametrize("version", [4, 5])
def test_a_sites_own_cohort_thresholds_give_way_to_a_new_cohort_file_with_a_warning(
        app_paths, caplog, version):
    """Version 5 and 6 each ship another cohort file: a site's own cohort thresholds, set
    against the old one, take the new defaults with a warning ("recalibrate"); plain-distance
    ones keep their meaning and stay."""
    new = FacesSection()
    app_paths.settings_file.write_text(
        f"schema_version = {version}\n[faces]\nmatch_distance = 0.44\nmismatch_distance = 0.69\n",
        encoding="utf-8")
    with caplog.at_level("WARNING", logger="desk_app.settings"):
        f = load_settings(app_paths.settings_file).settings.faces
    assert (f.score, f.match_distance, f.mismatch_distance) == (
        "cohort", new.match_distance, new.mismatch_distance)
    assert "recalibrate" in caplog.text
    app_paths.settings_file.write_text(
        f"schema_version = {version}\n[faces]\nscore = \"distance\"\nmatch_distance = 0.39\n"
        "mismatch_distance = 0.62\n", encoding="utf-8")
    f = load_settings(app_paths.settings_file).settings.faces
    assert (f.score, f.match_distance, f.mismatch_distance) == ("distance", 0.39, 0.62)


@pytest.mark.parametrize(
    "content",
    [
        b"this is [not toml",
        b"\xff\xfe\x00garbage",
        b'schema_version = 2\n[faces]\nbest_k = "many"\n',
        b"schema_version = 2\n[faces]\nmatch_distance = 0.9\nmismatch_distance = 0.5\n",
        b'schema_version = 2\n[nonsense]\nx = 1\n',
    ],
)
def test_corrupt_file_is_backed_up_and_reported(app_paths, content):
    app_paths.settings_file.write_bytes(content)
    loaded = load_settings(app_paths.settings_file)
    assert loaded.settings == Settings()
    assert len(loaded.problems) == 1
    problem = loaded.problems[0]
    assert isinstance(problem, SettingsCorrupt)
    assert problem.backup_path in problem.message("en")
    assert "默认设置" in problem.message("zh_CN")
    backups = list(app_paths.config_dir.glob("settings.toml.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == content
    assert not app_paths.settings_file.exists()


def test_newer_schema_is_left_untouched(app_paths):
    app_paths.settings_file.write_text("schema_version = 99\n", encoding="utf-8")
    loaded = load_settings(app_paths.settings_file)
    assert isinstance(loaded.problems[0], ConfigError)
    assert app_paths.settings_file.read_text(encoding="utf-8") == "schema_version = 99\n"


def test_site_file_gives_defaults_and_desk_file_wins(app_paths):
    app_paths.site_config.write_text(
        'schema_version = 2\n[platform]\nurl = "https://city-platform:443"\n[desk]\ndesk_id = "site"\n',
        encoding="utf-8")
    app_paths.settings_file.write_text('schema_version = 2\n[desk]\ndesk_id = "mine"\n', encoding="utf-8")
    s = load_settings(app_paths.settings_file, app_paths.site_config).settings
    assert s.platform.url == "https://city-platform:443"
    assert s.desk.desk_id == "mine"


def test_invalid_update_is_refused_with_a_message():
    with pytest.raises(ConfigError) as err:
        update_settings(Settings(), {"faces": {"best_k": 0}})
    assert "faces.best_k" in err.value.message("en")
    with pytest.raises(ConfigError):
        update_settings(Settings(), {"platform": {"url": "ftp://x"}})


def test_site_policy_reaches_a_desk_after_the_desk_saved(app_paths):
    """The desk's file holds only what was changed on the desk: a later site.toml change still
    reaches it, unless the desk set that value itself."""
    from desk_app.settings import setting_sources

    app_paths.site_config.parent.mkdir(parents=True, exist_ok=True)
    app_paths.site_config.write_text(
        'schema_version = 2\n[policy]\nmax_bookings_per_day = 3\n[faces]\nbest_k = 5\n',
        encoding="utf-8")
    s = load_settings(app_paths.settings_file, app_paths.site_config).settings
    assert (s.policy.max_bookings_per_day, s.faces.best_k) == (3, 5)
    s = update_settings(s, {"faces": {"best_k": 2}, "desk": {"desk_id": "desk-07"}})
    save_settings(s, app_paths.settings_file, app_paths.site_config)
    own = app_paths.settings_file.read_text(encoding="utf-8")
    assert "max_bookings_per_day" not in own and "best_k = 2" in own and "desk-07" in own
    # hospital IT changes the site file afterwards
    app_paths.site_config.write_text(
        'schema_version = 2\n[policy]\nmax_bookings_per_day = 1\n[faces]\nbest_k = 6\n',
        encoding="utf-8")
    again = load_settings(app_paths.settings_file, app_paths.site_config).settings
    assert again.policy.max_bookings_per_day == 1  # the site's new value
    assert again.faces.best_k == 2  # the desk's own value wins
    sources = setting_sources(app_paths.settings_file, app_paths.site_config)
    assert sources[("policy", "max_bookings_per_day")] == "site"
    assert sources[("faces", "best_k")] == "desk"
    assert sources[("ui", "sounds")] == "default"
    # setting a value back to what the site says makes the desk follow the site again
    save_settings(update_settings(again, {"faces": {"best_k": 6}}), app_paths.settings_file,
                  app_paths.site_config)
    assert "best_k" not in app_paths.settings_file.read_text(encoding="utf-8")


def test_a_site_file_without_a_version_in_sections_is_read_as_the_current_format(app_paths):
    """The site.toml example of the installation guide had no schema_version line: a file whose
    top level holds the current sections is read as the current version, not as version 1's
    flat table (whose migration dropped every section, silently)."""
    app_paths.site_config.write_text(
        '[desk]\nhospital_id = "H001"\nhospital_name = "示范医院"\n\n'
        '[platform]\nurl = "https://platform.example.org"\nca_file = ""\n\n'
        "[policy]\nrequire_chip_for_admit = true\n", encoding="utf-8")
    loaded = load_settings(app_paths.settings_file, app_paths.site_config)
    assert loaded.problems == []
    s = loaded.settings
    assert s.platform.url == "https://platform.example.org"
    assert s.policy.require_chip_for_admit is True
    # the desk's own file without a version, in sections, too; nothing rewritten
    app_paths.settings_file.write_text('[desk]\ndesk_id = "w-09"\n', encoding="utf-8")
    loaded = load_settings(app_paths.settings_file, app_paths.site_config)
    assert (loaded.problems, loaded.migrated_from) == ([], None)
    assert loaded.settings.desk.desk_id == "w-09" and loaded.settings.policy.require_chip_for_admit


@pytest.mark.parametrize("which", ["site", "desk"])
def test_keys_a_flat_file_loses_in_migration_are_shown_to_hospital_it(app_paths, which):
    """A flat (version 1) file still migrates; a key version 2 has no place for is dropped, and
    the person at the desk is told which file and which keys, in both languages."""
    path = app_paths.site_config if which == "site" else app_paths.settings_file
    path.write_text('server_url = "https://platform.example.org"\nrequire_chip_for_admit = true\n'
                    "hopsital_name = 'x'\n", encoding="utf-8")
    loaded = load_settings(app_paths.settings_file, app_paths.site_config)
    assert loaded.settings.platform.url == "https://platform.example.org"
    assert len(loaded.problems) == 1
    problem = loaded.problems[0]
    assert isinstance(problem, ConfigError) and not isinstance(problem, SettingsCorrupt)
    for lang in ("zh_CN", "en"):
        text = problem.message(lang)
        assert str(path) in text and "hopsital_name" in text and "require_chip_for_admit" in text
    assert "信息科" in problem.message("zh_CN") and "hospital IT" in problem.message("en")


#: Values a hand-edited file has held (review of 2026-12-04): each once raised out of load_settings.
HOSTILE = {
    "version_a_list": "schema_version = [1]\n",
    "version_inf": "schema_version = inf\n",
    "version_zero": "schema_version = 0\n",
    "version_a_string": 'schema_version = "6"\n',
    "v2_faces_not_a_table": "schema_version = 2\nfaces = 5\n",
    "v2_thresholds_not_numbers": 'schema_version = 2\n[faces]\nmatch_distance = 0.537\n'
                                 'mismatch_distance = "x"\n',
    "v1_tolerance_a_string": "schema_version = 1\nface_tolerance = 'x'\n",
    "v4_faces_not_a_table": 'schema_version = 4\nfaces = "cohort"\n',
}


@pytest.mark.parametrize("content", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_desk_file_is_moved_aside_and_reported(app_paths, content):
    app_paths.settings_file.write_text(content, encoding="utf-8")
    loaded = load_settings(app_paths.settings_file, app_paths.site_config)
    assert loaded.settings == Settings()
    assert [type(p) for p in loaded.problems] == [SettingsCorrupt]
    backups = list(app_paths.config_dir.glob("settings.toml.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == content


@pytest.mark.parametrize("content", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_site_file_is_reported_and_left_alone(app_paths, content):
    app_paths.site_config.write_text(content, encoding="utf-8")
    app_paths.settings_file.write_text('schema_version = 6\n[desk]\ndesk_id = "w-3"\n',
                                       encoding="utf-8")
    loaded = load_settings(app_paths.settings_file, app_paths.site_config)
    assert loaded.settings.desk.desk_id == "w-3"  # the desk's own file still counts
    assert [type(p) for p in loaded.problems] == [ConfigError]
    assert str(app_paths.site_config) in loaded.problems[0].message("en")
    assert app_paths.site_config.read_text(encoding="utf-8") == content


def _on_read_only_disk(folder, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (Python) with ``folder`` remounted read-only, in a private mount namespace."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare: a read-only mount cannot be made")
    script = (f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && "
              f"touch {folder}/.probe 2>/dev/null; test ! -e {folder}/.probe || exit 77; "
              f'exec "$0" -c "$1"')
    out = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script,
                          sys.executable, code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    if out.returncode == 77 or "unshare:" in out.stderr or "mount:" in out.stderr:
        pytest.skip(f"a read-only mount cannot be made here: {out.stderr.strip()}")
    return out


@pytest.mark.parametrize("content", [HOSTILE["version_zero"],
                                     'version = 1\ndesk_id = "east-3"\n'],
                         ids=["unusable", "old_version"])
def test_a_settings_folder_on_a_read_only_disk_is_read_as_far_as_it_can_be(app_paths, content):
    """Moving an unusable file aside, or keeping the old file of a migrated one, needs a
    writable folder: on a read-only one the file stays where it is and the desk starts."""
    app_paths.settings_file.write_text(content, encoding="utf-8")
    out = _on_read_only_disk(app_paths.config_dir, (
        "import json, sys\nfrom pathlib import Path\nfrom desk_app.settings import load_settings\n"
        f"r = load_settings(Path({str(app_paths.settings_file)!r}))\n"
        "print(json.dumps([r.settings.desk.desk_id, [p.message('en') for p in r.problems]]))\n"))
    assert out.returncode == 0, out.stderr
    desk_id, problems = json.loads(out.stdout.splitlines()[-1])
    if content.startswith("version = 1"):
        assert (desk_id, problems) == ("east-3", [])  # migrated in memory
    else:
        assert desk_id == "desk-01" and len(problems) == 1
        assert "left in place" in problems[0] and str(app_paths.settings_file) in problems[0]
    assert [p.name for p in app_paths.config_dir.iterdir()] == ["settings.toml"]


def test_the_desk_starts_with_a_hostile_site_file_and_says_so(app_paths):
    """`desk-app --data-dir D run` with ``schema_version = 0`` in site.toml printed a traceback
    and "internal error"; now the window opens, and `settings show` names the problem."""
    app_paths.site_config.write_text('schema_version = 0\n[desk]\nhospital_id = "H001"\n',
                                     encoding="utf-8")
    data_dir = str(app_paths.config_dir.parent)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-m", "desk_app.cli", "--data-dir", data_dir, "run",
                          "--offscreen"], capture_output=True, text=True, timeout=180, env=env)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert "window built offscreen" in run.stdout
    show = subprocess.run([sys.executable, "-m", "desk_app.cli", "--data-dir", data_dir, "--lang",
                           "en", "settings", "show"], capture_output=True, text=True, timeout=60)
    assert show.returncode == 0 and "Traceback" not in show.stderr
    assert (f"Configuration problem: The site configuration {app_paths.site_config} is invalid"
            in show.stdout)
