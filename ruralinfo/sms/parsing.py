"""Making sense of what people type on a feature phone: full-width and half-width
forms, Chinese and ASCII punctuation, extra spaces, any case, noise around."""
from __future__ import annotations

import re
import unicodedata

# Punctuation people put between a keyword and the rest, or around the message.
SEPARATORS = " \t\r\n:：,，、.。/;；!！?？~～-—_|\"'“”‘’()（）[]【】<>《》"
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")


def normalize(text: str | None) -> str:
    """NFKC (full-width → half-width), control and zero-width characters out,
    runs of white space to one space, trimmed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _CONTROL.sub("", text)
    return _SPACES.sub(" ", text).strip()


def strip_noise(text: str) -> str:
    """Separators and punctuation off both ends: ``【卖】土豆。`` → ``卖】土豆``
    (``split_keyword`` then strips what follows the keyword)."""
    return text.strip(SEPARATORS)


def split_keyword(text: str, keyword: str) -> str | None:
    """If ``text`` starts with ``keyword`` (case-insensitive for ASCII), the rest
    with separators stripped; else None. An ASCII keyword must end at a word
    boundary (``SELL rice``, not ``SELLER``); a Chinese one may run straight on
    (``卖土豆``)."""
    head = text[: len(keyword)]
    if head.casefold() != keyword.casefold():
        return None
    rest = text[len(keyword):]
    if keyword.isascii() and rest and rest[0].isascii() and rest[0].isalnum():
        return None
    return rest.strip(SEPARATORS)


def leading_number(text: str) -> tuple[int | None, str]:
    """``12 好的`` → (12, "好的"); no number → (None, text)."""
    match = re.match(r"#?(\d{1,9})", text)
    if not match:
        return None, text
    return int(match.group(1)), text[match.end():].strip(SEPARATORS)
