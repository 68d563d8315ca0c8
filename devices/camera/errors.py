"""Typed camera errors: what went wrong, worded for the clerk, and whether retrying can help.

The capture worker converts every OpenCV failure into one of these at the boundary; the UI shows
them through ``ui.errors.show_error`` and never looks at the message text.
"""

from __future__ import annotations

from desk_app.errors import ConfigError, DeviceError, Text


class CameraError(DeviceError):
    """A camera cannot deliver frames right now. The worker retries these with back-off."""

    title_text = Text("摄像头故障", "Camera problem")
    default_text = Text("摄像头无画面, 请检查连接线。", "The camera shows no picture. Please check its cable.")


class CameraUnplugged(CameraError):
    """No device at that index / no file at that path / stream unreachable, or it went away."""

    default_text = Text(
        "摄像头未连接或已断开, 插好后会自动恢复。",
        "The camera is not connected. It will come back by itself once plugged in.",
    )


class CameraBusy(CameraError):
    """The device exists and may be opened, but another program is using it."""

    default_text = Text(
        "摄像头正被其他程序占用, 请关闭其他视频软件。",
        "Another program is using the camera. Please close other video software.",
    )


class CameraPermissionDenied(CameraError):
    """The device exists but this user may not open it (Linux: not in group ``video``)."""

    default_text = Text(
        "没有使用摄像头的权限, 请联系信息科。",
        "This account may not use the camera. Please call hospital IT.",
    )


class CameraConfigError(ConfigError):
    """The camera setting itself is unusable (not a device, file, folder, URL or "sim").

    Not a device error: retrying cannot help, so the worker goes to FAILED at once.
    """

    default_text = Text(
        "摄像头设置无效, 请联系信息科。",
        "The camera setting is not valid. Please call hospital IT.",
    )
