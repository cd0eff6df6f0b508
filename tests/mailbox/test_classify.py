"""Unclassified posts are classified later by the liaison point or the bureau, and then matched."""
from __future__ import annotations

from sqlalchemy import select

from mailbox import services as mailbox
from mailbox.models import BUY, SELL, PostMatch
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from tests.conftest import BALI, CHANGXI


def test_the_liaison_point_classifies_its_farmers_unclassified_post_which_then_matches(
        client, login, make_point, make_staff, make_farmer):
    point = make_point("长溪村联络点", (CHANGXI,))
    seller = make_farmer(region_code=CHANGXI, name="陈阿毛")
    buyer_post = mailbox.create_post(make_farmer(region_code=BALI, name="李秀英"), BUY, "土豆 300斤", channel="web")
    odd = mailbox.create_post(seller, SELL, "木奶果 500斤", channel="web")  # a word not in the list
    assert odd.product_id is None
    login(make_staff(roles.LIAISON, point=point))
    page = client.get("/liaison/posts/").get_data(as_text=True)
    assert "木奶果" in page
    client.post(f"/liaison/posts/{odd.id}/classify", data={"product": "洋芋"})
    db.session.expire_all()
    assert odd.product.name_zh == "土豆"
    assert db.session.scalar(select(PostMatch).where(PostMatch.post_id == odd.id)).match_id == buyer_post.id


def test_a_liaison_cannot_classify_another_points_post_but_the_bureau_can(
        client, login, make_point, make_staff, make_farmer):
    make_point("长溪村联络点", (CHANGXI,))
    other = make_point("巴里村联络点", (BALI,))
    post = mailbox.create_post(make_farmer(region_code=CHANGXI), SELL, "木奶果 500斤", channel="web")
    login(make_staff(roles.LIAISON, point=other))
    client.post(f"/liaison/posts/{post.id}/classify", data={"product": "土豆"})
    db.session.expire_all()
    assert post.product_id is None
    client.post("/logout")
    login(make_staff(roles.STAFF))
    assert "木奶果" in client.get("/bureau/posts/").get_data(as_text=True)
    client.post(f"/bureau/posts/{post.id}/classify", data={"product": "potato"})
    db.session.expire_all()
    assert post.product.name_zh == "土豆"
