"""How the market works, for the bureau: posts, matches, contact requests, consents
and deals per ISO week (in the bureau's time zone) and per category, deals per 100
posts (Jiaxing's 农民信箱 recorded about 3.9), and the median asking price of the
most posted products week by week.

Rows are fetched for the period with plain, portable queries and counted here in
Python, so that weeks follow the local time zone on SQLite and PostgreSQL alike.
What counts in a week:

- a post, a match (one row a pair) and a contact request: when it was made;
- a consent: when the owner agreed (同意 N);
- a deal: one per post that was reported traded, in the week of its first report
  (both sides may report the same trade: it is one deal).

A post's category is its product's, or the category a buyer asked for (买 水果);
posts of an unknown product fall under "unclassified" (``None``).
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from mailbox.models import AGREED, BUY, SELL, ContactRequest, Deal, Post, PostMatch, Product, ProductCategory
from ruralinfo.extensions import db
from ruralinfo.timeutil import local_zone, now_utc

PERIODS = (4, 12, 26, 52)  # weeks the bureau may choose
DEFAULT_WEEKS = 12
PRICE_WEEKS = 12
TOP_PRODUCTS = 5
JIAXING_DEALS_PER_100 = Decimal("3.9")  # 嘉兴农民信箱: deals per 100 posts, the figure to beat
PRICE_UNIT = "公斤"  # medians compare weight prices only, all in 元/公斤


@dataclass
class Counts:
    sell: int = 0
    buy: int = 0
    matches: int = 0
    contacts: int = 0
    consents: int = 0
    deals: int = 0

    @property
    def posts(self) -> int:
        return self.sell + self.buy

    @property
    def deals_per_100(self) -> Decimal | None:
        """Deals per 100 posts, one decimal; ``None`` when there were no posts."""
        if not self.posts:
            return None
        return (Decimal(self.deals * 100) / self.posts).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Week:
    start: date  # the local Monday

    @property
    def label(self) -> str:
        year, week, _day = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def end(self) -> date:
        return self.start + timedelta(days=7)

    @property
    def utc_start(self) -> datetime:
        return utc_midnight(self.start)

    @property
    def utc_end(self) -> datetime:
        return utc_midnight(self.end)


@dataclass
class Summary:
    weeks: list[Week]
    by_week: dict[date, Counts]
    by_category: list[tuple[ProductCategory | None, Counts]]
    total: Counts
    reference: Decimal = JIAXING_DEALS_PER_100


@dataclass
class ProductPrices:
    product: Product
    posts: int  # all its posts in the period: what made it a top product
    medians: list[Decimal | None] = field(default_factory=list)  # one a week, 元/公斤
    priced: list[int] = field(default_factory=list)  # sell posts with a weight price, a week


# --- weeks ------------------------------------------------------------------------------------

def utc_midnight(day: date) -> datetime:
    """Local midnight at the start of ``day``, as the naive UTC the database stores."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC).replace(tzinfo=None)


def week_of(moment: datetime) -> date:
    """The local Monday of the ISO week a stored (naive UTC) time falls in."""
    local = moment.replace(tzinfo=UTC).astimezone(local_zone()).date()
    return local - timedelta(days=local.weekday())


def last_weeks(count: int, now: datetime | None = None) -> list[Week]:
    """The last ``count`` ISO weeks, oldest first, the current week last."""
    this_monday = week_of(now or now_utc())
    return [Week(this_monday - timedelta(weeks=back)) for back in range(count - 1, -1, -1)]


def clean_period(weeks: object) -> int:
    try:
        weeks = int(weeks)
    except (TypeError, ValueError):
        return DEFAULT_WEEKS
    return weeks if weeks in PERIODS else DEFAULT_WEEKS


# --- rows -------------------------------------------------------------------------------------

def _category():
    return func.coalesce(Product.category_id, Post.category_id)


def _post_rows(start: datetime, end: datetime):
    return db.session.execute(
        select(Post.created_at, _category(), Post.kind).outerjoin(Product, Product.id == Post.product_id)
        .where(Post.created_at >= start, Post.created_at < end)).all()


def _match_rows(start: datetime, end: datetime):
    return db.session.execute(
        select(PostMatch.created_at, _category()).join(Post, Post.id == PostMatch.post_id)
        .outerjoin(Product, Product.id == Post.product_id)
        .where(PostMatch.created_at >= start, PostMatch.created_at < end)).all()


