"""The farmers' pages: inbox, a letter and its thread, replies, writing to a
villager or the liaison point, posts — small, script-free, only for farmers."""
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbox import services as mailbox
from mailbox.models import BUY, CLOSED, FROM_BUREAU, OPEN, SELL, Letter, Post
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from ruralinfo.sms.models import LETTER, REPLY, OutboundMessage
from tests.conftest import BALI, CHANGXI

CSS = Path(__file__).resolve().parents[2] / "ruralinfo/static/style.css"


def log_in_by_code(client, user):
    client.post("/login/code", data={"phone": user.phone})
    body = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.to == user.phone)
                              .order_by(OutboundMessage.id.desc())).first()
    response = client.post("/login/code/enter", data={"code": re.search(r"\d{6}", body).group(0)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/mailbox/")


class Village:
    pass


@pytest.fixture
def v(client, make_point, make_staff, make_farmer):
    """Two farmers of 长溪村 (one logged in), one of 巴里村, their points and a liaison."""
    w = Village()
    w.point = make_point("长溪村联络点", (CHANGXI,))
    w.other_point = make_point("巴里村联络点", (BALI,))
    w.liaison = make_staff(roles.LIAISON, point=w.point, name="张联络")
    w.me = make_farmer(name="陈阿毛", phone="+8613800138000")
    w.neighbour = make_farmer(name="李秀英", phone="+8613800138001")
    w.stranger = make_farmer(name="李秀梅", phone="+8613800138002", region_code=BALI)
    log_in_by_code(client, w.me)
    return w


def texts_to(phone):
    """Letters that reached ``phone`` by SMS (an answer in a thread they started is a ``reply``)."""
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == phone,
                                                            OutboundMessage.kind.in_((LETTER, REPLY)))
                              .order_by(OutboundMessage.id)).all()


def test_the_inbox_shows_letters_newest_first_with_sender_and_first_line(client, v):
    first = mailbox.send_letter(sender=v.neighbour, recipient=v.me, body="葡萄苗到了\n第二行不显示", channel="web")
    mailbox.send_letter(sender=None, recipient=v.me, kind=FROM_BUREAU, body="明天有霜冻", channel="web")
    mailbox.send_letter(sender=v.me, recipient=v.neighbour, body="我写给别人的", channel="web")
    page = client.get("/mailbox/").get_data(as_text=True)
    assert page.index("明天有霜冻") < page.index("葡萄苗到了")
    assert "李秀英" in page and "慈溪市农业农村局" in page
    assert "第二行不显示" not in page and "我写给别人的" not in page
    assert page.count('class="unread"') == 2
    assert f'href="/mailbox/letters/{first.id}"' in page
    assert re.search(r'Inbox <b class="count">2</b>', page)


def test_reading_a_letter_marks_it_read_and_shows_its_thread(client, v):
    first = mailbox.send_letter(sender=v.neighbour, recipient=v.me, body="有葡萄苗吗", channel="web")
    answer = mailbox.reply(first.id, sender=v.me, body="有，两百株", channel="sms")
    again = mailbox.reply(answer.id, sender=v.neighbour, body="好的，明天来拿", channel="web")
    page = client.get(f"/mailbox/letters/{again.id}").get_data(as_text=True)
    assert page.index("有葡萄苗吗") < page.index("有，两百株") < page.index("好的，明天来拿")
    assert "by SMS" in page
    db.session.expire_all()
    assert all(letter.read_at is not None for letter in db.session.scalars(
        select(Letter).where(Letter.recipient_id == v.me.id)))
    assert 'class="unread"' not in client.get("/mailbox/").get_data(as_text=True)


def test_a_reply_lands_in_the_thread_and_reaches_the_other_side_by_sms(client, v):
    first = mailbox.send_letter(sender=v.neighbour, recipient=v.me, body="要不要买化肥", channel="web")
    before = len(texts_to(v.neighbour.phone))
    response = client.post(f"/mailbox/letters/{first.id}/reply", data={"body": "要，五十斤"})
    assert response.status_code == 302
    new = db.session.scalar(select(Letter).order_by(Letter.id.desc()))
    assert (new.thread_id, new.sender_id, new.recipient_id, new.body) == (first.id, v.me.id, v.neighbour.id, "要，五十斤")
    sms = texts_to(v.neighbour.phone)
    assert len(sms) == before + 1 and "要，五十斤" in sms[-1].body and str(new.id) in sms[-1].body
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your reply is sent" in page and "要不要买化肥" in page and "要，五十斤" in page


