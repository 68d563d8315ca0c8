"""Synthetic resident ID cards (photo side); the camera scenes showing them are in
:mod:`devices.idcard.scenes`.

For tests, the demo, CAMERA-QR's scene player and ``desk-app eval idcards``: nothing here is a
real person's data. A card is drawn at 10 px/mm (856 x 540 px, the 85.6 x 54 mm ID-1 format)
with the photo-side layout of the second-generation resident ID card: labels 姓名 / 性别 民族 /
出生 / 住址 on the left, the 公民身份号码 line at the bottom, the portrait on the right, on a
pale guilloche background. Text uses WenQuanYi Micro Hei (fonts-wqy-microhei); the number uses
a monospaced bold face as the OCR-B of the real card.

``python -m devices.idcard.synthetic make-set OUTDIR --faces DIR -n 40`` writes photos of
cards lying on a desk plus ``index.csv`` (``image,expected_id_number,name``) for the eval;
``--invalid 0.1`` prints that fraction of numbers with a wrong check digit.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from desk_app.identity import check_char
from desk_app.identity.idnumber import icao_check_digit
from desk_app.identity.testing import make_id_number
from devices.idcard import sam
from devices.idcard.types import ETHNICITY_CODES, printed_number_ok

log = logging.getLogger(__name__)

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
NUMBER_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
                "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", CJK_FONT)
PX_PER_MM = 10
CARD_W, CARD_H = 856, 540
CARD_ASPECT = 85.6 / 54.0

#: Card regions in fractions of the card (x0, y0, x1, y1), photo side, text upright.
PORTRAIT_BOX = (0.615, 0.10, 0.935, 0.76)
NUMBER_BOX = (0.30, 0.78, 0.96, 0.92)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧巧美娇平刚桂兰霞玉萍红燕建国志文辉鹏宇浩然欣怡梓涵子轩一诺思远佳琪晨阳雨桐博文嘉怡俊杰婷雪梅海波春林晓东"
_REGIONS: tuple[tuple[str, str, str], ...] = (
    ("110101", "北京市东城区", "北京市公安局东城分局"),
    ("110105", "北京市朝阳区", "北京市公安局朝阳分局"),
    ("310101", "上海市黄浦区", "上海市公安局黄浦分局"),
    ("440106", "广东省广州市天河区", "广州市公安局天河分局"),
    ("510104", "四川省成都市锦江区", "成都市公安局锦江区分局"),
    ("330106", "浙江省杭州市西湖区", "杭州市公安局西湖区分局"),
    ("420102", "湖北省武汉市江岸区", "武汉市公安局江岸区分局"),
    ("320102", "江苏省南京市玄武区", "南京市公安局玄武分局"),
)
_STREETS = "人民路 解放路 中山路 建设路 和平街 新华路 长江路 朝阳路 胜利街 文化路 东风路 青年路".split()
_ETHNIC_CHOICES = ("汉",) * 12 + ("回", "满", "壮", "蒙古", "苗", "土家", "维吾尔", "朝鲜")


@dataclass(frozen=True)
class CardPerson:
    """Everything printed on (or stored in) one synthetic card."""

    name: str
    sex: str  # 男 / 女
    ethnicity: str
    birth: dt.date
    address: str
    id_number: str  # as printed: may carry a wrong check digit on purpose
    issuer: str
    valid_from: dt.date
    valid_to: dt.date | None  # None: 长期
    kind: str = "resident"  # see CARD_KINDS

    @property
    def check_digit_valid(self) -> bool:
        return printed_number_ok(self.id_number)

    def card_text(self) -> sam.CardText:
        """The chip's text block for the reader simulator."""
        return sam.CardText(
            name=self.name, sex_code="1" if self.sex == "男" else "2",
            ethnicity_code=ETHNICITY_CODES.get(self.ethnicity, "97"),
            birth=self.birth.strftime("%Y%m%d"), address=self.address,
            id_number=self.id_number, issuer=self.issuer,
            valid_from=self.valid_from.strftime("%Y%m%d"),
            valid_to=self.valid_to.strftime("%Y%m%d") if self.valid_to else "长期")

    def __repr__(self) -> str:
        return "CardPerson(<synthetic personal data>)"


