"""Shared fixtures: Qt offscreen, a fresh data folder per test, the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Must be set before any QApplication exists (pytest-qt creates it lazily).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("DESK_APP_DATA_DIR", None)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("DESK_SHARED_DATA", ROOT.parent / "shared" / "data"))
FACES_DIR = SHARED_DATA / "faces"
QR_DIR = SHARED_DATA / "qr"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh data folder (settings, database, logs) for one test."""
    d = tmp_path / "desk-data"
    d.mkdir()
    return d


@pytest.fixture
def app_paths(data_dir: Path):
    from desk_app.paths import AppPaths

    return AppPaths.resolve(data_dir).ensure()


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    if not (FACES_DIR / "pairs.csv").is_file():
        pytest.skip(f"face photos not found at {FACES_DIR} (../shared/data/faces)")
    return FACES_DIR


@pytest.fixture(scope="session")
def qr_dir() -> Path:
    if not (QR_DIR / "index.csv").is_file():
        pytest.skip(f"QR photos not found at {QR_DIR} (../shared/data/qr)")
    return QR_DIR
