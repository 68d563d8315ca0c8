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
from desk_app.faces.verify import FaceDecision, FaceOutcome, FaceSession, IdPhoto
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
    # The card number the face result was compared against (``face``) and the card whose photo
    # ``id_photo`` / ``face_session`` are (``photo_card``): a result for another card is never
    # used. A patient's refusal (F4) holds for any card ("").
    face_card: str = ""
    photo_card: str = ""
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

    def forget_face(self, *, photo: bool) -> None:
        """Another card (or the photo of a card read without one) arrived before the verdict:
        the face result, the live face and the face session with its liveness state belonged to
        the card before. ``photo``: the card photo goes too (another card's number). A patient's
        refusal of the face check (F4) stands."""
        if self.face is not None and self.face.outcome is not FaceOutcome.DECLINED:
            self.face, self.face_card = None, ""
        self.face_missing, self.face_session = "", None
        self.live_face, self.face_box, self.face_prompt = None, None, None
        if photo:
            self.id_portrait, self.id_photo, self.photo_card = None, None, ""
            self.awaiting_card_photo = False


def png(image: np.ndarray | None, max_side: int = 320) -> bytes | None:
    if image is None or image.size == 0:
        return None
    h, w = image.shape[:2]
    f = min(1.0, max_side / max(h, w))
    if f < 1.0:
        image = cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", image)
    return buf.tobytes() if ok else None