def wrong_check_digit(number: str) -> str:
    """The same 17 digits with a check character that does not hold (deterministic); for the
    15-character foreigner's number, its ICAO check digit moved on by 3."""
    if len(number) == 15:
        return number[:14] + str((int(icao_check_digit(number[:14])) + 3) % 10)
    good = check_char(number[:17])
    alphabet = "0123456789X"
    return number[:17] + alphabet[(alphabet.index(good) + 3) % 11]


def random_person(rng: np.random.Generator, *, valid: bool = True,
                  today: dt.date | None = None, expired: bool = False) -> CardPerson:
    today = today or dt.date(2026, 1, 1)
    code, place, issuer = _REGIONS[int(rng.integers(len(_REGIONS)))]
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 68)))
    sex = "男" if rng.random() < 0.5 else "女"
    seq = int(rng.integers(0, 100)) * 10 + (int(rng.integers(0, 5)) * 2 + (1 if sex == "男" else 0))
    body = f"{code}{birth:%Y%m%d}{seq:03d}"
    number = body + check_char(body)
    if not valid:
        number = wrong_check_digit(number)
    given = "".join(_GIVEN[int(rng.integers(len(_GIVEN)))] for _ in range(int(rng.integers(1, 3))))
    street = _STREETS[int(rng.integers(len(_STREETS)))]
    address = f"{place}{street}{int(rng.integers(1, 400))}号{int(rng.integers(1, 30))}栋{int(rng.integers(101, 2800))}室"
    age = (today - birth).days // 365
    years = 5 if age < 16 else 10 if age < 26 else 20 if age < 46 else 0
    start = today - dt.timedelta(days=int(rng.integers(30, 365 * 4)))
    if expired:
        years = years or 20
        start = today - dt.timedelta(days=365 * years + int(rng.integers(10, 300)))
    valid_to = None if years == 0 else start.replace(year=start.year + years)
    return CardPerson(
        name=_SURNAMES[int(rng.integers(len(_SURNAMES)))] + given, sex=sex,
        ethnicity=_ETHNIC_CHOICES[int(rng.integers(len(_ETHNIC_CHOICES)))], birth=birth,
        address=address, id_number=number, issuer=issuer, valid_from=start, valid_to=valid_to)


#: The cards a desk reads: the resident ID card and the foreigner's permanent residence ID card
#: (2017: 15-character number; 2023: 18 digits starting with 9, the resident card's format).
CARD_KINDS = ("resident", "foreign_2017", "foreign_2023")
_FOREIGN_NAMES = ("SMITH JOHN", "MÜLLER ANNA", "TANAKA YUKI", "KIM MINJUN", "GARCIA LUCIA",
                  "IVANOV PAVEL", "NGUYEN LAN", "SILVA PEDRO")
_NATIONALITIES = ("USA", "DEU", "JPN", "KOR", "ESP", "RUS", "VNM", "BRA", "GBR", "FRA")


def random_card_person(rng: np.random.Generator, kind: str = "resident", *, valid: bool = True
                       ) -> CardPerson:
    """A person for a card of ``kind`` (CARD_KINDS)."""
    person = random_person(rng, valid=True)
    if kind == "resident":
        return random_person(rng, valid=valid) if not valid else person
    nat = _NATIONALITIES[int(rng.integers(len(_NATIONALITIES)))]
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 50)))
    if kind == "foreign_2017":
        number = make_id_number(str(rng.choice(["110100", "310100", "440100"])), birth,
                                int(rng.integers(0, 10)), kind="foreign_permanent_15",
                                nationality=nat)
    else:
        number = make_id_number(str(rng.choice(["110000", "310000", "440000"])), birth,
                                int(rng.integers(0, 1000)), kind="foreign_permanent",
                                nationality=nat)
    if not valid:
        number = wrong_check_digit(number)
    name = _FOREIGN_NAMES[int(rng.integers(len(_FOREIGN_NAMES)))]
    return CardPerson(name=name, sex="男" if int(number[-2]) % 2 else "女", ethnicity=nat,
                      birth=birth, address="", id_number=number, issuer="国家移民管理局",
                      valid_from=person.valid_from, valid_to=person.valid_to, kind=kind)


# --- drawing -------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _number_font(size: int) -> ImageFont.FreeTypeFont:
    for path in NUMBER_FONTS:
        if Path(path).is_file():
            return _font(path, size)
    raise FileNotFoundError("no font for the number line (install fonts-dejavu-core)")


