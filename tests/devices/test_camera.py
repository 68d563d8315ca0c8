"""Capture workers on real OpenCV captures of video files written here, image folders and the
scene player: frames, latest-frame semantics, dropping, typed errors, reconnection, shutdown."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from desk_app.settings import DevicesSection
from devices.camera import (
    CameraConfigError,
    CameraPermissionDenied,
    CameraState,
    CameraUnplugged,
    CameraWorker,
    DeskCameras,
    ImageFolderSource,
    OpenCvSource,
    ScenePlayer,
    SceneStep,
    make_source,
)
from devices.camera.opencv import _device_error, _redact_url

FAST = {"backoff_initial_s": 0.05, "backoff_max_s": 0.2}


def write_video(path: Path, frames: int = 12, fps: float = 60.0, size=(160, 120)) -> Path:
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened(), "OpenCV cannot write MJPG/AVI here"
    for i in range(frames):
        img = np.full((h, w, 3), 20 + i * 15, np.uint8)
        cv2.putText(img, str(i), (10, h - 20), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 255), 3)
        writer.write(img)
    writer.release()
    return path


def wait_for(pred, timeout: float = 5.0, step: float = 0.01) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "clip.avi")


def test_opencv_file_capture_delivers_bgr_frames_with_sequence_and_fps(video: Path):
    cam = CameraWorker(OpenCvSource(video), **FAST)
    states: list[CameraState] = []
    cam.add_state_listener(lambda s, e: states.append(s))
    with cam:
        sub = cam.subscribe()
        frames = []
        while len(frames) < 20:  # more than the file holds: it loops
            f = sub.get(timeout=3)
            assert f is not None, f"no frame; state {cam.state}, error {cam.error}"
            frames.append(f)
        assert cam.state is CameraState.RUNNING
        assert wait_for(lambda: cam.fps > 0)
        fps = cam.fps
    assert states[:2] == [CameraState.STARTING, CameraState.RUNNING]
    assert states[-1] is CameraState.STOPPED and not cam.is_alive()
    f0 = frames[0]
    assert f0.image.shape == (120, 160, 3) and f0.image.dtype == np.uint8
    assert not f0.image.flags.writeable  # shared between consumers
    seqs = [f.seq for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    ts = [f.timestamp for f in frames]
    assert ts == sorted(ts)
    # Paced at the file's 60 fps; on a loaded machine fewer, never wildly more.
    assert 5 < fps < 90
    # The pictures really come from the file: frame i of it is grey level 20 + 15 i.
    levels = [float(f.image[2:20, 100:150].mean()) for f in frames]
    indices = [round((v - 20) / 15) for v in levels]
    assert all(abs(v - (20 + 15 * i)) < 6 for v, i in zip(levels, indices, strict=True))
    assert len(set(indices)) >= 8


def test_latest_frame_only_slow_consumer_drops_frames_fast_one_does_not_block(video: Path):
    cam = CameraWorker(OpenCvSource(video, fps=100), **FAST)
    with cam:
        slow = cam.subscribe()
        first = slow.get(timeout=3)
        assert first is not None
        time.sleep(0.3)  # busy decoding: ~30 frames arrive meanwhile
        second = slow.get(timeout=3)
        assert second is not None
        assert second.seq > first.seq + 5, "the consumer must get the newest, not the next"
        assert slow.dropped == second.seq - first.seq - 1
        assert cam.latest() is not None and cam.latest().seq >= second.seq
        # poll never blocks: right after taking the newest, usually nothing newer yet
        t0 = time.perf_counter()
        slow.poll()
        assert time.perf_counter() - t0 < 0.05
    assert cam.frames_captured > 20


def test_stop_joins_and_wakes_waiting_consumers(video: Path):
    cam = CameraWorker(OpenCvSource(video), **FAST)
    cam.start()
    sub = cam.subscribe()
    assert sub.get(timeout=3) is not None
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(sub.get(timeout=10)))
    time.sleep(0.05)
    sub.poll()
    waiter.start()
    cam.stop()
    waiter.join(2)
    assert not waiter.is_alive(), "a consumer waiting for a frame must wake up on stop"
    assert not cam.is_alive() and cam.state is CameraState.STOPPED


def test_reconnects_with_backoff_when_the_source_disappears_and_comes_back(tmp_path: Path):
    video = write_video(tmp_path / "cam.avi", frames=6, fps=60)
    hidden = tmp_path / "away.avi"
    cam = CameraWorker(OpenCvSource(video), **FAST)
    seen: list[tuple[CameraState, object]] = []
    cam.add_state_listener(lambda s, e: seen.append((s, e)))
    with cam:
        assert wait_for(lambda: cam.state is CameraState.RUNNING)
        shutil.move(video, hidden)  # "unplugged": noticed at the end of the current pass
        assert wait_for(lambda: cam.state is CameraState.RECONNECTING, 3)
        assert isinstance(cam.error, CameraUnplugged)
        assert cam.error.kind == "device" and cam.error.message("zh_CN")
        before = cam.frames_captured
        time.sleep(0.4)  # several back-off rounds, no frames
        assert cam.frames_captured == before
        shutil.move(hidden, video)  # plugged in again
        assert wait_for(lambda: cam.state is CameraState.RUNNING, 3)
        assert wait_for(lambda: cam.frames_captured > before, 3)
        assert cam.error is None and cam.reconnects == 1
        st = cam.status()
        assert (st.state, st.reconnects, st.source) == (CameraState.RUNNING, 1, "cam.avi")
    states = [s for s, _ in seen]
    assert states.index(CameraState.RECONNECTING) < len(states) - 2
    assert CameraState.FAILED not in states


def test_missing_source_at_start_retries_until_it_appears(tmp_path: Path):
    folder = tmp_path / "shots"
    cam = CameraWorker(ImageFolderSource(folder, width=320, height=240, fps=50), **FAST)
    with cam:
        assert wait_for(lambda: cam.state is CameraState.RECONNECTING)
        assert isinstance(cam.error, CameraUnplugged)
        folder.mkdir()
        img = np.zeros((100, 300, 3), np.uint8)
        img[:, :150] = (0, 255, 0)
        cv2.imwrite(str(folder / "a.png"), img)
        sub = cam.subscribe()
        f = sub.get(timeout=3)
        assert f is not None and cam.state is CameraState.RUNNING
    assert f.image.shape == (240, 320, 3)  # letterboxed to the configured resolution
    assert f.image[120, 100, 1] == 255 and f.image[5, 5, 1] == 40  # picture centred, grey bars


def test_unreadable_video_is_a_config_error_and_the_worker_fails(tmp_path: Path):
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"this is not a video" * 10)
    cam = CameraWorker(OpenCvSource(bad), **FAST)
    with cam:
        assert wait_for(lambda: cam.state is CameraState.FAILED)
        assert isinstance(cam.error, CameraConfigError)
        assert wait_for(lambda: not cam.is_alive())


def test_device_errors_are_typed():
    # No /dev/video99 on any test machine: the open says "unplugged", not a raw OpenCV failure.
    src = OpenCvSource(99)
    with pytest.raises(CameraUnplugged):
        src.open()
    with pytest.raises(CameraConfigError):
        make_source("certainly not a camera")
    with pytest.raises(CameraConfigError):
        make_source("")


def test_busy_and_permission_are_told_apart(tmp_path: Path, monkeypatch):
    node = tmp_path / "video0"
    node.write_bytes(b"")
    assert type(_device_error(0, node)).__name__ == "CameraBusy"  # present, not openable
    clip = write_video(tmp_path / "p.avi", frames=2)
    import devices.camera.opencv as ocv

    monkeypatch.setattr(ocv.os, "access", lambda p, mode: False)  # we run tests as root
    with pytest.raises(CameraPermissionDenied):
        OpenCvSource(clip).open()


def test_stream_urls_are_redacted_in_names():
    assert _redact_url("rtsp://admin:secret@10.0.0.5/stream1") == "rtsp://***@10.0.0.5/stream1"
    assert OpenCvSource("rtsp://admin:secret@10.0.0.5/s").name.startswith("rtsp://***@")


def test_unreachable_stream_is_unplugged_not_a_crash():
    src = OpenCvSource("rtsp://127.0.0.1:9/none")  # discard port: refused at once
    with pytest.raises(CameraUnplugged):
        src.open()


def test_desk_cameras_one_or_two(tmp_path: Path, video: Path):
    one = DeskCameras.from_settings(DevicesSection(patient_camera="sim", counter_camera="",
                                                   camera_width=320, camera_height=180))
    assert one.single and one.counter is one.patient
    assert one.patient.source.view == "both"
    two = DeskCameras.from_settings(DevicesSection(patient_camera="sim", counter_camera="sim",
                                                   camera_width=320, camera_height=180))
    assert not two.single
    assert (two.patient.source.view, two.counter.source.view) == ("patient", "counter")
    mixed = DeskCameras.from_settings(DevicesSection(patient_camera="sim",
                                                     counter_camera=str(video)))
    assert isinstance(mixed.counter.source, OpenCvSource)
    two.start()
    try:
        a, b = two.patient.subscribe(), two.counter.subscribe()
        fa, fb = a.get(timeout=3), b.get(timeout=3)
        assert fa is not None and fb is not None and fa.image.shape == (180, 320, 3)
    finally:
        two.stop()
    assert all(not c.is_alive() for c in two.all())


def test_qt_adapter_delivers_newest_frames_in_the_gui_thread(qtbot, video: Path):
    from PySide6.QtCore import QThread

    from devices.camera.qt import CameraSignals

    cam = CameraWorker(ScenePlayer([SceneStep("empty", 1.0, (), noise=2)], width=160,
                                   height=90, fps=60), **FAST)
    sig = CameraSignals(cam)
    threads: list[object] = []
    frames: list[object] = []

    def on_frame(f):
        threads.append(QThread.currentThread())
        frames.append(f)
        time.sleep(0.05)  # a slow GUI: frames must be coalesced, not queued

    sig.frame_ready.connect(on_frame)
    with qtbot.waitSignal(sig.state_changed, timeout=3000,
                          check_params_cb=lambda s, e: s == "running"):
        cam.start()
    try:
        qtbot.waitUntil(lambda: len(frames) >= 5, timeout=5000)
    finally:
        cam.stop()
        sig.close()
    assert all(t is QThread.currentThread() for t in threads)
    assert sig.dropped > 0
    seqs = [f.seq for f in frames]
    assert seqs == sorted(seqs)


class _BrokenDriver:
    """A driver that fails in a way no typed error covers (the worker must not die silently)."""

    name = "broken"
    pace_fps = 100.0

    def __init__(self) -> None:
        self.reads = 0

    def open(self) -> None:
        pass

    def read(self):
        self.reads += 1
        if self.reads > 3:
            raise ZeroDivisionError("driver bug")
        return np.zeros((10, 10, 3), np.uint8)

    def close(self) -> None:
        pass


def test_unexpected_driver_failure_is_a_typed_failed_state_and_listeners_cannot_break_it():
    from desk_app.errors import InternalError

    cam = CameraWorker(_BrokenDriver(), **FAST)
    cam.add_frame_listener(lambda f: 1 / 0)  # a buggy consumer callback is logged, not fatal
    with cam:
        assert wait_for(lambda: cam.state is CameraState.FAILED)
        assert isinstance(cam.error, InternalError) and cam.frames_captured == 3
    assert cam.state is CameraState.STOPPED
