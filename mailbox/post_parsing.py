"""How a 卖/买 post is understood: product, quantity and unit, price and price unit, notes.

Pure (no Flask, no database) and fast. The grammar, in three layers:

1. Numbers: Arabic (``1.5``, ``1.5万``, ``3千5``) or Chinese (``五百``, ``三千五`` = 3500,
   ``一百二`` = 120, ``两万五``, ``半``), found and valued by :mod:`mailbox.post_numbers`.
   Two neighbouring figures (``二三百``, ``三五百``, ``十二三``) and a figure with 几
   (``十几万``, ``三百几十``) are their lower figure, marked approximate; a size without a
   figure (``几百``, ``上千``, ``数十``, ``一两百``) has no value.
2. Each number is read from what stands around it. Prices first: a number followed by a
   money word (元 块 块钱 yuan, 毛/角, 分钱, with the colloquial tail of 五块五, 一块二, 3块5,
   两块五毛, 两块半), or after ¥/RMB, or a bare number with a per-unit (``1.5/斤``,
   ``1.5一斤``, ``每斤1.5``) or a label (``价格1.5``). A price for several units is made a
   price per unit: ``10元/3斤``, ``每3斤10元``, and — a count of ten at most, written right
   against the money words — ``10块3斤``, ``3斤10元`` are 10/3 元 per 斤. Then quantities: a
   number followed by a unit (``500斤``, ``十来斤``, ``200多株``, ``一吨半``, ``半吨``,
   ``300-500斤``, ``1斤2两`` = 1.2斤); a quantity that describes one item or a package
   (``单果3两``, ``每箱20斤``, ``50斤/袋``) is a spec and stays in the notes. A size without
   a figure (``几百斤``) gives the unit but no quantity, and stays in the notes. Failing
   that, a bare number is the quantity, without a unit.
3. Checks: a quantity ≤ 0 or above 10⁹ base units, or a price ≤ 0 or above 10⁶ 元 per base
   unit, is not taken. What no rule took stays in the notes, and the text is always kept.
   Figures keep six decimals at most (:func:`_tidy`); a base price is worked out from the
   exact price, not the rounded one.

The product is looked up first (longest match, left to right), so that names made of
numerals and units (八角, 两头乌, 凤尾菇) are not read as prices or quantities. Adjacent
product words give the last one (夏黑葡萄苗 is 葡萄苗), and an unknown word before a product
word is taken as its kind (水蜜桃 is 桃): Chinese names end with their head. The words that
break that rule (刺角瓜 is no 角瓜, 火鸡 no 鸡) are listed in data/not_products.csv.

The product words are :mod:`mailbox.lexicon`'s, the unit words and their base units
:mod:`mailbox.post_units`'; this module is the grammar that puts them together.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, NamedTuple

from mailbox.lexicon import Lexicon, LexiconMatch, latin, lower_latin, normalize, shipped_not_products
from mailbox.post_numbers import CN_DIGITS, CN_MULT, Num, cn_int, numbers
from mailbox.post_units import TO_BASE, UNIT, UNIT_AT, UNIT_WORDS, base

# Lexicon, LexiconMatch, normalize and shipped_not_products live in mailbox.lexicon; they
# are named here too, for the callers that have always imported them from here.
__all__ = ["Lexicon", "LexiconMatch", "Parsed", "normalize", "parse", "shipped_not_products"]

MAX_BASE_QUANTITY = Decimal(10) ** 9
MAX_BASE_PRICE = Decimal(10) ** 6
_ONE, _MICRO, _TENTH, _HALF = Decimal(1), Decimal("0.000001"), Decimal("0.1"), Decimal("0.5")


@dataclass(frozen=True, slots=True)
class Parsed:
    """One post as understood. Base values compare posts: 公斤 and 元/公斤 for weights,
    亩 and 元/亩 for areas, count units as they are; without a unit, the figure as written."""

    text: str
    product_code: str | None = None
    product_word: str | None = None
    notes: str = ""
    quantity: Decimal | None = None
    unit: str | None = None
    base_quantity: Decimal | None = None
    base_unit: str | None = None
    price: Decimal | None = None
    price_unit: str | None = None
    base_price: Decimal | None = None
    negotiable: bool = False
    price_unit_assumed: bool = False  # no unit with the price: the quantity's unit was used
    base_price_unit: str | None = None  # what base_price is per (may differ from base_unit)
    approximate: bool = False  # 十来斤, 200多株, 约500斤, 300-500斤 (the lower figure)


# --- what stands around a number ----------------------------------------------------------

_CN_TAIL = "[0-9一二两三四五六七八九]"
_NOT_AFTER_NUMERAL = "(?<![0-9零〇一二两三四五六七八九十百千万])"  # the 一 of 二十一斤 is no 一斤
_CURRENCY = re.compile(
    rf"\s*(?:(?:块钱|元钱)|(?:块|元|圆)(?:(?P<tail>{_CN_TAIL}|半)(?:(?P<jiao>[毛角])(?P<fen>{_CN_TAIL})?)?)?"
    r"(?:钱)?|(?:yuan|rmb|kuai)(?![a-z]))")
_JIAO = re.compile(rf"\s*[毛角](?P<tail>{_CN_TAIL})?(?:钱)?")
_FEN = re.compile(r"\s*分钱")
_PER = re.compile(rf"\s*(?:/|每|一|1|(?:per|a|an)(?![a-z]))\s*(?P<unit>{UNIT})|\s*(?P<each>each|apiece)(?![a-z])")
_PER_COUNT = re.compile(r"\s*(?:/|每|(?<![a-z])per(?![a-z]))\s*(?=[0-9一二两三四五六七八九十])")
_COUNT_UNIT = re.compile(rf"\s*(?P<unit>{UNIT})(?P<half>半)?")
_MAX_BUNDLE = 10  # 10块3斤: a larger count right after a price is the quantity (2元500斤)
_RANGE_BEFORE = re.compile(r"(?:-|~|到|至)\s*\Z")
_PER_BEFORE = re.compile(rf"(?:每\s*(?P<count>[0-9]+(?:\.[0-9]+)?|[两三四五六七八九十])?|{_NOT_AFTER_NUMERAL}一)"
                         rf"\s*(?P<unit>{UNIT})\s*(?:价格?|单价)?\s*[:=]?\s*\Z")  # 每斤, 一斤, 每3斤
_YEN_BEFORE = re.compile(r"(?:¥|(?<![a-z])rmb|人民币)\s*\Z")
_LABEL_BEFORE = re.compile(r"(?:收购价|价格|单价|售价|价钱|报价|要价|出价|价|(?<![a-z])(?:price|at)|@)"
                           r"\s*(?:[:=]|是|为|(?<![a-z])is)?\s*\Z")
_SIGN_BEFORE = re.compile(r"(?:(?<![0-9.])[-−]|负)\s*\Z")
_RANGE = re.compile(r"\s*(?:-|~|到|至|(?<![a-z])to(?![a-z]))\s*")
_QTY_TAIL = re.compile(rf"\s*(?P<about>多|来|余|几)?\s*(?P<unit>{UNIT})(?P<half>半)?"
                       r"(?P<post>\s*(?:左右|上下|以上|多|出头))?")
_APPROX_BEFORE = re.compile(r"(?:大约|大概|将近|差不多|约|近|(?<![a-z])(?:about|around|approx\.?|approximately)|~)\s*\Z")
_SPEC_BEFORE = re.compile(  # 单果3两, 亩产3000斤, 每箱20斤 (not 20斤一箱 50箱: there 一箱 ends a spec)
    r"(?:(?:单果|单个|单只|单头|单株|单重|个重|果重|只重|头重|均重|平均|亩产)\s*(?:重|约|在)?\s*[:=]?\s*"
    rf"|(?:每|{_NOT_AFTER_NUMERAL}一)\s*{UNIT}(?:重约|重|约)?[:=]?|/\s*)\Z")
_SPEC_AFTER = re.compile(  # 50斤/袋 and 20斤一箱, but not the 50袋 of 50袋 每袋100斤 or 100只 每只重4斤
    rf"\s*/\s*{UNIT}|(?:每|一)\s*{UNIT}(?=$|[\s\x00,;:!?。、)\]】])")
_FIGURE_NEXT = re.compile("[0-9零〇一二两三四五六七八九十半]")
_BARE_END = re.compile(r"\s|\x00|$|[,;!?|()\[\]{}<>，。；！？、【】《》“”‘’\"']")
_BARE_ABOUT = re.compile(r"\s*(?:多|来|余|左右|上下)")
_NEGOTIABLE = re.compile(  # not 不议价 (no haggling), nor the 好说 of 好说明
    r"可议价|(?<![不拒绝])议价|(?:价格|价钱|价)?(?:面议|面谈|电议|好商量|可商量)|(?:价格|价钱|价)(?:可议|商议|可谈|好谈|好说)"
    r"|(?<![a-z])(?:price\s+)?negotiable(?![a-z])|(?<![a-z])obo(?![a-z])")


def _before(pattern: re.Pattern[str], work: str, pos: int, width: int = 12) -> re.Match[str] | None:
    """A match of ``pattern`` (ending in \\Z) that ends right at ``pos``."""
    return pattern.search(work, max(0, pos - width), pos)


class _Span(NamedTuple):
    start: int
    end: int
    value: Decimal | None
    unit: str | None
    approximate: bool = False
    bad: bool = False  # negative, or a spec of one item / package
    vague: bool = False  # 几百斤: a unit, no value


def _money(work: str, num: Num) -> tuple[Decimal, Decimal, int] | None:
    """(value, scale, end) when money words follow the number: 2元, 五块五, 八毛, 5分钱."""
    m = _CURRENCY.match(work, num.end)
    if m:
        value, end = num.value, m.end()
        if m["tail"] and not m["jiao"] and _tail_is_not_ours(work, m.end("tail")):
            end = m.start("tail")  # 2元5斤: the 5 is a quantity, not 2.5 元
        elif m["tail"] == "半":
            value += _HALF
        elif m["tail"]:
            value += _digit(m["tail"]) * _TENTH + (_digit(m["fen"]) * _TENTH * _TENTH if m["fen"] else 0)
        return value, _ONE, end
    m = _JIAO.match(work, num.end)
    if m:
        value, end = num.value * _TENTH, m.end()
        if m["tail"] and _tail_is_not_ours(work, m.end("tail")):
            end = m.start("tail")
        elif m["tail"]:
            value += _digit(m["tail"]) * _TENTH * _TENTH
        return value, _TENTH, end
    m = _FEN.match(work, num.end)
    if m:
        return num.value * _TENTH * _TENTH, _TENTH * _TENTH, m.end()
    return None


def _digit(ch: str) -> int:
    return int(ch) if ch.isdigit() else CN_DIGITS[ch]


def _tail_is_not_ours(work: str, pos: int) -> bool:
    """The digit of 五块五 belongs to the price unless a unit or more figures of its own
    script follow it (3块500斤); 一斤/1斤 after it is the price's own per-unit (五块五一斤),
    and a figure in the other script what the price buys (两块五3斤)."""
    if _QTY_TAIL.match(work, pos):
        return True
    nxt = work[pos:pos + 1]
    if nxt and (nxt.isdigit() or nxt in CN_DIGITS or nxt in CN_MULT or nxt in "零〇万.半"):
        if nxt in "一1" and _PER.match(work, pos):
            return False
        return nxt.isdigit() == work[pos - 1].isdigit() or not (nxt.isdigit() or nxt in CN_DIGITS)
    return False


def _price(work: str, nums: list[Num], i: int) -> _Span | None:
    """The price that number i starts: per one unit, so 10元/3斤 comes back as 10/3 元 per 斤."""
    num, k = nums[i], i
    if num.value is None:
        return None
    low = None
    r = _RANGE.match(work, num.end)
    if r and i + 1 < len(nums) and nums[i + 1].start == r.end() and nums[i + 1].value is not None:
        low, k = num.value, i + 1  # 1.5-2元/斤: the lower figure
        num = nums[k]
    money = _money(work, num)
    value, scale, end = money if money else (num.value, _ONE, num.end)
    start = nums[i].start
    yen = _before(_YEN_BEFORE, work, start, 8)
    start = yen.start() if yen else start
    per = _PER.match(work, end)
    unit = UNIT_WORDS[per["unit"]] if per and per["unit"] else None
    bundle = None if per else _bundle(work, nums, k + 1, end, money is not None)
    prefix = None if per or bundle else _before(_PER_BEFORE, work, start)
    if prefix:
        start, unit = prefix.start(), UNIT_WORDS[prefix["unit"]]
        count = prefix["count"]  # 每3斤10元
        if count:
            bundle = _Span(start, start, Decimal(count) if count[0].isdigit() else Decimal(cn_int(count)), unit)
    elif money and not (per or bundle):
        bundle = _bundle_before(work, nums, i)
    if bundle:
        unit, start, end = bundle.unit, min(start, bundle.start), max(end, bundle.end)
    label = _before(_LABEL_BEFORE, work, start)
    start = label.start() if label else start
    if not (money or yen):
        if _QTY_TAIL.match(work, num.end) or not (per or bundle or prefix or label) or work[num.start] == "半":
            return None  # 每亩3000斤 is a yield; a bare 500 is no price
    end = per.end() if per else end
    if low is not None:
        value = low * scale
    if bundle:
        if bundle.value <= 0:
            return None
        value /= bundle.value
    sign = _before(_SIGN_BEFORE, work, start, 3)
    return _Span(start, end, value, unit, low is not None or num.about, bad=sign is not None)


def _bundle(work: str, nums: list[Num], j: int, pos: int, money: bool) -> _Span | None:
    """What a price at ``pos`` buys when it is several units: 10元/3斤, 10 yuan per 3 jin,
    每3斤; or, right after money words, a count of ten at most (10块3斤, 十块三斤: a market's
    "ten yuan for three jin"; 10块500斤 is a price and a quantity)."""
    per = _PER_COUNT.match(work, pos)
    if per is None and not money:
        return None
    pos = per.end() if per else pos
    while j < len(nums) and nums[j].start < pos:
        j += 1
    if j == len(nums) or nums[j].start != pos:
        return None
    bundle = _counted(work, nums[j], per is not None)
    return None if bundle is None or _FIGURE_NEXT.match(work, bundle.end) else bundle  # not 10元3斤2两


def _bundle_before(work: str, nums: list[Num], i: int) -> _Span | None:
    """A count of ten at most and its unit right before money words: 3斤10元."""
    if i == 0 or _before(_SPEC_BEFORE, work, nums[i - 1].start) or _before(_RANGE_BEFORE, work, nums[i - 1].start):
        return None
    bundle = _counted(work, nums[i - 1], False)
    return bundle if bundle and bundle.end == nums[i].start else None


def _counted(work: str, num: Num, told: bool) -> _Span | None:
    """A count and its unit (3斤, 3斤半) as a span whose value is the count."""
    m = _COUNT_UNIT.match(work, num.end)
    if m is None or num.value is None or num.value <= 0 or num.about or not told and (
            m.start("unit") != num.end or num.value > _MAX_BUNDLE):
        return None
    return _Span(num.start, m.end(), num.value + (_HALF if m["half"] else 0), UNIT_WORDS[m["unit"]])


def _quantity(work: str, nums: list[Num], i: int) -> _Span | None:
    """The quantity that number i starts: a number (or a range, its lower figure) and a unit;
    a size without a figure (几百斤) has its unit and no value. A spec of one item or package
    (单果3两, 每箱20斤, 50斤/袋, 一箱360枚) comes back marked bad."""
    num, k, low = nums[i], i, None
    r = _RANGE.match(work, num.end)
    if r and i + 1 < len(nums) and nums[i + 1].start == r.end() and _QTY_TAIL.match(work, nums[i + 1].end):
        low, k = num.value, i + 1  # 300-500斤: the lower figure
        num = nums[k]
    m = _QTY_TAIL.match(work, num.end)
    if m is None:
        return None
    vague = nums[i].vague or num.vague
    value = None if vague else low if low is not None else num.value
    if value is not None and m["half"]:
        value += _HALF
    unit, end = UNIT_WORDS[m["unit"]], m.end()
    if value is not None and not (m["half"] or m["about"] or m["post"]):
        value, end = _and_smaller(work, nums, k + 1, unit, value, end)
    start = nums[i].start
    about = _before(_APPROX_BEFORE, work, start)
    start = about.start() if about else start
    approximate = bool(about or m["about"] or m["post"] or low is not None or nums[i].about or num.about)
    after = _SPEC_AFTER.match(work, end)
    spec = after or _before(_SPEC_BEFORE, work, start) or value == 1 and _FIGURE_NEXT.match(work, end)
    sign = _before(_SIGN_BEFORE, work, start, 3)
    return _Span(start, after.end() if after else end, value, unit, approximate, bool(spec or sign), vague)


def _and_smaller(work: str, nums: list[Num], j: int, unit: str, value: Decimal, end: int) -> tuple[Decimal, int]:
    """A smaller weight written right after a weight adds to it: 1斤2两 is 1.2斤 (10 两 to
    the 斤), 2公斤300克 2.3公斤 — when it is less than one of the larger unit."""
    if j == len(nums) or nums[j].start != end or nums[j].value is None or unit not in TO_BASE:
        return value, end
    m = UNIT_AT.match(work, nums[j].end)
    smaller = UNIT_WORDS[m[0]] if m else None
    if smaller not in TO_BASE or base(smaller)[0] != base(unit)[0]:
        return value, end
    part = nums[j].value * base(smaller)[1] / base(unit)[1]
    return (value + part, m.end()) if 0 < part < 1 else (value, end)


def _bare(work: str, num: Num) -> _Span | None:
    """A number alone as the quantity (葡萄苗 200): not a date, a size, a phone number or 一年生."""
    if num.value is None or work[num.start:num.end] == "半":
        return None
    if num.chinese and num.value < 10 or not num.chinese and work[num.start:num.end].isdigit() \
            and num.end - num.start > 6:
        return None
    before = work[num.start - 1:num.start]
    about = _BARE_ABOUT.match(work, num.end)
    end = about.end() if about else num.end
    if latin(before) or not _BARE_END.match(work, end) or _before(_SPEC_BEFORE, work, num.start):
        return None  # 2个月, 3年, M7, 单果3: no quantity
    sign = _before(_SIGN_BEFORE, work, num.start, 3)
    return _Span(num.start, end, num.value, None, bool(about), sign is not None)


# --- the post -----------------------------------------------------------------------------

_SPLIT = re.compile(r"[\s,;:!?|()\[\]{}<>，。；：！？、【】《》“”‘’\"'\x00]+")
_PUNCT_ONLY = re.compile(r"[\-~/\\.·…_+=*#@^`&%$¥]+")
_FILLERS = frozenset(
    "有 出售 求购 收购 需要 要 想买 想卖 现有 共 共计 总共 约 大约 左右 价格 单价 价钱 售价 数量 品名 "
    "产品 名称 品种 重量 规格 sell selling sale for buy buying wanted want need needed have price qty "
    "quantity about around of".split())


def _work(text: str, norm: str) -> str:
    """The text to read: normalized, Latin in lower case, and the Chinese comma kept apart
    from the ASCII one (NFKC makes both ","), so that 100，120元 is never 100120 元."""
    work = normalize(text.replace("，", "、")) if "，" in text else norm
    return lower_latin(work if len(work) == len(norm) else norm)


def _mask(work: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(work)
    for start, end in spans:
        chars[start:end] = "\x00" * (end - start)
    return "".join(chars)


def _notes(norm: str, taken: list[tuple[int, int]]) -> str:
    pieces, pos = [], 0
    for start, end in sorted(taken):
        pieces += _SPLIT.split(norm[pos:start]) if start > pos else []
        pos = max(pos, end)
    pieces += _SPLIT.split(norm[pos:])
    return " ".join(p for p in pieces if p and not _PUNCT_ONLY.fullmatch(p) and p.lower() not in _FILLERS)


def _tidy(value: Decimal) -> Decimal:
    """Six decimals at most, no exponent, no trailing zeros: 250, 3, 0.05."""
    value = value.quantize(_MICRO)
    return value.quantize(_ONE) if value == value.to_integral_value() else value.normalize()


def _scan(work: str, nums: list[Num], read) -> list[_Span]:
    """Every span ``read`` finds, left to right; the numbers inside a span are used up."""
    found, i = [], 0
    while i < len(nums):
        span = read(work, nums, i)
        i += 1
        if span:
            found.append(span)
            while i < len(nums) and nums[i].start < span.end:
                i += 1
    return found


def _fits(span: _Span | None, factor: Decimal, limit: Decimal) -> bool:
    """Taken as such: not negative, not a spec, above 0 and within ``limit`` in base units."""
    if span is None or span.bad or span.value is None or span.value <= 0:
        return False
    in_base = span.value * factor
    return in_base <= limit and _tidy(in_base) > 0


def _outside(nums: list[Num], spans: list[_Span]) -> list[Num]:
    return [n for n in nums if not any(s.start <= n.start < s.end for s in spans)]


def _price_fields(prices: list[_Span], qty_unit: str | None) -> tuple[_Span | None, dict]:
    """The first price that holds, in 元 per base unit too; a price without a unit is taken
    to be per the quantity's unit (and said so)."""
    for price in prices:
        unit = price.unit or qty_unit
        base_unit, factor = base(unit) if unit else (None, _ONE)
        if _fits(price, 1 / factor, MAX_BASE_PRICE):
            return price, dict(price=_tidy(price.value), price_unit=price.unit,
                               base_price=_tidy(price.value / factor), base_price_unit=base_unit,
                               price_unit_assumed=price.unit is None and qty_unit is not None)
    return None, {}


