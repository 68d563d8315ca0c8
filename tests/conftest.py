"""Shared fixtures: Qt offscreen, a fresh data folder per test, the shared real data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Must be set before any QApplication exists (pytest-qt creates it lazily).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("DESK_APP_DATA_DIR", None)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("DESK_SHARED_DATA", ROOT.parent / "shared" / "data"))
FACES_DIR = SHARED_DATA / "faces"
QR_DIR = SHARED_DATA / "qr"


def pytest_configure(config: pytest.Config) -> None:
    """The Chinese screens need the compiled translations (`make translations`, which `make
    test` runs first). A bare `pytest` builds missing or stale ones too, so no screen test fails
    on English words for want of a .qm file."""
    ts_dir = ROOT / "resources" / "translations"
    stale = [ts for ts in ts_dir.glob("*.ts")
             if not ts.with_suffix(".qm").is_file()
             or ts.with_suffix(".qm").stat().st_mtime < ts.stat().st_mtime]
    if not stale:
        return
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "translations.py"), "build"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise pytest.UsageError(f"the translations could not be built (make translations):\n"
                                f"{proc.stdout}{proc.stderr}")


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
