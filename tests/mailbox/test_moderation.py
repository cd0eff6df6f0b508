"""Moderation both ways: held posts (banned words, unusual prices, the county's choice)
are neither matched nor listed until the bureau publishes them; rejected and hidden
posts' owners are told why."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbox import market, matching
from mailbox import services as mailbox
from mailbox.models import BUY, SELL, Post
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from tests.conftest import BALI, CHANGXI, WUXINGDIAN


@pytest.fixture
def clerk(client, make_staff, login):
    user = make_staff(roles.STAFF)
    login(user)
    return user


def listed(post) -> bool:
    return post.id in {p.id for p in market.search(page=1).items}


def test_a_banned_word_holds_a_post_until_the_bureau_publishes_it(app, client, clerk, make_farmer, text_in):
    app.config["POST_BANNED_WORDS"] = "假种子;高利贷"
    buyer = make_farmer(region_code=BALI, name="王买")
    wanted = mailbox.create_post(buyer, BUY, "玉米种子 50斤", channel="web")
    seller = make_farmer(region_code=CHANGXI, name="李卖")
    _response, reply = text_in(seller.phone, "卖 玉米种子 50斤 假种子便宜卖")
    post = db.session.scalar(select(Post).where(Post.user_id == seller.id))
    assert post.moderation == "held" and "假种子" in post.review_reason
    assert str(post.id) in reply and "审核后发布" in reply
    assert not listed(post) and matching.ranked(wanted, 10) == []
    assert f'id="p{post.id}"' in client.get("/bureau/posts/").get_data(as_text=True)
    client.post(f"/bureau/posts/{post.id}/approve")
    db.session.expire_all()
    assert post.moderation == "published" and listed(post)
    assert [p.id for p in matching.ranked(wanted, 10)] == [post.id]  # matched once published


def test_every_post_waits_when_the_county_reviews_before(app, client, clerk, make_farmer):
    app.config["POST_MODERATION"] = "before"
    post = mailbox.create_post(make_farmer(region_code=CHANGXI), SELL, "土豆 500斤", channel="web")
    assert post.moderation == "held" and not listed(post)
    refused = client.post(f"/bureau/posts/{post.id}/reject", data={"reason": " "}, follow_redirects=True)
    assert "error" in refused.get_data(as_text=True) and db.session.get(Post, post.id).moderation == "held"
    client.post(f"/bureau/posts/{post.id}/reject", data={"reason": "请写明产地"})
    db.session.expire_all()
    assert post.moderation == "rejected" and post.review_reason == "请写明产地"
    told = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.to == post.user.phone)
                              .order_by(OutboundMessage.id.desc())).first()
    assert "请写明产地" in told


def test_an_unusual_price_is_held(app, make_farmer):
    for place, price in ((CHANGXI, "1.5"), (BALI, "1.6"), (WUXINGDIAN, "1.4")):
        mailbox.create_post(make_farmer(region_code=place), SELL, f"土豆 500斤 {price}元/斤", channel="web")
    fair = mailbox.create_post(make_farmer(region_code=CHANGXI), SELL, "土豆 300斤 1.8元/斤", channel="web")
    odd = mailbox.create_post(make_farmer(region_code=CHANGXI), SELL, "土豆 300斤 9元/斤", channel="web")
    assert fair.moderation == "published" and odd.moderation == "held" and "median" in odd.review_reason


@pytest.mark.parametrize("prices, expected", [
    (["1.5", "1.6"], None),  # too few to mean anything
    (["1.0", "3.0", "2.0"], "2.0"),  # odd: the middle one
    (["1.0", "4.0", "2.0", "3.0"], "2.5"),  # even: the mean of the two middle ones
    (["1.5", "1.5", "1.5", "9.0"], "1.5"),
])
def test_the_county_median_is_the_middle_of_the_open_prices(app, make_farmer, prices, expected):
    from decimal import Decimal

    from mailbox import moderation

    for n, price in enumerate(prices):
        mailbox.create_post(make_farmer(region_code=(CHANGXI, BALI)[n % 2]), SELL, f"土豆 100斤 {price}元/公斤",
                            channel="web")
    mailbox.create_post(make_farmer(region_code=CHANGXI), BUY, "土豆 100斤 50元/公斤", channel="web")  # not asking
    new = mailbox.create_post(make_farmer(region_code=CHANGXI), SELL, "土豆 100斤", channel="web")
    new.base_price, new.base_price_unit = Decimal("1"), "公斤"
    assert moderation.county_median(new) == (Decimal(expected) if expected else None)


def test_the_bureau_hides_a_published_post(app, client, clerk, make_farmer):
    post = mailbox.create_post(make_farmer(region_code=CHANGXI), SELL, "土豆 500斤", channel="web")
    client.post("/bureau/posts/hide", data={"post_id": post.id, "reason": "重复发布"})
    db.session.expire_all()
    assert post.moderation == "hidden" and not listed(post)
    assert client.get(f"/market/posts/{post.id}").status_code in (404, 410)
