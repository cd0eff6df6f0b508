"""Texts that reach no liaison point: why they came to the bureau, and the bureau's
answer by letter or a pass to a point; texts from numbers without an account;
a deactivated farmer told whom to ask."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mailbox.models import Letter
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.liaison import points
from ruralinfo.sms.models import REPLY, OutboundMessage
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP


def last_text(phone: str) -> str:
    return db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.to == phone)
                              .order_by(OutboundMessage.id.desc())).first()


@pytest.fixture
def clerk(client, make_staff, login):
    user = make_staff(roles.STAFF, name="王科员")
    login(user)
    return user


def test_the_page_says_why_a_text_came_to_the_bureau(client, clerk, make_point, make_farmer, text_in):
    suspended = make_point("巴里村联络点", (BALI,))
    nowhere = make_farmer(region_code=OTHER_TOWNSHIP, name="无点人")
    behind = make_farmer(region_code=BALI, name="停点人")
    points.suspend(suspended, actor=None, channel="cli")
    text_in(nowhere.phone, "我们村有没有联络点")
    text_in(behind.phone, "联络员不在")
    page = client.get("/bureau/texts").get_data(as_text=True)
    first, second = page.index("联络员不在"), page.index("我们村有没有联络点")
    assert "The liaison point of this village is suspended." in page[first:second]
    assert "巴里村联络点" in page[first:second]
    assert "No liaison point serves this village yet." in page[second:]


def test_the_bureau_answers_by_letter_and_it_reaches_the_phone_even_after_stop(client, clerk, make_farmer,
                                                                            text_in):
    farmer = make_farmer(region_code=OTHER_TOWNSHIP, name="无点人")
    text_in(farmer.phone, "退订")
    text_in(farmer.phone, "化肥补贴什么时候发")
    [item] = client.get("/bureau/texts").get_data(as_text=True).split('id="t')[1:2]
    text = int(item.split('"')[0])
    response = client.post(f"/bureau/letters/texts/{text}/answer", data={"body": "下个月十号前发到卡上"},
                           follow_redirects=True)
    assert "Your answer is sent to 无点人" in response.get_data(as_text=True)
    body = last_text(farmer.phone)
    assert "下个月十号前发到卡上" in body
    assert db.session.scalars(select(OutboundMessage.kind).where(OutboundMessage.to == farmer.phone)
                              .order_by(OutboundMessage.id.desc())).first() == REPLY
    thread = db.session.scalars(select(Letter).order_by(Letter.id)).all()
    assert [(l.sender_id, l.recipient_id) for l in thread] == [(farmer.id, clerk.id), (clerk.id, farmer.id)]
    page = client.get("/bureau/texts").get_data(as_text=True)
    assert "Answered by 王科员" in page and 'action="/bureau/letters/texts/' not in page.split("strangers")[0]
    # a second answer goes in the same thread, never a second first letter
    client.post(f"/bureau/letters/texts/{text}/answer", data={"body": "补充"})
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.inbound_id.is_not(None))) == 1
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "text.answer")).actor_id == clerk.id


def test_the_bureau_passes_a_text_to_a_point_which_then_answers(client, clerk, make_point, make_farmer,
                                                              make_staff, text_in):
    farmer = make_farmer(region_code=OTHER_TOWNSHIP, name="无点人")
    nearby = make_point("长溪村联络点", (CHANGXI,))
    text_in(farmer.phone, "想买葡萄苗")
    text = int(client.get("/bureau/texts").get_data(as_text=True).split('id="t')[1].split('"')[0])
    client.post(f"/bureau/letters/texts/{text}/forward", data={"point_id": nearby.id})
    [letter] = db.session.scalars(select(Letter)).all()
    assert (letter.sender_id, letter.recipient_point_id, letter.body) == (farmer.id, nearby.id, "想买葡萄苗")
    assert "长溪村联络点" in last_text(farmer.phone)
    assert "Passed to 长溪村联络点." in client.get("/bureau/texts").get_data(as_text=True)
    again = client.post(f"/bureau/letters/texts/{text}/forward", data={"point_id": nearby.id},
                        follow_redirects=True)
    assert "already answered or passed on" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Letter.id))) == 1


def test_texts_from_unknown_numbers_are_listed_for_the_bureau(client, clerk, text_in):
    _response, first = text_in("+8613999990001", "你好，我想注册")
    _response, second = text_in("+8613999990001", "请回电话")
    assert first and second is None  # one answer a day
    page = client.get("/bureau/texts").get_data(as_text=True)
    strangers = page.split('id="strangers"')[1]
    assert "139 9999 0001" in strangers and "你好，我想注册" in strangers and "请回电话" in strangers


def test_a_deactivated_farmer_is_told_whom_to_ask(make_point, make_farmer, make_staff, text_in):
    point = make_point("长溪村联络点", (CHANGXI,))
    farmer = make_farmer(region_code=CHANGXI)
    accounts.set_active(farmer, False, actor=make_staff(roles.ADMIN), channel="web")
    _response, reply = text_in(farmer.phone, "卖 土豆")
    assert "not registered" not in reply and "不是" not in reply
    assert point.name in reply and point.phone in reply
    _response, again = text_in(farmer.phone, "在吗")
    assert again is None  # at most once a day


def test_the_administrator_sees_the_bureau_pages(client, make_staff, login):
    client.post("/logout")
    login(make_staff(roles.ADMIN))
    assert client.get("/bureau/").status_code == 200
    assert client.get("/bureau/texts").status_code == 200
    assert client.get("/bureau/letters/").status_code == 200


def test_a_farmers_follow_up_to_the_bureau_is_listed_and_any_clerk_answers_it(client, clerk, make_staff,
                                                                            make_farmer, login, text_in):
    farmer = make_farmer(region_code=OTHER_TOWNSHIP, name="无点人")
    text_in(farmer.phone, "补贴什么时候发")
    text = int(client.get("/bureau/texts").get_data(as_text=True).split('id="t')[1].split('"')[0])
    client.post(f"/bureau/letters/texts/{text}/answer", data={"body": "下个月"})
    answer = db.session.scalar(select(Letter).order_by(Letter.id.desc()))
    staff_texts = db.session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.to == clerk.phone))
    _response, reply = text_in(farmer.phone, f"回复 {answer.id} 具体哪一天")
    follow_up = db.session.scalar(select(Letter).order_by(Letter.id.desc()))
    assert follow_up.recipient_id == clerk.id and follow_up.body == "具体哪一天"
    # the clerk gets no SMS for it: it is listed for the whole bureau
    assert db.session.scalar(select(func.count(OutboundMessage.id))
                             .where(OutboundMessage.to == clerk.phone)) == staff_texts
    client.post("/logout")
    other = make_staff(roles.STAFF, name="李科员")
    login(other)
    page = client.get("/bureau/texts").get_data(as_text=True)
    assert "具体哪一天" in page.split('id="letters"')[1]
    client.post(f"/bureau/letters/{follow_up.id}/answer", data={"body": "十号"})
    assert "十号" in last_text(farmer.phone)
    assert "具体哪一天" not in client.get("/bureau/texts").get_data(as_text=True).split('id="letters"')[1]
