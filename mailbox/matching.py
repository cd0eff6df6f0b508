"""Which open posts of the other side match a post, best first: the one ranking
rule of the platform, in one place.

A sell post matches the open buy posts of the same product, and the buy posts
that asked for its category (``买 水果``); a buy post matches the open sell posts of
its product, or of any product of the category it asked for. Never one's own,
never a closed or expired post. They are ranked by, in this order:

1. **distance**, through the region codes: same village, then township, county,
   city, province, then anywhere (``distance``);
2. **price fit**, when both give a normalised price per the same unit: the asking
   price at or below the offered one fits best, no price (or another unit) next,
   a price that does not fit last (``price_fit``);
3. **quantity fit**: the smaller quantity over the larger, when both are given in
   the same base unit — 1 is a perfect fit (``quantity_fit``);
4. **freshness**: the newest first.

The rule is built as SQL ordering, so the database ranks and returns only the few
asked for, however many posts there are.
"""
from __future__ import annotations

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import joinedload

from mailbox import products
from mailbox.models import BUY, OPEN, PUBLISHED, SELL, Post, Product
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

LEVELS = (12, 9, 6, 4, 2)  # village, township, county, city, province: a region code's prefixes


def distance(post: Post):
    """0 for the same village … 4 for the same province, 5 for farther or unknown."""
    code = post.region_code
    if not code:
        return literal(5)
    steps = [(Post.region_code == code, 0)]
    steps += [(func.substr(Post.region_code, 1, n) == code[:n], level)
              for level, n in enumerate(LEVELS[1:], start=1) if n <= len(code)]
    return case(*steps, else_=5)


def price_fit(post: Post):
    """0 when the prices fit (asking ≤ offered), 1 when unknown, 2 when they do not."""
    if post.base_price is None:
        return literal(1)
    comparable = and_(Post.base_price.is_not(None), Post.base_price_unit == post.base_price_unit)
    fits = Post.base_price >= post.base_price if post.kind == SELL else Post.base_price <= post.base_price
    return case((and_(comparable, fits), 0), (comparable, 2), else_=1)


def quantity_fit(post: Post):
    """The smaller quantity over the larger, in the same base unit (1 = perfect), else 0."""
    if post.base_quantity is None or not post.base_quantity:
        return literal(0)
    mine = post.base_quantity
    comparable = and_(Post.base_quantity > 0, Post.base_unit == post.base_unit)
    return case((and_(comparable, Post.base_quantity <= mine), Post.base_quantity / mine),
                (comparable, mine / func.nullif(Post.base_quantity, 0)), else_=0)


def candidates(post: Post):
    """A select of the open posts that match ``post`` (unordered); None when nothing can."""
    other = BUY if post.kind == SELL else SELL
    now = now_utc()
    base = select(Post).where(Post.kind == other, Post.status == OPEN, Post.moderation == PUBLISHED,
                              Post.user_id != post.user_id,
                              or_(Post.expires_at.is_(None), Post.expires_at > now))
    if post.product_id is not None:
        same = Post.product_id == post.product_id
        category = products.category_of(post.product_id)
        if other == BUY and category is not None:  # buyers who asked for the category, e.g. 买 水果
            same = or_(same, and_(Post.product_id.is_(None), Post.category_id == category))
        return base.where(same)
    if post.kind == BUY and post.category_id is not None:
        in_category = select(Product.id).where(Product.category_id == post.category_id)
        return base.where(Post.product_id.in_(in_category))
    return None


def ranked(post: Post, limit: int = 3) -> list[Post]:
    """The best ``limit`` matches of ``post``, best first."""
    query = candidates(post)
    if query is None:
        return []
    # rank ids only (the index holds every column the rule reads), then load the few chosen
    ids = db.session.scalars(query.with_only_columns(Post.id).order_by(
        distance(post), price_fit(post), quantity_fit(post).desc(), Post.created_at.desc(), Post.id.desc())
        .limit(limit)).all()
    # with just what a match line shows: the owner's name (masked there), the product's names
    shown = (joinedload(Post.user).load_only(User.id, User.name, User.phone, User.language, User.active,
                                             User.sms_opt_out).lazyload(User.region),
             joinedload(Post.product).load_only(Product.id, Product.name_zh, Product.name_en, Product.code))
    found = {item.id: item for item in db.session.scalars(select(Post).where(Post.id.in_(ids)).options(*shown))} \
        if ids else {}
    return [found[post_id] for post_id in ids]


def count(post: Post) -> int:
    query = candidates(post)
    if query is None:
        return 0
    return db.session.scalar(query.with_only_columns(func.count(Post.id)).order_by(None))
