"""``desk-app eval idcards INDEX.csv [--json] [--engine rapidocr|tesseract]``.

INDEX.csv has the columns ``image,expected_id_number,name`` (image paths relative to the CSV),
and optionally ``kind`` and ``effect`` (``make-set --counter`` writes them): the summary then
counts correct / images per card kind and per camera effect.
Each image is one still: the card is found, rectified and its number line read once (both ways
up when needed). Outcomes per image:

* ``correct``  - a valid expected number read exactly; or an expected number whose check digit
  fails (a misprint on purpose) reported as ``checksum``;
* ``wrong``    - a valid number other than the expected one, or any valid number for a card
  whose printed number fails its check (that would be a "correction");
* ``missed``   - nothing usable read (no card, no 18 characters, or a valid card misread into
  a failing check digit).

Numbers are printed masked. The last line (``--json``) is
``{"images", "with_valid_number", "correct", "wrong", "missed", ...}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from desk_app.errors import DataError, DeskError, Text, UserInputError
from desk_app.logs import mask_id_number
from devices.idcard.camera_reader import CameraCardReader
from devices.idcard.ocr import DEFAULT_ENGINE, ENGINES, make_engine
from devices.idcard.types import printed_number_ok

MAX_IMAGE_BYTES = 50 * 1024 * 1024


class IndexFileError(UserInputError):
    title_text = Text("索引文件无效", "Invalid index file")


@dataclass(frozen=True)
class Row:
    line: int
    image: Path
    expected: str
    name: str
    kind: str = ""
    effect: str = ""


@dataclass(frozen=True)
class Outcome:
    image: str
    status: str  # correct | wrong | missed | error
    expected_valid: bool
    read_status: str = ""  # what the reader said: ok | checksum | no_number | no_card
    found: str = ""
    ms: float = 0.0
    note: str = ""
    kind: str = ""
    effect: str = ""


def read_index(index: Path) -> list[Row]:
    if not index.is_file():
        raise IndexFileError(Text(f"找不到索引文件 {index}", f"Index file {index} not found"))
    base = index.resolve().parent
    rows: list[Row] = []
    try:
        with index.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not {"image", "expected_id_number"} <= set(reader.fieldnames or ()):
                raise IndexFileError(Text("索引文件需要 image,expected_id_number,name 三列",
                                          "The index needs the columns image,expected_id_number,name"))
            for n, rec in enumerate(reader, start=2):
                img = (rec.get("image") or "").strip()
                if img:
                    rows.append(Row(n, base / img, (rec.get("expected_id_number") or "").strip()
                                    .upper(), (rec.get("name") or "").strip(),
                                    (rec.get("kind") or "").strip(),
                                    (rec.get("effect") or "").strip()))
    except (UnicodeDecodeError, csv.Error) as e:
        raise IndexFileError(Text("索引文件不是 UTF-8 CSV", "The index is not a UTF-8 CSV file"),
                             detail=type(e).__name__) from e
    return rows


def load_image(path: Path) -> np.ndarray:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise DataError(Text(f"找不到图像 {path.name}", f"Image {path.name} not found"),
                        detail=type(e).__name__) from e
    if size > MAX_IMAGE_BYTES:
        raise DataError(Text(f"图像 {path.name} 过大", f"Image {path.name} is too large"))
    img = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise DataError(Text(f"无法读取图像 {path.name}", f"Image {path.name} cannot be read"))
    return img


def judge(expected: str, read_status: str, found: str) -> str:
    valid = printed_number_ok(expected)
    if read_status == "ok":
        return "correct" if valid and found == expected else "wrong"
    if read_status == "checksum" and not valid:
        return "correct" if found == expected else "missed"
    return "missed"


def evaluate_row(row: Row, reader: CameraCardReader, base: Path) -> Outcome:
    name = _rel(row.image, base)
    valid = printed_number_ok(row.expected)
    try:
        image = load_image(row.image)
    except DeskError as e:
        return Outcome(name, "error", valid, note=e.message("en"), kind=row.kind,
                       effect=row.effect)
    reading = reader.read_frame(image)
    found = reading.text if reading.status in ("ok", "checksum") else ""
    return Outcome(name, judge(row.expected, reading.status, found), valid, reading.status,
                   found, reading.ms, kind=row.kind, effect=row.effect)


def summarize(outcomes: list[Outcome], engine: str) -> dict:
    counts = Counter(o.status for o in outcomes)
    ms = [o.ms for o in outcomes if o.status != "error"]
    return {
        "images": len(outcomes),
        "with_valid_number": sum(1 for o in outcomes if o.expected_valid),
        "correct": counts["correct"],
        "wrong": counts["wrong"],
        "missed": counts["missed"],
        "errors": counts["error"],
        "checksum_reported": sum(1 for o in outcomes if o.read_status == "checksum"),
        "ms_median": round(statistics.median(ms), 1) if ms else None,
        "engine": engine,
        **{f"by_{g}": _by(outcomes, g) for g in ("kind", "effect")
           if any(getattr(o, g) for o in outcomes)},
    }


def _by(outcomes: list[Outcome], attr: str) -> dict[str, str]:
    """``{"glare": "11/12", ...}``: correct / images per value of ``attr``."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(getattr(o, attr), []).append(o)
    return {k: f"{sum(o.status == 'correct' for o in v)}/{len(v)}"
            for k, v in sorted(groups.items())}


def run(index: Path, engine: str = DEFAULT_ENGINE) -> tuple[list[Outcome], dict]:
    reader = CameraCardReader(make_engine(engine))
    base = index.resolve().parent
    outcomes = [evaluate_row(row, reader, base) for row in read_index(index)]
    return outcomes, summarize(outcomes, engine)


def main(args: argparse.Namespace) -> int:
    engine = getattr(args, "engine", None) or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise UserInputError(Text(f"未知识别引擎 {engine}", f"Unknown OCR engine {engine}"))
    outcomes, summary = run(Path(args.index), engine)
    out = sys.stdout
    for o in outcomes:
        shown = mask_id_number(o.found) if o.found else "-"
        extra = f"  ({o.note})" if o.note else ""
        print(f"{o.status:<8} {o.read_status:<10} {o.image:<40} {shown:<20} {o.ms:8.1f} ms{extra}",
              file=out)
    if getattr(args, "json", False):
        print(json.dumps(summary, ensure_ascii=False), file=out)
    else:
        print(f"{summary['correct']}/{summary['images']} correct ({summary['with_valid_number']} "
              f"with a valid number), {summary['wrong']} wrong, {summary['missed']} missed, "
              f"median {summary['ms_median']} ms [{engine}]", file=out)
    return 0


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)
