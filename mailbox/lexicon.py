"""Product words → product codes: the lexicon the post parser names a post's product with.

Words are the products' names, synonyms, local names, pinyin and English names (the
taxonomy in the database, :mod:`mailbox.products`), looked up in normalized text
(:func:`normalize`; Latin in lower case): the longest word where several start, a Latin
word only where it stands alone (rice is not in price) and not where a unit goes (500kg),
and its plurals forgiven (potatoes, cherries).

A post's product is its first product word, unless more follow with nothing between:
Chinese names end with their head, so 夏黑葡萄苗 is 葡萄苗 and 红富士苹果 is 苹果. The
words that break that rule only look like a product (刺角瓜 is no 角瓜, 火鸡 no 鸡): they
are read over, never a product (mailbox/data/not_products.csv, :func:`shipped_not_products`).

Pure: no Flask, no database.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import Iterable, NamedTuple

from mailbox.post_units import UNIT_AT

__all__ = ["Lexicon", "LexiconMatch", "latin", "lower_latin", "normalize", "shipped_not_products"]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UNIT_PLACE = re.compile(r"(?:[0-9/每元块]|(?<![a-z])(?:per|a|yuan|rmb))\Z")


def normalize(text: str) -> str:
    """NFKC: full-width letters, digits and punctuation become half-width (￥ → ¥, ： → :)."""
    return unicodedata.normalize("NFKC", text)


def lower_latin(text: str) -> str:
    """Latin letters (A–Z only) in lower case, nothing else changed: offsets stay."""
    return text.translate(_ASCII_LOWER)


def _fold(text: str) -> str:
    """Normalized, Latin letters in lower case; offsets stay those of :func:`normalize`."""
    return normalize(text).translate(_ASCII_LOWER)


def latin(ch: str) -> bool:
    """A Latin letter, in lower case (as text is read)."""
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
    if not (key.isascii() and latin(key[-1])):
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
        if latin(folded[start]):
            if start and latin(folded[start - 1]):
                return False
            before = folded[max(0, start - 20):start].rstrip()
            if UNIT_AT.match(folded, start) and _UNIT_PLACE.search(before):
                return False
        return not (latin(folded[end - 1]) and end < len(folded) and latin(folded[end]))
