"""Live camera preview: numpy BGR frames -> QImage, with the face box, code outlines and the ID
card's outline drawn over.

Overlays are in the frame's pixels: the face box (green), a QR code just read (blue, dashed) and
an ID card (amber: solid when its number was read, dotted while it is seen but not read yet).
Code and card outlines are shown for a moment, and cleared with everything else for the next
patient (:meth:`CameraPreview.set_overlays` with no arguments).

Only the newest frame is kept and painted: ``show_frame`` just stores it and schedules a repaint,
so a burst of frames costs one paint. Frames come from ``devices.camera.qt.CameraSignals``
(``frame_ready`` -> :meth:`CameraPreview.show_frame`) already on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

Box = tuple[int, int, int, int]  # left, top, right, bottom in frame pixels
Polygon = Sequence[tuple[int, int]]

FACE_PEN = ("#34a853", 3, Qt.PenStyle.SolidLine)
CODE_PEN = ("#4285f4", 3, Qt.PenStyle.DashLine)
CARD_READ_PEN = ("#fbbc04", 4, Qt.PenStyle.SolidLine)
CARD_SEEN_PEN = ("#fbbc04", 3, Qt.PenStyle.DotLine)
CARD_READ_MS = 1500  # as long as a code's outline
CARD_SEEN_MS = 1000  # refreshed by every frame in which the card is seen while being read


def _pen(spec: tuple[str, int, Qt.PenStyle]) -> QPen:
    colour, width, style = spec
    return QPen(QColor(colour), width, style)


def _points(polygon: Polygon) -> tuple[tuple[int, int], ...]:
    return tuple((int(x), int(y)) for x, y in polygon)


class CameraPreview(QWidget):
    def __init__(self, name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"CameraPreview_{name}" if name else "CameraPreview")
        self.camera_name = name
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._image: QImage | None = None
        self._buffer: np.ndarray | None = None  # keeps the pixels alive for the QImage
        self._frame_size = (0, 0)
        self._face_boxes: tuple[Box, ...] = ()
        self._outlines: tuple[tuple[tuple[int, int], ...], ...] = ()
        self._state_text = ""
        self._outline_timer = QTimer(self)
        self._outline_timer.setSingleShot(True)
        self._outline_timer.timeout.connect(self._clear_outlines)
        self._card_outline: tuple[tuple[int, int], ...] = ()
        self._card_read = False  # the card's number was read (solid), else only seen (dotted)
        self._card_timer = QTimer(self)
        self._card_timer.setSingleShot(True)
        self._card_timer.timeout.connect(self._clear_card_outline)
        self.frames_received = 0
        self.frames_painted = 0
        self.retranslate()

    # --- input ------------------------------------------------------------------------------

    def show_frame(self, frame: object) -> None:
        """A ``devices.camera.types.Frame`` or a BGR ``uint8`` array (H x W x 3)."""
        image = getattr(frame, "image", frame)
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
            return
        self.frames_received += 1
        buf = np.ascontiguousarray(image, dtype=np.uint8)
        h, w = buf.shape[:2]
        self._buffer = buf
        self._image = QImage(buf.data, w, h, int(buf.strides[0]), QImage.Format.Format_BGR888)
        self._frame_size = (w, h)
        self.update()

    def set_overlays(self, face_boxes: Sequence[Box] = (), outlines: Sequence[Polygon] = ()) -> None:
        """Replace every overlay (the card outline is cleared)."""
        self._face_boxes = tuple(tuple(int(v) for v in b) for b in face_boxes)  # type: ignore[misc]
        self._outlines = tuple(_points(poly) for poly in outlines)
        self._clear_card_outline()

    def set_face_boxes(self, face_boxes: Sequence[Box] = ()) -> None:
        """Replace the face boxes, keep the code and card outlines."""
        self._face_boxes = tuple(tuple(int(v) for v in b) for b in face_boxes)  # type: ignore[misc]
        self.update()

    def flash_outline(self, polygon: Polygon, ms: int = 1500) -> None:
        """Outline a code just read (in the frame's pixels) for ``ms`` milliseconds."""
        if len(polygon) < 3:
            return
        self._outlines = (_points(polygon),)
        self._outline_timer.start(ms)
        self.update()

    def _clear_outlines(self) -> None:
        self._outlines = ()
        self.update()

    def flash_card_outline(self, polygon: Polygon, *, read: bool, ms: int | None = None) -> None:
        """Outline the ID card where the camera found it (frame pixels) for ``ms`` milliseconds:
        ``read`` when its number was read, else seen while its number is being read."""
        if len(polygon) < 3:
            return
        self._card_outline = _points(polygon)
        self._card_read = read
        self._card_timer.start(ms if ms is not None else CARD_READ_MS if read else CARD_SEEN_MS)
        self.update()

    def _clear_card_outline(self) -> None:
        self._card_timer.stop()
        self._card_outline = ()
        self._card_read = False
        self.update()

    def set_camera_state(self, state: str, message: str = "") -> None:
        """Shown over the picture when the camera is not running (e.g. reconnecting)."""
        self._state = state
        self._state_message = message
        self._update_state_text()
        self.update()

    def clear(self) -> None:
        self._image = None
        self._buffer = None
        self._face_boxes = ()
        self._outlines = ()
        self._clear_card_outline()

    # --- painting ---------------------------------------------------------------------------

    def _target_rect(self) -> QRectF:
        w, h = self._frame_size
        if not w or not h:
            return QRectF(self.rect())
        scale = min(self.width() / w, self.height() / h)
        tw, th = w * scale, h * scale
        return QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#202124"))
        target = self._target_rect()
        if self._image is not None:
            p.drawImage(target, self._image)
            self.frames_painted += 1
            sx = target.width() / self._frame_size[0]
            sy = target.height() / self._frame_size[1]
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(_pen(FACE_PEN))
            for left, top, right, bottom in self._face_boxes:
                p.drawRect(QRectF(target.left() + left * sx, target.top() + top * sy,
                                  (right - left) * sx, (bottom - top) * sy))
            polygons = [(CODE_PEN, poly) for poly in self._outlines]
            if self._card_outline:
                polygons.append((CARD_READ_PEN if self._card_read else CARD_SEEN_PEN,
                                 self._card_outline))
            for pen, poly in polygons:
                p.setPen(_pen(pen))
                p.drawPolygon(QPolygonF([QPointF(target.left() + x * sx, target.top() + y * sy)
                                         for x, y in poly]))
        text = self._state_text if self._image is None or self._state not in ("running", "") else ""
        if text:
            p.setPen(QColor("white"))
            f = p.font()
            f.setPixelSize(20)
            p.setFont(f)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
        p.end()

    # --- language ---------------------------------------------------------------------------

    def _update_state_text(self) -> None:
        state = getattr(self, "_state", "")
        texts = {
            "": self.tr("No camera picture"),
            "starting": self.tr("Camera starting..."),
            "running": self.tr("Waiting for the picture..."),
            "reconnecting": self.tr("Camera disconnected, reconnecting..."),
            "failed": self.tr("Camera failed"),
            "stopped": self.tr("Camera stopped"),
        }
        base = texts.get(state, texts[""])
        msg = getattr(self, "_state_message", "")
        self._state_text = f"{base}\n{msg}" if msg else base

    def retranslate(self) -> None:
        if not hasattr(self, "_state"):
            self._state = ""
            self._state_message = ""
        self._update_state_text()
        self.update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
