"""Consent before contact, deals, withdrawing and renewing — by SMS through the signed webhook."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mailbox.models import Deal, Letter, Post
from ruralinfo.accounts import phones
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from ruralinfo.timeutil import now_utc
from tests.conftest import CHANGXI, OTHER_TOWNSHIP


@pytest.fixture
def seller(make_point, make_farmer):
    make_point("长溪村联络点", (CHANGXI,))
    return make_farmer(region_code=CHANGXI, name="陈阿毛")


@pytest.fixture
def buyer(make_farmer):
    return make_farmer(region_code=OTHER_TOWNSHIP, name="王大海")


def everything_sent_to(user) -> str:
    texts = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.to == user.phone)).all()
    letters = db.session.scalars(select(Letter.body).where(Letter.recipient_id == user.id)).all()
    return "\n".join(texts + letters)


def numbers_of(user) -> list[str]:
    return [user.phone, user.phone.replace("+86", ""), phones.display(user.phone)]


def test_a_seller_and_a_far_buyer_meet_only_after_the_seller_agrees(seller, buyer, text_in):
    _response, reply = text_in(seller.phone, "卖 葡萄苗 500株 3元/株")
    post = db.session.scalar(select(Post))
    _response, asked = text_in(buyer.phone, f"联系 {post.id}")
    assert str(post.id) in asked
    # the owner learns who asks (real name, place), not the number; the buyer learns nothing yet
    request_letter = db.session.scalar(select(Letter).where(Letter.recipient_id == seller.id))
    assert "王大海" in request_letter.body and "观海卫镇" in request_letter.body
    for number in numbers_of(buyer):
        assert number not in everything_sent_to(seller)
    for number in numbers_of(seller):
        assert number not in everything_sent_to(buyer)
    _response, agreed = text_in(seller.phone, "同意")  # plain 同意: the latest request
    assert "王大海" in agreed
    assert phones.display(buyer.phone) in everything_sent_to(seller)
    assert phones.display(seller.phone) in everything_sent_to(buyer)
    assert "陈阿毛" in everything_sent_to(buyer)


def test_bad_contact_requests_get_a_clear_answer_and_change_nothing(seller, buyer, text_in):
    text_in(seller.phone, "卖 葡萄苗 500株")
    post = db.session.scalar(select(Post))
    assert "没有第99999条信息" in text_in(buyer.phone, "联系 99999")[1]
    assert "您自己发布" in text_in(seller.phone, f"联系 {post.id}")[1]
    assert text_in(buyer.phone, "同意")[1].endswith("没有人在等您的答复。")
    assert "您没有" in text_in(buyer.phone, f"成交 {post.id}")[1]
    db.session.refresh(post)
    assert post.status == "open" and db.session.scalar(select(Deal)) is None


def test_deal_withdraw_and_renew_by_the_owner_only(seller, buyer, text_in, app):
    text_in(seller.phone, "卖 葡萄苗 500株 3元/株")
    text_in(seller.phone, "卖 土豆 800斤")
    grapes, potatoes = db.session.scalars(select(Post).order_by(Post.id)).all()
    text_in(buyer.phone, f"联系 {grapes.id}")
    text_in(seller.phone, f"同意 {grapes.id}")
    text_in(buyer.phone, f"成交 {grapes.id} 300株 2.8元/株")  # the buyer's report
    text_in(seller.phone, f"成交 {grapes.id}")
    db.session.expire_all()
    assert grapes.status == "closed" and grapes.outcome == "traded"
    deals = db.session.scalars(select(Deal).order_by(Deal.id)).all()
    assert [(d.user_id, d.quantity) for d in deals] == [(buyer.id, 300), (seller.id, None)]
    potatoes.expires_at = now_utc() + timedelta(days=1)
    db.session.commit()
    text_in(seller.phone, f"续期 {potatoes.id}")
    db.session.expire_all()
    assert potatoes.expires_at > now_utc() + timedelta(days=app.config["POST_DAYS"] - 1)
    assert "您没有" in text_in(buyer.phone, f"撤销 {potatoes.id}")[1]
    text_in(seller.phone, f"撤销 {potatoes.id}")
    db.session.expire_all()
    assert potatoes.status == "closed" and potatoes.outcome == "withdrawn"


def test_at_most_ten_requests_a_day(seller, buyer, make_farmer, text_in):
    for n in range(11):
        text_in(seller.phone, f"卖 葡萄苗 {100 + n}株")
    ids = db.session.scalars(select(Post.id).order_by(Post.id)).all()
    answers = [text_in(buyer.phone, f"联系 {post_id}")[1] for post_id in ids]
    assert "10" in answers[-1] and str(ids[-1]) not in answers[-1]
    assert len(db.session.scalars(select(Letter).where(Letter.recipient_id == seller.id,
                                                       Letter.body.contains("王大海"))).all()) == 10


def test_a_repeated_message_sid_has_no_second_effect(seller, buyer, text_in):
    text_in(seller.phone, "卖 葡萄苗 500株")
    post = db.session.scalar(select(Post))
    first = text_in(buyer.phone, f"联系 {post.id}", sid="SMcontact1")[1]
    again = text_in(buyer.phone, f"联系 {post.id}", sid="SMcontact1")[1]
    assert first == again
    assert len(db.session.scalars(select(Letter).where(Letter.recipient_id == seller.id)).all()) == 1


def test_find_lists_the_nearest_posts_three_per_text(seller, buyer, make_farmer, text_in):
    from tests.conftest import BALI, WUXINGDIAN

    for place, name in ((WUXINGDIAN, "李一"), (BALI, "周二"), (OTHER_TOWNSHIP, "吴三"), (OTHER_TOWNSHIP, "郑四")):
        text_in(make_farmer(region_code=place, name=name).phone, "卖 土豆 300斤 1.2元/斤")
    first = text_in(seller.phone, "查 洋芋")[1]  # a synonym finds 土豆
    assert first.count("#") == 3 and "李*" in first and "周*" in first and "查 洋芋 2" in first  # the township first
    second = text_in(seller.phone, "查 洋芋 2")[1]
    assert second.count("#") == 1 and "观海卫镇" in second
    assert "外星水果" in text_in(seller.phone, "查 外星水果")[1]  # not a product: said so


def test_requests_lapse_and_both_are_asked_once_whether_they_traded(seller, buyer, text_in):
    from mailbox import contacts
    from mailbox.models import ContactRequest

    text_in(seller.phone, "卖 葡萄苗 500株")
    text_in(seller.phone, "卖 土豆 500斤")
    grapes, potatoes = db.session.scalars(select(Post).order_by(Post.id)).all()
    text_in(buyer.phone, f"联系 {grapes.id}")
    text_in(buyer.phone, f"联系 {potatoes.id}")
    text_in(seller.phone, f"同意 {grapes.id}")
    later = now_utc() + timedelta(days=8)
    assert contacts.sweep(now=later) == (1, 1)  # the potato request lapsed; the grape contact is followed up
    assert contacts.sweep(now=later) == (0, 0)  # once
    for person in (seller, buyer):
        asked = db.session.scalars(select(Letter).where(Letter.recipient_id == person.id,
                                                        Letter.body.contains(f"成交{grapes.id}"))).all()
        assert len(asked) == 2  # the letter with the contact, and the question
    lapsed = db.session.scalar(select(ContactRequest).where(ContactRequest.post_id == potatoes.id))
    assert lapsed.status == "lapsed"
    assert "没有人在等" in text_in(seller.phone, f"同意 {potatoes.id}")[1]


def test_twelve_requests_at_once_still_make_at_most_ten(app, seller, buyer):
    """The daily limit holds when requests race: the asker's row is locked while counting."""
    import threading

    from mailbox import contacts
    from mailbox import services as mailbox_services
    from mailbox.models import ContactRequest

    posts = [mailbox_services.create_post(seller, "sell", f"葡萄苗 {100 + n}株", channel="web").id for n in range(12)]
    start = threading.Barrier(len(posts))

    def ask(post_id: int) -> None:
        with app.app_context():
            start.wait()
            try:
                contacts.ask(post_id, user=db.session.get(type(buyer), buyer.id), channel="web")
                db.session.commit()
            except contacts.Refused:
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask, args=(post_id,)) for post_id in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(ContactRequest.id))) == 10
