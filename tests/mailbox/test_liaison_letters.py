"""The liaison reads and answers the letters sent to their point — and only those."""
import re

import pytest
from sqlalchemy import func, select

from mailbox import services as mailbox
from mailbox.models import FROM_POINT, Letter
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from ruralinfo.sms.models import LETTER, OutboundMessage
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


def test_the_list_shows_the_points_letters_unread_first(client, c):
    old = mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="上个月的问题", channel="sms")
    mailbox.mark_read([old], c.liaison)
    mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="地里有虫\n详细情况", channel="web")
    mailbox.send_letter(sender=c.neighbour, recipient_point=c.point, body="想订化肥", channel="sms")
    mailbox.send_letter(sender=c.stranger, recipient_point=c.other_point, body="别的点的信", channel="sms")
    page = client.get("/liaison/letters/").get_data(as_text=True)
    assert page.index("想订化肥") < page.index("地里有虫") < page.index("上个月的问题")
    assert "别的点的信" not in page and "详细情况" not in page
    assert page.count('class="unread"') == 2 and "陈阿毛" in page and "李秀英" in page
    assert re.search(r'Letters <b class="count">2</b>', page)
    assert re.search(r'Letters <b class="count">2</b>', client.get("/liaison/").get_data(as_text=True))


def test_opening_a_letter_marks_it_read_and_an_answer_reaches_the_farmer(client, c):
    letter = mailbox.send_letter(sender=c.farmer, recipient_point=c.point, body="葡萄叶子发黄怎么办", channel="sms")
    page = client.get(f"/liaison/letters/{letter.id}").get_data(as_text=True)
    assert "葡萄叶子发黄怎么办" in page and "陈阿毛" in page
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).read_at is not None
    assert '<b class="count">' not in client.get("/liaison/letters/").get_data(as_text=True)

    response = client.post(f"/liaison/letters/{letter.id}/reply", data={"body": "明天专家来看"})
    assert response.status_code == 302
    answer = db.session.scalar(select(Letter).order_by(Letter.id.desc()))
    assert (answer.thread_id, answer.kind, answer.sender_id, answer.sender_point_id, answer.recipient_id) == \
        (letter.id, FROM_POINT, c.liaison.id, c.point.id, c.farmer.id)
    [sms] = db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == c.farmer.phone,
                                                            OutboundMessage.kind == LETTER)).all()
    assert "明天专家来看" in sms.body and "长溪村联络点" in sms.body
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.index("葡萄叶子发黄怎么办") < page.index("明天专家来看")
    # the farmer sees the answer from the point, in the same thread
    assert [item.id for item in mailbox.thread(answer.id, c.farmer)] == [letter.id, answer.id]
    assert mailbox.sender_label(answer) == "长溪村联络点"


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
    assert "好的谢谢" in page and page.count('class="unread"') == 1
    # answering from the farmer's latest letter keeps the same thread and the same farmer
    client.post(f"/liaison/letters/{letter.id}/reply", data={"body": "不客气"})
    last = db.session.scalar(select(Letter).order_by(Letter.id.desc()))
    assert (last.thread_id, last.recipient_id, last.sender_point_id) == (letter.id, c.farmer.id, c.point.id)
