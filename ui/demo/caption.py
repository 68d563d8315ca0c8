"""What the demo says while it plays: a caption bar above the desk, and Esc to stop.

The director (:mod:`ui.demo.runner`) emits a :class:`Caption` at each moment of a visit (the
patient shows the QR, puts the card down, looks at the camera, the desk decides) and at the end;
:class:`DemoCaption` turns it into one short line in the UI language (Chinese by default, English
with ``--lang en``) and re-words it when the language changes. :class:`EscStopsAutoplay` lets
Esc end the self-playing demo wherever the focus is (the key still reaches the screen).

Wiring (``run_demo``)::

    bar = DemoCaption(lang, parent=window.main)
    window.main.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    director.caption.connect(bar.show_caption)
    app.installEventFilter(EscStopsAutoplay(director, parent=window.main))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolBar, QWidget

from ui.demo.scenarios import Scenario
from ui.operations import current_lang

# The moments a caption names (Caption.key).
KEYS = ("scenario", "qr", "card", "face", "verdict", "offline", "drain", "finished", "stopped")


@dataclass(frozen=True)
class Caption:
    key: str  # one of KEYS
    scenario: Scenario | None = None
    index: int = 0  # 1-based position of the scenario in this run
    total: int = 0
    verdict: str | None = None  # "admit" | "review" | "reject" | "none" (key "verdict")
    as_expected: int = 0  # key "finished": how many scenarios gave their expected verdict
    autoplay: bool = False  # the demo plays by itself (Esc stops it)


class DemoCaption(QToolBar):
    """One line above the desk: which patient, what is happening, what the desk concluded."""

    def __init__(self, lang: str = "zh_CN", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DemoCaption")
        self.setMovable(False)
        self.setFloatable(False)
        self.lang = lang
        self.label = QLabel(self)
        self.label.setObjectName("DemoCaptionText")
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        font = self.label.font()
        font.setPixelSize(18)
        self.label.setFont(font)
        self.label.setContentsMargins(12, 6, 12, 6)
        self.addWidget(self.label)
        self.hint = QLabel(self)  # Esc, while the demo plays by itself
        self.hint.setObjectName("DemoCaptionHint")
        self.hint.setContentsMargins(12, 6, 12, 6)
        self.addWidget(self.hint)
        self.caption: Caption | None = None
        self.retranslate()

    def show_caption(self, caption: Caption) -> None:
        self.caption = caption
        self._render()

    def _render(self) -> None:
        c = self.caption
        if c is None:
            return
        self.label.setText(self.text(c))
        self.hint.setText(self.tr("Esc: stop the demo") if c.autoplay else "")

    def text(self, c: Caption) -> str:
        words = self._moments()
        if c.key == "finished":
            line = self.tr("The demo has ended: %1 of %2 patients got the verdict expected.") \
                .replace("%1", str(c.as_expected)).replace("%2", str(c.total))
            again = self.tr("Pick a scenario in the Demo tab to see it again.")
            return f"{line} {again}"
        if c.key == "stopped":
            return self.tr("The demo stopped. Pick a scenario in the Demo tab.")
        head = ""
        if c.scenario is not None:
            head = self.tr("Patient %1 of %2: %3").replace("%1", str(c.index)) \
                .replace("%2", str(c.total)).replace("%3", c.scenario.title(self.lang))
        if c.key == "verdict":
            decisions = self._decisions()
            got = decisions.get(c.verdict or "none", decisions["none"])
            expected = c.scenario.expected if c.scenario is not None else None
            if expected is not None and c.verdict == expected:
                what = self.tr("The desk decides: %1 (as expected)").replace("%1", got)
            else:
                what = self.tr("The desk decides: %1 (expected: %2)").replace("%1", got).replace(
                    "%2", decisions.get(expected or "none", decisions["none"]))
        else:
            what = words.get(c.key, "")
        return f"{head} — {what}" if head and what else head or what

    def _moments(self) -> dict[str, str]:
        return {
            "scenario": self.tr("the next patient comes to the window"),
            "qr": self.tr("the patient shows the booking QR code on a phone"),
            "card": self.tr("the ID card goes on the reader"),
            "face": self.tr("the patient looks at the camera: the face is compared with the card "
                            "photo"),
            "offline": self.tr("the network is down: the desk checks patients in offline"),
            "drain": self.tr("the network is back: the offline records are uploaded"),
        }

    def _decisions(self) -> dict[str, str]:
        return {"admit": self.tr("Admit"), "review": self.tr("Review by the clerk"),
                "reject": self.tr("Reject"), "none": self.tr("no verdict")}

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Demo"))
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = current_lang()
            self.retranslate()
        super().changeEvent(event)


class EscStopsAutoplay(QObject):
    """Esc anywhere in the application stops the self-playing demo (the key is not eaten)."""

    def __init__(self, director: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.director = director

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.KeyPress and self.director.autoplaying \
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
            self.director.stop()
        return False


__all__ = ["KEYS", "Caption", "DemoCaption", "EscStopsAutoplay"]