def _contact_rows(moment, start: datetime, end: datetime, *conditions):
    return db.session.execute(
        select(moment, _category()).join(Post, Post.id == ContactRequest.post_id)
        .outerjoin(Product, Product.id == Post.product_id)
        .where(moment >= start, moment < end, *conditions)).all()


def _deal_rows(start: datetime, end: datetime):
    first = (select(Deal.post_id.label("post_id"), func.min(Deal.created_at).label("at"))
             .group_by(Deal.post_id).subquery())
    return db.session.execute(
        select(first.c.at, _category()).join(Post, Post.id == first.c.post_id)
        .outerjoin(Product, Product.id == Post.product_id)
        .where(first.c.at >= start, first.c.at < end)).all()


def summary(weeks: int = DEFAULT_WEEKS, now: datetime | None = None) -> Summary:
    """Every measure per week and per category over the last ``weeks`` weeks."""
    period = last_weeks(weeks, now)
    start, end = period[0].utc_start, period[-1].utc_end
    by_week = {week.start: Counts() for week in period}
    by_category: dict[int | None, Counts] = defaultdict(Counts)
    total = Counts()

    def add(rows, measure: str) -> None:
        for row in rows:
            moment, category = row[0], row[1]
            name = measure if measure != "posts" else row[2]
            for counts in (by_week.get(week_of(moment)), by_category[category], total):
                if counts is not None:
                    setattr(counts, name, getattr(counts, name) + 1)

    add(_post_rows(start, end), "posts")
    add(_match_rows(start, end), "matches")
    add(_contact_rows(ContactRequest.created_at, start, end), "contacts")
    add(_contact_rows(ContactRequest.answered_at, start, end, ContactRequest.status == AGREED), "consents")
    add(_deal_rows(start, end), "deals")
    return Summary(period, by_week, _with_categories(by_category), total)


def _with_categories(by_id: dict[int | None, Counts]) -> list[tuple[ProductCategory | None, Counts]]:
    """Categories with any activity, the most posts first; unclassified last."""
    ids = [key for key in by_id if key is not None]
    found = {c.id: c for c in db.session.scalars(select(ProductCategory).where(ProductCategory.id.in_(ids)))}
    rows = sorted(((found.get(key), counts) for key, counts in by_id.items() if key is not None),
                  key=lambda pair: (-pair[1].posts, pair[0].id if pair[0] else 0))
    if None in by_id:
        rows.append((None, by_id[None]))
    return rows


# --- prices -----------------------------------------------------------------------------------

def median_prices(weeks: int = PRICE_WEEKS, top: int = TOP_PRODUCTS,
                  now: datetime | None = None) -> tuple[list[Week], list[ProductPrices]]:
    """The median asking price (sell posts, 元/公斤) per week of the ``top`` products
    with the most posts among those with a weight price in the period."""
    period = last_weeks(weeks, now)
    start, end = period[0].utc_start, period[-1].utc_end
    priced = db.session.execute(
        select(Post.product_id, Post.created_at, Post.base_price)
        .where(Post.kind == SELL, Post.product_id.is_not(None), Post.base_price.is_not(None),
               Post.base_price_unit == PRICE_UNIT, Post.created_at >= start, Post.created_at < end)).all()
    prices: dict[int, dict[date, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for product_id, created_at, price in priced:
        prices[product_id][week_of(created_at)].append(Decimal(price))
    if not prices:
        return period, []
    posts = Counter(dict(db.session.execute(
        select(Post.product_id, func.count(Post.id))
        .where(Post.product_id.in_(list(prices)), Post.kind.in_((SELL, BUY)),
               Post.created_at >= start, Post.created_at < end)
        .group_by(Post.product_id)).all()))
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(list(prices))))}
    chosen = sorted(prices, key=lambda pid: (-posts[pid], products[pid].code))[:top]
    series = []
    for product_id in chosen:
        weekly = prices[product_id]
        series.append(ProductPrices(
            products[product_id], posts[product_id],
            [_median(weekly.get(week.start)) for week in period],
            [len(weekly.get(week.start, ())) for week in period]))
    return period, series


def _median(values: list[Decimal] | None) -> Decimal | None:
    if not values:
        return None
    return Decimal(statistics.median(values)).quantize(Decimal("0.01"))
