"""Errors keep their words across a process boundary (the face processes send them back)."""

from __future__ import annotations

import pickle

import pytest

from desk_app.errors import DataError, DeskError, SettingsCorrupt, Text
from desk_app.faces.engine import Cancelled, FaceModelUnavailable


@pytest.mark.parametrize("err", [
    FaceModelUnavailable(detail="model file"),
    Cancelled(),
    DataError(Text("坏了", "Broken"), title=Text("标题", "Title"), detail="row 7"),
    SettingsCorrupt("/data/settings.toml.corrupt-1", detail="TOML line 3"),
])
def test_desk_errors_round_trip_through_pickle(err: DeskError):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert (back.message("zh_CN"), back.message("en")) == (err.message("zh_CN"), err.message("en"))
    assert (back.title("zh_CN"), back.title("en")) == (err.title("zh_CN"), err.title("en"))
    assert back.detail == err.detail and back.kind == err.kind and str(back) == str(err)
    assert back.__dict__ == err.__dict__
