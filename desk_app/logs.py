"""Logging: a rotating file, and a filter that masks personal information in every record.

ID numbers keep their first 6 and last 4 characters (``110101********1234``), mobile phone
numbers their first 3 and last 4, and names are masked wherever they appear: names that follow a
label (``姓名: 张三``, ``name=...``) by pattern, and every name the desk has read from a card or a
booking during this run by :meth:`PiiMasker.remember` (the check-in service registers each one).
The filter rewrites the formatted message and the exception text, so a careless ``log.info("%s",
person)`` or a traceback that quotes a value is masked too.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
import unicodedata
from collections import OrderedDict
from pathlib import Path

# ID numbers as people write them: digits (ASCII or full-width) in groups that spaces, hyphens or
# dashes may separate, the last character X for 18. Any run of such groups is normalized and each
# stretch of whole groups that has an ID number's shape is masked: 18 characters (17 digits and a
# digit or X), 15 digits (the old resident number), or 3 letters and 12 digits (foreigner's
# permanent residence number, 2004/2017). A single group longer than that (an order number, a
# timestamp) is left alone; a look-alike written in groups is masked (better than a leak).
_DIGIT = "0-9\uff10-\uff19"
_LETTER = "A-Za-z\uff21-\uff3a\uff41-\uff5a"
_SEP = "[ \t\u00a0\u3000\\-\u2010-\u2015\u2212\uff0d]"
_ID_RUN_RE = re.compile(
    rf"(?:(?<![{_LETTER}])[{_LETTER}]{{3}}{_SEP}{{0,3}})?(?<![{_DIGIT}])[{_DIGIT}]+"
    rf"(?:{_SEP}{{1,3}}[{_DIGIT}]+)*[Xx\uff38\uff58]?(?![{_DIGIT}])")
_ID_GROUP_RE = re.compile(rf"[{_LETTER}]+|[{_DIGIT}]+[Xx\uff38\uff58]?")
_ID_SHAPE_RE = re.compile(r"\d{17}[\dX]|\d{15}|[A-Z]{3}\d{12}")
# UUIDs, hex digests (visit and outbox ids, hashes) and the desk's own file-name time stamps
# (``20261204-142606``, ``-1`` or nanoseconds after it) are not ID numbers however their digits fall.
_OPAQUE_RE = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
                        r"|[0-9a-fA-F]{32,})(?![0-9A-Za-z])"
                        r"|(?<![0-9])20\d{6}[-_][0-2]\d[0-5]\d[0-5]\d(?:-\d{1,9})?(?![0-9])")
# Mobile numbers: 3-4-4 digits, spaces or hyphens between the groups, +86 / 0086 in front or not.
_PHONE_RE = re.compile(
    rf"(?<![{_DIGIT}])((?:\(?[+\uff0b]?(?:86|\uff18\uff16)\)?|0086){_SEP}{{0,3}})?"
    rf"([1\uff11][3-9\uff13-\uff19][{_DIGIT}]){_SEP}{{0,3}}([{_DIGIT}]{{4}}){_SEP}{{0,3}}"
    rf"([{_DIGIT}]{{4}})(?![{_DIGIT}])")
# Booking QR tokens (they carry the patient's hash and last 4) and platform bearer tokens.
_TOKEN_RE = re.compile(r"\b(RNB1:|rnp_)[A-Za-z0-9_\-.]{6,}")
_LABELLED_NAME_RE = re.compile(
    r"(姓名|患者|name|patient_name|full_name)(\s*[:=：]\s*['\"]?)([^\s,;'\"，；)]{1,40})",
    re.IGNORECASE,
)


def mask_id_number(number: str) -> str:
    """``110101199003071234`` -> ``110101********1234``."""
    n = number.strip()
    if len(n) <= 10:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


def mask_name(name: str) -> str:
    """Keep the family name (first character): ``张三丰`` -> ``张**``; ``Ada Lovelace`` -> ``A***``."""
    name = name.strip()
    if not name:
        return name
    return name[0] + "*" * max(2 if len(name) > 1 else 1, min(len(name) - 1, 3))


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).upper()


def _mask_id_run(m: re.Match[str]) -> str:
    """Mask every stretch of whole groups of this run that has an ID number's shape (the longest
    from each starting group, left to right)."""
    run = m.group(0)
    groups = [(g.start(), g.end(), _normal(g.group(0))) for g in _ID_GROUP_RE.finditer(run)]
    out, plain, i = [], 0, 0
    while i < len(groups):
        best, joined = None, ""
        for j in range(i, len(groups)):
            joined += groups[j][2]
            if len(joined) > 18:
                break
            if _ID_SHAPE_RE.fullmatch(joined):
                best = (j, joined)
        if best is None:
            i += 1
            continue
        j, number = best
        out += [run[plain:groups[i][0]], mask_id_number(number)]
        plain, i = groups[j][1], j + 1
    out.append(run[plain:])
    return "".join(out)


def _mask_ids(text: str) -> str:
    out, plain = [], 0
    for opaque in _OPAQUE_RE.finditer(text):
        out += [_ID_RUN_RE.sub(_mask_id_run, text[plain:opaque.start()]), opaque.group(0)]
        plain = opaque.end()
    out.append(_ID_RUN_RE.sub(_mask_id_run, text[plain:]))
    return "".join(out)


def _mask_phone(m: re.Match[str]) -> str:
    return (m.group(1) or "") + _normal(m.group(2)) + "****" + _normal(m.group(4))


class PiiMasker:
    """Masks ID numbers, phone numbers and names in free text.

    Remembered names are looked up in a set, longest first at each position of a line (what an
    alternation of all names sorted by length would do), so a new patient costs nothing: a
    regular expression of every name of the day was recompiled for each new one, ~30 ms holding
    the GIL by the evening and a growing pile of compiled patterns."""

    def __init__(self, max_names: int = 5000):
        self._names: OrderedDict[str, None] = OrderedDict()
        self._max = max_names
        self._lock = threading.Lock()
        self._lengths: tuple[int, ...] = ()  # distinct name lengths, longest first

    def remember(self, name: str | None) -> None:
        """Mask this person's name in every later log line (bounded, most recent kept)."""
        if not name or len(name.strip()) < 2:
            return
        name = name.strip()
        with self._lock:
            self._names[name] = None
            self._names.move_to_end(name)
            while len(self._names) > self._max:
                self._names.popitem(last=False)
            self._lengths = tuple(sorted({len(n) for n in self._names}, reverse=True))

    def _mask_known(self, text: str) -> str:
        with self._lock:
            names, lengths = self._names, self._lengths
            if not lengths:
                return text
            out: list[str] = []
            i, plain = 0, 0
            while i < len(text):
                for n in lengths:
                    if text[i:i + n] in names:
                        out.append(text[plain:i])
                        out.append(mask_name(text[i:i + n]))
                        i += n
                        plain = i
                        break
                else:
                    i += 1
            out.append(text[plain:])
            return "".join(out)

    def mask(self, text: str) -> str:
        text = _mask_ids(text)
        text = _TOKEN_RE.sub(lambda m: m.group(1) + "***", text)
        text = _PHONE_RE.sub(_mask_phone, text)
        text = _LABELLED_NAME_RE.sub(lambda m: m.group(1) + m.group(2) + mask_name(m.group(3)), text)
        return self._mask_known(text)


#: The process-wide masker; the composition root hands it to services that read names.
MASKER = PiiMasker()


class PiiFilter(logging.Filter):
    """Rewrites each record so nothing personal reaches any handler."""

    def __init__(self, masker: PiiMasker = MASKER):
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = self.masker.mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.masker.mask(record.exc_text)
        record.exc_info = None if record.exc_text else record.exc_info
        return True


LOG_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def setup_logging(log_dir: Path | None, level: int = logging.INFO, *, console: bool = False,
                  masker: PiiMasker = MASKER) -> logging.Handler | None:
    """Install the masking filter on the root logger's handlers; a rotating file when given."""
    root = logging.getLogger()
    root.setLevel(level)
    pii = PiiFilter(masker)
    file_handler = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_dir / "desk-app.log", maxBytes=5_000_000, backupCount=10, encoding="utf-8"
        )
        file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        file_handler.addFilter(pii)
        root.addHandler(file_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter(LOG_FORMAT))
        stream.addFilter(pii)
        root.addHandler(stream)
    # Handlers added later by libraries or tests get the filter too.
    for h in root.handlers:
        if not any(isinstance(f, PiiFilter) for f in h.filters):
            h.addFilter(pii)
    return file_handler
