"""``问 …`` / ``ASK …`` by SMS through the signed webhook: one question with the topic its
words name, acknowledged with its number, once for a repeated MessageSid; ``1``/``2``
rate the latest answer, unless a sign-up was asked after it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline import services, topic_guess
from hotline.models import SATISFIED, SMS, UNSATISFIED, Question
from ruralinfo.accounts import roles
from ruralinfo.extensions import db


@pytest.fixture
def farmer(app, make_farmer):
    app.config.update(QUIET_HOURS="")
    return make_farmer(name="周建平", groups=("葡萄",))


def test_ask_by_sms_makes_one_question_acknowledged_with_its_number(farmer, text_in):
    _response, reply = text_in(farmer.phone, "问 猪拉稀不吃食怎么办", sid="SM" + "a" * 32)
    question = db.session.scalar(select(Question))
    assert (question.channel, question.topic, question.user_id) == (SMS, "livestock", farmer.id)
    assert question.text == "猪拉稀不吃食怎么办" and str(question.id) in reply
    _again, repeated = text_in(farmer.phone, "问 猪拉稀不吃食怎么办", sid="SM" + "a" * 32)
    assert repeated == reply and db.session.scalar(select(func.count(Question.id))) == 1


def test_ask_in_english_and_ask_with_nothing_after_it(farmer, text_in):
    _response, reply = text_in(farmer.phone, "ASK when to spray rice against blast")
    assert db.session.scalar(select(Question.topic)) == "crops"
    _response, empty = text_in(farmer.phone, "问")
    assert "问" in empty and db.session.scalar(select(func.count(Question.id))) == 1


@pytest.mark.parametrize("text, topic", [
    ("买的种子是假种子，出苗不到一半", "complaints"),
    ("今年种粮补贴怎么领", "policy"),
    ("鱼塘缺氧鱼浮头怎么办", "fisheries"),
    ("番茄叶子卷曲是什么病", "crops"),
    ("鸡拉白色稀便", "livestock"),
    ("今天天气怎么样", "general"),
])
def test_the_topic_is_guessed_from_the_words(app, text, topic):
    assert topic_guess.guess(text) == topic


def _answered(farmer, expert, text="稻瘟病怎么防") -> Question:
    question = services.ask(topic="crops", channel=SMS, text=text, user=farmer)
    services.claim(question.id, expert)
    return services.answer(question.id, expert, "用三环唑。")


def test_a_digit_after_an_answer_rates_it(farmer, make_staff, text_in):
    question = _answered(farmer, make_staff(roles.EXPERT, name="孙丽华"))
    _response, reply = text_in(farmer.phone, "2")
    assert db.session.get(Question, question.id).rating == UNSATISFIED and str(question.id) in reply
    _response, later = text_in(farmer.phone, "1")  # rated: a digit is a letter to the point again
    assert db.session.get(Question, question.id).rating == UNSATISFIED
    assert later is None or str(question.id) not in later


def test_satisfied_in_words(farmer, make_staff, text_in):
    question = _answered(farmer, make_staff(roles.EXPERT, name="孙丽华"))
    text_in(farmer.phone, "满意")
    assert db.session.get(Question, question.id).rating == SATISFIED


def test_a_digit_answers_whatever_was_asked_last(app, make_point, make_staff, make_farmer, monkeypatch, text_in):
    """A sign-up sent after the answer takes the digit; an answer after the sign-up takes it back."""
    from ruralinfo.broadcasts import services as broadcasts
    from ruralinfo.broadcasts.models import Reply
    from tests.ruralinfo.broadcasts.test_replies import send_signup

    app.config.update(QUIET_HOURS="", SMS_RATE=100_000, BROADCAST_APPROVAL_THRESHOLD=100)
    monkeypatch.setattr(broadcasts, "start", broadcasts.send)
    county = {"clerk": make_staff(roles.STAFF, name="王晓燕"), "point": make_point()}
    farmer = make_farmer(name="吴美玲", groups=("葡萄",))
    expert = make_staff(roles.EXPERT, name="孙丽华")
    first = _answered(farmer, expert)
    signup = send_signup(county)
    text_in(farmer.phone, "2")
    assert db.session.get(Question, first.id).rating is None
    assert db.session.scalar(select(Reply.choice).where(Reply.broadcast_id == signup.id)) == 2
    second = _answered(farmer, expert, text="葡萄什么时候修剪")
    text_in(farmer.phone, "1")
    assert db.session.get(Question, second.id).rating == SATISFIED
    assert db.session.scalar(select(Reply.choice).where(Reply.broadcast_id == signup.id)) == 2


def test_a_digit_after_a_reminder_answers_the_sign_up(app, make_point, make_staff, make_farmer, monkeypatch, text_in):
    """The sign-up was made before the answer, but its reminder came after: the digit is the sign-up's."""
    from ruralinfo.broadcasts import replies
    from ruralinfo.broadcasts import services as broadcasts
    from ruralinfo.broadcasts.models import Reply
    from tests.ruralinfo.broadcasts.test_replies import send_signup

    app.config.update(QUIET_HOURS="", SMS_RATE=100_000, BROADCAST_APPROVAL_THRESHOLD=100)
    monkeypatch.setattr(broadcasts, "start", broadcasts.send)
    county = {"clerk": make_staff(roles.STAFF, name="王晓燕"), "point": make_point()}
    farmer = make_farmer(name="吴美玲", groups=("葡萄",))
    signup = send_signup(county)
    question = _answered(farmer, make_staff(roles.EXPERT, name="孙丽华"))
    replies.remind(signup, actor=county["clerk"])
    text_in(farmer.phone, "2")
    assert db.session.get(Question, question.id).rating is None
    assert db.session.scalar(select(Reply.choice).where(Reply.broadcast_id == signup.id)) == 2


def test_a_caller_with_no_account_rates_the_answer_by_sms(app, make_staff, text_in):
    app.config.update(QUIET_HOURS="")
    question = services.ask(topic="general", channel="voice", text="（录音）", phone="+8613900002222")
    expert = make_staff(roles.EXPERT, name="孙丽华")
    services.claim(question.id, expert)
    services.answer(question.id, expert, "长" * 800)  # a long answer: in several texts of at most six segments
    from ruralinfo.sms.models import OutboundMessage
    parts = db.session.scalars(select(OutboundMessage).where(OutboundMessage.cause == f"question:{question.id}")).all()
    assert len(parts) >= 2 and all(part.segments <= app.config["SMS_MAX_SEGMENTS"] for part in parts)
    assert sum(part.body.count("长") for part in parts) == 800
    _response, reply = text_in("+8613900002222", "1")
    assert db.session.get(Question, question.id).rating == SATISFIED and str(question.id) in reply
