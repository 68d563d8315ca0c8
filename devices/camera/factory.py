"""From the camera setting to a running camera; one- and two-camera desks.

A camera setting (``DevicesSection.patient_camera`` / ``counter_camera``) is ``"sim"`` (the scene
player), a device index (``"0"``), a stream URL (``rtsp://...``), a folder of images or a video
file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devices.camera.errors import CameraConfigError
from devices.camera.opencv import STREAM_PREFIXES, OpenCvSource
from devices.camera.scene import ScenePlayer, SceneStep, View
from devices.camera.sim import ImageFolderSource
from devices.camera.types import FrameSource
from devices.camera.worker import CameraWorker

if TYPE_CHECKING:
    from desk_app.settings import DevicesSection

#: What "sim" shows when the composition root gives no script: an empty counter.
IDLE_SCRIPT = (SceneStep("empty desk", 5.0, (), noise=2.0),)


def make_source(
    spec: str,
    *,
    width: int = 1280,
    height: int = 720,
    scene: Sequence[SceneStep] | None = None,
    view: View = "both",
) -> FrameSource:
    """The frame source a camera setting names. Raises ``CameraConfigError`` for nonsense."""
    s = spec.strip()
    if not s:
        raise CameraConfigError(detail="empty camera setting")
    if s.lower() == "sim":
        return ScenePlayer(scene or IDLE_SCRIPT, width=width, height=height, view=view,
                           name=f"sim-{view}")
    if s.isdigit():
        return OpenCvSource(int(s), width=width, height=height)
    if s.lower().startswith(STREAM_PREFIXES):
        return OpenCvSource(s, width=width, height=height)
    path = Path(s).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, width=width, height=height)
    if path.suffix.lower() in {".mp4", ".avi", ".mkv", ".mov", ".webm", ".mjpeg", ".mjpg", ".m4v"}:
        return OpenCvSource(path, width=width, height=height, loop=True)
    raise CameraConfigError(detail=f"camera setting {s[:80]!r} is no device, file, folder or URL")


@dataclass
class DeskCameras:
    """The desk's cameras. On a one-camera desk ``counter is patient`` (one worker, two uses)."""

    patient: CameraWorker
    counter: CameraWorker

    @property
    def single(self) -> bool:
        return self.counter is self.patient

    def all(self) -> list[CameraWorker]:
        return [self.patient] if self.single else [self.patient, self.counter]

    def start(self) -> None:
        for cam in self.all():
            cam.start()

    def stop(self, timeout: float = 5.0) -> None:
        for cam in self.all():
            cam.stop(timeout)

    @classmethod
    def from_settings(
        cls, devices: DevicesSection, scene: Sequence[SceneStep] | None = None
    ) -> DeskCameras:
        w, h = devices.camera_width, devices.camera_height
        counter_spec = devices.counter_camera.strip()
        patient_spec = devices.patient_camera.strip()
        # Same real device named twice: one worker (a device can be opened once). Two "sim"
        # cameras are two players on the same script, one per view.
        if not counter_spec or (counter_spec == patient_spec and patient_spec.lower() != "sim"):
            cam = CameraWorker(make_source(devices.patient_camera, width=w, height=h, scene=scene,
                                           view="both"), name="patient")
            return cls(cam, cam)
        patient = CameraWorker(make_source(devices.patient_camera, width=w, height=h, scene=scene,
                                           view="patient"), name="patient")
        counter = CameraWorker(make_source(counter_spec, width=w, height=h, scene=scene,
                                           view="counter"), name="counter")
        return cls(patient, counter)
