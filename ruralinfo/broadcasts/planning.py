"""Planning a broadcast: who gets it, counted before sending (the preview) and then
written as recipient rows in one set-based statement — no loop over people.

The preview says what the bureau needs to decide: how many people, how many left
out because they opted out, how many duplicates the rules named twice, how many
texts in each language and their segments, the cost at ``SMS_PRICE`` a segment, and
how long sending takes at ``SMS_RATE`` texts a second (too long past
``BROADCAST_MAX_HOURS``: the notice would come too late to be useful).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from sqlalchemy import case, false, func, insert, literal, select

from ruralinfo.accounts.models import User
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import daily_cap, rate, texts
from ruralinfo.broadcasts.models import LEFT_TOPIC, OPTED_OUT, PLANNED, Broadcast, Recipient, TopicOptOut
from ruralinfo.extensions import db
from ruralinfo.regions.models import Region
from ruralinfo.sms import segments
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import BROADCAST
from ruralinfo.timeutil import now_utc


@dataclass
class Preview:
    people: int = 0  # texts to send: accounts and listed phones, once each, not opted out
    opted_out: int = 0
    duplicates: int = 0  # named by more than one rule, counted once
    by_language: dict[str, int] = field(default_factory=dict)  # texts per language
    segments_each: dict[str, int] = field(default_factory=dict)  # segments of one text per language
    segments: int = 0
    cost: Decimal = Decimal(0)
    hours: float = 0.0
    too_long: bool = False  # over BROADCAST_MAX_HOURS: blocked
    one_segment: bool = True  # every language's text fits one segment
    held: int = 0  # had today's routine notices (BROADCAST_DAILY_CAP): theirs waits for tomorrow
    left_topic: int = 0  # left the broadcast's topic (退订 价格)
    samples: dict[str, str] = field(default_factory=dict)  # the text as a reader of each language gets it


def left(topic_id: int | None):
    """SQL: the account left topic ``topic_id``."""
    if topic_id is None:
        return false()
    return User.id.in_(select(TopicOptOut.user_id).where(TopicOptOut.topic_id == topic_id))


@dataclass
class Draft:
    """What a text is made of (a ``Broadcast`` serves as well)."""
    body: str
    body_en: str = ""
    reply_options: list = field(default_factory=list)
    free_reply: bool = False


def preview(audience: audiences.Audience, body: str, body_en: str = "", urgent: bool = False,
            topic_id: int | None = None, reply_options: list | None = None, free_reply: bool = False) -> Preview:
    """What sending ``body`` (and ``body_en`` to English readers) to ``audience`` would
    take, counted in the database without writing anything. A sign-up's how-to-answer
    line is counted in; ``{name}`` and ``{village}`` are filled with one recipient's."""
    where = audiences.condition(audience)
    english = case((User.language == "en", "en"), else_="zh") if body_en else literal("zh")
    state = case((User.sms_opt_out.is_(True), OPTED_OUT), (left(topic_id), LEFT_TOPIC), else_=PLANNED)
    rows = db.session.execute(select(english, state, func.count()).where(where).group_by(english, state)).all()
    result = Preview()
    for language, reached, number in rows:
        if reached == OPTED_OUT:
            result.opted_out += number
        elif reached == LEFT_TOPIC:
            result.left_topic += number
        else:
            result.by_language[language] = result.by_language.get(language, 0) + number
    loose = audiences.loose_phones(audience)
    if loose:
        result.by_language["zh"] = result.by_language.get("zh", 0) + len(loose)
    result.people = sum(result.by_language.values())
    if not urgent:
        result.held = db.session.scalar(select(func.count()).select_from(User).where(
            where, User.sms_opt_out.is_(False), ~left(topic_id), User.phone.in_(daily_cap.capped_phones(now_utc()))))
    result.duplicates = _named_twice(audience)
    draft = Draft(body, body_en, list(reply_options or []), free_reply)
    for language in ("zh", "en"):
        result.samples[language] = sms.framed(_sample(draft, language, where), BROADCAST)
    for language, number in result.by_language.items():
        result.segments_each[language] = segments.count(result.samples[language]).segments
        result.segments += number * result.segments_each[language]
    result.one_segment = all(count <= 1 for count in result.segments_each.values())
    result.cost = Decimal(str(current_app.config["SMS_PRICE"])) * result.segments
    result.hours = result.people * rate.interval() / 3600  # at the pace the senders keep
    result.too_long = result.hours > float(current_app.config["BROADCAST_MAX_HOURS"])
    return result


def _sample(draft: Draft, language: str, where) -> str:
    """The text one recipient reading ``language`` gets (names filled with the first one's)."""
    text = texts.template(draft, language)
    if not texts.has_placeholders(text):
        return text
    someone = db.session.execute(select(User.name, Region.name).outerjoin(Region, Region.code == User.region_code)
                                 .where(where, User.language == texts.language_of(draft, language))
                                 .order_by(User.id).limit(1)).first()
    return texts.personal(text, *(someone or (None, None)), texts.language_of(draft, language))


def _named_twice(audience: audiences.Audience) -> int:
    """How many times the included rules name someone already named by another one:
    the sum of each rule's people, less the people of all of them together."""
    conditions = audiences.rule_conditions(audience.include)
    if len(conditions) < 2:
        return 0
    each = sum(db.session.scalar(select(func.count()).select_from(User).where(User.active.is_(True), condition))
               for condition in conditions)
    together = db.session.scalar(select(func.count()).select_from(User).where(
        audiences.condition(audiences.Audience(audience.include))))
    return each - together


def plan(broadcast: Broadcast) -> int:
    """Write the broadcast's recipients (once: a planned broadcast is left as it is), in
    one INSERT … SELECT over the accounts plus the listed phones that have no account.
    People who opted out, or left the broadcast's topic, are kept as such, so the
    delivery report can say why they got nothing. Returns how many will get a text. Not committed."""
    if broadcast.planned_at is not None:
        return broadcast.recipient_count
    audience = audiences.Audience.from_json(broadcast.audience)
    state = case((User.sms_opt_out.is_(True), OPTED_OUT), (left(broadcast.topic_id), LEFT_TOPIC), else_=PLANNED)
    language = case((User.language == "en", "en"), else_="zh")
    db.session.execute(insert(Recipient).from_select(
        ["broadcast_id", "user_id", "phone", "language", "state"],
        select(literal(broadcast.id), User.id, User.phone, language, state).where(audiences.condition(audience))))
    loose = audiences.loose_phones(audience)
    if loose:
        db.session.execute(insert(Recipient), [{"broadcast_id": broadcast.id, "user_id": None, "phone": phone,
                                                "language": "zh", "state": PLANNED} for phone in loose])
    broadcast.recipient_count = db.session.scalar(select(func.count(Recipient.id)).where(
        Recipient.broadcast_id == broadcast.id, Recipient.state == PLANNED))
    broadcast.planned_at = now_utc()
    return broadcast.recipient_count
