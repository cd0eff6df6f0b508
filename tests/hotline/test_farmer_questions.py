"""A farmer's questions on the web: asked (one question like those by phone and SMS,
acknowledged with its number), listed with their answers, rated once."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline import services
from hotline.models import SATISFIED, SMS, UNSATISFIED, VOICE, WAITING, WEB, Question
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def farmer(app, make_farmer):
    person = make_farmer(name="陈桂兰")
    accounts.set_password(person, PASSWORD, actor=None, channel="cli")
    return person


@pytest.fixture
def expert(make_staff):
    return make_staff(roles.EXPERT, name="王立新")


def _answer(question, expert, text="均匀浇水。"):
    services.claim(question.id, expert)
    return services.answer(question.id, expert, text)


def test_a_farmer_asks_on_the_web_and_is_told_the_questions_number(client, farmer, login):
    login(farmer)
    page = client.get("/mailbox/questions/").get_data(as_text=True)
    assert 'name="topic"' in page and 'name="text"' in page
    response = client.post("/mailbox/questions/", data={"topic": "livestock", "text": " 猪不吃食 怎么办 "},
                           follow_redirects=True)
    question = db.session.scalar(select(Question))
    assert (question.topic, question.channel, question.user_id, question.status, question.text) == (
        "livestock", WEB, farmer.id, WAITING, "猪不吃食 怎么办")
    page = response.get_data(as_text=True)
    assert f"no. {question.id}" in page  # the acknowledgement
    assert f'id="q{question.id}"' in page


def test_an_empty_question_or_an_unknown_topic_is_refused(client, farmer, login):
    login(farmer)
    assert client.post("/mailbox/questions/", data={"topic": "crops", "text": "   "}).status_code == 400
    assert client.post("/mailbox/questions/", data={"topic": "astrology", "text": "问一下"}).status_code == 400
    assert client.post("/mailbox/questions/", data={"topic": "crops",
                                                    "text": "长" * (services.MAX_QUESTION + 1)}).status_code == 400
    assert db.session.scalar(select(Question)) is None


def test_the_farmer_sees_questions_of_every_channel_with_their_answers(client, farmer, expert, login, make_farmer):
    by_sms = services.ask(topic="crops", channel=SMS, text="西瓜裂果", user=farmer)
    by_phone = services.ask(topic="crops", channel=VOICE, text="（录音）稻瘟病", user=farmer)
    someone_else = services.ask(topic="crops", channel=SMS, text="别人的问题", user=make_farmer(name="张大山"))
    _answer(by_sms, expert, "均匀浇水，防止忽干忽湿。")
    login(farmer)
    page = client.get("/mailbox/questions/").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'<li id="q(\d+)"', page)] == [by_phone.id, by_sms.id]
    assert "均匀浇水，防止忽干忽湿。" in page and "王立新" in page
    assert "别人的问题" not in page and someone_else.id
    assert f'action="/mailbox/questions/{by_sms.id}/rate"' in page
    assert f'action="/mailbox/questions/{by_phone.id}/rate"' not in page  # nothing to rate yet


def test_the_farmer_rates_an_answer_once_on_the_web(client, farmer, expert, login):
    question = _answer(services.ask(topic="crops", channel=SMS, text="西瓜裂果", user=farmer), expert)
    login(farmer)
    assert client.post(f"/mailbox/questions/{question.id}/rate", data={"rating": "2"}).status_code == 302
    assert client.post(f"/mailbox/questions/{question.id}/rate", data={"rating": "1"}).status_code == 302
    row = db.session.get(Question, question.id)
    assert row.rating == UNSATISFIED
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "question.rate"))
    assert entry.channel == WEB and entry.actor_id == farmer.id
    page = client.get("/mailbox/questions/").get_data(as_text=True)
    assert 'data-rating="2"' in page and f'action="/mailbox/questions/{question.id}/rate"' not in page


def test_a_rating_must_be_1_or_2_and_only_for_ones_own_answered_question(client, farmer, expert, login,
                                                                         make_farmer):
    waiting = services.ask(topic="crops", channel=SMS, text="稻瘟病", user=farmer)
    answered = _answer(services.ask(topic="crops", channel=SMS, text="西瓜裂果", user=farmer), expert)
    other = _answer(services.ask(topic="crops", channel=SMS, text="别人的", user=make_farmer(name="张大山")), expert)
    login(farmer)
    client.post(f"/mailbox/questions/{answered.id}/rate", data={"rating": "7"})
    client.post(f"/mailbox/questions/{waiting.id}/rate", data={"rating": "1"})
    assert client.post(f"/mailbox/questions/{other.id}/rate", data={"rating": "1"}).status_code == 404
    assert client.post("/mailbox/questions/999/rate", data={"rating": "1"}).status_code == 404
    assert [db.session.get(Question, q.id).rating for q in (waiting, answered, other)] == [None, None, None]
    client.post(f"/mailbox/questions/{answered.id}/rate", data={"rating": "1"})
    assert db.session.get(Question, answered.id).rating == SATISFIED


def test_the_inbox_leads_to_the_questions(client, farmer, login):
    login(farmer)
    assert 'href="/mailbox/questions/"' in client.get("/mailbox/").get_data(as_text=True)


def test_only_farmers_reach_the_questions_page(client, make_staff, login):
    login(make_staff(roles.EXPERT, name="王立新"))
    assert client.get("/mailbox/questions/").status_code == 403


def test_a_farmer_not_logged_in_is_sent_to_the_code_log_in(client):
    response = client.get("/mailbox/questions/")
    assert response.status_code == 302 and "/login/code" in response.headers["Location"]
