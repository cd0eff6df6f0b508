"""The bureau's market figures: per week and per category, deals per 100 posts, the
median asking price, the chart, the exports, and who may see them."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from mailbox import contacts, market_chart, market_stats, services
from mailbox.models import ContactRequest, Deal, Post, PostMatch, Product
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc
from tests.conftest import BALI, CHANGXI, PASSWORD, WUXINGDIAN


def _at(post: Post, when: datetime) -> None:
    """Move a post, and the matches found when it was made, to ``when``."""
    db.session.execute(update(Post).where(Post.id == post.id).values(created_at=when))
    db.session.execute(update(PostMatch).where(PostMatch.post_id == post.id).values(created_at=when))


@pytest.fixture
def market(make_farmer):
    """This week: 土豆 sold by 长溪 (1.5元/斤) and 五姓点 (1元/斤), wanted by 巴里, who asks
    the 长溪 seller, is given the number, and both report the deal; 苹果 sold in 巴里.
    Last week: 土豆 sold by 五姓点 (2元/斤) and something unknown wanted.
    Twenty weeks ago: 土豆 sold by 长溪 (outside 12 weeks, inside 26)."""
    this_monday = market_stats.week_of(now_utc())
    this_week = market_stats.utc_midnight(this_monday) + timedelta(hours=1)
    last_week = market_stats.utc_midnight(this_monday - timedelta(weeks=1)) + timedelta(hours=3)
    long_ago = market_stats.utc_midnight(this_monday - timedelta(weeks=20)) + timedelta(hours=3)

    seller = make_farmer(region_code=CHANGXI, name="张三")
    buyer = make_farmer(region_code=BALI, name="李四")
    other = make_farmer(region_code=WUXINGDIAN, name="王五")
    old = services.create_post(seller, "sell", "土豆 300斤 1.2元/斤", channel="web")
    contacts.withdraw(old.id, user=seller, channel="web")
    earlier = services.create_post(other, "sell", "土豆 800斤 2元/斤", channel="web")
    unknown = services.create_post(buyer, "buy", "宇宙飞船 2个", channel="web")
    sold = services.create_post(seller, "sell", "土豆 500斤 1.5元/斤", channel="web")
    wanted = services.create_post(buyer, "buy", "土豆 200斤", channel="web")  # matches `earlier` and `sold`
    cheap = services.create_post(other, "sell", "土豆 400斤 1元/斤", channel="web")  # matches `wanted`
    apples = services.create_post(buyer, "sell", "苹果 100斤 3元/斤", channel="web")
    contacts.ask(sold.id, user=buyer, channel="web")
    contacts.agree(sold.id, owner=seller, channel="web")
    contacts.deal(sold.id, user=seller, rest="", channel="web")
    contacts.deal(sold.id, user=buyer, rest="", channel="web")  # the same trade, reported by both
    db.session.commit()
    assert unknown.product_id is None and unknown.category_id is None
    assert db.session.query(PostMatch).count() == 3

    for post in (sold, wanted, cheap, apples):
        _at(post, this_week)
    for post in (earlier, unknown):
        _at(post, last_week)
    _at(old, long_ago)
    db.session.execute(update(ContactRequest).values(created_at=this_week, answered_at=this_week))
    db.session.execute(update(Deal).values(created_at=this_week + timedelta(minutes=5)))
    db.session.commit()
    potato = db.session.scalar(select(Product).where(Product.name_zh == "土豆"))
    apple = db.session.scalar(select(Product).where(Product.name_zh == "苹果"))
    assert potato.category_id != apple.category_id
    return {"this_monday": this_monday, "potato": potato, "apple": apple, "sold": sold}


def _as_tuple(counts: market_stats.Counts) -> tuple:
    return (counts.sell, counts.buy, counts.matches, counts.contacts, counts.consents, counts.deals)


def test_weeks_follow_the_local_time_zone(app):
    # Sunday 17:00 UTC is Monday 01:00 in Asia/Shanghai: the next ISO week
    assert market_stats.week_of(datetime(2026, 3, 8, 17, 0)).isoformat() == "2026-03-09"
    assert market_stats.week_of(datetime(2026, 3, 8, 15, 59)).isoformat() == "2026-03-02"
    weeks = market_stats.last_weeks(4, now=datetime(2026, 3, 11, 4, 0))
    assert [w.label for w in weeks] == ["2026-W08", "2026-W09", "2026-W10", "2026-W11"]
    assert weeks[-1].utc_start == datetime(2026, 3, 8, 16, 0)  # local midnight, stored as UTC
    assert market_stats.clean_period("26") == 26 and market_stats.clean_period("7") == 12
    assert market_stats.clean_period("x") == 12


def test_figures_per_week_per_category_and_the_ratio(market):
    summary = market_stats.summary(12)
    this_monday = market["this_monday"]
    assert len(summary.weeks) == 12 and summary.weeks[-1].start == this_monday
    assert _as_tuple(summary.by_week[this_monday]) == (3, 1, 3, 1, 1, 1)
    assert _as_tuple(summary.by_week[this_monday - timedelta(weeks=1)]) == (1, 1, 0, 0, 0, 0)
    assert all(_as_tuple(summary.by_week[w.start]) == (0,) * 6 for w in summary.weeks[:-2])
    assert _as_tuple(summary.total) == (4, 2, 3, 1, 1, 1)
    assert summary.total.deals_per_100 == Decimal("16.7")  # 1 deal (reported twice) over 6 posts
    assert summary.by_week[this_monday].deals_per_100 == Decimal("25.0")
    assert summary.by_week[summary.weeks[0].start].deals_per_100 is None
    assert summary.reference == Decimal("3.9")

    by_category = {(c.id if c else None): counts for c, counts in summary.by_category}
    assert [c.id if c else None for c, _ in summary.by_category] == [
        market["potato"].category_id, market["apple"].category_id, None]  # most posts first, unclassified last
    assert _as_tuple(by_category[market["potato"].category_id]) == (3, 1, 3, 1, 1, 1)
    assert by_category[market["potato"].category_id].deals_per_100 == Decimal("25.0")
    assert _as_tuple(by_category[market["apple"].category_id]) == (1, 0, 0, 0, 0, 0)
    assert _as_tuple(by_category[None]) == (0, 1, 0, 0, 0, 0)

    longer = market_stats.summary(26)
    assert _as_tuple(longer.total) == (5, 2, 3, 1, 1, 1)
    assert market_stats.summary(4).total.posts == 6


def test_median_asking_price_per_product_per_week(market):
    weeks, prices = market_stats.median_prices()
    assert len(weeks) == 12
    assert [p.product.name_zh for p in prices] == ["土豆", "苹果"]  # the most posts first
    potato, apple = prices
    assert potato.posts == 4  # three sell posts and one buy post in the 12 weeks
    assert potato.medians[-1] == Decimal("2.50")  # 3 and 2 元/公斤 (1.5 and 1 元/斤)
    assert potato.medians[-2] == Decimal("4.00")  # 2 元/斤
    assert potato.medians[:-2] == [None] * 10 and potato.priced[-2:] == [1, 2]
    assert apple.medians[-1] == Decimal("6.00") and apple.medians[-2] is None
    assert market_stats.median_prices(top=1)[1][0].product.name_zh == "土豆"


def test_the_chart_is_svg_with_attributes_only(app):
    svg = str(market_chart.line_chart(
        [market_chart.Series("土豆 <x>", [Decimal("4"), None, Decimal("2.5"), Decimal("3")]),
         market_chart.Series("苹果", [None, None, Decimal("6"), None])],
        ["W1", "W2", "W3", "W4"], title="Median", unit="元/公斤"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "style" not in svg and "http" not in svg and "<script" not in svg
    assert svg.count("<polyline") == 1  # the gap at W2 leaves 4 alone; 苹果 has one point, no line
    assert svg.count("<circle") == 4 and 'stroke="#2f6b3a"' in svg
    assert "土豆 &lt;x&gt;" in svg and "<x>" not in svg
    assert str(market_chart.line_chart([market_chart.Series("a", [None])], ["W1"], title="t")) == ""


def _login(client, user):
    assert client.post("/login", data={"phone": user.phone, "password": PASSWORD}).status_code == 302


def test_the_page_shows_tables_ratio_and_chart(market, client, make_staff):
    _login(client, make_staff(roles.STAFF))
    response = client.get("/bureau/market")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "16.7" in page and "3.9" in page and "Jiaxing" in page
    assert "<svg" in page and "<polyline" in page and market["potato"].name_en in page
    assert "style=" not in page and "<style" not in page and "http://" not in page and "https://" not in page
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)
    assert 'href="/bureau/market"' in page  # the nav link
    assert "/bureau/market.csv?weeks=12" in page and "/bureau/market.xlsx?weeks=12" in page
    assert "25.0" in page  # this week's and 土豆's category's ratio
    longer = client.get("/bureau/market?weeks=26").get_data(as_text=True)
    assert 'aria-current="page">last 26 weeks' in longer
    assert client.get("/bureau/market?weeks=1000").status_code == 200  # an odd period: the default


def test_the_page_with_nothing_yet(client, make_staff):
    _login(client, make_staff(roles.ADMIN))
    page = client.get("/bureau/market").get_data(as_text=True)
    assert "No sell post with a weight price" in page and "no posts in the last 12 weeks" in page
    assert "<svg" not in page


def test_csv_export(market, client, make_staff):
    _login(client, make_staff(roles.STAFF))
    response = client.get("/bureau/market.csv?weeks=12")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith("\ufeff".encode())
    text = response.data.decode("utf-8-sig")
    assert "\ufeff" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Week", "From (Asia/Shanghai)", "To (Asia/Shanghai)", "Sell posts"]
    assert rows[0][-1] == "Deals per 100 posts"
    this_week = rows[12]
    assert this_week[0] == market_stats.last_weeks(1)[0].label
    assert this_week[1] == market["this_monday"].isoformat() + " 00:00"  # local time
    assert this_week[3:] == ["3", "1", "4", "3", "1", "1", "1", "25.0"]
    assert rows[13][0] == "All weeks" and rows[13][3:] == ["4", "2", "6", "3", "1", "1", "1", "16.7"]
    categories = rows.index(["Category", "Sell posts", "Buy posts", "Posts", "Matches", "Contact requests",
                             "Consents", "Deals", "Deals per 100 posts"])
    assert rows[categories + 3][0] == "Unclassified" and rows[categories + 4][0] == "All categories"
    prices = next(i for i, row in enumerate(rows) if row and row[0] == "Product")
    assert rows[prices][3] == "Median asking price (yuan/kg)"
    potato_rows = [row for row in rows[prices + 1:] if row and row[0] == market["potato"].name_en]
    assert [row[3] for row in potato_rows][-2:] == ["4.0", "2.5"]
    assert rows[-1] == ["Deals per 100 posts in Jiaxing (reference)", "3.9"]


def test_xlsx_export_has_no_formula(market, client, make_staff):
    category = market["apple"].category
    name_en = category.name_en
    category.name_en = '=HYPERLINK("http://evil.example","click")'
    db.session.commit()
    try:
        _login(client, make_staff(roles.ADMIN))
        response = client.get("/bureau/market.xlsx?weeks=26")
        assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
        book = load_workbook(io.BytesIO(response.data))
        assert book.sheetnames == ["Weeks", "Categories", "Median prices"]
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
        weeks = [list(row) for row in book["Weeks"].iter_rows(values_only=True)]
        assert weeks[0][0] == "Week" and len(weeks) == 1 + 26 + 1 + 1 + 1
        assert weeks[27][0] == "All weeks" and weeks[27][3:] == [5, 2, 7, 3, 1, 1, 1, 14.3]
        assert weeks[-1] == ["Deals per 100 posts in Jiaxing (reference)", 3.9] + [None] * 9
        categories = {row[0]: row for row in book["Categories"].iter_rows(values_only=True)}
        assert categories['\'=HYPERLINK("http://evil.example","click")'][1] == 1  # shown as typed, never run
        assert categories["All categories"][3] == 7
        prices = list(book["Median prices"].iter_rows(values_only=True))
        assert prices[0][:2] == ("Product", "Week") and prices[12][3] == 2.5
    finally:
        category.name_en = name_en
        db.session.commit()


@pytest.mark.parametrize("who,status", [(roles.STAFF, 200), (roles.APPROVER, 200), (roles.ADMIN, 200),
                                        (roles.LIAISON, 403), (roles.FARMER, 403), (roles.EXPERT, 403)])
def test_who_may_see_it(client, make_staff, make_farmer, make_point, who, status):
    if who == roles.FARMER:
        user = make_farmer(region_code=CHANGXI)
        accounts.set_password(user, PASSWORD, actor=None, channel="cli")
    else:
        user = make_staff(who, point=make_point() if who == roles.LIAISON else None)
    _login(client, user)
    for url in ("/bureau/market", "/bureau/market.csv", "/bureau/market.xlsx"):
        assert client.get(url).status_code == status, (who, url)


def test_anonymous_is_sent_to_log_in(client):
    for url in ("/bureau/market", "/bureau/market.csv", "/bureau/market.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
