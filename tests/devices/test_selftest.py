from __future__ import annotations

import cv2
import numpy as np
import pytest

from desk_app.errors import DeskError
from devices.selftest import test_device as check_device


def test_camera_from_a_folder_works_and_a_missing_device_is_a_device_error(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((120, 160, 3), 128, np.uint8))
    assert check_device("patient_camera", str(tmp_path)).en.startswith("The camera works")
    assert "patient camera" in check_device("counter_camera", "").en
    with pytest.raises(DeskError):
        check_device("patient_camera", "/dev/video-does-not-exist")


def test_simulated_reader_answers_and_a_wrong_port_is_a_device_error():
    assert check_device("id_reader_port", "sim").en.startswith("The reader works")
    with pytest.raises(DeskError):
        check_device("id_reader_port", "/dev/ttyNOPE0")