@lru_cache(maxsize=4)
def _background(seed: int) -> np.ndarray:
    """Pale blue-green guilloche, as the card's security print (RGB)."""
    yy, xx = np.mgrid[0:CARD_H, 0:CARD_W].astype(np.float32)
    rng = np.random.default_rng(seed)
    base = np.empty((CARD_H, CARD_W, 3), np.float32)
    base[..., 0] = 232 - 10 * yy / CARD_H
    base[..., 1] = 240 - 4 * xx / CARD_W
    base[..., 2] = 236 + 6 * yy / CARD_H
    waves = np.zeros((CARD_H, CARD_W), np.float32)
    for k in range(6):
        f = 0.02 + 0.01 * k
        ph = rng.uniform(0, 2 * np.pi)
        waves += np.sin(xx * f + 12 * np.sin(yy * 0.013 * (k + 1) + ph))
    lines = (np.abs(waves) < 0.25).astype(np.float32)
    base -= lines[..., None] * np.array([14, 8, 4], np.float32)
    # A faint round emblem-like pattern in the middle, as printed on the card.
    r = np.hypot(xx - CARD_W * 0.45, yy - CARD_H * 0.48)
    base -= ((np.sin(r * 0.35) > 0.92) & (r < 170))[..., None] * np.array([6, 10, 12], np.float32)
    return np.clip(base, 0, 255).astype(np.uint8)


def portrait_from_photo(photo: np.ndarray, size: tuple[int, int] = (274, 356)) -> np.ndarray:
    """Head-and-shoulders crop (BGR) of the largest face in ``photo`` at ``size`` (w, h),
    on the white background of an ID photo where the crop leaves the picture."""
    w, h = size
    box = _face_box(photo)
    ph, pw = photo.shape[:2]
    if box is None:  # e.g. LFW crops: the face is in the middle
        cx, cy, fw = pw / 2, ph / 2, min(pw, ph) * 0.42
    else:
        x0, y0, x1, y1 = box
        cx, cy, fw = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0)
    crop_w = fw * 1.9
    crop_h = crop_w * h / w
    top = cy - crop_h * 0.45
    left = cx - crop_w / 2
    m = np.array([[w / crop_w, 0, -left * w / crop_w], [0, h / crop_h, -top * h / crop_h]],
                 np.float32)
    return cv2.warpAffine(photo, m, (w, h), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(250, 250, 250))


def _face_box(photo: np.ndarray) -> tuple[int, int, int, int] | None:
    try:
        detector = _detector()
    except ImportError:
        return None
    scale = min(1.0, 500 / max(photo.shape[:2]))
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    dets = detector(gray, 1)
    if not dets:
        return None
    d = max(dets, key=lambda r: r.width() * r.height())
    return (int(d.left() / scale), int(d.top() / scale), int(d.right() / scale),
            int(d.bottom() / scale))


@lru_cache(maxsize=1)
def _detector():  # noqa: ANN202 - dlib type
    import dlib

    return dlib.get_frontal_face_detector()


