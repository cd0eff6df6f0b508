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
asked for, however many posts there are. The statement for each shape of post
(which side, product or category, how long its region code is, whether it gives a
price and a quantity) is built once per process with bound parameters: a new post
only fills in its values.
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import DateTime, and_, bindparam, case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload

from mailbox import products
from mailbox.models import BUY, OPEN, PUBLISHED, SELL, Post, Product
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.regions.models import Region
from ruralinfo.timeutil import now_utc

LEVELS = (12, 9, 6, 4, 2)  # village, township, county, city, province: a region code's prefixes


def distance(code_length: int, posts=Post):
    """0 for the same village … 4 for the same province, 5 for farther or unknown, for
    a post whose region code (bound as ``code`` and its prefixes ``code9`` …) is this long.
    ``posts``: the candidates (``_candidates``), Post by default."""
    if not code_length:
        return literal(5)
    steps = [(posts.region_code == bindparam("code"), 0)]
    steps += [(func.substr(posts.region_code, 1, n) == bindparam(f"code{n}"), level)
              for level, n in enumerate(LEVELS[1:], start=1) if n <= code_length]
    return case(*steps, else_=5)


def price_fit(kind: str, priced: bool, posts=Post):
    """0 when the prices fit (asking ≤ offered), 1 when unknown, 2 when they do not, for
    a post of ``kind`` whose normalised price (``price`` per ``price_unit``) is given or not."""
    if not priced:
        return literal(1)
    price = bindparam("price", type_=Post.base_price.type)
    comparable = and_(posts.base_price.is_not(None), posts.base_price_unit == bindparam("price_unit"))
    fits = posts.base_price >= price if kind == SELL else posts.base_price <= price
    return case((and_(comparable, fits), 0), (comparable, 2), else_=1)


def quantity_fit(sized: bool, posts=Post):
    """The smaller quantity over the larger, in the same base unit (1 = perfect), else 0,
    for a post whose normalised quantity (``quantity`` in ``base_unit``) is given or not."""
    if not sized:
        return literal(0)
    mine = bindparam("quantity", type_=Post.base_quantity.type)
    comparable = and_(posts.base_quantity > 0, posts.base_unit == bindparam("base_unit"))
    return case((and_(comparable, posts.base_quantity <= mine), posts.base_quantity / mine),
                (comparable, mine / func.nullif(posts.base_quantity, 0)), else_=0)


def _shape(post: Post) -> tuple | None:
    """What the statement for ``post`` depends on besides values: None when nothing can
    match it (no product, and not a buyer asking for a category)."""
    if post.product_id is not None:
        target = "category" if post.kind == SELL and products.category_of(post.product_id) is not None else "product"
    elif post.kind == BUY and post.category_id is not None:
        target = "in-category"
    else:
        return None
    return (post.kind, target, len(post.region_code or ""), post.base_price is not None, bool(post.base_quantity))


def _values(post: Post) -> dict:
    code = post.region_code or ""
    category = products.category_of(post.product_id) if post.product_id is not None else post.category_id
    return {"other": BUY if post.kind == SELL else SELL, "owner": post.user_id, "now": now_utc(),
            "product": post.product_id, "category": category, "code": code,
            **{f"code{n}": code[:n] for n in LEVELS[1:]}, "price": post.base_price,
            "price_unit": post.base_price_unit, "quantity": post.base_quantity, "base_unit": post.base_unit}


READ = ("id", "region_code", "base_price", "base_price_unit", "base_quantity", "base_unit", "created_at")


@cache
def _candidates(shape: tuple):
    """The open posts that match a post of this shape, as an entity over the columns the
    rule reads (on PostgreSQL the covering index ``ix_posts_matching`` holds them all).
    A seller's matches are two branches, not one OR — the buyers of the product, and
    those who asked for its category — so that each is read from its own index, the
    product's from the index alone, without the table."""
    _kind, target, *_rest = shape
    still_open = (Post.kind == bindparam("other"), Post.status == OPEN, Post.moderation == PUBLISHED,
                  Post.user_id != bindparam("owner"),
                  or_(Post.expires_at.is_(None), Post.expires_at > bindparam("now", type_=DateTime)))

    def branch(*where):
        return select(*(getattr(Post, column) for column in READ)).where(*still_open, *where)

    if target == "in-category":  # 买 水果: any product of the category
        rows = branch(Post.product_id.in_(select(Product.id).where(Product.category_id == bindparam("category"))))
    elif target == "category":  # a sell post also matches the buyers who asked for its category
        rows = union_all(branch(Post.product_id == bindparam("product")),
                         branch(Post.product_id.is_(None), Post.category_id == bindparam("category")))
    else:
        rows = branch(Post.product_id == bindparam("product"))
    return aliased(Post, rows.subquery("candidates"), adapt_on_names=True)


@cache
def _ranking(shape: tuple, limit: int):
    """Ids of the best ``limit`` matches, best first, each with the number of all matches."""
    kind, _target, code_length, priced, sized = shape
    posts = _candidates(shape)
    return (select(posts.id, func.count().over())
            .order_by(distance(code_length, posts), price_fit(kind, priced, posts),
                      quantity_fit(sized, posts).desc(), posts.created_at.desc(), posts.id.desc()).limit(limit))


def best(post: Post, limit: int = 3) -> tuple[int, list[Post]]:
    """How many posts match ``post``, and the best ``limit`` of them, best first: one
    statement ranks and counts (the count rides along as a window over every match)."""
    shape = _shape(post)
    if shape is None:
        return 0, []
    rows = db.session.execute(_ranking(shape, limit), _values(post)).all()
    return (rows[0][1] if rows else 0), _load([row[0] for row in rows])


def ranked(post: Post, limit: int = 3) -> list[Post]:
    """The best ``limit`` matches of ``post``, best first."""
    return best(post, limit)[1]


def count(post: Post) -> int:
    """How many posts match ``post``."""
    shape = _shape(post)
    if shape is None:
        return 0
    return db.session.scalar(select(func.count(_candidates(shape).id)), _values(post))


def _load(ids: list[int]) -> list[Post]:
    """The posts ``ids`` in that order, with what a match line shows — the owner's name
    (masked there), the product's names — and the names of their township and village
    (``place_names``), in one statement. The ranking read ids only: the index holds every
    column the rule reads."""
    if not ids:
        return []
    found = {}
    for post, town_name, village_name in db.session.execute(_shown(), {"ids": ids}).all():
        code = post.region_code or ""
        post.place_names = {key: name for key, name in ((code[:9], town_name), (code, village_name)) if name}
        found[post.id] = post
    return [found[post_id] for post_id in ids]


@cache
def _shown():
    town, village = aliased(Region), aliased(Region)
    return (select(Post, town.name, village.name).where(Post.id.in_(bindparam("ids", expanding=True)))
            .options(joinedload(Post.user).load_only(User.id, User.name, User.phone, User.language, User.active,
                                                     User.sms_opt_out).lazyload(User.region),
                     joinedload(Post.product).load_only(Product.id, Product.name_zh, Product.name_en, Product.code))
            .outerjoin(town, town.code == func.substr(Post.region_code, 1, 9))
            .outerjoin(village, and_(village.code == Post.region_code, func.length(Post.region_code) > 9)))
