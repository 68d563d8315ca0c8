"""QR reading: codes read by the two-decoder cascade vs each decoder alone, and time per 720p frame.

Figures:
* ``dev_*``: the real photos of ``../shared/data/qr`` (21 codes, 2 negatives), per mode;
* ``stress_*``: the same photos made harder (``devices.qr.variants``: dark mode, dim, uneven
  light, JPEG, small in a 720p frame, noise) -- where the decoders differ;
* ``raw_*``: each library called plainly on the grayscale picture, no preprocessing (its own
  text: zxing-cpp's default text mode, pyzbar's UTF-8 conversion);
* ``qr_ms_median_project`` / ``qr_ms_median_zxing_alone`` / ``qr_ms_ratio``: the project's
  decoder and zxing-cpp alone (``read_barcodes`` as it comes) on the same pictures (real photos,
  their variants and the held-out photographed codes), in this one run;
* ``charset_*``: photographed codes in Shift_JIS, GB2312/GB18030, ISO-8859-1, UTF-8 with and
  without ECI, control bytes (``devices.qr.synthetic``, seed 2, never tuned on);
* ``disagree_*``: pictures where zbar's own text (pyzbar's UTF-8 conversion) and zxing-cpp's
  own text (its default mode) are both found and differ, and which of the two was the expected
  text -- what the trust rules of ``devices.qr.reader`` were chosen from;
* ``stage_<name>``: each cascade stage run alone on the stress pictures: codes read and median
  ms (the table in ``devices.qr.reader``; its order was chosen from per-picture times of
  each stage on these pictures and on the charset photos of seed 3);
* ``*_ms_median``: CPU milliseconds per picture;
* ``ms_720p_*``: CPU milliseconds (thread time, so other load on the machine does not count)
  per 1280x720 scene-player frame on ONE core (affinity pinned, OpenCV single-threaded):
  the full cascade (still photos, worst case when nothing is found) and the live schedule the
  camera pipeline runs (cheap stages every frame + one expensive stage in turn).
"""

from __future__ import annotations

import base64
import csv
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

from devices.camera.scene import ScenePlayer, SceneStep, card, checkin_script, face, phone
from devices.qr.evaluate import normalize
from devices.qr.pipeline import QrFrameWorker
from devices.qr.reader import ALL_STAGES, QrReader, _Prepared, to_gray
from devices.qr.synthetic import photo_set
from devices.qr.variants import VARIANTS

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DESK_SHARED_DATA", ROOT.parent / "shared" / "data"))
MODES = {"both": ("pyzbar", "zxing"), "pyzbar": ("pyzbar",), "zxing": ("zxing",)}


def _dev_set() -> list[tuple[np.ndarray, str]]:
    index = SHARED / "qr" / "index.csv"
    out = []
    if not index.is_file():
        return out
    with index.open(newline="") as fh:
        for row in csv.DictReader(fh):
            img = cv2.imread(str(index.parent / row["image"]), cv2.IMREAD_GRAYSCALE)
            exp = row["expected_text_file"]
            text = normalize((index.parent / exp).read_text("utf-8")) if exp else ""
            out.append((img, text))
    return out


def _raw(decoder: str, img: np.ndarray) -> list[str]:
    if decoder == "pyzbar":
        return [s.data.decode("utf-8", "replace")
                for s in pyzbar.decode(img, symbols=[pyzbar.ZBarSymbol.QRCODE])]
    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]


def _score(items: list[tuple[np.ndarray, str]], read, ms: list[float] | None = None
           ) -> tuple[int, int, int, float]:
    correct = wrong = fp = 0
    ms = [] if ms is None else ms
    start = len(ms)
    for img, exp in items:
        t0 = time.thread_time()
        texts = [normalize(t) for t in read(img)]
        ms.append((time.thread_time() - t0) * 1000)
        if exp and exp in texts:
            correct += 1
        elif exp and texts:
            wrong += 1
        elif not exp and texts:
            fp += 1
    return correct, wrong, fp, statistics.median(ms[start:]) if ms[start:] else 0.0


