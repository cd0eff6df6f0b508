"""Questions to the experts: one question whichever way it came, held by one expert at a
time, moved to another topic, answered (by SMS and in the mailbox) and rated once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from hotline import services
from hotline.models import ANSWERED, CLAIMED, SATISFIED, SMS, UNSATISFIED, VOICE, WAITING, Question, Recording
from mailbox.models import ANSWER, Letter
from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage


@pytest.fixture
def people(app, make_farmer, make_staff):
    return {
        "farmer": make_farmer(name="陈桂兰"),
        "wang": make_staff(roles.EXPERT, name="王立新"),
        "zhao": make_staff(roles.EXPERT, name="赵春梅"),
    }


def _texts_to(phone: str) -> list[str]:
    return [m.body for m in db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == phone)
                                               .order_by(OutboundMessage.id))]


def test_a_written_question_is_kept_with_its_topic_farmer_and_channel(people):
    question = services.ask(topic="crops", channel=SMS, text="  水稻叶子发黄 怎么办 ", user=people["farmer"])
    assert (question.topic, question.channel, question.user_id, question.status) == (
        "crops", SMS, people["farmer"].id, WAITING)
    assert question.text == "水稻叶子发黄 怎么办" and question.phone == people["farmer"].phone
    assert str(question.id) in services.acknowledgement(question)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "question.ask")) is not None


def test_an_unknown_topic_goes_to_the_general_queue_and_empty_or_long_questions_are_refused(people):
    assert services.ask(topic="astrology", channel=SMS, text="问一下", user=people["farmer"]).topic == "general"
    with pytest.raises(services.QuestionRefused):
        services.ask(topic="crops", channel=SMS, text="   ", user=people["farmer"])
    with pytest.raises(services.QuestionRefused):
        services.ask(topic="crops", channel=SMS, text="长" * 1001, user=people["farmer"])


def test_a_recorded_question_needs_at_least_a_second_of_sound(people):
    silent = Recording(sid="RE" + "0" * 32, url="https://api.twilio.com/x", seconds=0)
    db.session.add(silent)
    db.session.flush()
    with pytest.raises(services.QuestionRefused):
        services.ask(topic="livestock", channel=VOICE, recording=silent, phone="+8613900001111")
    spoken = Recording(sid="RE" + "1" * 32, url="https://api.twilio.com/y", seconds=14)
    db.session.add(spoken)
    db.session.flush()
    question = services.ask(topic="livestock", channel=VOICE, recording=spoken, phone="+8613900001111")
    assert question.user_id is None and question.recording_id == spoken.id


def test_one_expert_holds_a_question_and_the_other_is_told_who(people):
    question = services.ask(topic="crops", channel=SMS, text="葡萄霜霉病怎么防", user=people["farmer"])
    services.claim(question.id, people["wang"])
    with pytest.raises(services.HeldByAnother) as held:
        services.claim(question.id, people["zhao"])
    assert "王立新" in str(held.value)
    with pytest.raises(services.HeldByAnother):
        services.answer(question.id, people["zhao"], "喷代森锰锌")
    assert db.session.get(Question, question.id).claimed_by_id == people["wang"].id
    services.release(question.id, people["wang"])
    assert services.claim(question.id, people["zhao"]).claimed_by_id == people["zhao"].id


def test_two_experts_claiming_at_once_leave_one_holder(app, people):
    question_id = services.ask(topic="crops", channel=SMS, text="桃树流胶怎么办", user=people["farmer"]).id
    expert_ids = [people["wang"].id, people["zhao"].id]
    db.session.remove()
    barrier, won, lost = threading.Barrier(2), [], []

    def claim(expert_id):
        with app.app_context():
            expert = db.session.get(type(people["wang"]), expert_id)
            barrier.wait()
            try:
                services.claim(question_id, expert)
                won.append(expert_id)
            except services.HeldByAnother:
                lost.append(expert_id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(expert_id,)) for expert_id in expert_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 1
    assert db.session.get(Question, question_id).claimed_by_id == won[0]


def test_the_answer_reaches_the_farmer_by_sms_and_mailbox_then_one_rating_text(people):
    farmer = people["farmer"]
    question = services.ask(topic="crops", channel=SMS, text="水稻稻瘟病用什么药", user=farmer)
    with pytest.raises(services.QuestionRefused):  # not held: answering needs the claim first
        services.answer(question.id, people["wang"], "三环唑")
    services.claim(question.id, people["wang"])
    services.answer(question.id, people["wang"], "发病初期用三环唑喷雾，间隔7天再喷一次。")
    question = db.session.get(Question, question.id)
    assert question.status == ANSWERED and question.answered_by_id == people["wang"].id
    letter = db.session.get(Letter, question.letter_id)
    assert letter.kind == ANSWER and letter.recipient_id == farmer.id and "三环唑" in letter.body
    texts = _texts_to(farmer.phone)
    assert any("三环唑" in text for text in texts)
    causes = db.session.scalars(select(OutboundMessage.cause).where(OutboundMessage.to == farmer.phone)).all()
    assert causes.count(f"rating:{question.id}") == 1  # the one question whether it helped
    with pytest.raises(services.QuestionRefused):  # answered once only
        services.answer(question.id, people["wang"], "再补充一点")


def test_a_caller_who_is_not_registered_gets_the_answer_by_sms(people):
    question = services.ask(topic="general", channel=VOICE, text="（录音）", phone="+8613900002222")
    services.claim(question.id, people["zhao"])
    services.answer(question.id, people["zhao"], "请带上病叶到镇农技站。")
    assert any("镇农技站" in text for text in _texts_to("+8613900002222"))
    assert db.session.get(Question, question.id).letter_id is None


def test_a_question_moves_to_another_topic_and_back_to_the_queue(people):
    question = services.ask(topic="crops", channel=SMS, text="猪不吃食怎么办", user=people["farmer"])
    services.claim(question.id, people["wang"])
    moved = services.transfer(question.id, people["wang"], "livestock")
    assert (moved.topic, moved.status, moved.claimed_by_id) == ("livestock", WAITING, None)
    with pytest.raises(services.QuestionRefused):
        services.transfer(question.id, people["wang"], "astrology")
    services.claim(question.id, people["zhao"])
    with pytest.raises(services.HeldByAnother):  # not the holder's: cannot move it
        services.transfer(question.id, people["wang"], "crops")


def test_a_rating_is_kept_once(people):
    question = services.ask(topic="crops", channel=SMS, text="西瓜裂果", user=people["farmer"])
    services.claim(question.id, people["wang"])
    services.answer(question.id, people["wang"], "均匀浇水。")
    assert services.awaiting_rating(people["farmer"].phone).id == question.id
    services.rate(question, SATISFIED, user=people["farmer"])
    services.rate(question, UNSATISFIED, user=people["farmer"])
    assert db.session.get(Question, question.id).rating == SATISFIED
    assert services.awaiting_rating(people["farmer"].phone) is None


def test_a_claim_left_too_long_may_be_taken_over(people):
    question = services.ask(topic="crops", channel=SMS, text="茶叶修剪时间", user=people["farmer"])
    services.claim(question.id, people["wang"])
    row = db.session.get(Question, question.id)
    row.claimed_at = row.claimed_at.replace(year=row.claimed_at.year - 1)
    db.session.commit()
    assert services.claim(question.id, people["zhao"]).claimed_by_id == people["zhao"].id
    assert db.session.get(Question, question.id).status == CLAIMED
