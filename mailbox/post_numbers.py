"""Numbers in 卖/买 posts: Arabic (``1.5``, ``1.5万``, ``3千5``, ``1,000``) and Chinese
(``五百``, ``三千五`` = 3500, ``一百二`` = 120, ``两万五``, ``半``) figures, found by one
regular expression and valued as they are said aloud.

Two neighbouring figures (``二三百``, ``三五百``, ``十二三``) and a figure with 几
(``十几万``, ``三百几十``) are their lower figure, marked approximate; a size without a
figure (``几百``, ``上千``, ``数十``, ``一两百``) has no value. What a number is — price,
quantity, spec — is for the grammar around it (:mod:`mailbox.post_parsing`) to say.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

from mailbox.post_units import UNIT

__all__ = ["CN_DIGITS", "CN_MULT", "Num", "cn_int", "numbers"]

_MAX_NUMBERS = 200  # numbers looked at in one post; more is not a post
_MAX_DIGITS = 15  # a longer figure is absurd (and would strain Decimal)
_HALF = Decimal("0.5")

CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", 1)}
CN_DIGITS.update({c: i for i, c in enumerate("壹贰叁肆伍陆柒捌玖", 1)}, 两=2)
CN_MULT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_D = "[一二两三四五六七八九壹贰叁肆伍陆柒捌玖]"
_Z = "[零〇]"
_SEC = (f"(?:{_D}[千仟](?!克)(?:{_Z}?{_D}[百佰])?(?:{_Z}?{_D}?[十拾])?(?:{_Z}?{_D})?"
        f"|{_D}[百佰](?:{_Z}?{_D}?[十拾])?(?:{_Z}?{_D})?|{_D}?[十拾]{_D}?|{_D})")
_CN = f"{_SEC}(?:万(?:{_Z}?{_SEC})?)?"
_GROUPED = rf"[0-9]{{1,3}}(?:,[0-9]{{3}})+(?![0-9])(?=\s*(?:{UNIT}|元|块|yuan))"  # 1,000 jin (an ASCII comma)
_AR = rf"(?:{_GROUPED}|[0-9]+)(?:\.[0-9]+)?(?:(?:万|千(?!克)|百)(?:[0-9](?:千(?!克)|百)?(?![0-9.]))?)?"
_PLACES = "[十百千万]+"
_NUMERAL_BEFORE = "(?<![0-9零〇一二两三四五六七八九十百千万几])"
# 几百 数千 上万 近千 成千上万 一两百 几(斤): a size without a figure. 一两百 is said for "a
# hundred or so", and its 一两 would otherwise be one 两 (50 g).
_VAGUE = (rf"成[十百千]上[百千万]+|{_NUMERAL_BEFORE}(?:一[两二]|[几数上近]){_PLACES}"
          rf"|{_NUMERAL_BEFORE}几(?=\s*{UNIT})")
# 二三百 两三千 三五百 十二三 二十五六: two neighbouring figures, the lower one taken.
_PAIR = (rf"{_NUMERAL_BEFORE}(?:[二三四五六七八九]?十一二"
         r"|(?:[二三四五六七八九]?十)?(?:[二两]三|三[四五]|四五|五六|六七|七八|八九))[十百千]?万?")
_PAIR_PARTS = re.compile(r"((?:[二三四五六七八九]?十)?)(.).([十百千]?万?)")
_SOME = rf"{_CN}几{_PLACES}"  # 十几万 (over 100000), 三百几十 (over 300)
_NUMBER = re.compile(f"{_AR}|(?P<vague>{_VAGUE})|(?P<pair>{_PAIR})|(?P<some>{_SOME})|{_CN}|半")
_SOME_PARTS = re.compile(f"({_CN})几({_PLACES})")
_AR_PARTS = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)(?:(万|千|百)(?:([0-9])(千|百)?)?)?")
_AR_MULT = {"万": 10000, "千": 1000, "百": 100}


def cn_int(s: str) -> int:
    """五百 500, 两千 2000, 三千五 3500 and 一百二 120 (a last digit after 百/千/万 counts one
    place lower, as said aloud), 三千零五 3005, 十五 15, 两万五 25000."""
    total = section = last = 0
    digit: int | None = None
    zero = False

    def flush() -> int:
        if digit is None:
            return section
        return section + (digit * last // 10 if last >= 100 and not zero else digit)

    for ch in s:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in "零〇":
            zero = True
        elif ch == "万":
            total, section, digit, last, zero = (total + flush()) * 10000, 0, None, 10000, False
        else:
            section += (1 if digit is None else digit) * CN_MULT[ch]
            digit, last, zero = None, CN_MULT[ch], False
    return total + flush()


def _arabic(s: str) -> Decimal | None:
    """1.5 · 1.5万 15000 · 3千5 3500 · 1万5千 15000; None for an absurdly long figure."""
    m = _AR_PARTS.fullmatch(s)
    figure = m[1].replace(",", "") if m else ""
    if not figure or len(figure) > _MAX_DIGITS + 1:
        return None
    value = Decimal(figure)
    if m[2]:
        mult = _AR_MULT[m[2]]
        value *= mult
        if m[3]:
            value += int(m[3]) * (_AR_MULT[m[4]] if m[4] else mult // 10)
    return value


def _places(s: str) -> int:
    """十 10, 百 100, 十万 100000."""
    value = 1
    for ch in s:
        value *= 10000 if ch == "万" else CN_MULT[ch]
    return value


def _some(s: str) -> int:
    """The figure said before 几: 十几万 100000 (几 counts the tens of thousands), 三百几十
    300 (几 counts tens, below the hundreds), 两万几千 20000."""
    m = _SOME_PARTS.fullmatch(s)
    figure, places = cn_int(m[1]), _places(m[2])
    last = next((_places(ch) for ch in reversed(m[1]) if ch in CN_MULT or ch == "万"), 1)
    return figure * places if places > last else figure


def _pair(s: str) -> int:
    """The lower of two neighbouring figures: 二三百 200, 两三千 2000, 十二三 12, 二十五六 25."""
    tens, first, places = _PAIR_PARTS.fullmatch(s).groups()
    return ((cn_int(tens) if tens else 0) + CN_DIGITS[first]) * (_places(places) if places else 1)


class Num(NamedTuple):
    """A number in a post: where it stands, its value (None for a size without a figure)
    and whether it is written in Chinese numerals."""

    start: int
    end: int
    value: Decimal | None
    chinese: bool
    about: bool = False  # 二三百, 十几万: the figure is a lower bound
    vague: bool = False  # 几百, 上千: a size without a figure (value None)


def numbers(work: str) -> list[Num]:
    """The numbers of ``work`` (normalized, Latin in lower case), left to right; the first
    200 at most."""
    found = []
    for m in _NUMBER.finditer(work):
        s, kind = m[0], m.lastgroup
        if kind == "vague":
            found.append(Num(m.start(), m.end(), None, True, True, True))
        elif kind:
            found.append(Num(m.start(), m.end(), Decimal(_pair(s) if kind == "pair" else _some(s)), True, True))
        elif s == "半":
            found.append(Num(m.start(), m.end(), _HALF, True))
        elif s[0].isdigit():
            found.append(Num(m.start(), m.end(), _arabic(s), False))
        else:
            found.append(Num(m.start(), m.end(), Decimal(cn_int(s)), True))
        if len(found) >= _MAX_NUMBERS:
            break
    return found
