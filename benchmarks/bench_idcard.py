"""ID cards: camera OCR of the number line (both engines) and a chip read over the SAM protocol.

Camera: synthetic cards (faces from ../shared/data/faces when present) lying on a desk in
1280 x 720 frames; times card finding, each engine's read of the number line, and a whole
frame with the default engine, plus how many of the frames each engine read exactly.
Counter camera: both card kinds (resident; foreigner's 2017 and 2023) under each effect of
``scenes.counter_frame`` (glare, finger, phone screen, busy counter ...), seed 60606 (never
tuned on; 4242 measured where the number line lies on each card kind): ``counter_<effect>`` =
numbers read exactly / frames, ``counter_wrong`` must be 0; ``counter_outline_only`` the same
without the number-line search, ``text_lines_ms_median`` what that search costs on a frame.
Reader: find + select + read basic info against the simulator on a pseudo-terminal (no baud
limit; the 1,295-byte answer alone takes ~0.11 s on a real 115200-baud line).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FACES = Path(os.environ.get("DESK_SHARED_DATA", ROOT.parent / "shared" / "data")) / "faces"
N_FRAMES = 12
N_TESSERACT = 6


def _ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def _scenes() -> list[tuple[str, np.ndarray]]:
    from devices.idcard.scenes import place_in_scene
    from devices.idcard.synthetic import face_photos, random_person, render_card

    rng = np.random.default_rng(2024)
    photos = face_photos(FACES)[:40] if FACES.is_dir() else []
    out = []
    for i in range(N_FRAMES):
        person = random_person(rng)
        photo = cv2.imread(str(photos[i % len(photos)])) if photos else None
        frame, _ = place_in_scene(render_card(person, photo, seed=i), rng)
        out.append((person.id_number, frame))
    return out


def _camera() -> dict:
    from devices.idcard.camera_reader import CameraCardReader
    from devices.idcard.locate import find_card
    from devices.idcard.ocr import DEFAULT_ENGINE, RapidOcrEngine, TesseractEngine

    scenes = _scenes()
    figures: dict = {"frames": len(scenes), "default_engine": DEFAULT_ENGINE}
    t_find, views = [], []
    for number, frame in scenes:
        t0 = time.perf_counter()
        view = find_card(frame)
        t_find.append(time.perf_counter() - t0)
        views.append((number, view))
    figures["find_card_ms_median"] = _ms(t_find)
    figures["card_found"] = sum(v is not None for _, v in views)
    for engine, limit in ((RapidOcrEngine(), N_FRAMES), (TesseractEngine(), N_TESSERACT)):
        engine.read_line(np.full((40, 300, 3), 255, np.uint8))  # warm up (model load)
        times, exact = [], 0
        for number, view in views[:limit]:
            if view is None:
                continue
            line = view.number_line()
            t0 = time.perf_counter()
            text = engine.read_line(line).text
            times.append(time.perf_counter() - t0)
            exact += text == number
        figures[f"{engine.name}_line_ms_median"] = _ms(times) if times else None
        figures[f"{engine.name}_exact"] = f"{exact}/{min(limit, len(views))}"
    reader = CameraCardReader()
    times = []
    for _, frame in scenes:
        t0 = time.perf_counter()
        reader.read_frame(frame)
        times.append(time.perf_counter() - t0)
    figures["frame_ms_median_default_engine"] = _ms(times)
    return figures


def _counter() -> dict:
    from devices.idcard.camera_reader import CameraCardReader
    from devices.idcard.scenes import COUNTER_EFFECTS, counter_frame
    from devices.idcard.synthetic import (
        CARD_KINDS,
        face_photos,
        random_card_person,
        render_card,
    )

    rng = np.random.default_rng(60606)
    photos = face_photos(FACES)[:40] if FACES.is_dir() else []
    reader = CameraCardReader()
    figures: dict = {}
    wrong = outline_only = 0
    t_frame, t_lines = [], []
    for effect in COUNTER_EFFECTS:
        read = 0
        for i, kind in enumerate(CARD_KINDS):
            person = random_card_person(rng, kind)
            photo = cv2.imread(str(photos[i % len(photos)])) if photos else None
            frame, _ = counter_frame(render_card(person, photo, seed=i), rng, effect)
            t0 = time.perf_counter()
            r = reader.read_frame(frame)
            t_frame.append(time.perf_counter() - t0)
            read += r.status == "ok" and r.text == person.id_number
            wrong += r.status == "ok" and r.text != person.id_number
            o = reader.read_frame(frame, text_lines=False)
            outline_only += o.status == "ok" and o.text == person.id_number
            wrong += o.status == "ok" and o.text != person.id_number
            t0 = time.perf_counter()
            reader.read_text_lines(frame)
            t_lines.append(time.perf_counter() - t0)
        figures[f"counter_{effect}"] = f"{read}/{len(CARD_KINDS)}"
    n = len(COUNTER_EFFECTS) * len(CARD_KINDS)
    figures["counter_read"] = f"{sum(int(v.split('/')[0]) for v in figures.values())}/{n}"
    figures["counter_outline_only"] = f"{outline_only}/{n}"
    figures["counter_frame_ms_median"] = _ms(t_frame)
    figures["text_lines_ms_median"] = _ms(t_lines)
    figures["counter_wrong"] = wrong
    return figures


def _chip() -> dict:
    if sys.platform == "win32":
        return {}
    from devices.idcard.serial_reader import SamSerialReader
    from devices.idcard.simulator import SimulatedSamReader
    from devices.idcard.synthetic import random_person

    person = random_person(np.random.default_rng(1))
    times = []
    with SimulatedSamReader() as sim:
        sim.insert_card(person.card_text())
        with SamSerialReader(sim.port) as reader:
            for _ in range(20):
                t0 = time.perf_counter()
                reader.read()
                times.append(time.perf_counter() - t0)
    wire_bytes = 3 * 10 + 15 + 19 + 7 + 0x0508
    return {"chip_read_ms_median_pty": _ms(times),
            "chip_read_ms_wire_at_115200": round(wire_bytes * 10 / 115200 * 1000, 1)}


def run() -> dict:
    return {**_camera(), **_counter(), **_chip()}


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:<40} {v}")