def test_an_empty_reply_is_refused(client, v):
    first = mailbox.send_letter(sender=v.neighbour, recipient=v.me, body="在吗", channel="web")
    response = client.post(f"/mailbox/letters/{first.id}/reply", data={"body": "  "})
    assert response.status_code == 200 and db.session.scalar(select(Letter).where(Letter.thread_id == first.id)) is None


def test_a_farmer_cannot_read_or_answer_another_farmers_letter_by_guessing(client, v):
    theirs = mailbox.send_letter(sender=v.neighbour, recipient=v.stranger, body="私人的信", channel="web")
    to_point = mailbox.send_letter(sender=v.neighbour, recipient_point=v.point, body="给联络点的信", channel="web")
    for letter in (theirs, to_point):
        response = client.get(f"/mailbox/letters/{letter.id}")
        assert response.status_code == 404 and letter.body not in response.get_data(as_text=True)
        assert client.post(f"/mailbox/letters/{letter.id}/reply", data={"body": "偷看"}).status_code == 404
    assert client.get("/mailbox/letters/999999").status_code == 404
    assert db.session.scalar(select(Letter).where(Letter.body == "偷看")) is None
    db.session.expire_all()
    assert db.session.get(Letter, theirs.id).read_at is None


def test_write_to_a_villager_found_by_name(client, v, make_farmer):
    make_farmer(name="李秀兰", region_code=CHANGXI)
    page = client.get("/mailbox/write?name=秀").get_data(as_text=True)
    found = re.search(r'<ul class="people">.*?</ul>', page, re.S).group(0)
    assert "李秀英" in found and "李秀兰" in found and "李秀梅" not in found  # not another village's
    assert "陈阿毛" not in client.get("/mailbox/write?name=陈").get_data(as_text=True).split('class="people"')[1]
    assert f'href="/mailbox/write/to/{v.neighbour.id}"' in page
    assert "Nobody of your village" in client.get("/mailbox/write?name=没有这个人").get_data(as_text=True)
    assert "李秀英" in client.get(f"/mailbox/write/to/{v.neighbour.id}").get_data(as_text=True)
    response = client.post(f"/mailbox/write/to/{v.neighbour.id}", data={"body": "借一下拖拉机"})
    assert response.status_code == 302
    letter = db.session.scalar(select(Letter).where(Letter.body == "借一下拖拉机"))
    assert (letter.sender_id, letter.recipient_id, letter.channel) == (v.me.id, v.neighbour.id, "web")
    assert "借一下拖拉机" in texts_to(v.neighbour.phone)[-1].body
    assert "借一下拖拉机" in client.get("/mailbox/sent").get_data(as_text=True)


def test_nobody_outside_the_village_can_be_written_to(client, v, make_staff):
    staff = make_staff(roles.STAFF, name="局里的人")
    for person in (v.stranger, staff, v.me):
        assert client.get(f"/mailbox/write/to/{person.id}").status_code == 404
        assert client.post(f"/mailbox/write/to/{person.id}", data={"body": "你好"}).status_code == 404
    assert db.session.scalar(select(Letter)) is None


def test_write_to_the_liaison_point(client, v):
    page = client.get("/mailbox/write").get_data(as_text=True)
    assert "长溪村联络点" in page and "/mailbox/write/point" in page
    response = client.post("/mailbox/write/point", data={"body": "我家的地需要测土"})
    assert response.status_code == 302
    letter = db.session.scalar(select(Letter))
    assert (letter.sender_id, letter.recipient_point_id, letter.recipient_id) == (v.me.id, v.point.id, None)
    assert "长溪村联络点" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_village_without_a_point_says_so(client, v):
    v.point.status = "suspended"
    db.session.commit()
    assert "No liaison point serves your village yet" in client.get("/mailbox/write/point").get_data(as_text=True)
    client.post("/mailbox/write/point", data={"body": "有人吗"})
    assert db.session.scalar(select(Letter)) is None


