"""Errors of the console's operations, worded for the people who use it, in both languages."""

from __future__ import annotations

from desk_app.errors import Text
from desk_platform.errors import PlatformError


class Worded(PlatformError):
    """Bad input or a refused step: ``text`` says what is wrong and what to do (never PII)."""

    def __init__(self, text: Text, *, status: int = 400):
        self.text = text
        self.status = status
        super().__init__(text.en)


def id_number(text: str) -> str:
    """The canonical ID number (the platform's normaliser), or :class:`Worded`."""
    from desk_app.identity.idnumber import InvalidIdNumber, canonical_id_number

    try:
        return canonical_id_number(text)
    except InvalidIdNumber as exc:
        raise Worded(exc.text) from None


def required(value: str, zh: str, en: str, *, limit: int = 200) -> str:
    value = (value or "").strip()
    if not value:
        raise Worded(Text(f"请填写{zh}。", f"Please fill in the {en}."))
    if len(value) > limit:
        raise Worded(Text(f"{zh}最多 {limit} 个字。", f"The {en} has at most {limit} characters."))
    return value


def number(value: str, zh: str, en: str, *, low: int, high: int) -> int:
    try:
        n = int((value or "").strip())
    except ValueError:
        raise Worded(Text(f"{zh}须为整数。", f"The {en} must be a whole number.")) from None
    if not low <= n <= high:
        raise Worded(Text(f"{zh}须在 {low} 到 {high} 之间。",
                          f"The {en} must be between {low} and {high}."))
    return n
