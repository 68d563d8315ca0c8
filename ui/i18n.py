"""Run-time language switching with Qt translators (.ts sources, .qm built by make translations)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QLocale, QTranslator

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "resources" / "translations"
LANGUAGES = ("zh_CN", "en")  # source strings are English; zh_CN is the default language


class Translations:
    def __init__(self, app: QCoreApplication, directory: Path = TRANSLATIONS_DIR):
        self.app = app
        self.directory = directory
        self.current = "en"
        self._translators: list[QTranslator] = []

    def set_language(self, lang: str) -> bool:
        """Switch every widget to ``lang``; widgets retranslate on QEvent.LanguageChange."""
        for t in self._translators:
            self.app.removeTranslator(t)
        self._translators.clear()
        self.current = lang
        if lang == "en":
            QLocale.setDefault(QLocale(QLocale.Language.English))
            self._deliver()
            return True
        QLocale.setDefault(QLocale(lang))
        ok = True
        for stem in ("desk", "qtbase"):
            t = QTranslator(self.app)
            if t.load(f"{stem}_{lang}", str(self.directory)):
                self.app.installTranslator(t)
                self._translators.append(t)
            elif stem == "desk":
                log.warning("translation %s_%s.qm not found in %s; run 'make translations'",
                            stem, lang, self.directory)
                ok = False
        self._deliver()
        return ok

    @staticmethod
    def _deliver() -> None:
        """Qt posts LanguageChange to every window; deliver them now so every widget shows the
        new language when this returns (and before the clerk's next key press is handled)."""
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
