"""The text a QR code holds, from its bytes: the ECI first, else the charset told from the bytes.

A QR code carries bytes. Which characters they are is said by an ECI designator in the code
(ISO/IEC 18004 §7.4.3: ``\\000020`` Shift_JIS, ``\\000026`` UTF-8, ``\\000029`` GB2312 ...) or,
in most codes, not at all: then readers guess, as zxing does (``StringUtils.guessEncoding``:
plain ASCII, valid UTF-8, Shift_JIS when long runs of katakana or double-byte characters say
so, else ISO-8859-1). We follow that order and add GB18030 (GB2312 Chinese, the likeliest
non-UTF-8 code at a Chinese desk), which zxing's heuristic calls Shift_JIS or ISO-8859-1.

The rule is that a text is returned only when the bytes leave one reading: when two charsets
decode the bytes cleanly and nothing in them tells which (``ﾃﾞｻﾞｲﾝQR`` and ``蹬靼翌QR`` are the
same six bytes), :func:`decode_payload` returns ``None`` with the reason, never a pick.
Evidence that decides (each measured on the corpora of ``tests/devices/test_qr_charset.py``):

* Shift_JIS half-width katakana follow Japanese spelling: a sound mark (``ﾞ`` ``ﾟ``) only after
  a kana that takes it, and never next to a full-width character. GB2312 Chinese read as
  Shift_JIS breaks this almost at once (sound marks after random kana, half-width kana glued
  to kanji); Japanese text read as GB2312 uses lead bytes 0x81-0xA0, outside GB2312.
* ISO-8859-1 text has its accented letters inside Latin words: a run of four or more bytes
  >= 0xA0 is not Latin-1 (zxing's Shift_JIS rule uses runs of three double-byte characters).

Control characters (0x01, 0x10, GS 0x1D ...) are kept exactly as they are: they are part of the
text (GS1 and AIM payloads use them), never written out as ``<SOH>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ECI assignments (AIM ECI specification, as zxing-cpp's ECI.h) -> Python codecs.
ECI_CODECS: dict[int, str] = {
    0: "cp437", 1: "latin-1", 2: "cp437", 3: "latin-1",
    4: "iso8859_2", 5: "iso8859_3", 6: "iso8859_4", 7: "iso8859_5", 8: "iso8859_6",
    9: "iso8859_7", 10: "iso8859_8", 11: "iso8859_9", 12: "iso8859_10", 13: "iso8859_11",
    15: "iso8859_13", 16: "iso8859_14", 17: "iso8859_15", 18: "iso8859_16",
    20: "shift_jis", 21: "cp1250", 22: "cp1251", 23: "cp1252", 24: "cp1256",
    25: "utf-16-be", 26: "utf-8", 27: "ascii", 28: "big5", 29: "gb18030", 30: "euc_kr",
    31: "gbk", 32: "gb18030", 33: "utf-16-le", 34: "utf-32-be", 35: "utf-32-le", 170: "ascii",
}
ECI_BINARY = 899

# Half-width katakana (JIS X 0201, bytes 0xA1-0xDF in Shift_JIS) that take a sound mark.
_VOICED = set("ｳｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾊﾋﾌﾍﾎ")
_SEMI_VOICED = set("ﾊﾋﾌﾍﾎ")
_I_ROW = set("ｷｼﾁﾆﾋﾐﾘ")  # small ｬｭｮ follow these (and ﾃﾞ/ﾌ in loan words)
_SMALL_VOWEL_AFTER = set("ｳｸｼﾁﾂﾃﾄﾌｲ")  # ﾌｧ ﾃｨ ｳｪ ｼｪ ﾁｪ ﾄｩ ...
_NOT_FIRST = set("ﾞﾟｧｨｩｪｫｬｭｮｯｰﾝ")  # never start a kana word
_HALF_KANA = re.compile(r"[\uff61-\uff9f]")


@dataclass(frozen=True)
class Decoded:
    text: str | None  # None: no single reading (see ``reason``)
    charset: str  # "ascii", "utf-8", "shift_jis", "gb18030", "latin-1", "eci:<n>"
    reason: str = ""  # why ``text`` is None


def decode_payload(segments: list[tuple[int | None, bytes]]) -> Decoded:
    """The text of a code given as ``(eci, bytes)`` segments in order (``eci`` None: the
    bytes before any ECI designator, whose charset must be told from themselves)."""
    parts: list[str] = []
    charsets: list[str] = []
    for eci, data in segments:
        if not data:
            continue
        d = decode_with_eci(eci, data) if eci is not None else guess(data)
        if d.text is None:
            return d
        parts.append(d.text)
        charsets.append(d.charset)
    return Decoded("".join(parts), "+".join(dict.fromkeys(charsets)) or "ascii")


def decode_with_eci(eci: int, data: bytes) -> Decoded:
    if eci == ECI_BINARY:
        if data.isascii():
            return Decoded(data.decode("ascii"), f"eci:{eci}")
        return Decoded(None, f"eci:{eci}", "binary data, not text")
    codec = ECI_CODECS.get(eci)
    if codec is None:
        return Decoded(None, f"eci:{eci}", f"unknown ECI {eci}")
    try:
        return Decoded(data.decode(codec), f"eci:{eci}")
    except UnicodeDecodeError:
        return Decoded(None, f"eci:{eci}", f"bytes are not {codec} as ECI {eci} says")


def guess(data: bytes) -> Decoded:
    """The one charset the bytes allow (module docstring), or ``text=None`` and why."""
    if data.isascii():
        return Decoded(data.decode("ascii"), "ascii")
    utf8 = _try(data, "utf-8")
    if utf8 is not None and not (_short_non_latin(utf8) and _plausible_gb(data, sjis_possible=True)):
        return Decoded(utf8, "utf-8")
    readings = {}
    sjis = _try(data, "shift_jis")
    if sjis is not None and _plausible_sjis(sjis):
        readings["shift_jis"] = sjis
    gb = _try(data, "gb18030")
    if gb is not None and _plausible_gb(data, sjis_possible=sjis is not None):
        readings["gb18030"] = gb
    if _plausible_latin1(data):
        readings["latin-1"] = data.decode("latin-1")
    if len(readings) == 1:
        (charset, text), = readings.items()
        return Decoded(text, charset)
    if "shift_jis" in readings and _strong_sjis(readings["shift_jis"]):
        return Decoded(readings["shift_jis"], "shift_jis")
    if not readings:
        return Decoded(None, "", "bytes are none of UTF-8, Shift_JIS, GB18030, ISO-8859-1")
    return Decoded(None, "", "bytes read as " + " or ".join(readings) + "; no ECI says which")


def _short_non_latin(text: str) -> bool:
    """Only two-byte UTF-8 characters, some outside Latin (Greek, Cyrillic, IPA ...) or none
    inside a Latin word: what GB2312 Chinese bytes also make (``校`` D0 A3 is ``У``, ``每``
    C3 BF is ``ÿ``); accents in Latin words (``Café``) stay UTF-8."""
    if not all(ord(c) < 0x800 for c in text):
        return False
    return any(0x250 <= ord(c) for c in text) or not any(c.isascii() and c.isalnum() for c in text)


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _plausible_sjis(text: str) -> bool:
    prev = ""
    for ch in text:
        half = bool(_HALF_KANA.match(ch))
        if ch in _NOT_FIRST and not _HALF_KANA.match(prev or " "):
            return False
        if ch == "ﾞ" and prev not in _VOICED:
            return False
        if ch == "ﾟ" and prev not in _SEMI_VOICED:
            return False
        if ch in "ｬｭｮ" and prev not in _I_ROW | set("ﾃﾌﾞﾟ"):
            return False
        if ch in "ｧｨｩｪｫ" and prev not in _SMALL_VOWEL_AFTER | set("ﾞ"):
            return False
        if ch in "ｧｨｩｪｫｬｭｮｯﾞﾟ" and prev in "ｧｨｩｪｫｬｭｮｯ":
            return False
        if prev and half != bool(_HALF_KANA.match(prev)) and not (prev.isascii() or ch.isascii()):
            return False  # half-width kana glued to a full-width character
        prev = ch
    return True


def _strong_sjis(text: str) -> bool:
    """Japanese beyond doubt: half-width katakana words of three or more with two or more
    correctly placed sound marks (one is what GB2312 ``无`` CE DE makes: ``ﾎﾞ``), or full-width kana (hiragana / katakana, which GB2312 holds but Chinese text
    never strings together)."""
    marks = sum(ch in "ﾞﾟ" for ch in text)
    kana_run = max((len(m) for m in re.findall(r"[\uff66-\uff9f]+", text)), default=0)
    full_kana = len(re.findall(r"[\u3041-\u30ff]", text))
    return (marks >= 2 and kana_run >= 3) or full_kana >= 3


def _plausible_gb(data: bytes, *, sjis_possible: bool) -> bool:
    """GB2312 double-byte characters only (lead 0xA1-0xF7, trail 0xA1-0xFE); the GBK and
    GB18030 extensions (rare characters in names) only when Shift_JIS cannot read the bytes."""
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            i += 1
            continue
        if i + 1 >= n:
            return False
        t = data[i + 1]
        if not (0xA1 <= b <= 0xF7 and 0xA1 <= t <= 0xFE) and sjis_possible:
            return False
        i += 4 if 0x30 <= t <= 0x39 else 2  # GB18030 four-byte sequences
    return True


def _plausible_latin1(data: bytes) -> bool:
    if any(0x80 <= b <= 0x9F for b in data):  # C1 controls: not text
        return False
    run = longest = 0
    for b in data:
        run = run + 1 if b >= 0xA0 else 0
        longest = max(longest, run)
    return longest < 4


def segments_from_hex_eci(hex_eci: str, plain_identifier: str) -> list[tuple[int | None, bytes]]:
    """zxing-cpp's ``TextMode.HexECI`` text as ``(eci, bytes)`` segments.

    That text is the symbology identifier, then the bytes; when the code holds an ECI, the
    identifier's modifier says so (``]Q2`` where the plain result says ``]Q1``) and the bytes
    carry designators ``\\nnnnnn`` with literal backslashes doubled."""
    raw = bytes.fromhex(hex_eci)
    n = len(plain_identifier)
    ident, body = raw[:n].decode("ascii", "replace"), raw[n:]
    if ident == plain_identifier:
        return [(None, body)]
    segments: list[tuple[int | None, bytes]] = []
    eci: int | None = None
    buf = bytearray()
    i = 0
    while i < len(body):
        if body[i] == 0x5C:
            if body[i + 1:i + 2] == b"\\":
                buf.append(0x5C)
                i += 2
                continue
            digits = body[i + 1:i + 7]
            if len(digits) == 6 and digits.isdigit():
                segments.append((eci, bytes(buf)))
                buf = bytearray()
                eci = int(digits)
                i += 7
                continue
        buf.append(body[i])
        i += 1
    segments.append((eci, bytes(buf)))
    return [s for s in segments if s[1]]
