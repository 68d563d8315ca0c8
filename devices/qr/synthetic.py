"""Photos of QR codes whose text is hard to get exactly: other charsets, ECI, control bytes.

The zxing test photos that showed wrong texts (issue 19) are not in the repository; these are
made the same way such codes are made (segno writes ECI designators, Shift_JIS kanji mode,
byte mode in any charset) and then photographed in software (perspective, blur, JPEG, low
light, noise) with a seeded random generator, so a test and the benchmark see the same
pictures. ``PAYLOADS`` name what each case exercises.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import segno


@dataclass(frozen=True)
class Payload:
    name: str
    text: str  # the exact text a reader must return
    content: str | bytes  # what segno encodes
    encoding: str | None = None
    eci: bool = False
    mode: str | None = None


PAYLOADS: tuple[Payload, ...] = (
    Payload("sjis_kana", "ﾃﾞｻﾞｲﾝQR", "ﾃﾞｻﾞｲﾝQR", "shift_jis"),
    Payload("sjis_kana_eci", "ﾃﾞｻﾞｲﾝQR", "ﾃﾞｻﾞｲﾝQR", "shift_jis", eci=True),
    Payload("sjis_kanji_mode", "漢字テスト", "漢字テスト", mode="kanji"),
    Payload("sjis_byte", "日本語のテキストです", "日本語のテキストです", "shift_jis", mode="byte"),
    Payload("gb2312", "挂号中文测试", "挂号中文测试", "gb2312"),
    Payload("gb18030_name", "患者张喆已挂号", "患者张喆已挂号", "gb18030"),
    Payload("gb18030_eci", "挂号身份证号码", "挂号身份证号码", "gb18030", eci=True),
    Payload("latin1", "Café Müller ß", "Café Müller ß", "iso-8859-1"),
    Payload("latin1_eci", "Ærø Straße", "Ærø Straße", "iso-8859-1", eci=True),
    Payload("utf8", "挂号 Café ﾃﾞｻﾞｲﾝ", "挂号 Café ﾃﾞｻﾞｲﾝ", "utf-8"),
    Payload("utf8_eci", "预约号 A-0042", "预约号 A-0042", "utf-8", eci=True),
    Payload("binary_soh_dle", "\x01\x10AD:SUB:1234", b"\x01\x10AD:SUB:1234", mode="byte"),
    Payload("gs1_gs", "\x1d0104012345678901\x1d10ABC", b"\x1d0104012345678901\x1d10ABC",
            mode="byte"),
    Payload("booking_ascii", "RNB1:eyJhbGciOiJFZERTQSJ9.x", "RNB1:eyJhbGciOiJFZERTQSJ9.x"),
)

EFFECTS = ("clean", "perspective", "blur", "jpeg", "low_light", "noisy_tilt")


def code_image(p: Payload, scale: int = 6) -> np.ndarray:
    kw: dict[str, object] = {"eci": p.eci}
    if p.encoding:
        kw["encoding"] = p.encoding
    if p.mode:
        kw["mode"] = p.mode
    buf = io.BytesIO()
    segno.make_qr(p.content, **kw).save(buf, kind="png", scale=scale, border=4)
    return cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)


def photograph(code: np.ndarray, effect: str, rng: np.random.Generator,
               size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """The code on paper or a screen in a ``size`` frame, as a desk camera would see it."""
    w, h = size
    bg = np.full((h, w), int(rng.integers(150, 200)), np.float32)
    bg += np.linspace(-25, 25, w, dtype=np.float32)[None, :] * rng.uniform(-1, 1)
    side = int(min(w, h) * rng.uniform(0.22, 0.4))
    src = np.float32([[0, 0], [code.shape[1], 0], [code.shape[1], code.shape[0]],
                      [0, code.shape[0]]])
    cx, cy = w / 2 + rng.uniform(-60, 60), h / 2 + rng.uniform(-40, 40)
    half = side / 2
    dst = np.float32([[cx - half, cy - half], [cx + half, cy - half], [cx + half, cy + half],
                      [cx - half, cy + half]])
    tilt = {"perspective": 0.16, "noisy_tilt": 0.1}.get(effect, 0.03)
    dst += rng.uniform(-tilt, tilt, dst.shape).astype(np.float32) * side
    m = cv2.getPerspectiveTransform(src, dst)
    paper = cv2.warpPerspective(code.astype(np.float32), m, (w, h), flags=cv2.INTER_LINEAR,
                                borderValue=-1)
    out = np.where(paper >= 0, paper * 0.85 + 20, bg)
    if effect == "blur":
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(1.6, 2.6)) + rng.normal(0, 4, out.shape)
    elif effect == "low_light":
        out = cv2.GaussianBlur(out, (0, 0), 0.8) * rng.uniform(0.08, 0.16)
        out += rng.normal(0, 4, out.shape)
    elif effect == "noisy_tilt":
        out = cv2.GaussianBlur(out, (0, 0), 1.0) + rng.normal(0, 22, out.shape)
    else:
        out = cv2.GaussianBlur(out, (0, 0), 0.6) + rng.normal(0, 3, out.shape)
    img = np.clip(out, 0, 255).astype(np.uint8)
    if effect in ("jpeg", "noisy_tilt"):
        q = 8 if effect == "jpeg" else 40
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return img


def photo_set(seed: int, effects: tuple[str, ...] = EFFECTS) -> list[tuple[str, np.ndarray, str]]:
    """``(name, picture, expected text)`` for every payload under every effect."""
    rng = np.random.default_rng(seed)
    out = []
    for p in PAYLOADS:
        code = code_image(p)
        for e in effects:
            out.append((f"{p.name}/{e}", photograph(code, e, rng), p.text))
    return out


def write_index(folder: Path, seed: int) -> None:
    """The set as PNGs + ``index.csv`` for ``desk-app eval qr`` (expected texts as UTF-8)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["image,expected_text_file"]
    for name, img, text in photo_set(seed):
        stem = name.replace("/", "__")
        cv2.imwrite(str(folder / f"{stem}.png"), img)
        (folder / f"{stem}.txt").write_bytes(text.encode("utf-8"))
        rows.append(f"{stem}.png,{stem}.txt")
    (folder / "index.csv").write_text("\n".join(rows) + "\n", "utf-8")
