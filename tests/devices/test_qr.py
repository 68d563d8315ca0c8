"""The QR reader on the real camera photos of ../shared/data/qr, harder variants of them,
garbage input, and the ``desk-app eval qr`` tool end to end."""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from desk_app.cli import main as cli_main
from desk_app.errors import DeskError
from devices.qr import BadImageError, QrReader
from devices.qr.evaluate import normalize
from devices.qr.variants import VARIANTS


def _rows(qr_dir: Path) -> list[tuple[Path, str]]:
    with (qr_dir / "index.csv").open(newline="") as fh:
        return [(qr_dir / r["image"],
                 normalize((qr_dir / r["expected_text_file"]).read_text("utf-8"))
                 if r["expected_text_file"] else "")
                for r in csv.DictReader(fh)]


def _qr_png(text: str, scale: int = 4) -> np.ndarray:
    buf = io.BytesIO()
    segno.make_qr(text).save(buf, kind="png", scale=scale, border=4)
    return cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)


def test_real_photos_all_read_none_wrong_negatives_empty(qr_dir: Path):
    reader = QrReader()
    decoders = set()
    for path, expected in _rows(qr_dir):
        res = reader.read(cv2.imread(str(path), cv2.IMREAD_COLOR))
        texts = [normalize(c.text) for c in res.codes]
        if expected:
            assert expected in texts, f"{path.name}: missed"
            assert all(t == expected for t in texts), f"{path.name}: wrong text"
            decoders.update(c.decoder for c in res.codes)
        else:
            assert texts == [], f"{path.name}: false positive"
    # zxing-cpp comes first in the measured order and reads every original photo.
    assert decoders == {"zxing"}


def test_combination_reads_more_than_either_decoder_alone(qr_dir: Path):
    # Dim pictures and washed-out, unevenly lit ones: each decoder alone misses some, and
    # not the same ones (measured: pyzbar 40/42, zxing 37/42, together 42/42).
    readers = {m: QrReader(decoders=d) for m, d in
               {"both": ("pyzbar", "zxing"), "pyzbar": ("pyzbar",), "zxing": ("zxing",)}.items()}
    read = dict.fromkeys(readers, 0)
    for path, expected in _rows(qr_dir):
        if not expected:
            continue
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        for v in ("dim", "uneven_light"):
            img = VARIANTS[v](gray)
            for m, r in readers.items():
                texts = [normalize(c.text) for c in r.read(img).codes]
                assert all(t == expected for t in texts), f"{m} wrong on {path.name}/{v}"
                read[m] += expected in texts
    assert read["both"] > read["pyzbar"] and read["both"] > read["zxing"], read


def test_dark_mode_codes_are_read():
    text = "RNB1:dark-mode-screen"
    img = 255 - _qr_png(text)
    res = QrReader(decoders=("pyzbar",)).read(img)
    assert [c.text for c in res.codes] == [text] and res.codes[0].stage == "inverted"
    both = QrReader().read(img)
    assert [c.text for c in both.codes] == [text]
    # zxing-cpp's plain first stages do not look at the inverted picture; zx_inverted does
    assert both.stages_run == ("zx_level", "zx_smoothed", "zx_inverted")


def _in_720p_frame(code: np.ndarray, top: int, left: int, grey: int) -> np.ndarray:
    frame = np.full((720, 1280), grey, np.uint8)
    frame[top:top + code.shape[0], left:left + code.shape[1]] = code
    return frame


def test_a_code_in_a_720p_frame_is_read_by_the_first_cheap_stage():
    text = "RNB1:held-up-phone"
    res = QrReader().read(_in_720p_frame(_qr_png(text, scale=8), 150, 500, 170))
    assert [c.text for c in res.codes] == [text] and res.stages_run == ("zx_level",)
    x0 = min(p[0] for p in res.codes[0].polygon)  # back in the frame's pixels, not level's
    assert abs(x0 - 500) < 40, res.codes[0].polygon


def test_small_code_in_a_720p_frame_and_its_position():
    text = "A1B2C3D4"
    code = _qr_png(text, scale=3)
    res = QrReader().read(_in_720p_frame(code, 500, 900, 180))
    assert [c.text for c in res.codes] == [text]
    xs = [p[0] for p in res.codes[0].polygon]
    ys = [p[1] for p in res.codes[0].polygon]
    assert 890 < min(xs) < max(xs) < 910 + code.shape[1]  # in full-frame pixels
    assert 490 < min(ys) < max(ys) < 510 + code.shape[0]


def test_barcodes_only_when_asked(qr_dir: Path):
    img = cv2.imread(str(qr_dir / "pyzbar" / "code128.png"))
    assert QrReader().read(img).codes == ()
    texts = sorted(c.text for c in QrReader(formats=("qr", "code128")).read(img).codes)
    assert texts == ["Foramenifera", "Rana temporaria"]


