"""What the admin pages show of the product taxonomy: the products by category (or
those a search finds), the classes of the tree, post counts, a product's history.
The changes and their rules are in ``mailbox.taxonomy``."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from mailbox.models import OPEN, Post, Product, ProductCategory, ProductWord
from mailbox.taxonomy import clean
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db


def categories() -> list[ProductCategory]:
    return list(db.session.scalars(select(ProductCategory).order_by(ProductCategory.id)))


def classes() -> list[Product]:
    """The active classes of the tree (what products go under), by code."""
    return list(db.session.scalars(select(Product).where(Product.unit == "", Product.active.is_(True))
                                   .order_by(Product.code)))


def names() -> dict[str, str]:
    """Code → Chinese name of every row of the tree (to name parents)."""
    return dict(db.session.execute(select(Product.code, Product.name_zh)).all())


def listing(query: str = "") -> tuple[list[tuple[ProductCategory | None, list[Product]]], list[Product]]:
    """Products grouped by category (in category order, each by code) and the classes of the
    tree; only those matching ``query`` — Chinese name or any word, English, full pinyin or
    initials, or the start of the code — when it is given."""
    stmt = select(Product).options(selectinload(Product.words)).order_by(Product.code)
    query = clean(query)
    if query:
        lower = query.lower()
        stmt = stmt.where(or_(Product.name_zh.contains(query, autoescape=True),
                              Product.words.any(ProductWord.word.contains(query, autoescape=True)),
                              func.lower(Product.name_en).contains(lower, autoescape=True),
                              Product.pinyin.startswith(lower.replace(" ", ""), autoescape=True),
                              Product.initials.startswith(lower, autoescape=True),
                              Product.code.startswith(query, autoescape=True)))
    rows = list(db.session.scalars(stmt))
    grouped: dict[int | None, list[Product]] = {}
    for row in rows:
        if row.is_product:
            grouped.setdefault(row.category_id, []).append(row)
    order = [(c, grouped.pop(c.id)) for c in categories() if c.id in grouped]
    order += [(None, rest) for rest in grouped.values()]
    return order, [row for row in rows if not row.is_product]


def post_counts(product: Product | None = None) -> dict[int, tuple[int, int]]:
    """Product id → (posts, open posts)."""
    stmt = select(Post.product_id, func.count(), func.count().filter(Post.status == OPEN)).group_by(Post.product_id)
    if product is not None:
        stmt = stmt.where(Post.product_id == product.id)
    return {pid: (total, open_) for pid, total, open_ in db.session.execute(stmt.where(Post.product_id.is_not(None)))}


def merged_into(product: Product) -> list[Product]:
    """The products merged into ``product``."""
    return list(db.session.scalars(select(Product).where(Product.merged_into_id == product.id)
                                   .order_by(Product.code)))


def history(product: Product, limit: int = 50):
    """The product's audit entries, newest first."""
    return list(db.session.scalars(audit.query(target_type=Product.__tablename__, target_id=product.id)
                                   .limit(limit)))
