"""Short sound cues for the verdict (admit / review / reject) and for a new security alert.

The WAV files are generated once by :func:`generate_tones` (``python -m ui.sounds``) and kept in
``resources/sounds``; they are tiny. Playing uses QtMultimedia's QSoundEffect when it can be
loaded; a desk without sound hardware or libraries still works: failure to play is logged only.
"""

from __future__ import annotations

import logging
import math
import struct
import wave
from pathlib import Path

from PySide6.QtCore import QObject, QUrl

log = logging.getLogger(__name__)

SOUNDS_DIR = Path(__file__).resolve().parent.parent / "resources" / "sounds"
RATE = 16_000

# cue -> notes (frequency Hz, duration s): rising = admit, level = review, falling = reject.
TONES: dict[str, tuple[tuple[float, float], ...]] = {
    "admit": ((660.0, 0.09), (880.0, 0.14)),
    "review": ((620.0, 0.12), (0.0, 0.06), (620.0, 0.12)),
    "reject": ((440.0, 0.16), (330.0, 0.26)),
    "alert": ((880.0, 0.08), (0.0, 0.04), (880.0, 0.08), (0.0, 0.04), (880.0, 0.08)),
}


def generate_tones(directory: Path = SOUNDS_DIR) -> list[Path]:
    """Write one mono 16-bit WAV per cue (soft attack/release so it does not click)."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, notes in TONES.items():
        frames = bytearray()
        for freq, dur in notes:
            n = int(RATE * dur)
            ramp = max(1, int(RATE * 0.01))
            for i in range(n):
                env = min(1.0, i / ramp, (n - i) / ramp)
                v = 0.35 * env * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
                frames += struct.pack("<h", int(v * 32767))
        path = directory / f"{name}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(bytes(frames))
        out.append(path)
    return out


class SoundCues(QObject):
    """Plays a cue by name; ``enabled`` follows ``UiSection.sounds``. Never raises."""

    def __init__(self, enabled: bool = True, directory: Path = SOUNDS_DIR,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self.played: list[str] = []  # what was asked for, for the status screen and tests
        self._effects: dict[str, object] = {}
        self._directory = directory
        self._loaded = False
        self._available = False
        if enabled:
            self._load()

    def _load(self) -> None:
        """Load the audio backend once, when sound is first wanted (it is slow to start)."""
        if self._loaded:
            return
        self._loaded = True
        try:
            from PySide6.QtMultimedia import QSoundEffect
        except ImportError as exc:  # no libpulse etc.: silent desk
            log.warning("sound cues unavailable: %s", exc)
            return
        for name in TONES:
            path = self._directory / f"{name}.wav"
            if not path.is_file():
                log.warning("sound file missing: %s", path)
                continue
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            effect.setVolume(0.8)
            self._effects[name] = effect
        self._available = bool(self._effects)

    @property
    def available(self) -> bool:
        return self._available

    def play(self, cue: str) -> bool:
        """True if the cue was handed to the sound system."""
        if not self.enabled:
            return False
        self.played.append(cue)
        self._load()
        effect = self._effects.get(cue)
        if effect is None:
            log.info("no sound for cue %r", cue)
            return False
        try:
            effect.play()  # type: ignore[attr-defined]
        except RuntimeError as exc:  # a deleted or broken audio backend
            log.warning("could not play %s: %s", cue, exc)
            return False
        return True


if __name__ == "__main__":
    for p in generate_tones():
        print(p, p.stat().st_size)