def _stages(items: list[tuple[np.ndarray, str]], fig: dict[str, object]) -> None:
    reader = QrReader()
    for stage in ALL_STAGES:
        reads, ms = 0, []
        for img, exp in items:
            prep = _Prepared(to_gray(img))
            if not prep.applies(stage):
                continue
            _ = prep.level  # the shared downscale is not this stage's cost
            t0 = time.thread_time()
            codes, _ = reader._run_stage(stage, prep)  # noqa: SLF001 - one stage alone
            ms.append((time.thread_time() - t0) * 1000)
            reads += exp in [normalize(c.text) for c in codes]
        fig[f"stage_{stage}"] = (f"{reads}/{len(ms)} read, "
                                 f"{statistics.median(ms) if ms else 0:.2f} ms")


def _disagree(items: list[tuple[np.ndarray, str]], fig: dict[str, object]) -> None:
    both = zbar_right = zxing_right = neither = 0
    for img, exp in items:
        zb = [normalize(t) for t in _raw("pyzbar", img)]
        zx = [normalize(t) for t in _raw("zxing", img)]
        if zb and zx and set(zb) != set(zx):
            both += 1
            zbar_right += exp in zb
            zxing_right += exp in zx
            neither += exp not in zb and exp not in zx
    fig["disagree_pictures"] = both
    fig["disagree_zbar_right"] = zbar_right
    fig["disagree_zxing_right"] = zxing_right
    fig["disagree_neither_right"] = neither


def _versus(items: list[tuple[np.ndarray, str]], fig: dict[str, object], tag: str = "") -> None:
    """The project's decoder and zxing-cpp alone, same pictures, one run: interleaved, so a
    change in the machine's load touches both, and taking turns at going first on a picture
    (measured 2026-12-03: the first call on a picture costs ~10 % more, its pixels not yet in
    the cache)."""
    if not items:
        return
    project = QrReader()
    mine: list[float] = []
    alone: list[float] = []
    for i, item in enumerate(items):
        calls = [(lambda im: [x.text for x in project.read(im).codes], mine),
                 (lambda im: _raw("zxing", im), alone)]
        for read, ms in calls if i % 2 == 0 else calls[::-1]:
            _score([item], read, ms)
    fig[f"qr{tag}_images_timed"] = len(items)
    fig[f"qr{tag}_ms_median_project"] = statistics.median(mine)
    fig[f"qr{tag}_ms_median_zxing_alone"] = statistics.median(alone)
    fig[f"qr{tag}_ms_ratio"] = statistics.median(mine) / statistics.median(alone)


def _scene_frames(n: int) -> tuple[list[np.ndarray], list[bool]]:
    """720p frames over a whole visit (face, phone with a ~520-character token, card)."""
    token = "RNB1:" + base64.urlsafe_b64encode(bytes(range(256)) + bytes(134)).decode().rstrip("=")
    faces = sorted((SHARED / "faces").glob("*.jpg"))
    if len(faces) >= 2:
        script = checkin_script(faces[0], faces[1], token)
    else:
        gray_face = np.full((300, 240, 3), 120, np.uint8)
        script = [SceneStep("walks up", 3, (face(gray_face),), noise=3),
                  SceneStep("shows QR", 3, (phone(token),), blur=0.6, noise=3),
                  SceneStep("card", 3, (card(gray_face),), noise=3)]
    sp = ScenePlayer(script, width=1280, height=720, fps=15)
    frames, has_qr = [], []
    for i in range(n):
        t = sp.duration_s * i / n
        frames.append(sp.render(t, frame_index=i))
        has_qr.append(sp.step_at(t)[1].name == "shows QR")
    return frames, has_qr


def run() -> dict:
    cv2.setNumThreads(1)
    pinned = hasattr(os, "sched_setaffinity")
    old_aff = os.sched_getaffinity(0) if pinned else None
    if pinned:
        os.sched_setaffinity(0, {min(old_aff)})
    try:
        return _run()
    finally:
        if pinned:
            os.sched_setaffinity(0, old_aff)


