"""Face verification latency: from a 640x480 frame to a decision, on real photos.

Each live frame is a real photo of the person scaled into a 640x480 canvas (face about 150 px
wide, as a patient at the counter); the ID photo is another photograph of them degraded to a
102 x 126 card portrait. Every ``add_frame`` call is timed (detection on the downscaled frame,
quality gate with 68 landmarks, encoding); the frame that completes the set also makes the
decision. Twenty patients run twice: with the model in this process, and as the desk runs it,
with the descriptors in the two face processes (``desk_child_process_*``: a live frame's two
passes run side by side; this process's CPU time is then only detection, landmarks and chips). Needs ../shared/data/faces (or DESK_SHARED_DATA).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FACES = Path(os.environ.get("DESK_SHARED_DATA", ROOT.parent / "shared" / "data")) / "faces"
LIVE = ["obama.jpg", "obama3.jpg", "obama1.jpg", "obama2.jpg"]


def _canvas(rgb: np.ndarray, model, face_px: int = 150) -> np.ndarray:
    import cv2

    boxes = model.detect(rgb, 0 if max(rgb.shape[:2]) > 900 else 1)
    box = max(boxes, key=lambda b: b.width)
    f = face_px / box.width
    img = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    cx, cy = box.center[0] * f, box.center[1] * f
    out = np.full((480, 640, 3), 128, np.uint8)
    x0, y0 = round(cx - 320), round(cy - 220)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(img.shape[1], x0 + 640), min(img.shape[0], y0 + 480)
    out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return out


def _p95(xs: list[float]) -> float:
    return float(np.percentile(xs, 95))


def run() -> dict:
    from desk_app.faces.degrade import idcard_portrait
    from desk_app.faces.engine import shared_model
    from desk_app.faces.evaluate import read_image
    from desk_app.faces.verify import FaceSession, encode_id_photo
    from desk_app.settings import FacesSection

    if not (FACES / "pairs.csv").is_file():
        raise FileNotFoundError(f"face photos not found at {FACES}")
    model = shared_model()
    t0 = time.perf_counter()
    model.load()
    load_ms = (time.perf_counter() - t0) * 1000
    portrait = idcard_portrait(read_image(FACES / "obama2.jpg"), model)
    id_ms = []
    for _ in range(2):
        t0 = time.perf_counter()
        photo = encode_id_photo(portrait, model, bgr=False)
        id_ms.append((time.perf_counter() - t0) * 1000)
    frames = [_canvas(read_image(FACES / name), model) for name in LIVE]
    faces = FacesSection()
    figures = {
        "model_load_ms": round(load_ms, 1),
        "id_photo_encode_ms_median": round(statistics.median(id_ms), 1),
    }
    figures.update(_sessions(photo, faces, model, frames, ""))
    # As the desk runs it: descriptors in the face processes (ProcessFaceModel, GUI-safe).
    from desk_app.faces.remote import ProcessFaceModel

    remote = ProcessFaceModel()
    try:
        remote.start()
        remote.load()
        FaceSession(photo, faces, remote).add_frame(frames[0], 0.0, bgr=False)  # children warm
        remote_id_ms = []
        for _ in range(3):
            t0 = time.perf_counter()
            encode_id_photo(portrait, remote, bgr=False)
            remote_id_ms.append((time.perf_counter() - t0) * 1000)
        figures["desk_child_process_id_photo_encode_ms_median"] = round(
            statistics.median(remote_id_ms), 1)
        figures["desk_face_processes"] = remote.workers
        figures.update(_sessions(photo, faces, remote, frames, "desk_child_process_"))
    finally:
        remote.close()
    figures.update({"load_average_1min": round(os.getloadavg()[0], 2), "goal_ms_p95": 300})
    return figures


def _sessions(photo, faces, model, frames, prefix: str, sessions: int = 20) -> dict:
    """``sessions`` patients, one frame every 250 ms until the decision."""
    from desk_app.faces.verify import FaceSession

    frame_ms: list[float] = []
    cpu_ms: list[float] = []  # CPU time of this process: what an idle core would take
    decide_ms: list[float] = []
    outcomes = []
    for session_no in range(sessions):
        # the card records a man, as a desk's ID number does: the sex check runs on every frame
        session = FaceSession(photo, faces, model, holder_sex="M")
        ts = 0.0
        for i in range(4 * faces.best_k):
            frame = frames[(session_no + i) % len(frames)]
            t0, c0 = time.perf_counter(), time.process_time()
            result = session.add_frame(frame, ts, bgr=False)
            ms = (time.perf_counter() - t0) * 1000
            cpu_ms.append((time.process_time() - c0) * 1000)
            ts += 0.25
            frame_ms.append(ms)
            if result.decision is not None:
                decide_ms.append(ms)
                outcomes.append(result.decision.outcome.value)
                break
    return {
        f"{prefix}frame_to_result_ms_p50": round(statistics.median(frame_ms), 1),
        f"{prefix}frame_to_result_ms_p95": round(_p95(frame_ms), 1),
        f"{prefix}frame_to_decision_ms_p95": (round(_p95(decide_ms), 1) if decide_ms
                                              else "no decision"),
        f"{prefix}frame_cpu_ms_p95_this_process": round(_p95(cpu_ms), 1),
        f"{prefix}frames_timed": len(frame_ms),
        f"{prefix}decisions": len(decide_ms),
        f"{prefix}outcomes": ",".join(sorted(set(outcomes))),
    }