def test_garbage_never_raises_anything_but_typed_errors():
    reader = QrReader()
    rng = np.random.default_rng(0)
    assert reader.read(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)).codes == ()
    assert reader.read(np.zeros((100, 100), np.uint8)).codes == ()
    assert reader.read(np.full((100, 100), 255, np.uint8)).codes == ()
    for bad in (None, "picture", np.zeros((100, 100), np.float32), np.zeros((4, 4), np.uint8),
                np.zeros((10, 10, 2), np.uint8), np.zeros((1, 2, 3, 4), np.uint8)):
        with pytest.raises(BadImageError) as e:
            reader.read(bad)  # type: ignore[arg-type]
        assert isinstance(e.value, DeskError) and e.value.message("en")


def test_overlong_and_non_utf8_codes_are_refused_not_repaired():
    long_text = "X" * 300
    res = QrReader(max_text=100).read(_qr_png(long_text, scale=3))
    assert res.codes == () and res.rejected >= 1
    binary = segno.make_qr(bytes([0xFF, 0xFE, 0x80, 0x81] * 8), mode="byte")
    buf = io.BytesIO()
    binary.save(buf, kind="png", scale=4)
    img = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    for c in QrReader().read(img).codes:
        # Whatever a decoder makes of binary data must be valid text, never raw bytes.
        assert isinstance(c.text, str)


def _eval(argv: list[str]) -> tuple[int, list[str]]:
    out = io.StringIO()
    with redirect_stdout(out):
        rc = cli_main(["eval", "qr", *argv])
    return rc, out.getvalue().splitlines()


def test_eval_qr_on_the_shared_photos(qr_dir: Path):
    rc, lines = _eval([str(qr_dir / "index.csv"), "--json"])
    assert rc == 0
    summary = json.loads(lines[-1])
    assert summary["images"] == 23 and len(lines) == 24
    assert (summary["correct"], summary["wrong"], summary["missed"],
            summary["false_positives"]) == (21, 0, 0, 0)
    assert sum(summary["by_decoder"].values()) == 21 and summary["ms_median"] > 0
    rc, lines = _eval([str(qr_dir / "index.csv"), "--json", "--decoder", "zxing"])
    assert json.loads(lines[-1])["by_decoder"] == {"pyzbar": 0, "zxing": 21}


def test_eval_qr_counts_each_outcome(tmp_path: Path):
    cv2.imwrite(str(tmp_path / "a.png"), _qr_png("hello"))
    cv2.imwrite(str(tmp_path / "b.png"), _qr_png("other text"))
    cv2.imwrite(str(tmp_path / "blank.png"), np.full((200, 200), 255, np.uint8))
    (tmp_path / "a.txt").write_bytes(b"  hello\r\n")  # outer white space, CRLF
    (tmp_path / "b.txt").write_text("something else", "utf-8")
    (tmp_path / "garbage.png").write_bytes(b"not a png")
    rows = ["image,expected_text_file", "a.png,a.txt", "b.png,b.txt", "a.png,", "blank.png,",
            "blank.png,a.txt", "garbage.png,a.txt", "missing.png,"]
    (tmp_path / "index.csv").write_text("\n".join(rows) + "\n", "utf-8")
    rc, lines = _eval([str(tmp_path / "index.csv"), "--json"])
    assert rc == 0
    status = [ln.split()[0] for ln in lines[:-1]]
    assert status == ["correct", "wrong", "false_positive", "true_negative", "missed", "error",
                      "error"]
    s = json.loads(lines[-1])
    assert (s["images"], s["correct"], s["wrong"], s["missed"], s["false_positives"]) == \
        (7, 1, 1, 1, 1)
    assert s["errors"] == 2 and "found: other text" in lines[1]


def test_eval_qr_bad_index_is_a_clear_message(tmp_path: Path, capsys):
    (tmp_path / "index.csv").write_text("foo,bar\n1,2\n", "utf-8")
    assert cli_main(["eval", "qr", str(tmp_path / "index.csv")]) != 0
    assert "image,expected_text_file" in capsys.readouterr().err
    assert cli_main(["eval", "qr", str(tmp_path / "nope.csv"), "--json"]) != 0


def test_noisy_photos_need_the_smoothing_stage(qr_dir: Path):
    reader = QrReader()
    without = tuple(s for s in reader.stages if "smoothed" not in s)
    full = partial = 0
    for path, expected in _rows(qr_dir)[:10]:
        img = VARIANTS["noisy"](cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))
        res = reader.read(img)
        assert all(normalize(c.text) == expected for c in res.codes)
        full += any(normalize(c.text) == expected for c in res.codes)
        partial += any(normalize(c.text) == expected for c in reader.read(img, without).codes)
    assert full >= 7 and full > partial + 3, (full, partial)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([np.uint8, np.uint16, np.float32, np.int8, np.bool_]),
       st.lists(st.integers(0, 40), min_size=0, max_size=4), st.integers(0, 2**32 - 1))
def test_reader_on_arbitrary_arrays_only_raises_bad_image(dtype, shape, seed):
    arr = np.random.default_rng(seed).integers(0, 255, size=shape).astype(dtype)
    try:
        res = QrReader().read(arr)
    except BadImageError:
        return
    assert all(isinstance(c.text, str) for c in res.codes)
