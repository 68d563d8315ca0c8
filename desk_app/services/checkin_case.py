"""One patient's check-in while it is open: internal and mutable (screens get
:class:`~desk_app.services.model.CheckinState`), and what the service needs of a card read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import cv2
import numpy as np

from desk_app.booking import BookingCode, BookingCodeError
from desk_app.checkin.model import CheckinInput, Verdict
from desk_app.errors import Text
from desk_app.faces.verify import FaceDecision, FaceSession, IdPhoto
from desk_app.identity import IdNumber


class CardLike(Protocol):
    """What the service needs of a card read (``devices.idcard.IdCardRead`` has it)."""

    id_number: str
    name: str
    valid_to: date | None
    long_term: bool
    portrait: np.ndarray | None
    source: str


@dataclass
class Case:
    """One patient's check-in while it is open. Internal and mutable; screens get CheckinState."""

    session_id: str
    booking: BookingCode | None = None
    booking_error: BookingCodeError | None = None
    id_number: IdNumber | None = None
    name: str = ""
    card_valid_to: date | None = None
    card_long_term: bool = False
    id_source: str = ""
    id_portrait: np.ndarray | None = None
    id_photo: IdPhoto | None = None
    face_session: FaceSession | None = None
    face: FaceDecision | None = None
    live_face: np.ndarray | None = None
    face_box: tuple[int, int, int, int] | None = None
    face_prompt: Text | None = None
    verdict: Verdict | None = None
    visit_id: str | None = None
    presented_hash: bytes | None = None
    errors: list[Text] = field(default_factory=list)
    # Why there is no face comparison, when known exactly (``FaceCheck.missing``); a chip read
    # without portrait waiting for the counter camera's look at the card.
    face_missing: str = ""
    awaiting_card_photo: bool = False
    camera_card: tuple[str, np.ndarray, IdPhoto | None] | None = None  # (number, portrait, photo)
    # The engine's input of the verdict, when it was made, and the clerk's calls since.
    inputs: CheckinInput | None = None
    decided_at: datetime | None = None
    judgement: str = ""
    card_confirmed_by: str = ""
    clerk_notes: list[str] = field(default_factory=list)


def png(image: np.ndarray | None, max_side: int = 320) -> bytes | None:
    if image is None or image.size == 0:
        return None
    h, w = image.shape[:2]
    f = min(1.0, max_side / max(h, w))
    if f < 1.0:
        image = cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", image)
    return buf.tobytes() if ok else None
