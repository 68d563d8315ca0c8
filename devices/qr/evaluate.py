"""``desk-app eval qr INDEX.csv [--json] [--decoder both|pyzbar|zxing]``.

INDEX.csv has the columns ``image,expected_text_file`` (paths relative to the CSV). An empty
``expected_text_file`` means "no code in this image". Texts are compared after normalising line
endings and trimming outer white space; an image counts as read when any code found in it has
the expected text. One line per image, then (with ``--json``) a last-line JSON summary.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from desk_app.errors import DataError, DeskError, Text, UserInputError
from devices.qr.reader import DECODERS, QrReader

MAX_EXPECTED_BYTES = 64 * 1024
MAX_IMAGE_BYTES = 50 * 1024 * 1024


class IndexError_(UserInputError):  # noqa: N801 - "IndexError" is a builtin
    title_text = Text("索引文件无效", "Invalid index file")


@dataclass(frozen=True)
class Row:
    line: int
    image: Path
    expected_file: Path | None


@dataclass(frozen=True)
class Outcome:
    image: str
    status: str  # correct | wrong | missed | false_positive | true_negative | error
    decoder: str = ""
    stage: str = ""
    ms: float = 0.0
    cpu_ms: float = 0.0
    found: tuple[str, ...] = ()
    note: str = ""
    refused: int = 0  # codes a decoder saw but whose text was in doubt (devices.qr.charset)


def normalize(text: str) -> str:
    """Line endings as LF and outer spaces and line breaks trimmed (an expected-text file saved
    by an editor). Control characters stay: ``str.strip()`` would also take GS (0x1D) and the
    other separators 0x1C-0x1F off the ends of a GS1 payload."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip(" \t\n")


def read_index(index: Path) -> Iterator[Row]:
    if not index.is_file():
        raise IndexError_(Text(f"找不到索引文件 {index}", f"Index file {index} not found"))
    base = index.resolve().parent
    try:
        with index.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = set(reader.fieldnames or ())
            if not {"image", "expected_text_file"} <= cols:
                raise IndexError_(Text("索引文件需要 image,expected_text_file 两列",
                                       "The index needs the columns image,expected_text_file"))
            for n, rec in enumerate(reader, start=2):
                img = (rec.get("image") or "").strip()
                if not img:
                    continue
                exp = (rec.get("expected_text_file") or "").strip()
                yield Row(n, base / img, base / exp if exp else None)
    except (UnicodeDecodeError, csv.Error) as e:
        raise IndexError_(Text("索引文件不是 UTF-8 CSV", "The index is not a UTF-8 CSV file"),
                          detail=type(e).__name__) from e


def load_image(path: Path) -> np.ndarray:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise DataError(Text(f"找不到图像 {path.name}", f"Image {path.name} not found"),
                        detail=type(e).__name__) from e
    if size > MAX_IMAGE_BYTES:
        raise DataError(Text(f"图像 {path.name} 过大", f"Image {path.name} is too large"))
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DataError(Text(f"无法读取图像 {path.name}", f"Image {path.name} cannot be read"))
    if img.dtype != np.uint8:  # 16-bit PNGs
        img = cv2.convertScaleAbs(img, alpha=255.0 / 65535.0)
    return img


def load_expected(path: Path) -> str:
    try:
        data = path.read_bytes()[: MAX_EXPECTED_BYTES + 1]
    except OSError as e:
        raise DataError(Text(f"找不到期望文本 {path.name}", f"Expected text {path.name} not found"),
                        detail=type(e).__name__) from e
    if len(data) > MAX_EXPECTED_BYTES:
        raise DataError(Text(f"期望文本 {path.name} 过长", f"Expected text {path.name} is too long"))
    try:
        return normalize(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise DataError(Text(f"期望文本 {path.name} 不是 UTF-8",
                             f"Expected text {path.name} is not UTF-8")) from e


def evaluate_row(row: Row, reader: QrReader, base: Path) -> Outcome:
    name = _rel(row.image, base)
    try:
        expected = load_expected(row.expected_file) if row.expected_file else ""
        image = load_image(row.image)
        result = reader.read(image)
    except DeskError as e:
        return Outcome(name, "error", note=e.message("en"))
    found = tuple(normalize(c.text) for c in result.codes)
    hit = next((c for c in result.codes if expected and normalize(c.text) == expected), None)
    if hit is not None:
        return Outcome(name, "correct", hit.decoder, hit.stage, result.ms, result.cpu_ms, found,
                       refused=result.rejected)
    first = result.codes[0] if result.codes else None
    if not expected:
        status = "false_positive" if found else "true_negative"
    else:
        status = "wrong" if found else "missed"
    return Outcome(name, status, first.decoder if first else "", first.stage if first else "",
                   result.ms, result.cpu_ms, found, refused=result.rejected)


def summarize(outcomes: list[Outcome], decoder_mode: str) -> dict:
    counts = Counter(o.status for o in outcomes)
    ms = [o.ms for o in outcomes if o.status != "error"]
    cpu = [o.cpu_ms for o in outcomes if o.status != "error"]
    by_decoder = Counter(o.decoder for o in outcomes if o.status == "correct")
    by_stage = Counter(o.stage for o in outcomes if o.status == "correct")
    return {
        "images": len(outcomes),
        "correct": counts["correct"],
        "wrong": counts["wrong"],
        "missed": counts["missed"],
        "false_positives": counts["false_positive"],
        "true_negatives": counts["true_negative"],
        "errors": counts["error"],
        "images_with_refused_codes": sum(1 for o in outcomes if o.refused),
        "ms_median": round(statistics.median(ms), 3) if ms else None,
        "cpu_ms_median": round(statistics.median(cpu), 3) if cpu else None,
        "by_decoder": {d: by_decoder.get(d, 0) for d in DECODERS},
        "by_stage": dict(sorted(by_stage.items())),
        "decoders": decoder_mode,
    }


def run(index: Path, decoder_mode: str = "both") -> tuple[list[Outcome], dict]:
    decoders = DECODERS if decoder_mode == "both" else (decoder_mode,)
    reader = QrReader(decoders=decoders)
    base = index.resolve().parent
    outcomes = [evaluate_row(row, reader, base) for row in read_index(index)]
    return outcomes, summarize(outcomes, decoder_mode)


def main(args: argparse.Namespace) -> int:
    mode = getattr(args, "decoder", None) or "both"
    if mode not in ("both", *DECODERS):
        raise UserInputError(Text(f"未知解码器 {mode}", f"Unknown decoder {mode}"))
    outcomes, summary = run(Path(args.index), mode)
    out = sys.stdout
    for o in outcomes:
        how = f"{o.decoder}/{o.stage}" if o.decoder else "-"
        extra = f"  ({o.note})" if o.note else ""
        if o.status in ("wrong", "false_positive"):
            extra += "  found: " + " | ".join(_short(t) for t in o.found)
        print(f"{o.status:<15} {o.image:<40} {how:<20} {o.ms:7.2f} ms{extra}", file=out)
    if getattr(args, "json", False):
        print(json.dumps(summary, ensure_ascii=False), file=out)
    else:
        print(f"{summary['correct']}/{summary['images']} read, {summary['wrong']} wrong, "
              f"{summary['missed']} missed, {summary['false_positives']} false positives, "
              f"median {summary['ms_median']} ms", file=out)
    return 0


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def _short(text: str, n: int = 40) -> str:
    t = text.replace("\n", "\\n")
    return t if len(t) <= n else t[:n] + "..."
