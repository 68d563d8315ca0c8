"""The passive liveness check's cost per genuine patient, and what it catches.

Patients of the test part (``faces/east_asian`` and the face_recognition examples; the cue's
parameters were chosen on LFW, see ``benchmarks/liveness_eval.py``) go through the desk's
``FaceSession`` twice, liveness "off" and "passive" (the default), one frame every 0.25 s:

* seconds of the patient's time until the face decision (the cue asks nothing of the patient:
  the same frames decide), and the CPU milliseconds the cue adds per patient;
* genuine patients flagged (each one costs a clerk's look), phone and print attacks caught.

Needs ../shared/data/faces (or DESK_SHARED_DATA).
"""

from __future__ import annotations

import os
import statistics
import time

import cv2
import numpy as np

from benchmarks.liveness_eval import FACES, KINDS, sequences, test_photos

FRAME_S = 0.25


def _session(photo, liveness: str, frames: list[np.ndarray], model):
    from desk_app.faces.verify import FaceSession
    from desk_app.settings import FacesSection

    session = FaceSession(photo, FacesSection(liveness=liveness), model)
    cpu = 0.0
    decision = None
    for i, frame in enumerate(frames * 2):
        c0 = time.process_time()
        decision = session.add_frame(frame, i * FRAME_S).decision
        cpu += time.process_time() - c0
        if decision is not None:
            return decision, (i + 1) * FRAME_S, cpu
    return session.finish(), len(frames) * 2 * FRAME_S, cpu


def run(patients: int = 12) -> dict:
    from desk_app.faces.degrade import idcard_portrait
    from desk_app.faces.engine import shared_model
    from desk_app.faces.verify import encode_id_photo

    if not (FACES / "pairs.csv").is_file():
        raise FileNotFoundError(f"face photos not found at {FACES}")
    model = shared_model()
    model.load()
    photos = test_photos(per_person=2)
    # pairs of photos of one person: the first makes the card, the second is at the camera
    pairs = [(photos[i], photos[i + 1]) for i in range(len(photos) - 1)
             if photos[i].parent == photos[i + 1].parent and photos[i].parent.name != "faces"]
    pairs = pairs[::2][:patients]
    seconds: dict[str, list[float]] = {"off": [], "passive": []}
    cpu: dict[str, list[float]] = {"off": [], "passive": []}
    flagged = {k: 0 for k in KINDS}
    counted = {k: 0 for k in KINDS}
    for card_path, live_path in pairs:
        card = cv2.cvtColor(cv2.imread(str(card_path)), cv2.COLOR_BGR2RGB)
        id_photo = encode_id_photo(idcard_portrait(card, model), model, bgr=False)
        if not id_photo.usable:
            continue
        for kind, _p, frames in sequences([live_path], seed=13, model=model):
            if kind == "genuine":
                for mode in ("off", "passive"):
                    d, s, c = _session(id_photo, mode, frames, model)
                    seconds[mode].append(s)
                    cpu[mode].append(c)
                    if mode == "passive":
                        counted[kind] += 1
                        flagged[kind] += d.liveness_state == "failed"
            else:
                d, _s, _c = _session(id_photo, "passive", frames, model)
                counted[kind] += 1
                flagged[kind] += d.liveness_state == "failed"
    added_cpu = [p - o for p, o in zip(cpu["passive"], cpu["off"], strict=True)]
    return {
        "genuine_patients": counted["genuine"],
        "patient_seconds_to_face_decision_off_median": statistics.median(seconds["off"]),
        "patient_seconds_to_face_decision_passive_median": statistics.median(seconds["passive"]),
        "patient_seconds_added_by_passive_max": max(
            p - o for p, o in zip(seconds["passive"], seconds["off"], strict=True)),
        "cpu_ms_added_per_genuine_patient_median": round(statistics.median(added_cpu) * 1000, 1),
        "genuine_flagged": f"{flagged['genuine']}/{counted['genuine']}",
        "phone_attacks_caught": f"{flagged['phone']}/{counted['phone']}",
        "print_attacks_caught": f"{flagged['print']}/{counted['print']}",
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
