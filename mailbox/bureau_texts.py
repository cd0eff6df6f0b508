"""The bureau's answers to farmers' texts that reached no liaison point: answer by
letter (it reaches the farmer's phone, and their mailbox, in a thread) or pass
the text to a liaison point, which then answers it like any letter.

Either way the farmer's text becomes a letter (``inbound_id`` is the text), so a
text is answered or passed on once, even when two clerks act at the same time.
"""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mailbox import services
from mailbox.models import PERSONAL, Letter
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.liaison.models import ACTIVE, LiaisonPoint
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import REPLY, InboundMessage


class TextError(FieldErrors):
    """The text cannot be answered or passed on as asked."""


def letter_for(text_id: int) -> Letter | None:
    """The letter the text became (answered or passed on), if any."""
    return db.session.scalar(select(Letter).where(Letter.inbound_id == text_id))


def _unrouted(text_id: int) -> InboundMessage:
    text = db.session.get(InboundMessage, text_id)
    if text is None or text.command != "unrouted" or text.user is None:
        raise TextError({"text": str(_l("This text is not waiting for the bureau."))})
    return text


def answer(text_id: int, *, clerk: User, body: str, channel: str) -> Letter:
    """Answer the farmer's text by letter, signed with the clerk's real name; it
    reaches their phone even after 退订 (it answers their own text)."""
    text = _unrouted(text_id)
    original = letter_for(text_id)
    if original is None:
        original = Letter(kind=PERSONAL, sender_id=text.user_id, recipient_id=clerk.id,
                          body=(text.body or "-")[:services.MAX_LETTER], channel="sms", inbound_id=text.id,
                          read_at=text.received_at)
        db.session.add(original)
        try:
            db.session.flush()
        except IntegrityError:  # another clerk made it meanwhile: answer in that thread
            db.session.rollback()
            original = letter_for(text_id)
    letter = services.reply(original.id, sender=clerk, body=body, channel=channel, commit=False)
    audit.record("text.answer", (InboundMessage.__tablename__, text.id), actor=clerk, channel=channel,
                 details={"letter": letter.id})
    db.session.commit()
    sms.dispatch_pending()
    return letter


def forward(text_id: int, *, clerk: User, point_id: int, channel: str) -> Letter:
    """Pass the text to a liaison point as a letter from the farmer; the farmer is told."""
    text = _unrouted(text_id)
    if letter_for(text_id) is not None:
        raise TextError({"text": str(_l("This text is already answered or passed on."))})
    point = db.session.get(LiaisonPoint, point_id)
    if point is None or point.status != ACTIVE:
        raise TextError({"point": str(_l("Choose an active liaison point."))})
    try:
        letter = services.send_letter(sender=text.user, recipient_point=point, body=(text.body or "-"),
                                      channel="sms", inbound_id=text.id, commit=False)
    except IntegrityError:
        db.session.rollback()
        raise TextError({"text": str(_l("This text is already answered or passed on."))}) from None
    with force_locale(text.user.language or "zh"):
        notice = _("Your message is passed to %(point)s, who will answer you. Send HELP to see what you can send.",
                   point=point.name)
    sms.queue_sms(text.user.phone, notice, kind=REPLY, cause=f"forward:{text.id}", user=text.user)
    audit.record("text.forward", (InboundMessage.__tablename__, text.id), actor=clerk, channel=channel,
                 details={"letter": letter.id, "point": point.id})
    db.session.commit()
    sms.dispatch_pending()
    return letter


def active_points() -> list[LiaisonPoint]:
    return list(db.session.scalars(select(LiaisonPoint).where(LiaisonPoint.status == ACTIVE)
                                   .order_by(LiaisonPoint.name)))
