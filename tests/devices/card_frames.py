"""A counter camera's pictures of ID cards for the tests that follow a card from the detector to
the screen: frames made with ``devices.idcard.synthetic`` (which also says where each card lies)
written to a folder that an ``ImageFolderSource`` camera shows in turn."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from devices.idcard.scenes import place_in_scene
from devices.idcard.synthetic import CardPerson, random_person, render_card


@dataclass(frozen=True, eq=False)
class CardFrames:
    """Two 1280 x 720 frames: a blank card (seen, its number never read), and the person's card
    (no portrait photo; its number reads) somewhere else on the desk."""

    person: CardPerson
    blank: np.ndarray
    blank_corners: np.ndarray
    card: np.ndarray
    card_corners: np.ndarray

    def write(self, folder: Path, *, card: bool = True) -> Path:
        """``1-blank.png`` and (``card``) ``2-card.png`` in ``folder``; each file appears whole
        (a camera showing the folder never reads half a picture)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, image in (("1-blank", self.blank), ("2-card", self.card))[:2 if card else 1]:
            part = folder / f"{name}.part"
            part.write_bytes(cv2.imencode(".png", image)[1].tobytes())
            os.replace(part, folder / f"{name}.png")
        return folder


def card_frames(seed: int = 3) -> CardFrames:
    rng = np.random.default_rng(seed)
    person = random_person(rng)
    blank, blank_corners = place_in_scene(np.full((540, 856, 3), 235, np.uint8), rng)
    card, card_corners = place_in_scene(render_card(person, None), rng)
    return CardFrames(person, blank, blank_corners, card, card_corners)


def corners_near(polygon: object, corners: np.ndarray, tol: float = 0.03 * 1280) -> bool:
    """Four points, each true corner with one of them within ``tol`` pixels (in any order round
    the card: which short side is "up" is the detector's guess)."""
    pts = np.asarray(polygon, np.float64).reshape(-1, 2)
    return len(pts) == 4 and all(np.linalg.norm(pts - c, axis=1).min() < tol for c in corners)
