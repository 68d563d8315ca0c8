from __future__ import annotations

import wave

from ui.sounds import SOUNDS_DIR, TONES, SoundCues, generate_tones


def test_committed_tones_are_short_valid_wavs(tmp_path):
    for name in TONES:
        with wave.open(str(SOUNDS_DIR / f"{name}.wav")) as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2
            assert 0.1 < w.getnframes() / w.getframerate() < 1.0
    made = generate_tones(tmp_path)
    for p in made:  # the generator reproduces the committed files
        assert p.read_bytes() == (SOUNDS_DIR / p.name).read_bytes()


def test_disabled_cues_stay_silent_and_missing_files_are_not_fatal(qtbot, tmp_path):
    off = SoundCues(False)
    assert off.play("admit") is False and off.played == []
    broken = SoundCues(True, directory=tmp_path)  # no files there
    assert broken.play("reject") is False
    assert broken.played == ["reject"] and not broken.available
