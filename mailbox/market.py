"""The public market (``/market``): which supply and demand posts anyone may see,
how they are searched and ordered, and how a poster and a post's text are shown
without a phone number or a full name. Queries and pure helpers; no request here.
"""
from __future__ import annotations

import re
import unicodedata

from flask import current_app
from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from mailbox.models import BUY, OPEN, PUBLISHED, SELL, Post, Product, ProductCategory, ProductWord
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import Region
from ruralinfo.timeutil import now_utc

PER_PAGE = 20
MAX_QUERY = 40  # characters of ``q`` looked at
PRODUCT_CHOICES = 40  # products offered in the filter: those with the most open posts
WEIGHT_UNITS = frozenset({"斤", "公斤", "吨", "克", "两", "担"})  # what post_parsing turns into 公斤
# Nearest first: same village, township, county, city, province (digits of the code).
NEAR_LEVELS = (12, 9, 6, 4, 2)

# Two-character surnames (复姓): 欧阳修 is 欧阳*, not 欧*.
COMPOUND_SURNAMES = frozenset(
    "欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫 宗政 濮阳 "
    "公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官 司寇 巫马 公西 颛孙 "
    "壤驷 公良 漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 段干 百里 呼延 东郭 南门 羊舌 微生 梁丘 左丘 "
    "西门 第五 东里 即墨 达奚 褚师".split())

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# What could reach the poster in a post's free text: whatever follows "phone / WeChat /
# QQ …" (the word stays), a mobile or fixed-line number (with or without the area code,
# +86, spaces or dashes), an ID number or any other long figure (7+ digits: no quantity
# is written that way), the same in Chinese digits.
_AFTER_WORD = re.compile(
    r"((?:电话|手机|联系|微信|(?<![a-z])(?:tel|phone|mobile|wechat|weixin|vx|qq|call))\s*[:：]?\s*)"
    r"[0-9a-z_+\-](?:\s?[0-9a-z_+\-]){4,}", re.IGNORECASE)
_NUMBER = re.compile(
    r"(?<![0-9])(?:\+?86[\s\-]?)?1[3-9][0-9](?:[\s\-]?[0-9]{4}){2}(?![0-9])"
    r"|(?<![0-9])\(?0[0-9]{2,3}\)?[\s\-]?[0-9]{7,8}(?![0-9])"
    r"|(?<![0-9])[0-9]{7,}[Xx]?(?![0-9])"
    r"|[〇零一二三四五六七八九幺]{7,}")
HIDDEN = "***"


# --- who and what may be shown --------------------------------------------------------------

def masked_name(user: User | None) -> str:
    """The poster as others see them: the surname and ``*`` (张*, 欧阳*)."""
    name = "".join((getattr(user, "name", None) or "").split())
    if not name:
        return "*"
    surname = name[:2] if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else name[0]
    return surname + "*"


def has_contact_number(text: str | None) -> bool:
    """Whether ``text`` carries a phone, ID or other contact number (as ``public_text`` hides them)."""
    shown = (text or "").translate(_FULLWIDTH_DIGITS)
    return bool(_NUMBER.search(shown) or _AFTER_WORD.search(shown))


def public_text(text: str | None, user: User | None = None) -> str:
    """A post's free text (as written, or its notes) fit for anyone to read: contact
    numbers hidden, the poster's full name replaced by the masked one."""
    shown = (text or "").translate(_FULLWIDTH_DIGITS)
    shown = _NUMBER.sub(HIDDEN, _AFTER_WORD.sub(lambda m: m.group(1) + HIDDEN, shown))
    name = "".join((getattr(user, "name", None) or "").split())
    if len(name) >= 2:
        shown = shown.replace(name, masked_name(user))
    return shown


def _now_open():
    """The condition of a public post: open, not expired, of an active account."""
    now = now_utc()
    return and_(Post.status == OPEN, Post.moderation == PUBLISHED, or_(Post.expires_at.is_(None), Post.expires_at > now),
                Post.user_id.in_(select(User.id).where(User.active.is_(True))))


def is_expired(post: Post) -> bool:
    return post.expires_at is not None and post.expires_at <= now_utc()


def is_public(post: Post) -> bool:
    """True while ``post`` is listed in the market."""
    return (post.status == OPEN and post.moderation == PUBLISHED and not is_expired(post) and post.user is not None
            and post.user.active)


# --- search ---------------------------------------------------------------------------------

def clean_query(q: str | None) -> str:
    """``q`` as it is matched: NFKC (full-width letters), lower case, spaces collapsed."""
    text = unicodedata.normalize("NFKC", q or "")
    text = "".join(ch for ch in text if ch.isprintable())
    return " ".join(text.lower().split())[:MAX_QUERY]


def _english_forms(q: str) -> set[str]:
    """``potatoes`` also as ``potato``, ``grapes`` as ``grape``."""
    forms = {q}
    if len(q) > 3 and q.endswith("es"):
        forms.add(q[:-2])
    if len(q) > 2 and q.endswith("s"):
        forms.add(q[:-1])
    return forms


