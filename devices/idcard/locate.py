"""Find an ID card in a camera frame and cut out its portrait and number line.

The card is a pale rounded rectangle (85.6 x 54 mm). On a downscaled frame, candidate outlines
come from several masks (Otsu and a few higher brightness levels, Canny curves at two
strengths, and all weak edges closed together for a pale card on a pale desk); each is
reduced to four corners (``approxPolyDP``, else its minimum-area rectangle) and kept when it
fills that quadrilateral, has the card's aspect, does not lean on the frame's border and lies
on an edge along all four sides. The best one is perspective-rectified to 856 x 540 from the
full-resolution frame. Which short side is "up" is decided by where the portrait is (the
darker right part); the caller may try the other way round when the number does not read.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from devices.idcard.synthetic import CARD_ASPECT, CARD_H, CARD_W, NUMBER_BOX, PORTRAIT_BOX

WORK_WIDTH = 640
MIN_AREA_FRAC = 0.04
#: The number line reaching further left and right than NUMBER_BOX (an outline a little off).
WIDE_NUMBER_BOX = (NUMBER_BOX[0] - 0.04, NUMBER_BOX[1], NUMBER_BOX[2] + 0.02, NUMBER_BOX[3])
#: Around the number line with room for an outline a little off: 0.1 of the card left of it,
#: 0.08 above, down and right to the card's edges.
NUMBER_REGION = (NUMBER_BOX[0] - 0.1, NUMBER_BOX[1] - 0.08, 1.0, 1.0)


@dataclass(frozen=True, eq=False)
class CardView:
    """A card found in a frame: corners (TL, TR, BR, BL in frame pixels) and the rectified card."""

    corners: np.ndarray
    card: np.ndarray  # BGR 856 x 540, text upright (best guess)
    score: float

    def flipped(self) -> CardView:
        return CardView(np.roll(self.corners, 2, axis=0), cv2.rotate(self.card, cv2.ROTATE_180),
                        self.score)

    def crop(self, box: tuple[float, float, float, float], margin: float = 0.0) -> np.ndarray:
        h, w = self.card.shape[:2]
        x0, y0, x1, y1 = box
        return self.card[max(0, int((y0 - margin) * h)):min(h, int((y1 + margin) * h)),
                         max(0, int((x0 - margin) * w)):min(w, int((x1 + margin) * w))]

    def portrait(self) -> np.ndarray:
        return self.crop(PORTRAIT_BOX).copy()

    def number_line(self, *, wide: bool = False) -> np.ndarray:
        """The number line cut tight around its ink (OCR engines want a line, not a band).
        ``wide`` reaches further left and right, for when a slightly wrong outline has
        shifted the line (it may then catch the end of the 公民身份号码 label)."""
        return tighten_line(self.crop(WIDE_NUMBER_BOX if wide else NUMBER_BOX, 0.02))

    def number_band(self) -> np.ndarray:
        """The card's lower right part, where the number line lies even when the outline is
        a little off (for the text detector: it finds the line itself)."""
        return self.crop(NUMBER_REGION)


def tighten_line(band: np.ndarray) -> np.ndarray:
    """The widest run of rows holding dark ink in ``band``, and the columns holding ink in it,
    with a small margin. Falls back to the band when nothing stands out."""
    gray = cv2.cvtColor(band, cv2.COLOR_BGR2GRAY) if band.ndim == 3 else band
    _, ink = cv2.threshold(cv2.GaussianBlur(gray, (3, 3), 0), 0, 1,
                           cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    h, w = ink.shape
    share = ink.sum(axis=1) / w
    # Text rows hold some ink; rows nearly all dark are the desk beyond a loose outline.
    rows = (share > max(3 / w, 0.04)) & (share < 0.75)
    best, start = (0, 0), None
    for y, on in enumerate(np.append(rows, False)):
        if on and start is None:
            start = y
        elif not on and start is not None:
            if y - start > best[1] - best[0]:
                best = (start, y)
            start = None
    y0, y1 = best
    if y1 - y0 < 0.15 * h:
        return band
    cols = np.flatnonzero(ink[y0:y1].sum(axis=0) > 0)
    x0, x1 = (int(cols[0]), int(cols[-1]) + 1) if cols.size else (0, w)
    pad = max(2, (y1 - y0) // 4)
    return band[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)]


def _order(pts: np.ndarray) -> np.ndarray:
    """Corners clockwise from top-left in image coordinates, first edge a long one."""
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise on screen (y down)
    start = int(np.argmin(pts.sum(axis=1)))
    pts = np.roll(pts, -start, axis=0)
    if np.linalg.norm(pts[1] - pts[0]) < np.linalg.norm(pts[3] - pts[0]):
        pts = np.roll(pts, -1, axis=0)  # card standing on its short side
    return pts.astype(np.float32)


def _quads(contour: np.ndarray) -> list[np.ndarray]:
    """Four-corner outlines for a contour: its hull simplified to four points (else its
    minimum-area rectangle), and -- when a finger or a glare spot has bitten off or added to
    a corner, so the hull has five to eight sides -- the quadrilateral of its four longest
    sides, extended to meet (the card's straight edges survive where a corner does not)."""
    peri = cv2.arcLength(contour, True)
    hull = cv2.convexHull(contour)
    out: list[np.ndarray] = []
    for eps in (0.02, 0.03, 0.045, 0.06):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            out.append(approx.reshape(4, 2).astype(np.float32))
            break
    else:
        out.append(cv2.boxPoints(cv2.minAreaRect(contour)).astype(np.float32))
    for eps in (0.01, 0.02):
        approx = cv2.approxPolyDP(hull, eps * peri, True).reshape(-1, 2).astype(np.float64)
        if 5 <= len(approx) <= 8:
            fitted = _longest_sides_quad(approx)
            if fitted is not None:
                out.append(fitted)
            break
    return out


def _longest_sides_quad(poly: np.ndarray) -> np.ndarray | None:
    n = len(poly)
    lengths = [np.linalg.norm(poly[(i + 1) % n] - poly[i]) for i in range(n)]
    keep = sorted(sorted(range(n), key=lambda i: -lengths[i])[:4])
    corners = []
    for j in range(4):
        a0, a1 = poly[keep[j]], poly[(keep[j] + 1) % n]
        b0, b1 = poly[keep[(j + 1) % 4]], poly[(keep[(j + 1) % 4] + 1) % n]
        p = _meet(a0, a1 - a0, b0, b1 - b0)
        if p is None:
            return None
        corners.append(p)
    quad = np.array(corners, np.float32)
    return quad if cv2.isContourConvex(quad.reshape(-1, 1, 2)) else None


def _meet(p: np.ndarray, r: np.ndarray, q: np.ndarray, s: np.ndarray) -> np.ndarray | None:
    """Where the line through ``p`` along ``r`` meets the line through ``q`` along ``s``."""
    den = r[0] * s[1] - r[1] * s[0]
    if abs(den) < 1e-6:
        return None
    t = ((q[0] - p[0]) * s[1] - (q[1] - p[1]) * s[0]) / den
    return p + t * r


def _candidates(gray: np.ndarray, grad: np.ndarray | None = None) -> list[np.ndarray]:
    """Contours that may be the card's outline, from several masks: the card is usually the
    brightest large thing (Otsu and a few higher brightness levels, so a pale wall or desk
    behind it does not merge with it), and its border is an edge (the inner outlines of
    closed Canny curves, for a card on a desk as pale as itself)."""
    blur = cv2.GaussianBlur(gray, (5, 5), 0)
    otsu, _ = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    levels = {int(otsu), *(int(np.percentile(blur, q)) for q in (60, 75, 88))}
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))
    out: list[np.ndarray] = []
    for level in sorted(levels):
        if level >= 250:
            continue
        mask = cv2.morphologyEx((blur > level).astype(np.uint8) * 255, cv2.MORPH_CLOSE, k)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, k)  # cut thin bridges to other things
        cnts, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out.extend(sorted(cnts, key=cv2.contourArea, reverse=True)[:3])
    # 6/18: a pale card on white paper (busy counters: corners found 15 -> 19 of 30 frames).
    for lo, hi in ((30, 90), (12, 36), (6, 18)):
        edges = cv2.dilate(cv2.Canny(blur, lo, hi), cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
        cnts, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        out.extend(sorted(cnts, key=cv2.contourArea, reverse=True)[:10])  # busy desks: more
    if grad is not None:
        # Faint outlines (pale card on a pale desk): everything with any edge, closed; the
        # card's busy inside and its faint border make one blob.
        weak = cv2.morphologyEx((grad > EDGE_MIN).astype(np.uint8) * 255, cv2.MORPH_CLOSE, k)
        cnts, _ = cv2.findContours(weak, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out.extend(sorted(cnts, key=cv2.contourArea, reverse=True)[:3])
    return out


def find_card(frame: np.ndarray) -> CardView | None:
    """The most card-like quadrilateral in ``frame`` (BGR), rectified; None when there is none."""
    views = find_cards(frame, 1)
    return views[0] if views else None


def find_cards(frame: np.ndarray, limit: int = 3) -> list[CardView]:
    """Up to ``limit`` card-like outlines, best first, rectified (see :func:`card_outlines`)."""
    return [rectify(frame, corners, score) for score, corners in card_outlines(frame, limit)]


def card_outlines(frame: np.ndarray, limit: int = 3) -> list[tuple[float, np.ndarray]]:
    """Up to ``limit`` card-like quadrilaterals, best first, as (score, corners in frame
    pixels). On a busy counter a sheet of paper can look as card-like as the card, and one
    card may have two outlines (one side on its edge or on the number line); the caller reads
    the number on each in turn and rectifies (:func:`rectify`) only those it reads."""
    h, w = frame.shape[:2]
    scale = min(1.0, WORK_WIDTH / w)
    small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    gh, gw = gray.shape[:2]
    area_min = MIN_AREA_FRAC * gh * gw
    grad, mag = _gradient(gray, with_raw=True)
    found: list[tuple[float, np.ndarray]] = []
    for cnt in _candidates(gray, grad):
        area = cv2.contourArea(cnt)
        if area < area_min:
            continue
        for quad in _quads(cnt):
            for q in (quad, _snap_to_edges(_order(quad), mag)):
                scored = None if q is None else _score(q, area, grad, gw, gh)
                if scored is not None:
                    found.append(scored)
    outlines: list[tuple[float, np.ndarray]] = []
    taken: list[np.ndarray] = []
    for score, quad in sorted(found, key=lambda f: -f[0]):
        if len(outlines) >= limit:
            break
        # The same outline found again is skipped; another outline of the same card (one
        # whose side sits on the number line instead of the card's edge) is kept: when the
        # best one gives no number, the reader tries it.
        if any(_same_outline(quad, q, 0.02 * gw) for q in taken):
            continue
        taken.append(quad)
        outlines.append((score, (quad / scale).astype(np.float32)))
    return outlines


def _same_outline(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    """Every corner of ``a`` within ``tol`` px of a corner of ``b``."""
    return all(np.linalg.norm(b - p, axis=1).min() < tol for p in a)


def _score(quad: np.ndarray, area: float, grad: np.ndarray, gw: int, gh: int
           ) -> tuple[float, np.ndarray] | None:
    """(score, ordered quad) for a card-like outline (fills its contour, the card's aspect,
    off the frame's border, on an edge all round), else None."""
    quad = _order(quad)
    qarea = cv2.contourArea(quad)
    if qarea <= 0:
        return None
    fill = min(area, qarea) / max(area, qarea)
    long_side = (np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
    short_side = (np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
    aspect = long_side / max(short_side, 1e-6)
    # Perspective (a card held at an angle) shortens the long sides: ~30 % off still passes.
    aspect_fit = max(0.0, 1 - abs(aspect - CARD_ASPECT) / CARD_ASPECT * 1.6)
    # Two corners on the frame's border: a region of desk or wall cut by the frame.
    on_border = ((quad[:, 0] < 3) | (quad[:, 1] < 3) | (quad[:, 0] > gw - 4)
                 | (quad[:, 1] > gh - 4)).sum()
    if fill < 0.85 or aspect_fit < 0.5 or on_border >= 2:
        return None
    # The card's outline is an edge all the way round; a region merged with desk or wall
    # is not. Among outlines with edge support the larger wins a little (an inner
    # rectangle such as the inside of the card's border edge is slightly smaller).
    support = _edge_support(grad, quad)
    if support < 0.5:
        return None
    return fill * aspect_fit * support * (qarea / (gh * gw)) ** 0.25, quad


def rectify(frame: np.ndarray, corners: np.ndarray, score: float = 0.0) -> CardView:
    """The card inside ``corners`` (frame pixels) at 856 x 540, portrait on the right."""
    dst = np.array([[0, 0], [CARD_W, 0], [CARD_W, CARD_H], [0, CARD_H]], np.float32)
    m = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
    card = cv2.warpPerspective(frame, m, (CARD_W, CARD_H), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    view = CardView(corners.astype(np.float32), card, float(score))
    return view if _portrait_side_score(view.card) >= 0 else view.flipped()


def _gradient(gray: np.ndarray, *, with_raw: bool = False):  # noqa: ANN202 - one or two arrays
    """Edge strength (grey levels per pixel, roughly), spread by 2 px so that an outline a
    pixel or two off its edge still counts (``with_raw``: and the unspread one)."""
    blur = cv2.GaussianBlur(gray, (3, 3), 0).astype(np.float32)
    gx = cv2.Sobel(blur, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blur, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy) / 4.0
    spread = cv2.dilate(mag, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    return (spread, mag) if with_raw else spread


def _snap_to_edges(quad: np.ndarray, mag: np.ndarray, reach: int = 5,
                   samples: int = 32) -> np.ndarray | None:
    """The quadrilateral with each side moved onto the strongest edge within ``reach`` px of
    it (a line fitted through those edge points), corners where the sides meet. An outline
    from a simplified contour sits a few pixels off the card's edge (rounded corners, a finger
    or a sheet of paper touching it); this puts it back, for the edge test and a straighter
    rectified card. None when a side finds too little edge to fit."""
    h, w = mag.shape
    lines = []
    offsets = np.arange(-reach, reach + 1, dtype=np.float32)
    for i in range(4):
        a, b = quad[i].astype(np.float32), quad[(i + 1) % 4].astype(np.float32)
        d = b - a
        length = float(np.linalg.norm(d))
        if length < 10:
            return None
        normal = np.array([-d[1], d[0]], np.float32) / length
        t = np.linspace(0.1, 0.9, samples, dtype=np.float32)[:, None]
        cand = (a + d * t)[:, None, :] + offsets[None, :, None] * normal  # samples x offsets x 2
        xs = np.clip(cand[..., 0].round().astype(int), 0, w - 1)
        ys = np.clip(cand[..., 1].round().astype(int), 0, h - 1)
        vals = mag[ys, xs]
        best = vals.argmax(axis=1)
        strong = vals[np.arange(samples), best] > EDGE_MIN
        if strong.sum() < samples // 3:
            return None
        pts = cand[np.arange(samples), best][strong]
        vx, vy, x0, y0 = cv2.fitLine(pts, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    corners = []
    for i in range(4):
        (p, r), (q, s) = lines[i - 1], lines[i]
        corner = _meet(p, r, q, s)
        if corner is None:
            return None
        corners.append(corner)
    out = np.array(corners, np.float32)
    return out if cv2.isContourConvex(out.reshape(-1, 1, 2)) else None


EDGE_MIN = 6.0  # grey levels: a pale card on a pale desk still casts this much at its edge


def _edge_support(grad: np.ndarray, quad: np.ndarray, samples: int = 24) -> float:
    """Mean over the four sides of the share of points lying on an edge; a side with almost
    none (a cut through desk or wall) gives 0. Corners are skipped (they are rounded)."""
    h, w = grad.shape
    t = np.linspace(0.12, 0.88, samples)[:, None]
    shares = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        pts = a + (b - a) * t
        xs = np.clip(pts[:, 0].round().astype(int), 0, w - 1)
        ys = np.clip(pts[:, 1].round().astype(int), 0, h - 1)
        shares.append(float((grad[ys, xs] > EDGE_MIN).mean()))
    if min(shares) < 0.25:
        return 0.0
    return float(np.mean(shares))


def _portrait_side_score(card: np.ndarray) -> float:
    """> 0 when the portrait (dark, detailed) is where it belongs: right half, upper part."""
    gray = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY).astype(np.float32)
    h, w = gray.shape
    x0, y0, x1, y1 = (int(PORTRAIT_BOX[0] * w), int(PORTRAIT_BOX[1] * h),
                      int(PORTRAIT_BOX[2] * w), int(PORTRAIT_BOX[3] * h))
    here = gray[y0:y1, x0:x1]
    there = gray[h - y1:h - y0, w - x1:w - x0]  # the same box after a half turn
    return float(there.mean() - here.mean())
