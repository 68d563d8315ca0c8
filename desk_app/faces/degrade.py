"""Turn an ordinary photo into an ID-card style portrait, to evaluate as a desk sees the card.

A second-generation ID card's chip photo is 102 x 126 px: head and shoulders, the face about half
the width of the picture, decoded from a heavily compressed (WLT) file. The emulation crops the
head and shoulders around the primary face (the central one of a group), shrinks it to 102 x 126
with area averaging and passes it through JPEG at quality 75 for the compression artefacts.
"""

from __future__ import annotations

import numpy as np

from desk_app.faces.engine import FaceBox, FaceModel, pick_primary

ID_PHOTO_SIZE = (102, 126)  # width, height
FACE_WIDTH_SHARE = 0.5  # HOG box width / portrait width
FACE_CENTER_Y = 0.48  # HOG box centre, as a share of the portrait height from the top
JPEG_QUALITY = 75


def card_portrait(rgb: np.ndarray, box: FaceBox, jpeg_quality: int = JPEG_QUALITY,
                  ) -> tuple[np.ndarray, FaceBox]:
    """The 102 x 126 head-and-shoulders portrait around ``box`` (edges replicated where the
    picture is too tight) and where ``box`` lies in it. ``jpeg_quality`` 0 skips the JPEG pass."""
    import cv2

    h, w = rgb.shape[:2]
    pw, ph = ID_PHOTO_SIZE
    crop_w = box.width / FACE_WIDTH_SHARE
    crop_h = crop_w * ph / pw
    cx, cy = box.center
    x0 = round(cx - crop_w / 2)
    y0 = round(cy - FACE_CENTER_Y * crop_h)
    x1, y1 = x0 + round(crop_w), y0 + round(crop_h)
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    src = rgb
    if pad:
        src = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = src[y0 + pad:y1 + pad, x0 + pad:x1 + pad]
    small = cv2.resize(crop, ID_PHOTO_SIZE, interpolation=cv2.INTER_AREA)
    f = pw / max(1, x1 - x0)
    inside = FaceBox(round((box.left - x0) * f), round((box.top - y0) * f),
                     round((box.right - x0) * f), round((box.bottom - y0) * f), box.score)
    if jpeg_quality:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        if ok:
            small = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(small), inside


def idcard_portrait(rgb: np.ndarray, model: FaceModel) -> np.ndarray:
    """The 102 x 126 RGB portrait of the primary face of ``rgb`` (a centre crop when no face is
    found, as a card photo is always centred)."""
    h, w = rgb.shape[:2]
    boxes = model.detect(rgb, 1 if max(h, w) < 1200 else 0)
    if boxes:
        box = boxes[pick_primary(boxes, rgb.shape)]
    else:
        side = min(h, w) * 0.45
        box = FaceBox(round(w / 2 - side / 2), round(h / 2 - side / 2), round(w / 2 + side / 2),
                      round(h / 2 + side / 2))
    return card_portrait(rgb, box)[0]
