"""Topics of notices a farmer can leave and join again, by SMS (``退订 价格`` /
``STOP prices``, ``订阅 天气`` / ``START weather``) and on the web. A plain ``退订``
still stops every notice (``accounts.set_sms_opt_out``). Each change is audited with
its time: the proof of consent."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ruralinfo.audit import services as audit
from ruralinfo.broadcasts.models import Topic, TopicOptOut
from ruralinfo.extensions import db
from ruralinfo.sms import commands


def named(words: str) -> Topic | None:
    """The active topic ``words`` names: its Chinese name or a part of it (价格 for
    价格行情), its key or English name (prices, price, weather)."""
    text = " ".join((words or "").split()).casefold()
    if not text:
        return None
    for topic in db.session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.id)):
        english = {topic.key.casefold(), topic.name_en.casefold()}
        english |= {word.rstrip("s") for word in english}
        if text in (topic.name_zh.casefold(),) or (len(text) >= 2 and text in topic.name_zh) \
                or text in english or text.rstrip("s") in english:
            return topic
    return None


def leave(user, topic: Topic, *, channel: str, commit: bool = True) -> bool:
    """``user`` gets no more notices of ``topic``; False when they had left it already."""
    if db.session.scalar(select(TopicOptOut.id).where(TopicOptOut.user_id == user.id,
                                                      TopicOptOut.topic_id == topic.id)) is not None:
        return False
    try:  # two at once (a double tap on the web, an SMS at the same moment): the unique key keeps one
        with db.session.begin_nested():
            db.session.add(TopicOptOut(user_id=user.id, topic_id=topic.id))
    except IntegrityError:
        return False
    audit.record("topic.leave", user, actor=user, channel=channel, details={"topic": topic.key})
    _finish(commit)
    return True


def join(user, topic: Topic, *, channel: str, commit: bool = True) -> bool:
    """``user`` gets notices of ``topic`` again; False when they had not left it."""
    gone = db.session.execute(delete(TopicOptOut).where(TopicOptOut.user_id == user.id,
                                                        TopicOptOut.topic_id == topic.id)).rowcount
    if gone:
        audit.record("topic.join", user, actor=user, channel=channel, details={"topic": topic.key})
    _finish(commit)
    return bool(gone)


def left_by(user) -> set[int]:
    return set(db.session.scalars(select(TopicOptOut.topic_id).where(TopicOptOut.user_id == user.id)))


def _finish(commit: bool) -> None:
    if commit:
        db.session.commit()
    else:
        db.session.flush()


# --- SMS ------------------------------------------------------------------------------------

def _choices() -> str:
    english = str(get_locale()).startswith("en")
    return "、".join(topic.label("en" if english else "zh") for topic in
                    db.session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.id)))


def stop_topic(inbound: commands.Inbound, rest: str) -> str:
    topic = named(rest)
    if topic is None:
        return _("Which notices? Send STOP and one of: %(topics)s. STOP alone stops every notice.",
                 topics=_choices())
    leave(inbound.user, topic, channel="sms", commit=False)
    return _("You will get no more %(topic)s notices. To get them again, send START %(topic)s.",
             topic=topic.label(str(get_locale())))


def start_topic(inbound: commands.Inbound, rest: str) -> str:
    topic = named(rest)
    if topic is None:
        return _("Which notices? Send START and one of: %(topics)s.", topics=_choices())
    join(inbound.user, topic, channel="sms", commit=False)
    return _("You will get %(topic)s notices again.", topic=topic.label(str(get_locale())))


def register() -> None:
    """退订/STOP and 订阅/START followed by a topic (alone, they are the core's commands)."""
    commands.register("退订", "STOP", "TD", handler=stop_topic, name="stop-topic")
    commands.register("订阅", "START", handler=start_topic, name="start-topic")
