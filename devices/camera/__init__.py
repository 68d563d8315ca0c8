"""Cameras: capture workers that keep only the latest frame, real (OpenCV) and simulated sources.

* :class:`Frame`, :class:`CameraState`, the :class:`FrameSource` / :class:`Camera` Protocols;
* :class:`CameraWorker` (one thread per camera; ``subscribe()`` -> poll/get the newest frame);
* sources: :class:`OpenCvSource` (device index, video file, stream URL), :class:`ImageFolderSource`,
  :class:`ScenePlayer` (scripted scenes: faces, cards, phones showing a QR);
* :func:`make_source` / :class:`DeskCameras` from the settings; ``devices.camera.qt.CameraSignals``
  for widgets (imported separately so the rest never loads Qt).
"""

from devices.camera.errors import (
    CameraBusy,
    CameraConfigError,
    CameraError,
    CameraPermissionDenied,
    CameraUnplugged,
)
from devices.camera.factory import DeskCameras, make_source
from devices.camera.opencv import OpenCvSource
from devices.camera.scene import Layer, ScenePlayer, SceneStep, card, checkin_script, face, phone
from devices.camera.sim import ImageFolderSource
from devices.camera.types import (
    Camera,
    CameraState,
    CameraStatus,
    Frame,
    FrameSource,
    FrameSubscription,
)
from devices.camera.worker import CameraWorker, FrameHub, Subscription

__all__ = [
    "Camera", "CameraBusy", "CameraConfigError", "CameraError", "CameraPermissionDenied",
    "CameraState", "CameraStatus", "CameraUnplugged", "CameraWorker", "DeskCameras", "Frame", "FrameHub",
    "FrameSource", "FrameSubscription", "ImageFolderSource", "Layer", "OpenCvSource",
    "ScenePlayer", "SceneStep", "Subscription", "card", "checkin_script", "face", "make_source",
    "phone",
]