def test_posts_are_listed_made_and_closed(client, v):
    old = mailbox.create_post(v.me, BUY, "葡萄苗 200株", channel="sms")
    response = client.post("/mailbox/posts", data={"kind": SELL, "text": "土豆 500斤 1.5元/斤"})
    assert response.status_code == 302
    new = db.session.scalar(select(Post).where(Post.kind == SELL))
    assert (new.user_id, new.text, new.channel, new.status) == (v.me.id, "土豆 500斤 1.5元/斤", "web", OPEN)
    page = client.get("/mailbox/posts").get_data(as_text=True)
    assert page.index("土豆") < page.index("葡萄苗") and page.count("Close this post") == 2
    assert client.post(f"/mailbox/posts/{old.id}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, old.id).status == CLOSED
    page = client.get("/mailbox/posts").get_data(as_text=True)
    assert page.count("Close this post") == 1 and "closed" in page


def test_a_post_needs_text_and_others_posts_cannot_be_closed(client, v):
    client.post("/mailbox/posts", data={"kind": BUY, "text": ""})
    assert db.session.scalar(select(Post)) is None
    theirs = mailbox.create_post(v.neighbour, SELL, "鸡蛋", channel="web")
    assert client.post(f"/mailbox/posts/{theirs.id}/close").status_code == 404
    db.session.expire_all()
    assert db.session.get(Post, theirs.id).status == OPEN
    assert "鸡蛋" not in client.get("/mailbox/posts").get_data(as_text=True)


def test_other_roles_are_refused(app, make_staff, login, client):
    login(make_staff(roles.LIAISON))
    assert client.get("/mailbox/").status_code == 403


def test_every_page_is_small_has_no_script_and_asks_no_other_host(app, client, v):
    for n in range(30):  # a full page of long letters
        mailbox.send_letter(sender=v.neighbour, recipient=v.me, body="很长的信" * 200, channel="web")
    letter = mailbox.send_letter(sender=v.neighbour, recipient=v.me, body="长" * 1000, channel="web")
    for n in range(30):  # a long thread of long letters: the older ones are shown by their first line
        mailbox.reply(letter.id, sender=v.me if n % 2 else v.neighbour, body=f"第{n}封" + "长" * 995, channel="web")
    for n in range(20):
        mailbox.create_post(v.me, SELL, "土豆" * 250, channel="web")
    css = CSS.stat().st_size
    anonymous = app.test_client()
    anonymous.post("/login/code", data={"phone": v.neighbour.phone})
    for url in ("/mailbox/", "/mailbox/sent", f"/mailbox/letters/{letter.id}", "/mailbox/write",
                "/mailbox/write?name=李", f"/mailbox/write/to/{v.neighbour.id}", "/mailbox/write/point",
                "/mailbox/posts", "/login/code", "/login/code/enter"):
        response = (client if url.startswith("/mailbox") else anonymous).get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert len(response.get_data()) + css < 40_000, (url, len(response.get_data()), css)  # room to grow
        assert "<script" not in body, url
        assert not re.search(r'(?:src|href|action)="(?:https?:)?//', body), url
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_control_characters_typed_in_a_form_are_dropped_not_a_crash(client, v):
    """PostgreSQL refuses NUL in text: what a broken phone browser sends must not give a 500."""
    assert client.get("/mailbox/write?name=李\x00秀").status_code == 200
    assert client.post(f"/mailbox/write/to/{v.neighbour.id}", data={"body": "你好\x00\x07吗\r\n再见"}).status_code == 302
    assert db.session.scalar(select(Letter.body)) == "你好吗\n再见"
    assert client.post("/mailbox/posts", data={"kind": SELL, "text": "\x00土豆"}).status_code == 302
    assert db.session.scalar(select(Post.text)) == "土豆"
    assert client.post("/login/code", data={"phone": "138\x0000138000"}).status_code in (200, 302)
