"""The product taxonomy shipped as data: market categories and NY/T 3177-2018 coded products.

Pure module (no Flask, no database): reads ``data/categories.csv``, ``data/products.csv`` and
``data/not_products.csv`` next to this file, and makes pinyin for search. ``data/README.md``
names the sources and the code ranges that extend the standard.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from pypinyin import Style, lazy_pinyin

DATA_DIR = Path(__file__).resolve().parent / "data"
CATEGORY_COLUMNS = ("key", "name_zh", "name_en", "synonyms")
PRODUCT_COLUMNS = ("code", "parent", "name_zh", "name_en", "synonyms", "unit", "category", "extended")
NOT_PRODUCT_COLUMNS = ("word", "looks_like", "is")

# Where pypinyin's dictionaries misread a farm word, the reading it has in product names:
# 参 is shēn in herbs and 海参 (never cān), 术 is zhú (白术), 茄 is qié, 鲌 is bó, 苧 is zhù.
# Matched longest first; the rest of the name is left to pypinyin.
_READINGS: dict[str, tuple[str, ...]] = {
    "参": ("shen",), "术": ("zhu",), "茄": ("qie",), "鲌": ("bo",), "苧": ("zhu",),
    "大黄": ("da", "huang"), "重楼": ("chong", "lou"),
    "长豇": ("chang", "jiang"), "长豆": ("chang", "dou"), "长瓠": ("chang", "hu"),
    "长鱼": ("chang", "yu"),
    "花蛤": ("hua", "ge"), "黄蛤": ("huang", "ge"), "蛤仔": ("ge", "zai"),
    "川朴": ("chuan", "po"), "温朴": ("wen", "po"),
    "佛豆": ("fo", "dou"), "薄膜": ("bo", "mo"), "仔姜": ("zi", "jiang"),
    "八爪": ("ba", "zhua"), "擘蓝": ("pie", "lan"), "粘玉米": ("nian", "yu", "mi"),
}
_READING_LENGTHS = sorted({len(key) for key in _READINGS}, reverse=True)


@dataclass(frozen=True)
class CategoryRow:
    """A market category farmers and buyers think in (粮油, 蔬菜, 水果 …)."""

    key: str
    name_zh: str
    name_en: str
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class ProductRow:
    """A node of the product tree; a product farmers post when it has a unit."""

    code: str
    parent: str | None
    name_zh: str
    name_en: str
    synonyms: tuple[str, ...]
    unit: str
    category: str
    extended: bool

    @property
    def is_product(self) -> bool:
        """Intermediate tree nodes have no unit; products do."""
        return bool(self.unit)


def load_categories(path: Path | None = None) -> list[CategoryRow]:
    """The market categories, in file order."""
    return [
        CategoryRow(
            key=row["key"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            synonyms=_split(row["synonyms"]),
        )
        for row in _read(path or DATA_DIR / "categories.csv", CATEGORY_COLUMNS)
    ]


def load_products(path: Path | None = None) -> list[ProductRow]:
    """Every row of the product tree, sorted by code (parents before children)."""
    return [
        ProductRow(
            code=row["code"],
            parent=row["parent"] or None,
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            synonyms=_split(row["synonyms"]),
            unit=row["unit"],
            category=row["category"],
            extended=_flag(row["extended"], row["code"]),
        )
        for row in _read(path or DATA_DIR / "products.csv", PRODUCT_COLUMNS)
    ]


@dataclass(frozen=True)
class NotProductRow:
    """A word that contains a product's word but names something else (刺角瓜 is no 角瓜)."""

    word: str
    looks_like: str  # the product word inside it
    what: str  # what it is, for the reader


def load_not_products(path: Path | None = None) -> list[NotProductRow]:
    """The words the post parser reads over (``data/not_products.csv``), in file order."""
    return [NotProductRow(word=row["word"], looks_like=row["looks_like"], what=row["is"])
            for row in _read(path or DATA_DIR / "not_products.csv", NOT_PRODUCT_COLUMNS)]


def pinyin(name: str) -> tuple[str, str]:
    """Full pinyin without tones or spaces and the initials: ``土豆`` → ``("tudou", "td")``.

    ü is written ``v`` (``绿豆`` → ``lvdou``), as on a phone keypad; characters that are not
    Chinese are kept as they are, lower-cased.
    """
    syllables: list[str] = []
    initials: list[str] = []
    for piece, reading in _pieces(name):
        if reading is None:
            syllables += lazy_pinyin(piece, style=Style.NORMAL)
            initials += lazy_pinyin(piece, style=Style.FIRST_LETTER)
        else:
            syllables += reading
            initials += [syllable[0] for syllable in reading]
    return _squash("".join(syllables)), _squash("".join(initials))


def _pieces(name: str) -> list[tuple[str, tuple[str, ...] | None]]:
    """Split a name into runs for pypinyin and words with a corrected reading."""
    pieces: list[tuple[str, tuple[str, ...] | None]] = []
    plain, i = "", 0
    while i < len(name):
        key = next((name[i:i + n] for n in _READING_LENGTHS if name[i:i + n] in _READINGS), None)
        if key is None:
            plain += name[i]
            i += 1
            continue
        if plain:
            pieces.append((plain, None))
            plain = ""
        pieces.append((key, _READINGS[key]))
        i += len(key)
    if plain:
        pieces.append((plain, None))
    return pieces


def _read(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != columns:
            raise ValueError(f"{path.name}: expected columns {','.join(columns)}")
        return [{key: (value or "").strip() for key, value in row.items()} for row in reader]


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(";") if part.strip())


def _flag(value: str, code: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError(f"products.csv: extended must be 0 or 1 for code {code}")
    return value == "1"


def _squash(text: str) -> str:
    return "".join(text.split()).lower()
