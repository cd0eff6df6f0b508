"""The product taxonomy at work: the lexicon the post parser reads product words
with (names, synonyms and local names, English names, full pinyin), built from the
database once per process and rebuilt after any change to the taxonomy."""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from mailbox.models import Product, ProductCategory, ProductWord
from mailbox.lexicon import Lexicon
from mailbox.post_parsing import Parsed, parse
from ruralinfo.extensions import db

_CACHE = "mailbox.lexicon"


RECHECK = 10.0  # seconds: how soon another process's change of the taxonomy is noticed


@dataclass
class _Known:
    """What this process knows of the taxonomy: the lexicon, each product's id and
    category by code, and when the database was last checked for changes."""

    stamp: tuple
    lexicon: Lexicon
    ids: dict[str, tuple[int, int | None]]  # code → (id, category id)
    categories: dict[int, int | None]  # id → category id
    names: dict[int, tuple[str, str]]  # id → (Chinese name, English name)
    checked: float


def _known() -> _Known:
    """Cached per app until ``changed`` is called here; another process's change is
    noticed within ``RECHECK`` seconds (the stamp is read at most that often)."""
    known = current_app.extensions.get(_CACHE)
    now = time.monotonic()
    if known is not None and now - known.checked < RECHECK:
        return known
    stamp = _stamp()
    if known is None or known.stamp != stamp:
        rows = db.session.execute(select(Product.code, Product.id, Product.category_id, Product.name_zh,
                                         Product.name_en)).all()
        known = _Known(stamp, Lexicon(_entries()), {row.code: (row.id, row.category_id) for row in rows},
                       {row.id: row.category_id for row in rows}, {row.id: (row.name_zh, row.name_en) for row in rows},
                       now)
        current_app.extensions[_CACHE] = known
    known.checked = now
    return known


def lexicon() -> Lexicon:
    """The lexicon of active products."""
    return _known().lexicon


def category_of(product_id: int) -> int | None:
    """A product's category, from the cache (matching asks for every new post)."""
    return _known().categories.get(product_id)


def changed() -> None:
    """After an edit of the taxonomy: the next post reads with the new words."""
    current_app.extensions.pop(_CACHE, None)


def _stamp() -> tuple:
    """What changes with any edit of the taxonomy, read in two cheap queries: words added
    or removed, products retired or reactivated, names and pinyin renamed."""
    words = db.session.execute(select(func.count(ProductWord.id), func.max(ProductWord.id),
                                      func.sum(func.length(ProductWord.word)))).one()
    names = db.session.execute(select(func.count(Product.id), func.sum(func.length(Product.name_en)),
                                      func.sum(func.length(Product.pinyin)), func.max(Product.id))
                               .where(Product.active.is_(True))).one()
    return tuple(words) + tuple(names)


def _entries() -> list[tuple[str, str]]:
    """(word, product code): Chinese words first (they win a clash), then English and pinyin."""
    active = Product.active.is_(True)
    words = db.session.execute(select(ProductWord.word, Product.code).join(Product).where(active)
                               .order_by(ProductWord.kind != "name", ProductWord.id)).all()
    names = db.session.execute(select(Product.name_en, Product.pinyin, Product.code)
                               .where(active, Product.unit != "")).all()
    return ([(word, code) for word, code in words] + [(english, code) for english, _p, code in names]
            + [(pinyin, code) for _e, pinyin, code in names])


def understand(text: str) -> Parsed:
    """How a post's text is understood (never raises)."""
    return parse(text, lexicon())


def id_of(code: str | None) -> int | None:
    """The id of the product with ``code``, from the cache."""
    found = _known().ids.get(code) if code else None
    return found[0] if found else None


def label(product_id: int | None, locale: str) -> str | None:
    """A product's name in ``locale`` (English for ``en``, else Chinese), from the cache."""
    names = _known().names.get(product_id) if product_id is not None else None
    if names is None:
        return None
    return names[1] if locale == "en" else names[0]


def by_code(code: str | None) -> Product | None:
    if not code:
        return None
    found = _known().ids.get(code)
    return db.session.get(Product, found[0]) if found else None  # from the identity map when loaded


def category_named(text: str) -> ProductCategory | None:
    """The category a post names at its start when it names no product (``水果 …``,
    ``fruit …``): a buyer may ask for any product of a category."""
    head = text.strip().lower()
    for category in db.session.scalars(select(ProductCategory)):
        words = [category.name_zh, category.name_en.lower(), *filter(None, category.synonyms.split(";"))]
        if any(word and head.startswith(word) for word in sorted(words, key=len, reverse=True)):
            return category
    return None
