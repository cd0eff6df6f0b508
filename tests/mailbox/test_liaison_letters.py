"""The liaison reads and answers the letters sent to their point — and only those."""
import re

import pytest
from sqlalchemy import func, select

from mailbox import services as mailbox
from mailbox.models import FROM_POINT, Letter
from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.sms.models import REPLY, OutboundMessage
from tests.conftest import BALI, CHANGXI


class County:
    pass


@pytest.fixture
def c(client, login, make_point, make_staff, make_farmer):
    w = County()
    w.point = make_point("长溪村联络点", (CHANGXI,))
    w.other_point = make_point("巴里村联络点", (BALI,))
    w.liaison = make_staff(roles.LIAISON, point=w.point, name="张联络")
    w.farmer = make_farmer(name="陈阿毛", phone="+8613800138000")
    w.neighbour = make_farmer(name="李秀英", phone="+8613800138001")
    w.stranger = make_farmer(name="外村人", phone="+8613800138002", region_code=BALI)
    login(w.liaison)
    return w


def test_the_list_shows_the_points_letters_waiting_first_and_unread_first(client, c):
    old = mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="上个月的问题", channel="sms")
    mailbox.mark_read([old], c.liaison)
    mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="地里有虫\n详细情况", channel="web")
    mailbox.send_letter(sender=c.neighbour, recipient_point=c.point, body="想订化肥", channel="sms")
    mailbox.send_letter(sender=c.stranger, recipient_point=c.other_point, body="别的点的信", channel="sms")
    page = client.get("/liaison/letters/").get_data(as_text=True)
    assert page.index("想订化肥") < page.index("地里有虫") < page.index("上个月的问题")
    assert "别的点的信" not in page and "详细情况" not in page
    assert page.count('class="state-new"') == 2 and page.count('class="state-read"') == 1
    assert "陈阿毛" in page and "李秀英" in page
    # read but not answered still waits: the navigation counts what waits for an answer
    assert re.search(r'Letters <b class="count"[^>]*>3</b>', page)
    assert re.search(r'Letters <b class="count"[^>]*>3</b>', client.get("/liaison/").get_data(as_text=True))


def test_opening_a_letter_marks_it_read_and_an_answer_reaches_the_farmer(client, c):
    letter = mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="葡萄叶子发黄怎么办", channel="sms")
    page = client.get(f"/liaison/letters/{letter.id}").get_data(as_text=True)
    assert "葡萄叶子发黄怎么办" in page and "陈阿毛" in page
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).state == "read"
    assert re.search(r'<b class="count"[^>]*>1</b>', client.get("/liaison/letters/").get_data(as_text=True))

    response = client.post(f"/liaison/letters/{letter.id}/reply", data={"body": "明天专家来看"})
    assert response.status_code == 302
    answer = db.session.scalar(select(Letter).order_by(Letter.id.desc()))
    assert (answer.thread_id, answer.kind, answer.sender_id, answer.sender_point_id, answer.recipient_id) == \
        (letter.id, FROM_POINT, c.liaison.id, c.point.id, c.farmer.id)
    # an answer to the farmer's own question is essential, like a reply to their text
    [sms] = db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == c.farmer.phone,
                                                            OutboundMessage.kind == REPLY)).all()
    assert "明天专家来看" in sms.body and "长溪村联络点" in sms.body
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.index("葡萄叶子发黄怎么办") < page.index("明天专家来看")
    # the farmer sees the answer from the point, in the same thread
    assert [item.id for item in mailbox.thread(answer.id, c.farmer)] == [letter.id, answer.id]
    assert mailbox.sender_label(answer) == "长溪村联络点"
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).state == "answered"
    listing = client.get("/liaison/letters/").get_data(as_text=True)
    assert '<b class="count"' not in listing and 'class="state-answered"' in listing


def test_another_points_letter_is_not_found(client, c):
    theirs = mailbox.send_letter(sender=c.stranger, recipient_point=c.other_point, body="别的点的信", channel="sms")
    personal = mailbox.send_letter(sender=c.farmer, recipient=c.neighbour, body="两个农户之间的信", channel="web")
    count = db.session.scalar(select(func.count(Letter.id)))
    for letter in (theirs, personal):
        response = client.get(f"/liaison/letters/{letter.id}")
        assert response.status_code == 404 and letter.body not in response.get_data(as_text=True)
        assert client.post(f"/liaison/letters/{letter.id}/reply", data={"body": "插一句"}).status_code == 404
    assert client.get("/liaison/letters/999999").status_code == 404
    assert db.session.scalar(select(func.count(Letter.id))) == count
    db.session.expire_all()
    assert db.session.get(Letter, theirs.id).read_at is None


def test_a_liaison_without_a_point_sees_no_letters(client, login, make_staff, c):
    letter = mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="有人吗", channel="sms")
    client.post("/logout")
    login(make_staff(roles.LIAISON, name="未分配"))
    assert "not assigned to a liaison point" in client.get("/liaison/letters/").get_data(as_text=True)
    assert client.get(f"/liaison/letters/{letter.id}").status_code == 404


def test_a_farmers_text_that_is_no_command_lands_in_the_list(client, c, text_in):
    text_in(c.farmer.phone, "我家的猪不吃食了")
    page = client.get("/liaison/letters/").get_data(as_text=True)
    assert "我家的猪不吃食了" in page and "by SMS" in page


