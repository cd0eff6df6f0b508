"""The product taxonomy at work: the lexicon the post parser reads product words
with (names, synonyms and local names, English names, full pinyin), built from the
database once per process and rebuilt after any change to the taxonomy."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from mailbox.models import Product, ProductCategory, ProductWord
from mailbox.post_parsing import Lexicon, Parsed, parse
from ruralinfo.extensions import db

_CACHE = "mailbox.lexicon"


def lexicon() -> Lexicon:
    """The lexicon of active products; cached per app until ``changed`` is called (or
    another process changed the taxonomy: the number of words is checked)."""
    cached = current_app.extensions.get(_CACHE)
    stamp = _stamp()
    if cached is None or cached[0] != stamp:
        cached = (stamp, Lexicon(_entries()))
        current_app.extensions[_CACHE] = cached
    return cached[1]


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


def by_code(code: str | None) -> Product | None:
    if not code:
        return None
    return db.session.scalar(select(Product).where(Product.code == code))


def category_named(text: str) -> ProductCategory | None:
    """The category a post names at its start when it names no product (``水果 …``,
    ``fruit …``): a buyer may ask for any product of a category."""
    head = text.strip().lower()
    for category in db.session.scalars(select(ProductCategory)):
        words = [category.name_zh, category.name_en.lower(), *filter(None, category.synonyms.split(";"))]
        if any(word and head.startswith(word) for word in sorted(words, key=len, reverse=True)):
            return category
    return None