def render_card(person: CardPerson, photo: np.ndarray | None, *, seed: int = 0) -> np.ndarray:
    """The photo side of ``person`` 's card, BGR, 856 x 540."""
    if person.kind != "resident":
        return _render_foreign(person, photo, seed=seed)
    img = Image.fromarray(_background(seed % 4))
    draw = ImageDraw.Draw(img)
    label_c, text_c = (40, 95, 150), (20, 20, 20)
    lab, val = _font(CJK_FONT, 24), _font(CJK_FONT, 33)
    x_lab, x_val = 66, 170

    def label(x: int, y: int, text: str) -> None:
        # Labels are spaced out ("姓  名") as on the card.
        for i, ch in enumerate(text):
            draw.text((x + i * (44 if len(text) == 2 else 26), y), ch, font=lab, fill=label_c)

    label(x_lab, 62, "姓名")
    draw.text((x_val, 54), person.name, font=val, fill=text_c)
    label(x_lab, 132, "性别")
    draw.text((x_val, 124), person.sex, font=val, fill=text_c)
    label(268, 132, "民族")
    draw.text((360, 124), person.ethnicity, font=val, fill=text_c)
    label(x_lab, 200, "出生")
    b = person.birth
    draw.text((x_val, 192), f"{b.year}", font=val, fill=text_c)
    draw.text((x_val + 86, 198), "年", font=lab, fill=label_c)
    draw.text((x_val + 128, 192), f"{b.month}", font=val, fill=text_c)
    draw.text((x_val + 166, 198), "月", font=lab, fill=label_c)
    draw.text((x_val + 206, 192), f"{b.day}", font=val, fill=text_c)
    draw.text((x_val + 246, 198), "日", font=lab, fill=label_c)
    label(x_lab, 270, "住址")
    per_line = 10
    for i in range(0, min(len(person.address), per_line * 3), per_line):
        draw.text((x_val, 262 + (i // per_line) * 44), person.address[i:i + per_line], font=val,
                  fill=text_c)
    label(x_lab - 6, 462, "公民身份号码")
    nf = _number_font(40)
    x = 262
    for ch in person.id_number:
        draw.text((x, 450), ch, font=nf, fill=text_c)
        x += 30
    return _with_portrait(cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR), photo)


def _render_foreign(person: CardPerson, photo: np.ndarray | None, *, seed: int) -> np.ndarray:
    """The foreigner's permanent residence ID card: bilingual labels (中文 / English), the
    number at the bottom as on the resident card (2017: warm red-gold print and a 15-character
    number; 2023: the 18-digit number, blue-grey print)."""
    bg = _background(seed % 4).astype(np.float32)
    tint = (np.array([250, 228, 205], np.float32) if person.kind == "foreign_2017"
            else np.array([226, 232, 246], np.float32))
    img = Image.fromarray(np.clip(bg * 0.55 + tint * 0.45, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    label_c, text_c = (120, 60, 40), (20, 20, 20)
    lab, small, val = _font(CJK_FONT, 22), _font(CJK_FONT, 16), _font(CJK_FONT, 30)
    draw.text((60, 26), "中华人民共和国外国人永久居留身份证", font=_font(CJK_FONT, 26), fill=label_c)
    rows = (("姓名", "Name", person.name), ("性别", "Sex", f"{person.sex} / "
            f"{'M' if person.sex == '男' else 'F'}"),
            ("出生日期", "Date of Birth", person.birth.strftime("%Y.%m.%d")),
            ("国籍", "Nationality", person.ethnicity),
            ("有效期限", "Period of Validity",
             f"{person.valid_from:%Y.%m.%d}-{person.valid_to:%Y.%m.%d}" if person.valid_to
             else f"{person.valid_from:%Y.%m.%d}-长期"))
    y = 80
    for zh, en, value in rows:
        draw.text((60, y), zh, font=lab, fill=label_c)
        draw.text((60, y + 26), en, font=small, fill=label_c)
        draw.text((230, y + 4), value, font=val, fill=text_c)
        y += 70
    draw.text((40, 456), "证件号码", font=lab, fill=label_c)
    draw.text((40, 482), "Card No.", font=small, fill=label_c)
    nf = _number_font(40)
    x = 262 if len(person.id_number) == 18 else 300
    for ch in person.id_number:
        draw.text((x, 450), ch, font=nf, fill=text_c)
        x += 30
    return _with_portrait(cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR), photo)


def _with_portrait(out: np.ndarray, photo: np.ndarray | None) -> np.ndarray:
    if photo is not None:
        x0, y0, x1, y1 = (int(PORTRAIT_BOX[0] * CARD_W), int(PORTRAIT_BOX[1] * CARD_H),
                          int(PORTRAIT_BOX[2] * CARD_W), int(PORTRAIT_BOX[3] * CARD_H))
        face = portrait_from_photo(photo, (x1 - x0, y1 - y0))
        # The printed photo blends into the background (light areas show the pattern).
        bg = out[y0:y1, x0:x1].astype(np.float32)
        f = face.astype(np.float32)
        white = np.clip((f.mean(axis=2, keepdims=True) - 200) / 55, 0, 1)
        out[y0:y1, x0:x1] = (f * (1 - white * 0.7) + bg * white * 0.7).astype(np.uint8)
    return out


def face_photos(faces_dir: Path) -> list[Path]:
    exts = {".jpg", ".jpeg", ".png"}
    return sorted(p for p in faces_dir.rglob("*") if p.suffix.lower() in exts
                  and not p.name.startswith("."))


#: Scene parameters of the "hard" sets: a smaller card (camera further away), any way round,
#: more blur and noise, stronger JPEG compression.
HARD = {"card_width_frac": (0.28, 0.42), "max_angle": 180.0, "noise": 8.0, "blur": 1.1}


def make_set(out_dir: Path, faces_dir: Path, n: int, *, invalid: float = 0.1, seed: int = 0,
             size: tuple[int, int] = (1280, 720), photos: Sequence[Path] | None = None,
             hard: bool = False, counter: bool = False,
             effects: Sequence[str] | None = None) -> Path:
    """Write ``n`` scene images and ``index.csv``; returns the index path. ``counter``: every
    card kind under each of ``effects`` (``counter_frame``) in turn, the columns ``kind`` and
    ``effect`` added to the index (``effects``: all of ``scenes.COUNTER_EFFECTS`` by default)."""
    from devices.idcard.scenes import COUNTER_EFFECTS, counter_frame, place_in_scene

    effects = COUNTER_EFFECTS if effects is None else effects
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = list(photos) if photos is not None else face_photos(faces_dir)
    if not photos:
        raise FileNotFoundError(f"no face photos below {faces_dir}")
    n_invalid = int(round(n * invalid))
    bad = set(rng.choice(n, size=n_invalid, replace=False).tolist()) if n_invalid else set()
    index = out_dir / "index.csv"
    with index.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["image", "expected_id_number", "name"]
                        + (["kind", "effect"] if counter else []))
        for i in range(n):
            kind = CARD_KINDS[i % len(CARD_KINDS)] if counter else "resident"
            person = random_card_person(rng, kind, valid=i not in bad)
            photo = cv2.imread(str(photos[int(rng.integers(len(photos)))]), cv2.IMREAD_COLOR)
            card = render_card(person, photo, seed=i)
            extra: list[str] = []
            if counter:
                effect = effects[(i // len(CARD_KINDS)) % len(effects)]
                frame, _ = counter_frame(card, rng, effect, size)
                extra = [kind, effect]
            else:
                frame, _ = place_in_scene(card, rng, size=size, **(HARD if hard else {}))
            name = f"card_{i:03d}.jpg"
            cv2.imwrite(str(out_dir / name), frame, [cv2.IMWRITE_JPEG_QUALITY, 70 if hard else 90])
            writer.writerow([name, person.id_number, person.name, *extra])
    return index


def main(argv: Sequence[str] | None = None) -> int:
    from devices.idcard.scenes import COUNTER_EFFECTS  # (scenes imports this module)

    p = argparse.ArgumentParser(prog="python -m devices.idcard.synthetic")
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-set", help="write synthetic card photos and index.csv")
    m.add_argument("out_dir", type=Path)
    m.add_argument("--faces", type=Path, required=True, help="folder of face photos (recursive)")
    m.add_argument("-n", type=int, default=40)
    m.add_argument("--invalid", type=float, default=0.1,
                   help="fraction of cards printed with a wrong check digit")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--hard", action="store_true",
                   help="smaller cards, any rotation, more blur/noise, JPEG quality 70")
    m.add_argument("--counter", action="store_true",
                   help="all card kinds under a counter camera's effects (glare, finger, phone "
                        "screen, busy desk ...)")
    m.add_argument("--effects", type=lambda v: v.split(","), default=list(COUNTER_EFFECTS),
                   help="with --counter: only these effects, comma-separated (e.g. busy)")
    c = sub.add_parser("card", help="render one card to a PNG")
    c.add_argument("out", type=Path)
    c.add_argument("--photo", type=Path)
    c.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.cmd == "make-set":
        if unknown := set(args.effects) - set(COUNTER_EFFECTS):
            p.error(f"unknown effects {sorted(unknown)}; known: {', '.join(COUNTER_EFFECTS)}")
        index = make_set(args.out_dir, args.faces, args.n, invalid=args.invalid, seed=args.seed,
                         hard=args.hard, counter=args.counter, effects=args.effects)
        print(index)
        return 0
    rng = np.random.default_rng(args.seed)
    photo = cv2.imread(str(args.photo)) if args.photo else None
    cv2.imwrite(str(args.out), render_card(random_person(rng), photo, seed=args.seed))
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
