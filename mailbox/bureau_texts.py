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
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User, UserRole
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.liaison.models import ACTIVE, LiaisonPoint
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import REPLY, InboundMessage
from ruralinfo.timeutil import now_utc

BUREAU_ROLES = (*roles.BUREAU, roles.ADMIN)


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
    original.answered_at = now_utc()
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


def waiting_letters(limit: int = 100) -> list[Letter]:
    """Letters to bureau staff not answered yet — a farmer's follow-up to the bureau's
    answer — for any clerk to answer: staff read their letters on the web, not by SMS."""
    staff = select(UserRole.user_id).where(UserRole.role.in_(BUREAU_ROLES))
    return list(db.session.scalars(select(Letter).where(
        Letter.recipient_id.in_(staff), Letter.answered_at.is_(None), Letter.closed_at.is_(None))
        .order_by(Letter.id.desc()).limit(limit)))


def answer_letter(letter_id: int, *, clerk: User, body: str, channel: str) -> Letter:
    """Any clerk answers a farmer's letter to the bureau, in its thread; it reaches the
    farmer's phone (it answers their own letter)."""
    letter = db.session.get(Letter, letter_id)
    if letter is None or letter.sender is None or letter.recipient is None \
            or not letter.recipient.has_role(*BUREAU_ROLES):
        raise TextError({"text": str(_l("This letter is not waiting for the bureau."))})
    answer = services.send_letter(sender=clerk, recipient=letter.sender, body=body, channel=channel,
                                  reply_to=letter, commit=False)
    letter.answered_at = letter.answered_at or now_utc()
    if letter.read_at is None:
        letter.read_at = now_utc()
    audit.record("letter.answer", letter, actor=clerk, channel=channel, details={"letter": answer.id})
    db.session.commit()
    sms.dispatch_pending()
    return answer


def active_points() -> list[LiaisonPoint]:
    """The points a text can be passed to."""
    return list(db.session.scalars(select(LiaisonPoint).where(LiaisonPoint.status == ACTIVE)
                                   .order_by(LiaisonPoint.name)))
