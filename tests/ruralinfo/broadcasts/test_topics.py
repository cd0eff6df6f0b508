"""Leaving and joining one topic by SMS (退订 价格 / STOP prices, 订阅 天气 / START
weather): kept with its time, honoured when planning and again when sending; a
plain 退订 still stops every notice."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ruralinfo.audit.models import AuditEntry
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import planning, sending, topics
from ruralinfo.broadcasts.audience import Rules
from ruralinfo.broadcasts.models import LEFT_TOPIC, SENDING, Broadcast, Recipient, Topic, TopicOptOut
from ruralinfo.extensions import db
from ruralinfo.sms.models import BROADCAST, OutboundMessage


def topic(key: str) -> Topic:
    return db.session.scalar(select(Topic).where(Topic.key == key))


@pytest.mark.parametrize("words, key", [("价格", "prices"), ("价格行情", "prices"), ("prices", "prices"),
                                        ("Price", "prices"), ("天气", "weather"), ("weather", "weather"),
                                        ("病虫害", "pests"), ("会议", "meetings")])
def test_a_topic_is_named_in_chinese_or_english(app, words, key):
    assert topics.named(words).key == key


@pytest.mark.parametrize("words", ["", "价", "football", "天"])
def test_words_that_name_no_topic(app, words):
    assert topics.named(words) is None


def test_stop_prices_by_sms_leaves_that_topic_only_with_proof(app, make_farmer, text_in):
    farmer = make_farmer()
    _response, reply = text_in(farmer.phone, "退订 价格")
    assert "价格行情" in reply and "订阅 价格行情" in reply
    db.session.expire_all()
    assert not farmer.sms_opt_out  # the other notices still come
    assert db.session.scalars(select(TopicOptOut.topic_id).where(TopicOptOut.user_id == farmer.id)).all() == [
        topic("prices").id]
    proof = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "topic.leave"))
    assert proof.details["topic"] == "prices" and proof.at is not None and proof.channel == "sms"
    _response, reply = text_in(farmer.phone, "订阅 价格")
    assert db.session.scalar(select(TopicOptOut.id).where(TopicOptOut.user_id == farmer.id)) is None
    assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("topic.%"))
                              .order_by(AuditEntry.id)).all() == ["topic.leave", "topic.join"]


def test_stop_in_english_and_an_unknown_topic(app, make_farmer, text_in):
    farmer = make_farmer()
    farmer.language = "en"
    db.session.commit()
    _response, reply = text_in(farmer.phone, "STOP weather")
    assert "weather" in reply and "START weather" in reply
    _response, reply = text_in(farmer.phone, "STOP football")
    assert "Which notices?" in reply and "prices" in reply and "weather" in reply
    _response, reply = text_in(farmer.phone, "STOP")
    db.session.expire_all()
    assert farmer.sms_opt_out  # STOP alone: every notice


def test_who_left_a_topic_is_left_out_when_planning_and_when_sending(app, make_farmer):
    app.config.update(QUIET_HOURS="", SMS_RATE=100_000)
    stays, leaves, later = (make_farmer(name=name, groups=("茶叶",)) for name in ("赵大", "钱二", "孙三"))
    topics.leave(leaves, topic("prices"), channel="web")
    rules = audiences.clean(Rules(groups=["茶叶"]))
    shown = planning.preview(rules, "茶叶收购价上调", topic_id=topic("prices").id)
    assert shown.people == 2 and shown.left_topic == 1
    assert planning.preview(rules, "明晨霜冻", topic_id=topic("weather").id).people == 3  # other topics still come
    broadcast = Broadcast(body="茶叶收购价上调", topic=topic("prices"), audience=rules.to_json(), status=SENDING)
    db.session.add(broadcast)
    db.session.flush()
    planning.plan(broadcast)
    db.session.commit()
    assert db.session.scalar(select(Recipient.state).where(Recipient.user_id == leaves.id)) == LEFT_TOPIC
    topics.leave(later, topic("prices"), channel="sms")  # after planning, before sending
    sending.run(broadcast.id)
    sent = db.session.scalars(select(OutboundMessage.to).where(OutboundMessage.kind == BROADCAST,
                                                               OutboundMessage.status == "sent")).all()
    assert sent == [stays.phone]


def test_leaving_a_topic_twice_at_once_keeps_one_choice_and_no_error(app, make_farmer):
    """A double tap on the web, or an SMS at the same moment: one row, one audit entry."""
    import threading

    from sqlalchemy import func, select

    from ruralinfo.accounts.models import User
    from ruralinfo.audit.models import AuditEntry
    from ruralinfo.broadcasts.models import TopicOptOut

    farmer_id = make_farmer(name="吴秋菊").id
    prices_id = topic("prices").id
    outcomes, errors, barrier = [], [], threading.Barrier(2)

    def leave():
        from ruralinfo.broadcasts.models import Topic

        with app.app_context():
            try:
                barrier.wait(5)
                outcomes.append(topics.leave(db.session.get(User, farmer_id), db.session.get(Topic, prices_id),
                                             channel="web"))
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=leave) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and sorted(outcomes) == [False, True]
    assert db.session.scalar(select(func.count(TopicOptOut.id)).where(TopicOptOut.user_id == farmer_id)) == 1
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "topic.leave")) == 1
