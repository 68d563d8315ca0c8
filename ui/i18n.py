"""Run-time language switching with Qt translators (.ts sources, .qm built by make translations)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "resources" / "translations"
LANGUAGES = ("zh_CN", "en")  # source strings are English; zh_CN is the default language


def current_lang() -> str:
    """The UI language as set by :class:`Translations` (it sets the default locale)."""
    return "en" if QLocale().name().startswith("en") else "zh_CN"


class Translations:
    def __init__(self, app: QCoreApplication, directory: Path = TRANSLATIONS_DIR):
        self.app = app
        self.directory = directory
        self.current = "en"

    # One language for the whole application: translators installed by any instance are removed
    # when another instance switches, so two owners (e.g. app and tests) cannot stack languages.
    _translators: list[QTranslator] = []

    def set_language(self, lang: str) -> bool:
        """Switch every widget to ``lang``; widgets retranslate on QEvent.LanguageChange."""
        for t in Translations._translators:
            self.app.removeTranslator(t)
        Translations._translators.clear()
        self.current = lang
        if lang == "en":
            QLocale.setDefault(QLocale(QLocale.Language.English))
            self._deliver()
            return True
        QLocale.setDefault(QLocale(lang))
        ok = True
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        # Our strings from resources/translations; Qt's own (OK/Cancel ...) from the Qt install
        # unless a copy is shipped next to ours (the frozen installer).
        for stem, directory in (("desk", str(self.directory)), ("qtbase", str(self.directory)),
                                ("qtbase", qt_dir)):
            if stem == "qtbase" and any(t.objectName() == "qtbase" for t in self._translators):
                continue
            t = QTranslator(self.app)
            t.setObjectName(stem)
            if t.load(f"{stem}_{lang}", directory):
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
