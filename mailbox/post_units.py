"""Units of quantity in 卖/买 posts: the words for them (Chinese, pinyin, English) and
their conversion to a base unit, so that posts in 斤, 公斤 and 吨 compare.

Weights go to 公斤 (斤 0.5, 吨 1000, 两 0.05, 担 50 …), areas to 亩 (公顷 15, 平方米
0.0015); count units (株, 头, 箱 …) are their own base. :data:`UNIT` is a regular
expression for any unit word, for the parser's grammar (:mod:`mailbox.post_parsing`).
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Iterable

__all__ = ["TO_BASE", "UNIT", "UNIT_AT", "UNIT_WORDS", "base"]

_ONE = Decimal(1)

# unit word → canonical unit
UNIT_WORDS = {
    "斤": "斤", "市斤": "斤", "jin": "斤", "catty": "斤", "catties": "斤",
    "公斤": "公斤", "千克": "公斤", "kg": "公斤", "kgs": "公斤", "kilo": "公斤", "kilos": "公斤",
    "kilogram": "公斤", "kilograms": "公斤",
    "吨": "吨", "公吨": "吨", "ton": "吨", "tons": "吨", "tonne": "吨", "tonnes": "吨",
    "克": "克", "g": "克", "gram": "克", "grams": "克",
    "两": "两", "liang": "两", "担": "担",
    "亩": "亩", "mu": "亩", "公顷": "公顷", "hectare": "公顷", "hectares": "公顷",
    "平方米": "平方米", "平米": "平方米", "m2": "平方米",
    "株": "株", "棵": "株", "plant": "株", "plants": "株", "tree": "株", "trees": "株",
    "seedling": "株", "seedlings": "株",
    "头": "头", "head": "头", "heads": "头", "只": "只", "羽": "只", "bird": "只", "birds": "只",
    "尾": "尾", "条": "尾", "箱": "箱", "box": "箱", "boxes": "箱", "筐": "筐", "basket": "筐",
    "baskets": "筐", "袋": "袋", "bag": "袋", "bags": "袋", "sack": "袋", "sacks": "袋",
    "个": "个", "枚": "个", "颗": "个", "piece": "个", "pieces": "个", "pcs": "个",
    "包": "包", "件": "件", "捆": "捆", "车": "车", "盆": "盆", "桶": "桶", "瓶": "瓶",
    "盒": "盒", "篮": "篮", "套": "套", "台": "台", "根": "根", "对": "对", "窝": "窝",
}
# canonical unit → (base unit, base units per unit); count units are their own base
TO_BASE = {
    "斤": ("公斤", Decimal("0.5")), "公斤": ("公斤", _ONE), "吨": ("公斤", Decimal(1000)),
    "克": ("公斤", Decimal("0.001")), "两": ("公斤", Decimal("0.05")), "担": ("公斤", Decimal(50)),
    "亩": ("亩", _ONE), "公顷": ("亩", Decimal(15)), "平方米": ("亩", Decimal("0.0015")),
}


def base(unit: str) -> tuple[str, Decimal]:
    """(base unit, base units per unit): 斤 is (公斤, 0.5), 株 is (株, 1)."""
    return TO_BASE.get(unit, (unit, _ONE))


def _alternation(words: Iterable[str]) -> str:
    """A regular expression for any of ``words``: longest first; a Latin word must end at a
    word end (g is not the start of grapes)."""
    parts = []
    for word in sorted(words, key=len, reverse=True):
        guard = "(?![a-z])" if word[-1].isascii() and word[-1].isalpha() else ""
        guard += "(?![月人])" if word == "个" else ""  # 2个月 is two months
        parts.append(re.escape(word) + guard)
    return "(?:" + "|".join(parts) + ")"


UNIT = _alternation(UNIT_WORDS)  # a regular expression (a string) for any unit word
UNIT_AT = re.compile(UNIT)
