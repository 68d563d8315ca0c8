"""Real photos and the real model, loaded once per test session."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def model():
    from desk_app.faces.engine import shared_model

    m = shared_model()
    m.load()
    return m


@pytest.fixture(scope="session")
def photo(faces_dir):
    """``photo(name, width=None)``: an RGB photo from the shared set, optionally resized."""
    import cv2

    from desk_app.faces.evaluate import read_image

    cache: dict[tuple[str, int | None], np.ndarray] = {}

    def load(name: str, width: int | None = None) -> np.ndarray:
        key = (name, width)
        if key not in cache:
            img = read_image(faces_dir / name)
            if width:
                f = width / img.shape[1]
                img = cv2.resize(img, (width, round(img.shape[0] * f)), interpolation=cv2.INTER_AREA)
            cache[key] = img
        return cache[key]

    return load