def products_named(q: str):
    """A select of the ids of products that ``q`` names: in Chinese (name or any synonym
    or local name), in English, in full pinyin or its initials (``tudou``, ``td``)."""
    named = [Product.name_zh.contains(q, autoescape=True),
             Product.id.in_(select(ProductWord.product_id)
                            .where(func.lower(ProductWord.word).contains(q, autoescape=True)))]
    if q.isascii():
        compact = q.replace(" ", "")
        named += [func.lower(Product.name_en).contains(form, autoescape=True) for form in _english_forms(q)]
        if compact.isalpha():
            named += [Product.pinyin.contains(compact, autoescape=True),
                      Product.initials.startswith(compact, autoescape=True)]
    return select(Product.id).where(or_(*named))


def _matches_query(q: str):
    """Posts of a product ``q`` names, and unclassified posts whose text has ``q``.
    A query with a long figure never searches texts: it would tell whose post holds
    a phone number."""
    found = [Post.product_id.in_(products_named(q))]
    if not re.search(r"[0-9]{5}", q.replace(" ", "").replace("-", "")):
        found.append(and_(Post.product_id.is_(None), func.lower(Post.text).contains(q, autoescape=True)))
    return or_(*found)


def _in_category(key: str):
    category_id = db.session.scalar(select(ProductCategory.id).where(ProductCategory.key == key))
    if category_id is None:
        return false()
    return or_(Post.product_id.in_(select(Product.id).where(Product.category_id == category_id)),
               Post.category_id == category_id)  # a buyer who asked for a whole category (买 水果)


def _in_product(code: str):
    product_id = db.session.scalar(select(Product.id).where(Product.code == code))
    return Post.product_id == product_id if product_id is not None else false()


def nearness(code: str):
    """0 for a post of village ``code``, then 1 for its township, 2 its county, 3 its
    city, 4 its province, 5 farther or without a place: the shared prefix of the codes."""
    levels = [n for n in NEAR_LEVELS if n <= len(code)]
    return case(*((regions.within(Post.region_code, code[:n]), rank) for rank, n in enumerate(levels)),
                else_=len(levels))


def search(kind: str | None = None, category_key: str | None = None, product_code: str | None = None,
           township_code: str | None = None, q: str = "", near_region: str | None = None, page: int = 1):
    """A page (Flask-SQLAlchemy ``Pagination``, 20 a page) of public posts: open, not
    expired, of an active account. Filters combine; an unknown category or product
    matches nothing. Newest first, or nearest to ``near_region`` (a village code) first
    and then newest."""
    stmt = (select(Post).where(_now_open())
            .options(joinedload(Post.product), selectinload(Post.user)))
    if kind in (SELL, BUY):
        stmt = stmt.where(Post.kind == kind)
    if category_key:
        stmt = stmt.where(_in_category(category_key))
    if product_code:
        stmt = stmt.where(_in_product(product_code))
    if township_code:
        stmt = stmt.where(regions.within(Post.region_code, township_code))
    q = clean_query(q)
    if q:
        stmt = stmt.where(_matches_query(q))
    order = [Post.created_at.desc(), Post.id.desc()]
    if near_region and near_region.isdigit():
        order.insert(0, nearness(near_region))
    return db.paginate(stmt.order_by(*order), page=max(int(page or 1), 1), per_page=PER_PAGE,
                       error_out=False)


def post_or_none(post_id: int) -> Post | None:
    """Post ``post_id`` whatever its state (the page tells open from closed with
    ``is_public``), or None."""
    return db.session.scalar(select(Post).where(Post.id == post_id)
                             .options(joinedload(Post.product), selectinload(Post.user)))


# --- what the filters offer -----------------------------------------------------------------

def townships() -> list[Region]:
    """The townships of the bureau's county (``COUNTY_CODE``)."""
    return regions.children(current_app.config["COUNTY_CODE"])


def categories() -> list[ProductCategory]:
    return list(db.session.scalars(select(ProductCategory).order_by(ProductCategory.id)))


def products_on_offer(category_key: str | None = None, limit: int = PRODUCT_CHOICES) -> list[Product]:
    """The products with the most public posts (of ``category_key``), for the product
    filter: a list of every product would be most of a page."""
    stmt = (select(Product).join(Post, Post.product_id == Product.id).where(_now_open())
            .group_by(Product.id).order_by(func.count(Post.id).desc(), Product.id).limit(limit))
    if category_key:
        stmt = stmt.join(ProductCategory, Product.category_id == ProductCategory.id).where(
            ProductCategory.key == category_key)
    return list(db.session.scalars(stmt))


def product_by_code(code: str | None) -> Product | None:
    return db.session.scalar(select(Product).where(Product.code == code)) if code else None


# --- how a post is shown --------------------------------------------------------------------

def places(posts) -> dict[str, tuple[str, str]]:
    """{region code: (township name, village name)} for the posts' places, in one query."""
    codes = {post.region_code for post in posts if post.region_code}
    wanted = codes | {code[:9] for code in codes if len(code) > 9}
    names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted))).all()) \
        if wanted else {}
    found = {}
    for code in codes:
        if len(code) > 9:
            found[code] = (names.get(code[:9], ""), names.get(code, ""))
        else:
            found[code] = (names.get(code, ""), "")
    return found


def normalised_price(post: Post):
    """The price in 元/公斤 when the post's price is per a weight other than 公斤, else None."""
    unit = post.price_unit or post.unit
    if post.base_price is None or unit not in WEIGHT_UNITS or unit == "公斤":
        return None
    return post.base_price