def test_a_farmers_answer_to_the_point_comes_back_to_the_points_list(client, c):
    letter = mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="化肥什么时候到", channel="sms")
    client.get(f"/liaison/letters/{letter.id}")
    client.post(f"/liaison/letters/{letter.id}/reply", data={"body": "下周一"})
    answer = db.session.scalar(select(Letter).order_by(Letter.id.desc()))
    again = mailbox.reply(answer.id, sender=c.farmer, body="好的谢谢", channel="sms")
    assert (again.recipient_point_id, again.thread_id) == (c.point.id, letter.id)
    page = client.get("/liaison/letters/").get_data(as_text=True)
    assert "好的谢谢" in page and page.count('class="state-new"') == 1
    # answering from the farmer's latest letter keeps the same thread and the same farmer
    client.post(f"/liaison/letters/{letter.id}/reply", data={"body": "不客气"})
    last = db.session.scalar(select(Letter).order_by(Letter.id.desc()))
    assert (last.thread_id, last.recipient_id, last.sender_point_id) == (letter.id, c.farmer.id, c.point.id)


def test_a_letter_needing_no_answer_is_closed_with_its_reason(client, c):
    letter = mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="谢谢你们", channel="sms")
    refused = client.post(f"/liaison/letters/{letter.id}/close", data={"reason": "  "}, follow_redirects=True)
    assert db.session.get(Letter, letter.id).closed_at is None and "error" in refused.get_data(as_text=True)
    client.post(f"/liaison/letters/{letter.id}/close", data={"reason": "农户来联络点当面解决了"})
    db.session.expire_all()
    closed = db.session.get(Letter, letter.id)
    assert closed.state == "closed" and closed.close_reason == "农户来联络点当面解决了"
    assert closed.closed_by_id == c.liaison.id
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "letter.close")).target_id == letter.id
    pending = client.get("/liaison/letters/?show=pending").get_data(as_text=True)
    assert "谢谢你们" not in pending and "No letters waiting for an answer" in pending
    assert "农户来联络点当面解决了" in client.get("/liaison/letters/").get_data(as_text=True)


def test_the_reply_rate_counts_answers_within_the_sla(app, client, c):
    from datetime import timedelta

    from mailbox import point_letters
    from ruralinfo.timeutil import now_utc

    now = now_utc()
    letters = [mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body=f"问题{i}", channel="sms")
               for i in range(4)]
    for letter, days_ago, answer_after in zip(letters, (10, 9, 8, 1), (timedelta(hours=2), timedelta(hours=30),
                                                                        timedelta(days=5), None)):
        letter.created_at = now - timedelta(days=days_ago)
        if answer_after is not None:
            letter.answered_at = letter.created_at + answer_after
    db.session.commit()
    rate = point_letters.reply_rates(now - timedelta(days=30))[c.point.id]
    assert (rate.received, rate.answered, rate.answered_in_time, rate.pending) == (4, 3, 2, 1)
    assert rate.rate == 0.5 and rate.median_hours == 30.0
    page = client.get("/liaison/letters/").get_data(as_text=True)
    assert "reply rate 50%" in page and "Median time to answer: 30.0 hours" in page


def test_the_bureau_sees_every_points_reply_rate(app, client, c, make_staff, login):
    waiting = mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="没人回", channel="sms")
    answered = mailbox.send_letter(sender=c.stranger, recipient_point=c.other_point, body="有人回", channel="sms")
    assert waiting.state == "new"
    outsider = make_staff(roles.LIAISON, point=c.other_point, name="巴里联络员")
    mailbox.reply(answered.id, sender=outsider, body="已处理", channel="web")
    client.post("/logout")
    login(make_staff(roles.STAFF))
    page = client.get("/bureau/letters/").get_data(as_text=True)
    assert page.index("长溪村联络点") < page.index("巴里村联络点")  # the worst rate first
    assert "0%" in page and "100%" in page
    assert "All points: 2 letters, 1 answered in time (50%), 1 waiting now." in page


def test_the_count_as_the_liaison_types_is_what_the_farmer_gets_with_the_opt_out_hint_set(app, client, c):
    """An answer to the farmer's own letter is essential: it carries no opt-out hint, so the
    preview must not count one (it did: "7 texts, more than 6" for an answer sent whole)."""
    from mailbox import letter_sms

    app.config["SMS_OPTOUT_HINT"] = "拒收请回复R"
    question = mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="葡萄苗什么时候下地？",
                                   channel="web")
    number = question.id + 1
    body = next(b for b in ("一" * n for n in range(300, 420))  # where the hint would make a 7th part
                if letter_sms.preview(b, number=number, sender_label=c.point.name, locale="zh", essential=True)
                == (6, False) and letter_sms.preview(b, number=number, sender_label=c.point.name, locale="zh")[0] == 7)
    shown = client.post(f"/liaison/letters/{question.id}/count", data={"body": body}).get_json()
    assert (shown["texts"], shown["over"]) == (6, False)
    client.post(f"/liaison/letters/{question.id}/reply", data={"body": body})
    sent = db.session.scalar(select(OutboundMessage).where(OutboundMessage.to == c.farmer.phone)
                             .order_by(OutboundMessage.id.desc()))
    assert sent.kind == REPLY and sent.segments == 6 and body in sent.body