def parse(text: str, lexicon: Lexicon | None) -> Parsed:
    """Understand a post (the text after 卖/买). Never raises; the text is kept as normalized."""
    text = "" if text is None else text if isinstance(text, str) else str(text)
    norm = normalize(text)
    work = _work(text, norm)
    product = lexicon.best(work) if lexicon is not None else None
    deals = [m.span() for m in _NEGOTIABLE.finditer(work)]
    taken = deals + ([(product.start, product.end)] if product else [])
    work = _mask(work, taken)
    nums = numbers(work)
    prices = _scan(work, nums, _price)
    work = _mask(work, [(p.start, p.end) for p in prices])
    nums = _outside(nums, prices)
    quantities = _scan(work, nums, _quantity)
    qty = next((q for q in quantities if _fits(q, base(q.unit)[1], MAX_BASE_QUANTITY)), None)
    qty = qty or next((q for q in quantities if q.vague and not q.bad), None)
    if qty is None:
        bare = (_bare(work, n) for n in _outside(nums, quantities))
        qty = next((b for b in bare if _fits(b, _ONE, MAX_BASE_QUANTITY)), None)
    fields: dict = {}
    if qty is not None and qty.vague:  # 几百斤: the unit, no figure; the words stay in the notes
        fields.update(unit=qty.unit, base_unit=base(qty.unit)[0], approximate=True)
    elif qty is not None:
        taken.append((qty.start, qty.end))
        base_unit, factor = base(qty.unit) if qty.unit else (None, _ONE)
        fields.update(quantity=_tidy(qty.value), unit=qty.unit, base_quantity=_tidy(qty.value * factor),
                      base_unit=base_unit, approximate=qty.approximate)
    price, price_fields = _price_fields(prices, qty.unit if qty else None)
    if price is not None:
        taken.append((price.start, price.end))
        fields.update(price_fields)
    return Parsed(text=norm, product_code=product.code if product else None,
                  product_word=norm[product.start:product.end] if product else None,
                  notes=_notes(norm, taken), negotiable=bool(deals), **fields)
