"""The expert console's pages: who may enter (experts and administrators act, bureau
staff look), the queue in its order, taking, answering, giving back and moving a
question, and what another expert sees meanwhile."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline import services
from hotline.models import ANSWERED, CLAIMED, SMS, VOICE, WAITING, Question
from mailbox.models import ANSWER, Letter
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from tests.conftest import PASSWORD, next_id_number


@pytest.fixture
def people(app, make_farmer, make_staff):
    return {
        "farmer": make_farmer(name="陈桂兰"),
        "wang": make_staff(roles.EXPERT, name="王立新"),
        "zhao": make_staff(roles.EXPERT, name="赵春梅"),
    }


def _ids(html: str, section: str) -> list[int]:
    """The question numbers listed in one section of the queue (``mine``, ``waiting``, ``held``)."""
    found = re.search(rf'<ul class="letters queue {section}">(.*?)</ul>', html, re.S)
    return [int(n) for n in re.findall(r'id="q(\d+)"', found.group(1))] if found else []


def _text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", [roles.FARMER, roles.LIAISON])
def test_farmers_and_liaisons_are_refused_the_console(app, client, people, make_staff, login, role):
    question = services.ask(topic="crops", channel=SMS, text="葡萄霜霉病怎么防", user=people["farmer"])
    if role == roles.FARMER:
        accounts.set_password(people["farmer"], PASSWORD, actor=None, channel="cli")
        login(people["farmer"])
    else:
        login(make_staff(roles.LIAISON, name="联络员"))
    for url in ("/hotline/", f"/hotline/questions/{question.id}", "/hotline/published"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/hotline/questions/{question.id}/claim").status_code == 403
    assert db.session.get(Question, question.id).status == WAITING


def test_someone_not_logged_in_is_sent_to_log_in(client):
    response = client.get("/hotline/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [roles.STAFF, roles.APPROVER])
def test_bureau_staff_may_read_the_console_but_not_act(client, people, make_staff, login, role):
    question = services.ask(topic="crops", channel=SMS, text="葡萄霜霉病怎么防", user=people["farmer"])
    login(make_staff(role, name="农业局员工"))
    page = _text(client, f"/hotline/questions/{question.id}")
    assert "葡萄霜霉病怎么防" in page and f'action="/hotline/questions/{question.id}/claim"' not in page
    assert question.id in _ids(_text(client, "/hotline/"), "waiting")
    for action in ("claim", "release", "answer", "transfer", "publish"):
        assert client.post(f"/hotline/questions/{question.id}/{action}",
                           data={"text": "x", "topic": "livestock"}).status_code == 403, action
    assert db.session.get(Question, question.id).status == WAITING


def test_an_administrator_may_act(client, people, make_staff, login):
    question = services.ask(topic="crops", channel=SMS, text="葡萄霜霉病怎么防", user=people["farmer"])
    admin = make_staff(roles.ADMIN, name="管理员")
    login(admin)
    assert client.post(f"/hotline/questions/{question.id}/claim").status_code == 302
    assert db.session.get(Question, question.id).claimed_by_id == admin.id


def test_the_queue_shows_ones_own_first_then_the_waiting_oldest_first_then_those_others_hold(
        client, people, login, make_farmer):
    farmer = people["farmer"]
    first = services.ask(topic="crops", channel=SMS, text="最早的问题", user=farmer)
    second = services.ask(topic="livestock", channel=VOICE, text="第二个问题", phone="+8613900002222")
    third = services.ask(topic="crops", channel=SMS, text="第三个问题", user=farmer)
    mine = services.ask(topic="policy", channel=SMS, text="我拿着的问题", user=farmer)
    theirs = services.ask(topic="crops", channel=SMS, text="别人拿着的问题", user=farmer)
    services.claim(mine.id, people["wang"])
    services.claim(theirs.id, people["zhao"])
    login(people["wang"])
    page = _text(client, "/hotline/")
    assert _ids(page, "mine") == [mine.id]
    assert _ids(page, "waiting") == [first.id, second.id, third.id]
    assert _ids(page, "held") == [theirs.id]
    assert page.index('class="letters queue mine"') < page.index('class="letters queue waiting"')
    assert "赵春梅" in page  # who holds the other one
    assert "陈桂兰 · 长溪村" in page  # the farmer's name and village
    assert "139****2222" in page and "+8613900002222" not in page  # a caller not registered: masked


def test_the_queue_filters_by_topic_and_counts_what_waits(client, people, login):
    crops = [services.ask(topic="crops", channel=SMS, text=f"作物问题{n}", user=people["farmer"]) for n in range(2)]
    livestock = services.ask(topic="livestock", channel=SMS, text="猪不吃食", user=people["farmer"])
    login(people["wang"])
    page = _text(client, "/hotline/?topic=crops")
    assert _ids(page, "waiting") == [q.id for q in crops]
    assert _ids(_text(client, "/hotline/?topic=livestock"), "waiting") == [livestock.id]
    assert set(_ids(_text(client, "/hotline/?topic=nonsense"), "waiting")) == {livestock.id, *(q.id for q in crops)}
    counts = re.search(r'href="/hotline/\?topic=crops"[^>]*>[^<]*<span class="badge">(\d+)</span>', page)
    assert counts and counts.group(1) == "2"


def test_no_id_number_on_any_console_page(client, people, login, make_farmer):
    number = next_id_number()
    farmer = make_farmer(name="周阿强", id_number=number)
    question = services.ask(topic="crops", channel=SMS, text="水稻稻瘟病用什么药", user=farmer)
    login(people["wang"])
    client.post(f"/hotline/questions/{question.id}/claim")
    for url in ("/hotline/", f"/hotline/questions/{question.id}"):
        page = _text(client, url)
        assert "周阿强" in page
        assert number not in page and farmer.id_masked not in page and number[-6:] not in page


def test_an_expert_takes_answers_and_the_farmer_gets_the_answer_and_the_rating_question(client, people, login):
    farmer = people["farmer"]
    question = services.ask(topic="crops", channel=SMS, text="水稻稻瘟病用什么药", user=farmer)
    login(people["wang"])
    page = _text(client, f"/hotline/questions/{question.id}")
    assert f'action="/hotline/questions/{question.id}/claim"' in page and 'name="text"' not in page
    assert client.post(f"/hotline/questions/{question.id}/claim").status_code == 302
    page = _text(client, f"/hotline/questions/{question.id}")
    assert 'name="text"' in page and f'action="/hotline/questions/{question.id}/release"' in page
    response = client.post(f"/hotline/questions/{question.id}/answer", data={"text": "发病初期用三环唑喷雾。"})
    assert response.status_code == 302
    row = db.session.get(Question, question.id)
    assert (row.status, row.answered_by_id, row.answer) == (ANSWERED, people["wang"].id, "发病初期用三环唑喷雾。")
    letter = db.session.get(Letter, row.letter_id)
    assert letter.kind == ANSWER and letter.recipient_id == farmer.id
    causes = db.session.scalars(select(OutboundMessage.cause).where(OutboundMessage.to == farmer.phone)).all()
    assert causes.count(f"rating:{question.id}") == 1
    page = _text(client, f"/hotline/questions/{question.id}")
    assert 'id="answer-text"' in page and 'data-status="answered"' in page
    assert f'action="/hotline/questions/{question.id}/publish"' in page  # now it may be published


def test_answering_without_taking_the_question_is_refused(client, people, login):
    question = services.ask(topic="crops", channel=SMS, text="西瓜裂果", user=people["farmer"])
    login(people["wang"])
    response = client.post(f"/hotline/questions/{question.id}/answer", data={"text": "均匀浇水。"})
    assert response.status_code == 409
    assert db.session.get(Question, question.id).status == WAITING
    assert db.session.scalar(select(OutboundMessage).where(OutboundMessage.cause == f"rating:{question.id}")) is None


def test_a_second_expert_sees_who_holds_the_question_and_cannot_take_or_answer_it(app, client, people, login):
    question = services.ask(topic="crops", channel=SMS, text="桃树流胶怎么办", user=people["farmer"])
    services.claim(question.id, people["wang"])
    login(people["zhao"])
    page = _text(client, f"/hotline/questions/{question.id}")
    holder = re.search(r'id="holder">(.*?)</p>', page, re.S)
    assert holder and "王立新" in holder.group(1)
    assert 'name="text"' not in page and f'action="/hotline/questions/{question.id}/claim"' not in page
    response = client.post(f"/hotline/questions/{question.id}/claim", follow_redirects=True)
    assert "王立新" in response.get_data(as_text=True)  # told who holds it
    assert client.post(f"/hotline/questions/{question.id}/answer", data={"text": "刮除病斑"}).status_code == 409
    assert db.session.get(Question, question.id).claimed_by_id == people["wang"].id


def test_giving_back_puts_the_question_in_the_queue_again(client, people, login):
    question = services.ask(topic="crops", channel=SMS, text="茶叶修剪时间", user=people["farmer"])
    login(people["wang"])
    client.post(f"/hotline/questions/{question.id}/claim")
    assert client.post(f"/hotline/questions/{question.id}/release").status_code == 302
    row = db.session.get(Question, question.id)
    assert (row.status, row.claimed_by_id) == (WAITING, None)


def test_a_question_moves_to_another_topic(client, people, login):
    question = services.ask(topic="crops", channel=SMS, text="猪不吃食怎么办", user=people["farmer"])
    login(people["wang"])
    page = _text(client, f"/hotline/questions/{question.id}")
    moves = re.search(r'<select[^>]*name="topic"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert 'value="livestock"' in moves and 'value="crops"' not in moves  # not to where it is
    assert client.post(f"/hotline/questions/{question.id}/transfer", data={"topic": "livestock"}).status_code == 302
    row = db.session.get(Question, question.id)
    assert (row.topic, row.status) == ("livestock", WAITING)
    response = client.post(f"/hotline/questions/{question.id}/transfer", data={"topic": "astrology"})
    assert response.status_code == 400 and db.session.get(Question, question.id).topic == "livestock"


def test_an_empty_or_too_long_answer_is_refused_on_the_page(client, people, login):
    question = services.ask(topic="crops", channel=SMS, text="西瓜裂果", user=people["farmer"])
    login(people["wang"])
    client.post(f"/hotline/questions/{question.id}/claim")
    assert client.post(f"/hotline/questions/{question.id}/answer", data={"text": "  "}).status_code == 400
    assert client.post(f"/hotline/questions/{question.id}/answer",
                       data={"text": "长" * (services.MAX_ANSWER + 1)}).status_code == 400
    assert db.session.get(Question, question.id).status == CLAIMED


def test_an_unknown_question_is_not_found(client, people, login):
    login(people["wang"])
    assert client.get("/hotline/questions/999").status_code == 404
    for action in ("claim", "release", "answer", "transfer", "publish"):
        assert client.post(f"/hotline/questions/999/{action}", data={"text": "x"}).status_code == 404