def _run() -> dict:
    fig: dict[str, object] = {}
    readers = {m: QrReader(decoders=d) for m, d in MODES.items()}
    dev = _dev_set()
    if dev:
        fig["dev_images"] = len(dev)
        for m, r in readers.items():
            c, w, fp, ms = _score(dev, lambda im, r=r: [x.text for x in r.read(im).codes])
            fig[f"dev_{m}_correct"], fig[f"dev_{m}_wrong"] = c, w
            fig[f"dev_{m}_false_pos"], fig[f"dev_{m}_ms_median"] = fp, ms
        for d in ("pyzbar", "zxing"):
            c, w, fp, ms = _score(dev, lambda im, d=d: _raw(d, im))
            fig[f"raw_{d}_correct"], fig[f"raw_{d}_wrong"] = c, w
        positives = [(img, exp) for img, exp in dev if exp]
        stress = [(VARIANTS[v](img), exp) for v in VARIANTS if v != "original"
                  for img, exp in positives]
        fig["stress_images"] = len(stress)
        for m, r in readers.items():
            c, w, _, ms = _score(stress, lambda im, r=r: [x.text for x in r.read(im).codes])
            fig[f"stress_{m}_correct"], fig[f"stress_{m}_wrong"] = c, w
            fig[f"stress_{m}_ms_median"] = ms
        for d in ("pyzbar", "zxing"):
            c, w, _, _ = _score(stress, lambda im, d=d: _raw(d, im))
            fig[f"stress_raw_{d}_correct"], fig[f"stress_raw_{d}_wrong"] = c, w
        _stages(stress, fig)
    else:
        fig["dev_images"] = "skipped: ../shared/data/qr not found"
        positives = stress = []
    charset = [(img, normalize(text)) for _, img, text in photo_set(2)]
    fig["charset_images"] = len(charset)
    for m, r in readers.items():
        c, w, _, _ = _score(charset, lambda im, r=r: [x.text for x in r.read(im).codes])
        fig[f"charset_{m}_correct"], fig[f"charset_{m}_wrong"] = c, w
    for d in ("pyzbar", "zxing"):
        c, w, _, _ = _score(charset, lambda im, d=d: _raw(d, im))
        fig[f"charset_raw_{d}_correct"], fig[f"charset_raw_{d}_wrong"] = c, w
    real = [(img, exp) for img, exp in dev] + stress
    _disagree(real + charset, fig)
    _versus(real + charset, fig)
    _versus([(img, exp) for img, exp in dev], fig, "_real_photos")
    _versus(stress, fig, "_stress")
    _versus(charset, fig, "_charset")

    frames, has_qr = _scene_frames(60)
    full = readers["both"]
    full_ms = [full.read(f).cpu_ms for f in frames]
    fig["ms_720p_full_cascade_median"] = statistics.median(full_ms)
    fig["ms_720p_full_cascade_no_code_median"] = statistics.median(
        [m for m, q in zip(full_ms, has_qr, strict=True) if not q])
    fig["ms_720p_full_cascade_with_code_median"] = statistics.median(
        [m for m, q in zip(full_ms, has_qr, strict=True) if q])

    class _Feed:
        def submit(self, read) -> bool:
            return True

    class _Cam:
        name = "bench"

        def subscribe(self):
            return None

    from devices.camera.types import Frame

    live = QrFrameWorker(_Cam(), _Feed())  # type: ignore[arg-type]
    live_ms, qr_frames, qr_read = [], 0, 0
    for i, (img, q) in enumerate(zip(frames, has_qr, strict=True)):
        reads = live.process(Frame(i + 1, float(i), img, "bench"))
        live_ms.append(live._cpu_ms[-1])  # noqa: SLF001 - the figure the worker keeps
        qr_frames += q
        qr_read += bool(q and reads)
    fig["ms_720p_live_median"] = statistics.median(live_ms)
    fig["ms_720p_live_p90"] = float(np.percentile(live_ms, 90))
    fig["live_frames_with_qr_read"] = f"{qr_read}/{qr_frames}"
    return fig


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:<40} {v}")
