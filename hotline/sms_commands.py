"""The hotline's SMS commands: ``问 …`` / ``ASK …`` puts a question to the experts, and
``1`` / ``2`` (or ``满意`` / ``不满意``) rates the answer to it.

A bare digit also answers a broadcast's sign-up (``ruralinfo.broadcasts.reply_commands``):
it answers whichever the farmer was asked last — the rating when the answer came after
the latest open sign-up, the sign-up otherwise.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from hotline import services, topic_guess
from hotline.models import SATISFIED, SMS, UNSATISFIED
from ruralinfo.broadcasts import replies
from ruralinfo.broadcasts.models import Broadcast, Recipient
from ruralinfo.extensions import db
from ruralinfo.sms import commands, parsing
from ruralinfo.sms.models import OutboundMessage

RATING_WORDS = {"满意": SATISFIED, "不满意": UNSATISFIED, "SATISFIED": SATISFIED, "NOT SATISFIED": UNSATISFIED}


def ask(inbound: commands.Inbound, rest: str) -> str:
    """``问 水稻叶子发黄怎么办`` → a question under the topic its words name."""
    words = rest.strip()
    if not words:
        return _("Write your question after 问, for example: 问 水稻叶子发黄怎么办")
    try:
        question = services.ask(topic=topic_guess.guess(words), channel=SMS, text=words, user=inbound.user,
                                inbound_id=inbound.message.id, commit=False)
    except services.QuestionRefused as refused:
        return str(refused)
    return services.acknowledgement(question)


def _rating_first(inbound: commands.Inbound):
    """The question awaiting this farmer's rating, when it was asked after the latest open sign-up."""
    question = services.awaiting_rating(inbound.user.phone)
    if question is None:
        return None
    signup = replies.latest_open(inbound.user)
    if signup is not None and _last_text_of(signup, inbound.user.phone) > question.rating_asked_at:
        return None
    return question


def _last_text_of(signup, phone: str) -> datetime:
    """When this phone was last sent the sign-up or a reminder of it (its text, not the notice's making)."""
    sent = db.session.scalar(
        select(func.max(OutboundMessage.created_at))
        .join(Recipient, Recipient.message_id == OutboundMessage.id)
        .join(Broadcast, Broadcast.id == Recipient.broadcast_id)
        .where(OutboundMessage.to == phone, or_(Broadcast.id == signup.id, Broadcast.reminder_of_id == signup.id)))
    return sent or signup.created_at


def _digits(previous):
    def handler(inbound: commands.Inbound, rest: str) -> str | None:
        said = parsing.strip_noise(inbound.text)
        question = _rating_first(inbound) if said in ("1", "2") else None
        if question is None:
            return previous(inbound, rest) if previous is not None else None
        inbound.outcome = "rating"
        return services.rate(question, int(said), user=inbound.user, commit=False)
    return handler


def rating_word(inbound: commands.Inbound, _rest: str) -> str | None:
    """``满意`` / ``不满意``: the rating of the latest answer awaiting one."""
    question = services.awaiting_rating(inbound.user.phone)
    if question is None:
        fallback = commands.registry.fallback
        return fallback(inbound, inbound.text) if fallback is not None else None
    said = parsing.strip_noise(inbound.text).upper()
    return services.rate(question, RATING_WORDS[said], user=inbound.user, commit=False)


def stranger_rating(phone: str, text: str) -> tuple[str, str] | None:
    """A caller with no account rates the answer to their question by ``1``/``2`` (or in words)."""
    said = parsing.strip_noise(text).upper()
    rating = {"1": SATISFIED, "2": UNSATISFIED, **RATING_WORDS}.get(said)
    question = services.awaiting_rating(phone) if rating is not None else None
    if question is None:
        return None
    return "rating", services.rate(question, rating, commit=False)


def register() -> None:
    """``问``/``ASK``; the rating digits wrap the sign-up digits (registered before)."""
    commands.register("问", "ASK", handler=ask, name="ask", summary=_l("ASK your question: to the experts"))
    digits = next((command for command in commands.registry.commands if command.name == "signup-digit"), None)
    keywords = digits.keywords if digits is not None else ("1", "2")
    commands.register(*keywords, handler=_digits(digits.handler if digits else None), name="signup-digit",
                      exact=True)
    commands.register(*RATING_WORDS, handler=rating_word, name="rating", exact=True)
    commands.register_stranger(stranger_rating)
