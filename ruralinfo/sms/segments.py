"""How many SMS segments a text costs (billing is per segment).

GSM-7: 160 characters in one segment, 153 per segment when split; characters
of the extension table (``^{}\\[~]|€`` and form feed) take two. Any other
character makes the whole message UCS-2: 70 in one segment, 67 per segment,
with characters outside the Basic Multilingual Plane (emoji) taking two. A
character is never split across two segments. The configured signature
(【…】) is sent with every message and counts too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
          "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_BASIC = frozenset(_BASIC) - {"\x1b"}
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
GSM_ALL = GSM_BASIC | GSM_EXTENDED
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")  # two UTF-16 units each


@dataclass(frozen=True)
class Count:
    encoding: str
    segments: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2

    @property
    def per_segment(self) -> int:
        single, multi = LIMITS[self.encoding]
        return single if self.segments <= 1 else multi


def encoding_of(text: str) -> str:
    return GSM7 if GSM_ALL.issuperset(text) else UCS2


def _cost(ch: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if ch in GSM_EXTENDED else 1
    return 2 if ord(ch) > 0xFFFF else 1


def count(body: str, signature: str = "") -> Count:
    """Segments for ``signature + body`` as the phone will receive it."""
    text = signature + body
    encoding = encoding_of(text)
    single, multi = LIMITS[encoding]
    if not (GSM_EXTENDED.intersection(text) if encoding == GSM7 else _ASTRAL.search(text)):
        units = len(text)  # every character costs one: no packing to do (most texts, counted often)
        return Count(encoding, 0 if not text else 1 if units <= single else -(-units // multi), units)
    costs = [_cost(ch, encoding) for ch in text]
    units = sum(costs)
    if units <= single:
        return Count(encoding, 1 if text else 0, units)
    segments, used = 1, 0
    for cost in costs:  # pack greedily, never splitting a character
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return Count(encoding, segments, units)


def fits(body: str, segments: int, signature: str = "") -> bool:
    return count(body, signature).segments <= segments


def truncate(body: str, segments: int, signature: str = "", ellipsis: str = "…") -> str:
    """The longest start of ``body`` (ending in ``ellipsis`` when cut) that fits."""
    if fits(body, segments, signature):
        return body
    low, high = 0, len(body)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(body[:mid] + ellipsis, segments, signature):
            low = mid
        else:
            high = mid - 1
    return body[:low] + ellipsis



# Spans a text is never cut inside: a number with its unit or price (3元/株, 1.5元/斤, ¥2, 500斤)
# and a word of Latin letters.
UNBREAKABLE = re.compile(r"[¥$]?\d+(?:[.,]\d+)*(?:[元块毛角分]?(?:/|每)?[\u4e00-\u9fff]{0,2})?"
                         r"|[A-Za-z]+(?:['’-][A-Za-z]+)*")
BREAK_AFTER = frozenset("，。；、！？：）】」 \n\t")
LOOKBACK = 20  # how far back a cut may move to end at a space or punctuation mark


def fit(text: str, segments: int, signature: str = "", prefix: str = "", suffix: str = "") -> int:
    """How many characters of ``text`` fit as ``prefix + text[:n] + suffix`` in
    ``segments``: cut after a space or punctuation mark when one is near, and
    never inside a word, a number or a unit (``1.5元/斤`` stays whole)."""
    def ok(n: int) -> bool:
        return fits(prefix + text[:n] + suffix, segments, signature)

    if ok(len(text)):
        return len(text)
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if ok(mid):
            low = mid
        else:
            high = mid - 1
    inside = set()
    for span in UNBREAKABLE.finditer(text[:low + 1]):
        inside.update(range(span.start() + 1, span.end()))
    allowed = [n for n in range(low, 0, -1) if n not in inside]
    for n in allowed:
        if n < low - LOOKBACK:
            break
        if text[n - 1] in BREAK_AFTER or (text[n - 1] in ",.;!?:" and text[n:n + 1] in ("", " ")):
            return n
    return allowed[0] if allowed else 0
