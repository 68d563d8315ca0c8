"""Small painting helpers shared by the screens: decision colours and icons, PNG -> pixmap."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap

from desk_app.services.model import Decision

# Colour is never the only signal: each decision also has its own icon shape and words.
DECISION_COLOURS = {
    Decision.ADMIT: QColor("#1b7f3b"),
    Decision.REVIEW: QColor("#b26a00"),
    Decision.REJECT: QColor("#b3261e"),
}
NEUTRAL = QColor("#5f6368")


def draw_decision_icon(p: QPainter, rect: QRectF, decision: Decision | None,
                       colour: QColor = QColor("white")) -> None:
    """Tick in a circle (admit), question mark in a triangle (review), cross in an octagon
    (reject): distinguishable without colour."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = min(rect.width(), rect.height())
    r = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
    pen = QPen(colour, max(2.0, side / 12), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    m = side * 0.08
    inner = r.adjusted(m, m, -m, -m)
    if decision == Decision.ADMIT:
        p.drawEllipse(inner)
        path = QPainterPath(QPointF(inner.left() + side * 0.25, inner.center().y()))
        path.lineTo(inner.left() + side * 0.42, inner.bottom() - side * 0.28)
        path.lineTo(inner.right() - side * 0.22, inner.top() + side * 0.28)
        p.drawPath(path)
    elif decision == Decision.REVIEW:
        path = QPainterPath(QPointF(inner.center().x(), inner.top()))
        path.lineTo(inner.right(), inner.bottom())
        path.lineTo(inner.left(), inner.bottom())
        path.closeSubpath()
        p.drawPath(path)
        f = p.font()
        f.setPixelSize(int(side * 0.45))
        f.setBold(True)
        p.setFont(f)
        p.drawText(inner.adjusted(0, side * 0.22, 0, 0), Qt.AlignmentFlag.AlignCenter, "?")
    elif decision == Decision.REJECT:
        import math

        path = QPainterPath()
        c, rad = inner.center(), inner.width() / 2
        for i in range(8):
            a = math.pi / 8 + i * math.pi / 4
            pt = QPointF(c.x() + rad * math.cos(a), c.y() + rad * math.sin(a))
            path.moveTo(pt) if i == 0 else path.lineTo(pt)
        path.closeSubpath()
        p.drawPath(path)
        d = side * 0.2
        p.drawLine(QPointF(c.x() - d, c.y() - d), QPointF(c.x() + d, c.y() + d))
        p.drawLine(QPointF(c.x() + d, c.y() - d), QPointF(c.x() - d, c.y() + d))
    else:
        p.drawEllipse(inner)
    p.restore()


def pixmap_from_png(data: bytes | None) -> QPixmap | None:
    if not data:
        return None
    pm = QPixmap()
    return pm if pm.loadFromData(data) else None
