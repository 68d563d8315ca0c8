"""The wire models of a desk alert's two photos for the security office (since 2026-12-03):
part of :mod:`sync.protocol` (re-exported there; kept apart for its size).

The raising desk sends them once per alert (outbox kind ``alert_photos``), small JPEGs
(:data:`MAX_PHOTO_BYTES` each); the office desk fetches them while the alert is on its screen
and names the signed-in person who looks (``viewer``, ``viewer_role``): the platform audits it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Base64Bytes, StringConstraints

from sync.protocol import Answer, Request

__all__ = ["MAX_PHOTO_BYTES", "AlertPhotos", "AlertPhotosStored", "AlertPhotosUpload"]

MAX_PHOTO_BYTES = 64_000  # a 240 px high JPEG at quality 80 is 10-20 kB

VisitId = Annotated[str, StringConstraints(min_length=1, max_length=36,
                                           pattern=r"^[A-Za-z0-9_.:-]+$")]


class AlertPhotosUpload(Request):
    """The two photos of the alert a desk raised for ``visit_id`` (JPEG, base64 on the wire)."""

    visit_id: VisitId
    id_photo: Base64Bytes | None = None  # the card's portrait
    live_face: Base64Bytes | None = None  # the face the camera saw


class AlertPhotosStored(Answer):
    alert_id: str
    #: stored; duplicate (sent again); expired (handled + grace or retention already over:
    #: nothing kept); unknown (no such desk alert of this desk: nothing kept)
    status: Literal["stored", "duplicate", "expired", "unknown"]


class AlertPhotos(Answer):
    alert_id: str
    id_photo: Base64Bytes | None = None
    live_face: Base64Bytes | None = None
    keep_until: datetime  # at the latest; handling the alert shortens it
