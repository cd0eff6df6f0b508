"""How a 卖/买 post is understood: product, quantity and unit, price and price unit, notes.

Pure (no Flask, no database) and fast. The grammar, in three layers:

1. Numbers: Arabic (``1.5``, ``1.5万``, ``3千5``) or Chinese (``五百``, ``三千五`` = 3500,
   ``一百二`` = 120, ``两万五``, ``半``), found by one regular expression and valued by
   :func:`_cn_int` / :func:`_arabic`. Two neighbouring figures (``二三百``, ``三五百``,
   ``十二三``) and a figure with 几 (``十几万``, ``三百几十``) are their lower figure, marked
   approximate; a size without a figure (``几百``, ``上千``, ``数十``, ``一两百``) has no value.
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
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, NamedTuple

__all__ = ["Lexicon", "LexiconMatch", "Parsed", "normalize", "parse", "shipped_not_products"]

MAX_BASE_QUANTITY = Decimal(10) ** 9
MAX_BASE_PRICE = Decimal(10) ** 6
_MAX_NUMBERS = 200  # numbers looked at in one post; more is not a post
_MAX_DIGITS = 15  # a longer figure is absurd (and would strain Decimal)
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


# --- units -------------------------------------------------------------------------------

_UNIT_WORDS = {
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
_TO_BASE = {
    "斤": ("公斤", Decimal("0.5")), "公斤": ("公斤", _ONE), "吨": ("公斤", Decimal(1000)),
    "克": ("公斤", Decimal("0.001")), "两": ("公斤", Decimal("0.05")), "担": ("公斤", Decimal(50)),
    "亩": ("亩", _ONE), "公顷": ("亩", Decimal(15)), "平方米": ("亩", Decimal("0.0015")),
}


def _base(unit: str) -> tuple[str, Decimal]:
    return _TO_BASE.get(unit, (unit, _ONE))


def _alternation(words: Iterable[str]) -> str:
    """Longest first; a Latin word must end at a word end (g is not the start of grapes)."""
    parts = []
    for word in sorted(words, key=len, reverse=True):
        guard = "(?![a-z])" if word[-1].isascii() and word[-1].isalpha() else ""
        guard += "(?![月人])" if word == "个" else ""  # 2个月 is two months
        parts.append(re.escape(word) + guard)
    return "(?:" + "|".join(parts) + ")"


_UNIT = _alternation(_UNIT_WORDS)

# --- numbers -----------------------------------------------------------------------------

_CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", 1)}
_CN_DIGITS.update({c: i for i, c in enumerate("壹贰叁肆伍陆柒捌玖", 1)}, 两=2)
_CN_MULT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_D = "[一二两三四五六七八九壹贰叁肆伍陆柒捌玖]"
_Z = "[零〇]"
_SEC = (f"(?:{_D}[千仟](?!克)(?:{_Z}?{_D}[百佰])?(?:{_Z}?{_D}?[十拾])?(?:{_Z}?{_D})?"
        f"|{_D}[百佰](?:{_Z}?{_D}?[十拾])?(?:{_Z}?{_D})?|{_D}?[十拾]{_D}?|{_D})")
_CN = f"{_SEC}(?:万(?:{_Z}?{_SEC})?)?"
_GROUPED = rf"[0-9]{{1,3}}(?:,[0-9]{{3}})+(?![0-9])(?=\s*(?:{_UNIT}|元|块|yuan))"  # 1,000 jin (an ASCII comma)
_AR = rf"(?:{_GROUPED}|[0-9]+)(?:\.[0-9]+)?(?:(?:万|千(?!克)|百)(?:[0-9](?:千(?!克)|百)?(?![0-9.]))?)?"
_PLACES = "[十百千万]+"
_NUMERAL_BEFORE = "(?<![0-9零〇一二两三四五六七八九十百千万几])"
# 几百 数千 上万 近千 成千上万 一两百 几(斤): a size without a figure. 一两百 is said for "a
# hundred or so", and its 一两 would otherwise be one 两 (50 g).
_VAGUE = (rf"成[十百千]上[百千万]+|{_NUMERAL_BEFORE}(?:一[两二]|[几数上近]){_PLACES}"
          rf"|{_NUMERAL_BEFORE}几(?=\s*{_UNIT})")
# 二三百 两三千 三五百 十二三 二十五六: two neighbouring figures, the lower one taken.
_PAIR = (rf"{_NUMERAL_BEFORE}(?:[二三四五六七八九]?十一二"
         r"|(?:[二三四五六七八九]?十)?(?:[二两]三|三[四五]|四五|五六|六七|七八|八九))[十百千]?万?")
_PAIR_PARTS = re.compile(r"((?:[二三四五六七八九]?十)?)(.).([十百千]?万?)")
_SOME = rf"{_CN}几{_PLACES}"  # 十几万 (over 100000), 三百几十 (over 300)
_NUMBER = re.compile(f"{_AR}|(?P<vague>{_VAGUE})|(?P<pair>{_PAIR})|(?P<some>{_SOME})|{_CN}|半")
_SOME_PARTS = re.compile(f"({_CN})几({_PLACES})")
_AR_PARTS = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)(?:(万|千|百)(?:([0-9])(千|百)?)?)?")
_AR_MULT = {"万": 10000, "千": 1000, "百": 100}


def _cn_int(s: str) -> int:
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
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in "零〇":
            zero = True
        elif ch == "万":
            total, section, digit, last, zero = (total + flush()) * 10000, 0, None, 10000, False
        else:
            section += (1 if digit is None else digit) * _CN_MULT[ch]
            digit, last, zero = None, _CN_MULT[ch], False
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
        value *= 10000 if ch == "万" else _CN_MULT[ch]
    return value


def _some(s: str) -> int:
    """The figure said before 几: 十几万 100000 (几 counts the tens of thousands), 三百几十
    300 (几 counts tens, below the hundreds), 两万几千 20000."""
    m = _SOME_PARTS.fullmatch(s)
    figure, places = _cn_int(m[1]), _places(m[2])
    last = next((_places(ch) for ch in reversed(m[1]) if ch in _CN_MULT or ch == "万"), 1)
    return figure * places if places > last else figure


def _pair(s: str) -> int:
    """The lower of two neighbouring figures: 二三百 200, 两三千 2000, 十二三 12, 二十五六 25."""
    tens, first, places = _PAIR_PARTS.fullmatch(s).groups()
    return ((_cn_int(tens) if tens else 0) + _CN_DIGITS[first]) * (_places(places) if places else 1)


class _Num(NamedTuple):
    start: int
    end: int
    value: Decimal | None
    chinese: bool
    about: bool = False  # 二三百, 十几万: the figure is a lower bound
    vague: bool = False  # 几百, 上千: a size without a figure (value None)


def _numbers(work: str) -> list[_Num]:
    found = []
    for m in _NUMBER.finditer(work):
        s, kind = m[0], m.lastgroup
        if kind == "vague":
            found.append(_Num(m.start(), m.end(), None, True, True, True))
        elif kind:
            found.append(_Num(m.start(), m.end(), Decimal(_pair(s) if kind == "pair" else _some(s)), True, True))
        elif s == "半":
            found.append(_Num(m.start(), m.end(), _HALF, True))
        elif s[0].isdigit():
            found.append(_Num(m.start(), m.end(), _arabic(s), False))
        else:
            found.append(_Num(m.start(), m.end(), Decimal(_cn_int(s)), True))
        if len(found) >= _MAX_NUMBERS:
            break
    return found


# --- what stands around a number ----------------------------------------------------------

_CN_TAIL = "[0-9一二两三四五六七八九]"
_NOT_AFTER_NUMERAL = "(?<![0-9零〇一二两三四五六七八九十百千万])"  # the 一 of 二十一斤 is no 一斤
_CURRENCY = re.compile(
    rf"\s*(?:(?:块钱|元钱)|(?:块|元|圆)(?:(?P<tail>{_CN_TAIL}|半)(?:(?P<jiao>[毛角])(?P<fen>{_CN_TAIL})?)?)?"
    r"(?:钱)?|(?:yuan|rmb|kuai)(?![a-z]))")
_JIAO = re.compile(rf"\s*[毛角](?P<tail>{_CN_TAIL})?(?:钱)?")
_FEN = re.compile(r"\s*分钱")
_PER = re.compile(rf"\s*(?:/|每|一|1|(?:per|a|an)(?![a-z]))\s*(?P<unit>{_UNIT})|\s*(?P<each>each|apiece)(?![a-z])")
_PER_COUNT = re.compile(rf"\s*(?:/|每|(?<![a-z])per(?![a-z]))\s*(?=[0-9一二两三四五六七八九十])")
_COUNT_UNIT = re.compile(rf"\s*(?P<unit>{_UNIT})(?P<half>半)?")
_MAX_BUNDLE = 10  # 10块3斤: a larger count right after a price is the quantity (2元500斤)
_RANGE_BEFORE = re.compile(r"(?:-|~|到|至)\s*\Z")
_PER_BEFORE = re.compile(rf"(?:每\s*(?P<count>[0-9]+(?:\.[0-9]+)?|[两三四五六七八九十])?|{_NOT_AFTER_NUMERAL}一)"
                         rf"\s*(?P<unit>{_UNIT})\s*(?:价格?|单价)?\s*[:=]?\s*\Z")  # 每斤, 一斤, 每3斤
_YEN_BEFORE = re.compile(r"(?:¥|(?<![a-z])rmb|人民币)\s*\Z")
_LABEL_BEFORE = re.compile(r"(?:收购价|价格|单价|售价|价钱|报价|要价|出价|价|(?<![a-z])(?:price|at)|@)"
                           r"\s*(?:[:=]|是|为|(?<![a-z])is)?\s*\Z")
_SIGN_BEFORE = re.compile(r"(?:(?<![0-9.])[-−]|负)\s*\Z")
_RANGE = re.compile(r"\s*(?:-|~|到|至|(?<![a-z])to(?![a-z]))\s*")
_QTY_TAIL = re.compile(rf"\s*(?P<about>多|来|余|几)?\s*(?P<unit>{_UNIT})(?P<half>半)?"
                       r"(?P<post>\s*(?:左右|上下|以上|多|出头))?")
_APPROX_BEFORE = re.compile(r"(?:大约|大概|将近|差不多|约|近|(?<![a-z])(?:about|around|approx\.?|approximately)|~)\s*\Z")
_SPEC_BEFORE = re.compile(  # 单果3两, 亩产3000斤, 每箱20斤 (not 20斤一箱 50箱: there 一箱 ends a spec)
    r"(?:(?:单果|单个|单只|单头|单株|单重|个重|果重|只重|头重|均重|平均|亩产)\s*(?:重|约|在)?\s*[:=]?\s*"
    rf"|(?:每|{_NOT_AFTER_NUMERAL}一)\s*{_UNIT}(?:重约|重|约)?[:=]?|/\s*)\Z")
_SPEC_AFTER = re.compile(  # 50斤/袋 and 20斤一箱, but not the 50袋 of 50袋 每袋100斤 or 100只 每只重4斤
    rf"\s*/\s*{_UNIT}|(?:每|一)\s*{_UNIT}(?=$|[\s\x00,;:!?。、)\]】])")
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


def _money(work: str, num: _Num) -> tuple[Decimal, Decimal, int] | None:
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
    return int(ch) if ch.isdigit() else _CN_DIGITS[ch]


def _tail_is_not_ours(work: str, pos: int) -> bool:
    """The digit of 五块五 belongs to the price unless a unit or more figures of its own
    script follow it (3块500斤); 一斤/1斤 after it is the price's own per-unit (五块五一斤),
    and a figure in the other script what the price buys (两块五3斤)."""
    if _QTY_TAIL.match(work, pos):
        return True
    nxt = work[pos:pos + 1]
    if nxt and (nxt.isdigit() or nxt in _CN_DIGITS or nxt in _CN_MULT or nxt in "零〇万.半"):
        if nxt in "一1" and _PER.match(work, pos):
            return False
        return nxt.isdigit() == work[pos - 1].isdigit() or not (nxt.isdigit() or nxt in _CN_DIGITS)
    return False


def _price(work: str, nums: list[_Num], i: int) -> _Span | None:
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
    unit = _UNIT_WORDS[per["unit"]] if per and per["unit"] else None
    bundle = None if per else _bundle(work, nums, k + 1, end, money is not None)
    prefix = None if per or bundle else _before(_PER_BEFORE, work, start)
    if prefix:
        start, unit = prefix.start(), _UNIT_WORDS[prefix["unit"]]
        count = prefix["count"]  # 每3斤10元
        if count:
            bundle = _Span(start, start, Decimal(count) if count[0].isdigit() else Decimal(_cn_int(count)), unit)
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


def _bundle(work: str, nums: list[_Num], j: int, pos: int, money: bool) -> _Span | None:
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


def _bundle_before(work: str, nums: list[_Num], i: int) -> _Span | None:
    """A count of ten at most and its unit right before money words: 3斤10元."""
    if i == 0 or _before(_SPEC_BEFORE, work, nums[i - 1].start) or _before(_RANGE_BEFORE, work, nums[i - 1].start):
        return None
    bundle = _counted(work, nums[i - 1], False)
    return bundle if bundle and bundle.end == nums[i].start else None


def _counted(work: str, num: _Num, told: bool) -> _Span | None:
    """A count and its unit (3斤, 3斤半) as a span whose value is the count."""
    m = _COUNT_UNIT.match(work, num.end)
    if m is None or num.value is None or num.value <= 0 or num.about or not told and (
            m.start("unit") != num.end or num.value > _MAX_BUNDLE):
        return None
    return _Span(num.start, m.end(), num.value + (_HALF if m["half"] else 0), _UNIT_WORDS[m["unit"]])


def _quantity(work: str, nums: list[_Num], i: int) -> _Span | None:
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
    unit, end = _UNIT_WORDS[m["unit"]], m.end()
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


def _and_smaller(work: str, nums: list[_Num], j: int, unit: str, value: Decimal, end: int) -> tuple[Decimal, int]:
    """A smaller weight written right after a weight adds to it: 1斤2两 is 1.2斤 (10 两 to
    the 斤), 2公斤300克 2.3公斤 — when it is less than one of the larger unit."""
    if j == len(nums) or nums[j].start != end or nums[j].value is None or unit not in _TO_BASE:
        return value, end
    m = _UNIT_AT.match(work, nums[j].end)
    smaller = _UNIT_WORDS[m[0]] if m else None
    if smaller not in _TO_BASE or _base(smaller)[0] != _base(unit)[0]:
        return value, end
    part = nums[j].value * _base(smaller)[1] / _base(unit)[1]
    return (value + part, m.end()) if 0 < part < 1 else (value, end)


def _bare(work: str, num: _Num) -> _Span | None:
    """A number alone as the quantity (葡萄苗 200): not a date, a size, a phone number or 一年生."""
    if num.value is None or work[num.start:num.end] == "半":
        return None
    if num.chinese and num.value < 10 or not num.chinese and work[num.start:num.end].isdigit() \
            and num.end - num.start > 6:
        return None
    before = work[num.start - 1:num.start]
    about = _BARE_ABOUT.match(work, num.end)
    end = about.end() if about else num.end
    if _latin(before) or not _BARE_END.match(work, end) or _before(_SPEC_BEFORE, work, num.start):
        return None  # 2个月, 3年, M7, 单果3: no quantity
    sign = _before(_SIGN_BEFORE, work, num.start, 3)
    return _Span(num.start, end, num.value, None, bool(about), sign is not None)


# --- products -----------------------------------------------------------------------------

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UNIT_AT = re.compile(_UNIT)
_UNIT_PLACE = re.compile(r"(?:[0-9/每元块]|(?<![a-z])(?:per|a|yuan|rmb))\Z")


def normalize(text: str) -> str:
    """NFKC: full-width letters, digits and punctuation become half-width (￥ → ¥, ： → :)."""
    return unicodedata.normalize("NFKC", text)


def _fold(text: str) -> str:
    """Normalized, Latin letters in lower case; offsets stay those of :func:`normalize`."""
    return normalize(text).translate(_ASCII_LOWER)


def _work(text: str, norm: str) -> str:
    """The text to read: normalized, Latin in lower case, and the Chinese comma kept apart
    from the ASCII one (NFKC makes both ","), so that 100，120元 is never 100120 元."""
    work = normalize(text.replace("，", "、")) if "，" in text else norm
    return (work if len(work) == len(norm) else norm).translate(_ASCII_LOWER)


def _latin(ch: str) -> bool:
    return "a" <= ch <= "z"


@functools.cache
def shipped_not_products() -> tuple[str, ...]:
    """The words of mailbox/data/not_products.csv (read once)."""
    from mailbox.product_data import load_not_products  # the data, not Flask: the module stays pure

    return tuple(row.word for row in load_not_products())


def _key(word: str | None) -> str:
    return " ".join(_fold(word or "").split())


def _forms(key: str) -> list[str]:
    """How a Latin word may also be written: run together, or in the plural."""
    if not (key.isascii() and _latin(key[-1])):
        return []
    return [key.replace(" ", ""), key + "s", key + "es"] + ([key[:-1] + "ies"] if key.endswith("y") else [])


class LexiconMatch(NamedTuple):
    start: int  # offsets in the normalized text
    end: int
    code: str


class Lexicon:
    """Product words (names, synonyms, local names, pinyin, English) → product codes.

    ``not_products`` are words that contain a product's word but name something else
    (刺角瓜 is no 角瓜, 火鸡 no 鸡): read over, never a product, unless one of ``entries``
    is that very word. None: the shipped list (mailbox/data/not_products.csv)."""

    def __init__(self, entries: Iterable[tuple[str, str]], not_products: Iterable[str] | None = None):
        pairs = [(_key(word), code) for word, code in entries if code]
        pairs = [(key, code) for key, code in pairs if key and not (key.isascii() and len(key) < 2)]
        words: dict[str, str] = {}
        for key, code in pairs:
            words.setdefault(key, code)  # the first code given for a word wins
        for key, code in pairs:  # potatoes, grape seedlings, cherries: forgiven, never overriding
            for form in _forms(key):
                words.setdefault(form, code)
        self._size = len(words)
        others = [_key(word) for word in (shipped_not_products() if not_products is None else not_products)]
        for key in filter(None, others):  # after every product word: a product word wins
            for form in (key, *_forms(key)):
                words.setdefault(form, "")  # "": no product
        self._words = words
        index: dict[str, set[int]] = {}
        for key in words:
            index.setdefault(key[0], set()).add(len(key))
        self._lengths = {ch: sorted(lengths, reverse=True) for ch, lengths in index.items()}

    def __len__(self) -> int:
        """How many product words (plurals too)."""
        return self._size

    def find(self, text: str, start: int = 0) -> LexiconMatch | None:
        """The first product word in ``text`` (normalized), the longest one where several start."""
        return self._find(_fold(text), start)

    def best(self, folded: str) -> LexiconMatch | None:
        """The product a post names: its first product word — unless another follows it
        with nothing between, for a Chinese name ends with its head (夏黑葡萄苗 is
        葡萄苗, 夏黑 its variety; 红富士苹果 is 苹果). A word later in the text (葡萄苗 …
        品种阳光玫瑰) is a note."""
        match = self._find(folded)
        while match is not None:
            following = self._find(folded, match.end)
            if following is None or following.start != match.end:
                return match
            match = following
        return None

    def _find(self, folded: str, start: int = 0) -> LexiconMatch | None:
        lengths, words, n, i = self._lengths, self._words, len(folded), start
        while i < n:
            for length in lengths.get(folded[i], ()):
                if i + length > n:
                    continue
                code = words.get(folded[i:i + length])
                if code is not None and self._whole(folded, i, i + length):
                    if code:
                        return LexiconMatch(i, i + length, code)
                    i += length - 1  # a word that is no product: read over it
                    break
            i += 1
        return None

    @staticmethod
    def _whole(folded: str, start: int, end: int) -> bool:
        """A Latin word stands alone (rice is not in price), and is not a unit where a unit
        goes (500kg, 2元/kg, 2 yuan per kg), even if it is also the initials of a product."""
        if _latin(folded[start]):
            if start and _latin(folded[start - 1]):
                return False
            before = folded[max(0, start - 20):start].rstrip()
            if _UNIT_AT.match(folded, start) and _UNIT_PLACE.search(before):
                return False
        return not (_latin(folded[end - 1]) and end < len(folded) and _latin(folded[end]))


# --- the post -----------------------------------------------------------------------------

_SPLIT = re.compile(r"[\s,;:!?|()\[\]{}<>，。；：！？、【】《》“”‘’\"'\x00]+")
_PUNCT_ONLY = re.compile(r"[\-~/\\.·…_+=*#@^`&%$¥]+")
_FILLERS = frozenset(
    "有 出售 求购 收购 需要 要 想买 想卖 现有 共 共计 总共 约 大约 左右 价格 单价 价钱 售价 数量 品名 "
    "产品 名称 品种 重量 规格 sell selling sale for buy buying wanted want need needed have price qty "
    "quantity about around of".split())


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


def _scan(work: str, nums: list[_Num], read) -> list[_Span]:
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
    base = span.value * factor
    return base <= limit and _tidy(base) > 0


def _outside(nums: list[_Num], spans: list[_Span]) -> list[_Num]:
    return [n for n in nums if not any(s.start <= n.start < s.end for s in spans)]


def _price_fields(prices: list[_Span], qty_unit: str | None) -> tuple[_Span | None, dict]:
    """The first price that holds, in 元 per base unit too; a price without a unit is taken
    to be per the quantity's unit (and said so)."""
    for price in prices:
        unit = price.unit or qty_unit
        base_unit, factor = _base(unit) if unit else (None, _ONE)
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
    nums = _numbers(work)
    prices = _scan(work, nums, _price)
    work = _mask(work, [(p.start, p.end) for p in prices])
    nums = _outside(nums, prices)
    quantities = _scan(work, nums, _quantity)
    qty = next((q for q in quantities if _fits(q, _base(q.unit)[1], MAX_BASE_QUANTITY)), None)
    qty = qty or next((q for q in quantities if q.vague and not q.bad), None)
    if qty is None:
        bare = (_bare(work, n) for n in _outside(nums, quantities))
        qty = next((b for b in bare if _fits(b, _ONE, MAX_BASE_QUANTITY)), None)
    fields: dict = {}
    if qty is not None and qty.vague:  # 几百斤: the unit, no figure; the words stay in the notes
        fields.update(unit=qty.unit, base_unit=_base(qty.unit)[0], approximate=True)
    elif qty is not None:
        taken.append((qty.start, qty.end))
        base_unit, factor = _base(qty.unit) if qty.unit else (None, _ONE)
        fields.update(quantity=_tidy(qty.value), unit=qty.unit, base_quantity=_tidy(qty.value * factor),
                      base_unit=base_unit, approximate=qty.approximate)
    price, price_fields = _price_fields(prices, qty.unit if qty else None)
    if price is not None:
        taken.append((price.start, price.end))
        fields.update(price_fields)
    return Parsed(text=norm, product_code=product.code if product else None,
                  product_word=norm[product.start:product.end] if product else None,
                  notes=_notes(norm, taken), negotiable=bool(deals), **fields)
