"""What reaches a farmer's phone: whole letters, the rest by READ, answers after 退订,
whole help, and 我的 / MY without cut prices."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbox import services as mailbox
from mailbox.models import SELL
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from ruralinfo.sms import segments
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import OutboundMessage
from tests.conftest import CHANGXI

# The 149-character answer on downy mildew that reached the farmer cut after step three.
MILDEW = ("霜霉病防治建议：一、及时摘除病叶，带出园外烧毁或深埋；二、发病初期喷施烯酰吗啉或霜脲锰锌，"
          "每隔七到十天喷一次，连喷二到三次，叶片正反两面都要喷到；三、雨后及时排水，降低田间湿度，"
          "注意通风透光，避免偏施氮肥；四、采收前十四天停止用药，确保果实安全。如有疑问请再联系联络点。")


@pytest.fixture
def point(make_point):
    return make_point("长溪村联络点", (CHANGXI,))


@pytest.fixture
def farmer(point, make_farmer):
    return make_farmer(region_code=CHANGXI, name="陈阿毛", phone="+8613800138000")


@pytest.fixture
def liaison(point, make_staff):
    return make_staff(roles.LIAISON, point=point, name="张联络")


def phone_texts(phone: str) -> list[OutboundMessage]:
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == phone)
                              .order_by(OutboundMessage.id)).all()


def ask_and_answer(farmer, liaison, point, text_in, answer: str):
    text_in(farmer.phone, "葡萄叶子背面有白色霉层怎么办")
    [question] = db.session.scalars(select(mailbox.Letter).where(mailbox.Letter.recipient_point_id == point.id))
    return mailbox.reply(question.id, sender=liaison, body=answer, channel="web")


def test_a_long_answer_arrives_whole_in_one_concatenated_text(app, farmer, liaison, point, text_in):
    answer = ask_and_answer(farmer, liaison, point, text_in, MILDEW)
    body = phone_texts(farmer.phone)[-1].body
    assert MILDEW in body and "四、采收前十四天停止用药" in body and f"回复{answer.id}" in body.replace(" ", "")
    assert segments.count(body, app.config["SMS_SIGNATURE"]).segments <= app.config["SMS_MAX_SEGMENTS"]


def test_past_the_limit_the_rest_comes_part_by_part_with_read(app, farmer, liaison, point, text_in):
    long_answer = (MILDEW + "\n") * 4  # about 600 characters: more than six parts
    answer = ask_and_answer(farmer, liaison, point, text_in, long_answer)
    got = phone_texts(farmer.phone)[-1].body
    assert f"看{answer.id}" in got.replace(" ", "") and "……" not in got
    received = [got]
    for _ in range(5):
        _response, reply = text_in(farmer.phone, f"看 {answer.id}")
        received.append(reply)
        assert segments.count(reply, app.config["SMS_SIGNATURE"]).segments <= app.config["SMS_MAX_SEGMENTS"]
        if f"回复{answer.id}" in reply.replace(" ", ""):
            break
    # every character of the letter reached the phone, in order, nothing cut inside a number
    text = "".join(received)
    position = 0
    for line in long_answer.split("\n"):
        for piece in line.split("，"):
            found = text.find(piece, position) if piece else position
            assert found >= 0, piece
    assert f"回复{answer.id}" in received[-1].replace(" ", "")


def test_an_answer_to_the_farmers_own_question_reaches_them_after_stop(farmer, liaison, point, text_in):
    text_in(farmer.phone, "退订")
    db.session.refresh(farmer)
    assert farmer.sms_opt_out
    answer = ask_and_answer(farmer, liaison, point, text_in, "明天专家来看")
    assert "明天专家来看" in phone_texts(farmer.phone)[-1].body and answer.id
    # but a letter the point starts is not a reply: 退订 holds for it
    mailbox.send_letter(sender=liaison, recipient=farmer, body="下周开会", channel="web", sender_point=point,
                        kind="point")
    assert "下周开会" not in phone_texts(farmer.phone)[-1].body


def test_the_liaison_page_says_by_sms_only_when_it_is_true(client, login, farmer, liaison, point, text_in):
    text_in(farmer.phone, "葡萄有病")
    [question] = db.session.scalars(select(mailbox.Letter).where(mailbox.Letter.recipient_point_id == point.id))
    login(liaison)
    assert "also gets it by SMS" in client.get(f"/liaison/letters/{question.id}").get_data(as_text=True)
    accounts.set_active(farmer, False, actor=liaison, channel="web")
    page = client.get(f"/liaison/letters/{question.id}").get_data(as_text=True)
    assert "also gets it by SMS" not in page and "not by SMS" in page


def test_english_help_is_whole(english_farmer, text_in):
    _response, reply = text_in(english_farmer.phone, "HELP")
    for word in ("SELL", "BUY", "REPLY", "READ", "MY", "CONTACT", "YES", "DEAL", "CANCEL", "RENEW", "STOP",
                 "START"):
        assert word in reply
    assert "…" not in reply
    texts = phone_texts(english_farmer.phone)[1:]  # after the welcome text
    assert len(texts) == 2 and all(text.segments <= 6 for text in texts)  # two whole texts
    assert texts[0].body.index("SELL") < texts[0].body.index("REPLY")  # the most used first


def test_chinese_help_is_whole(farmer, text_in):
    _response, reply = text_in(farmer.phone, "帮助")
    for word in ("卖", "买", "回复", "看", "我的", "退订", "订阅"):
        assert word in reply
    assert "…" not in reply


@pytest.mark.parametrize("who", ["farmer", "english_farmer"])
def test_my_never_cuts_a_price_and_says_how_many_more(request, text_in, who):
    user = request.getfixturevalue(who)
    for text in ("葡萄苗 200株 3元/株", "土豆 500斤 1.5元/斤", "西瓜 2000斤 1.2元/斤 包邮到家",
                 "鸡蛋 300个 1元/个", "茶叶 50斤 200元/斤", "大米 1000斤 2.5元/斤", "红薯 800斤 0.8元/斤"):
        mailbox.create_post(user, SELL, text, channel="web")
    _response, reply = text_in(user.phone, "我的")
    shown = [price for price in ("3元/株", "1.5元/斤", "1.2元/斤", "1元/个", "200元/斤", "2.5元/斤", "0.8元/斤")
             if price in reply]
    assert shown, reply
    for cut in ("元/ ", "元/；", "元/;", "元；", "元;"):
        assert cut not in reply
    hidden = 7 - len([p for p in mailbox.open_posts(user) if p.text in reply])
    if hidden:
        assert (f"还有{hidden}条" in reply.replace(" ", "")) or (f"and {hidden} more" in reply)
    assert "  " not in reply and ":" + "1" not in reply.replace(": ", "")


def test_my_with_more_posts_and_letters_than_two_texts_can_hold_counts_them_all(farmer, make_farmer, text_in):
    """Sixty open posts and fifty-five unread letters: the answer still fits in two texts
    and says exactly how many of each it could not show."""
    from mailbox.commands import MY_AT_MOST, MY_SEGMENTS

    neighbour = make_farmer(name="王五")
    for n in range(60):
        mailbox.create_post(farmer, SELL, f"葡萄苗 {100 + n}株", channel="web")
    for n in range(55):
        mailbox.send_letter(sender=neighbour, recipient=farmer, body=f"第{n}封", channel="web", by_sms=False)
    assert 60 > MY_AT_MOST and 55 > MY_AT_MOST  # more than are ever written out
    _response, reply = text_in(farmer.phone, "我的")
    shown_posts = len([p for p in mailbox.open_posts(farmer) if f"{p.id} 卖 {p.text}" in reply])
    shown_letters = reply.count("王五")
    assert shown_posts and f"还有{60 - shown_posts}条" in reply.replace(" ", "")
    assert f"还有{55 - shown_letters}" in reply.replace(" ", "")
    assert reply.startswith(sms.signature()) and segments.fits(reply, MY_SEGMENTS)  # as sent, signed


@pytest.mark.parametrize("count", [1, 3, 8, 60])
def test_my_writes_out_only_what_could_fit_and_answers_exactly_as_if_it_wrote_out_all(
        farmer, text_in, monkeypatch, count):
    from mailbox import commands

    for n in range(count):
        mailbox.create_post(farmer, SELL, f"葡萄苗 {100 + n}株 3元/株" + " 包邮到家" * (n % 4), channel="web")
    _response, reply = text_in(farmer.phone, "我的")
    monkeypatch.setattr(commands, "_leading", lambda rows, _least: rows)  # every post written out
    _response, everything_written = text_in(farmer.phone, "我的")
    assert reply == everything_written


@pytest.mark.parametrize("text", ["看看我家葡萄叶子发黄是什么病", "我的葡萄叶子发黄了怎么办", "回复你们一下，谢谢"])
def test_a_text_that_only_starts_like_a_command_reaches_the_point(farmer, point, text_in, text):
    _response, reply = text_in(farmer.phone, text)
    [letter] = db.session.scalars(select(mailbox.Letter).where(mailbox.Letter.recipient_point_id == point.id))
    assert letter.body == text and point.name in reply


def test_an_answer_to_a_question_asked_in_reply_to_a_notice_reaches_the_farmer_after_stop(
        client, login, farmer, liaison, point, text_in):
    from mailbox.models import SYSTEM

    notice = mailbox.send_letter(sender=None, recipient=farmer, body="明天有霜冻", channel="web", kind=SYSTEM)
    text_in(farmer.phone, f"回复 {notice.id} 葡萄要盖膜吗")  # a question to the point, in the notice's thread
    text_in(farmer.phone, "退订")
    [question] = db.session.scalars(select(mailbox.Letter).where(mailbox.Letter.recipient_point_id == point.id))
    login(liaison)
    assert "also gets it by SMS" in client.get(f"/liaison/letters/{question.id}").get_data(as_text=True)
    client.post(f"/liaison/letters/{question.id}/reply", data={"body": "要盖，晚上盖好"})
    assert "要盖，晚上盖好" in phone_texts(farmer.phone)[-1].body
