"""UI test fixtures: a fresh Settings per test, a runner that is always shut down, and a check
that no slot or callback raised (pytest-qt fails on exceptions in virtual methods; the
exception hook below also catches those raised in plain Python slots)."""

from __future__ import annotations

import sys

import pytest

from desk_app.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def runner(qtbot):
    from ui.operations import Operations

    ops = Operations()
    yield ops
    assert ops.shutdown(5000)


@pytest.fixture(autouse=True)
def _fail_on_slot_exception(monkeypatch):
    """Any exception reaching sys.excepthook during a test fails the test."""
    seen: list[BaseException] = []
    old = sys.excepthook

    def hook(etype, value, tb):
        seen.append(value)
        old(etype, value, tb)

    monkeypatch.setattr(sys, "excepthook", hook)
    yield
    assert not seen, f"an exception escaped a slot: {seen!r}"


@pytest.fixture(autouse=True)
def _english_then_reset(qapp):
    """Tests start in a known language (English, the source strings) unless they switch."""
    from ui.i18n import Translations

    tr = Translations(qapp)
    tr.set_language("en")
    yield tr
    tr.set_language("en")
