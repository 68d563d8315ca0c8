"""The verdict panel, readable from a metre away: a banner with colour, icon and words; the ID
photo and the live face side by side with the score band; the booking; every reason."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.model import CheckinState, Decision, FaceView, PersonView, ReasonView
from ui.widgets import DECISION_COLOURS, NEUTRAL, draw_decision_icon, pixmap_from_png

SEVERITY_MARK = {"block": "✖", "warn": "!", "info": "i"}
SEVERITY_COLOUR = {"block": "#b3261e", "warn": "#b26a00", "info": "#5f6368"}


class VerdictBanner(QWidget):
    """The big coloured strip: icon + decision words; the colour is a third cue, never the only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("VerdictBanner")
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.decision: Decision | None = None
        self.words = ""
        self.detail = ""

    def set_verdict(self, decision: Decision | None, words: str, detail: str) -> None:
        self.decision, self.words, self.detail = decision, words, detail
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(600, 110)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = DECISION_COLOURS.get(self.decision, NEUTRAL) if self.decision else QColor("#e8eaed")
        fg = QColor("white") if self.decision else QColor("#5f6368")
        p.setBrush(colour)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 8, 8)
        h = self.height()
        if self.decision:
            draw_decision_icon(p, QRectF(12, 10, h - 20, h - 20), self.decision, fg)
        p.setPen(fg)
        f = p.font()
        f.setPixelSize(int(h * 0.40))
        f.setBold(True)
        p.setFont(f)
        left = h + 4 if self.decision else 16
        p.drawText(QRectF(left, 2, self.width() - left - 12, h * 0.56),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.words)
        f.setPixelSize(int(h * 0.15))
        f.setBold(False)
        p.setFont(f)
        p.drawText(QRectF(left, h * 0.58, self.width() - left - 12, h * 0.4),
                   Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft
                   | Qt.TextFlag.TextWordWrap, self.detail)
        p.end()


class ScoreBand(QWidget):
    """Face distance on a band: green up to ``match_below``, amber between, red from
    ``mismatch_above``; a marker at the measured distance (smaller = more alike)."""

    MAX = 1.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScoreBand")
        self.setMinimumHeight(44)
        self.face: FaceView | None = None

    def set_face(self, face: FaceView | None) -> None:
        self.face = face
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width() - 16, 16
        x0, y0 = 8, 6
        face = self.face
        match_b = face.match_below if face else 0.5
        mis_a = face.mismatch_above if face else 0.62

        def x(v: float) -> float:
            return x0 + w * max(0.0, min(v, self.MAX)) / self.MAX

        for a, b, c in ((0.0, match_b, "#1b7f3b"), (match_b, mis_a, "#b26a00"),
                        (mis_a, self.MAX, "#b3261e")):
            p.fillRect(QRectF(x(a), y0, x(b) - x(a), h), QColor(c))
        if face and face.distance is not None:
            mx = x(face.distance)
            p.setPen(QPen(QColor("#202124"), 3))
            p.drawLine(int(mx), y0 - 4, int(mx), y0 + h + 4)
            p.setPen(QColor("#202124"))
            f = p.font()
            f.setPixelSize(13)
            p.setFont(f)
            p.drawText(QRectF(mx - 40, y0 + h + 2, 80, 18), Qt.AlignmentFlag.AlignCenter,
                       f"{face.distance:.2f}")
        p.end()


class PhotoBox(QLabel):
    SMALL = QSize(150, 185)
    # The clerk compares the two photos (an undecided face): as large as the window leaves room
    # for, up to LARGE (a fixed LARGE overflowed a short window: the photos covered their
    # captions), down to FLOOR where the window is shorter still.
    LARGE = QSize(300, 370)
    FLOOR = QSize(110, 136)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedSize(self.SMALL)
        self.setStyleSheet("QLabel { background: #f1f3f4; border: 1px solid #dadce0; color: #5f6368; }")
        self.has_photo = False
        self.large = False
        self._png: bytes | None = None
        self._pixmap: QPixmap | None = None

    def set_large(self, large: bool) -> None:
        if large == self.large:
            return
        self.large = large
        if large:
            self.setMinimumSize(self.FLOOR)
            self.setMaximumSize(self.LARGE)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        else:
            self.setFixedSize(self.SMALL)
        self.updateGeometry()
        self._show()

    def sizeHint(self) -> QSize:
        return self.LARGE if self.large else self.SMALL

    def minimumSizeHint(self) -> QSize:
        # not the pixmap's size: the picture follows the box, not the reverse
        return self.FLOOR if self.large else self.SMALL

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show()

    def set_png(self, data: bytes | None, empty_text: str) -> None:
        if data is not self._png:  # decoded once per picture, not on every resize
            self._png = data
            self._pixmap = pixmap_from_png(data)
        self.has_photo = self._pixmap is not None
        if self._pixmap is None:
            self.setPixmap(QPixmap())  # a null pixmap clears the picture
            self.setText(empty_text)
        else:
            self._show()

    def _show(self) -> None:
        if self._pixmap is not None:
            self.setPixmap(self._pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))


class VerdictPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("VerdictPanel")
        self.lang = "zh_CN"
        self.state: CheckinState | None = None
        self.banner = VerdictBanner(self)
        self.id_photo = PhotoBox(self)
        self.live_photo = PhotoBox(self)
        self.id_caption = QLabel(self)
        self.live_caption = QLabel(self)
        self.score = ScoreBand(self)
        self.score_words = QLabel(self)
        self.score_words.setWordWrap(True)
        self.person_id = QLabel(self)
        self.person_name = QLabel(self)
        self.department = QLabel(self)
        self.doctor = QLabel(self)
        self.slot = QLabel(self)
        self.reference = QLabel(self)
        self.reasons = QListWidget(self)
        self.reasons.setObjectName("VerdictReasons")
        self.reasons.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reasons_title = QLabel(self)
        for lbl in (self.person_id, self.person_name, self.department, self.doctor, self.slot,
                    self.reference):
            f = lbl.font()
            f.setPixelSize(17)
            lbl.setFont(f)
        f = self.reasons.font()
        f.setPixelSize(16)
        self.reasons.setFont(f)

        photos = QGridLayout()
        photos.addWidget(self.id_photo, 0, 0)
        photos.addWidget(self.live_photo, 0, 1)
        photos.addWidget(self.id_caption, 1, 0, Qt.AlignmentFlag.AlignCenter)
        photos.addWidget(self.live_caption, 1, 1, Qt.AlignmentFlag.AlignCenter)
        photos.addWidget(self.score, 2, 0, 1, 2)
        photos.addWidget(self.score_words, 3, 0, 1, 2)

        self.form = QFormLayout()
        self._form_labels = [QLabel(self) for _ in range(6)]
        for lbl, field in zip(self._form_labels, (self.person_name, self.person_id,
                                                  self.department, self.doctor, self.slot,
                                                  self.reference), strict=True):
            self.form.addRow(lbl, field)

        grid = QGridLayout()
        grid.addLayout(photos, 0, 0)
        grid.addLayout(self.form, 0, 1)
        grid.setColumnStretch(1, 1)
        self.reasons.setMinimumHeight(44)  # two lines; the banner names the first reason
        self._lay = lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.banner)
        lay.addLayout(grid)
        lay.addWidget(self.reasons_title)
        lay.addWidget(self.reasons, 1)
        self.retranslate()

    # --- input ------------------------------------------------------------------------------

    def set_state(self, state: CheckinState | None, lang: str) -> None:
        self.state = state
        self.lang = lang
        self._render()

    def decision_words(self, decision: Decision | None) -> str:
        return {
            Decision.ADMIT: self.tr("ADMIT"),
            Decision.REVIEW: self.tr("REVIEW NEEDED"),
            Decision.REJECT: self.tr("REJECT"),
            None: self.tr("Checking..."),
        }[decision]

    def _render(self) -> None:
        s = self.state
        verdict = s.verdict if s else None
        decision = verdict.decision if verdict else None
        if verdict is None:
            detail = s.hint(self.lang) if s else self.tr("Next patient")
        elif verdict.decided_by and verdict.decision_note is not None:
            detail = self.tr("Decided by %1: %2").replace("%1", verdict.decided_by).replace(
                "%2", verdict.decision_note(self.lang))
        elif verdict.overridden:  # worded from the decision made, never "released" for a reject
            changed = (self.tr("Changed by hand to ADMIT") if verdict.decision == Decision.ADMIT
                       else self.tr("Changed by hand to REJECT"))
            by = f" ({verdict.decided_by})" if verdict.decided_by else ""
            detail = f"{changed}{by}: {verdict.override_reason}"
        else:
            blocking = [r for r in verdict.reasons if r.severity != "info"]
            detail = blocking[0].text(self.lang) if blocking else (
                self.tr("Identity, booking and face agree"))
        if verdict and verdict.alert_security:
            alerted = self.tr("Security has been alerted")
            detail = f"{detail}  ·  {alerted}"
        self.banner.set_verdict(decision, self.decision_words(decision) if s else "", detail)

        compare = bool(s and s.face_to_judge)  # both photos large, side by side
        self.id_photo.set_large(compare)
        self.live_photo.set_large(compare)
        # comparing, the photos take the room the reasons list would (index 1: the photos' grid)
        self._lay.setStretch(1, 1 if compare else 0)
        self._lay.setStretch(3, 0 if compare else 1)
        self.id_photo.set_png(s.id_photo_png if s else None, self.tr("No ID photo"))
        self.live_photo.set_png(s.live_face_png if s else None, self.tr("No live face"))
        self.score.set_face(s.face if s else None)
        self.score_words.setText(self._face_words(s.face if s else None))

        person = s.person if s else None
        booking = s.booking if s else None
        self.id_caption.setText(self._card_caption(person))
        self.person_name.setText(person.name_masked if person else "—")
        self.person_id.setText(person.id_masked if person else "—")
        self.department.setText(booking.department if booking else "—")
        self.doctor.setText(booking.doctor if booking else "—")
        if booking:
            start = booking.slot_start  # the service gives hospital (Beijing) time
            end = booking.slot_end
            self.slot.setText(f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}")
            self.reference.setText(booking.reference)
        else:
            self.slot.setText("—")
            self.reference.setText("—")

        self.reasons.clear()
        reasons: tuple[ReasonView, ...] = verdict.reasons if verdict else ()
        for r in reasons:
            item = QListWidgetItem(f"{SEVERITY_MARK.get(r.severity, '·')}  {r.text(self.lang)}")
            item.setForeground(QColor(SEVERITY_COLOUR.get(r.severity, "#202124")))
            item.setData(Qt.ItemDataRole.UserRole, r.code)
            self.reasons.addItem(item)
        for err in (s.errors if s else ()):
            item = QListWidgetItem(f"!  {err(self.lang)}")
            item.setForeground(QColor("#b26a00"))
            self.reasons.addItem(item)

    def _card_caption(self, person: PersonView | None) -> str:
        """"ID card photo · Female · 67": what the card says of its holder, beside the photo, so
        a clerk comparing faces also compares sex and age (a relative with the patient's card)."""
        parts = [self.tr("ID card photo")]
        if person is not None and person.sex in ("M", "F"):
            parts.append(self.tr("Male") if person.sex == "M" else self.tr("Female"))
        if person is not None and person.age is not None:
            parts.append(self.tr("%1 years").replace("%1", str(person.age)))
        return " · ".join(parts)

    def _face_words(self, face: FaceView | None) -> str:
        if face is None:
            return self.tr("Face comparison: not yet")
        words = {
            "match": self.tr("Same person"),
            "undecided": self.tr("Uncertain: compare the photos yourself"),
            "mismatch": self.tr("Different person"),
            "declined": self.tr("Patient declined the face check: verify by hand"),
            "unavailable": self.tr("Face comparison unavailable"),
        }.get(face.outcome, face.outcome)
        if face.distance is None:
            return words
        return self.tr("%1 (distance %2; same below %3, different above %4)").replace(
            "%1", words).replace("%2", f"{face.distance:.2f}").replace(
            "%3", f"{face.match_below:.2f}").replace("%4", f"{face.mismatch_above:.2f}")

    # --- language ---------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.live_caption.setText(self.tr("Live face"))
        self.reasons_title.setText(self.tr("Reasons"))
        for lbl, text in zip(self._form_labels, (
                self.tr("Name"), self.tr("ID number"), self.tr("Department"), self.tr("Doctor"),
                self.tr("Time slot"), self.tr("Booking reference")), strict=True):
            lbl.setText(text)
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
