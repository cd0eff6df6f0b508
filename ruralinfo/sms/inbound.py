"""Handling one received text: store it, find the sender, run the command,
keep the reply — so that a repeated delivery answers the same and does nothing."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ruralinfo.accounts import phones
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.sms import commands, parsing, segments, services
from ruralinfo.sms.models import REPLY, SENT, InboundMessage, OutboundMessage
from ruralinfo.timeutil import now_utc

log = logging.getLogger(__name__)
MAX_BODY = 1600  # Twilio's limit for one message; anything longer is cut before storing
REPLY_SEGMENTS = 2


def receive(*, provider_id: str, from_phone: str, to: str, body: str, gateway: str) -> str | None:
    """Store and handle one inbound text; return the reply text (or None)."""
    message = _store(provider_id, from_phone, to, body, gateway)
    if message is None:  # a repeat: answer as the first time, do nothing else
        return db.session.scalar(select(InboundMessage.reply).where(
            InboundMessage.provider_id == provider_id[:64].replace("\x00", "")))
    try:
        reply = _handle(message)
    except Exception:  # noqa: BLE001 - the text is stored; never answer Twilio with a 500
        db.session.rollback()
        log.exception("inbound message %s could not be handled", message.id)
        user = db.session.get(User, message.user_id) if message.user_id else None
        with force_locale(user.language if user else "zh"):
            reply = _("Sorry, something went wrong. Your message is saved and we will look at it.")
        _finish(message, "error", reply, error="handler failed")
    return reply


def _store(provider_id: str, from_phone: str, to: str, body: str, gateway: str) -> InboundMessage | None:
    """Insert the text first of all, and commit; None when this provider id was stored before.

    The row is kept in memory after the commit (not expired), so handling it
    costs no second read."""
    try:
        sender = phones.normalize(from_phone, mobile=False)
    except phones.PhoneError:
        sender = from_phone[:32]
    user_id = db.session.scalar(select(User.id).where(User.phone == sender))
    # NUL is the one character PostgreSQL cannot store in text; nothing else is changed.
    message = InboundMessage(provider_id=provider_id[:64].replace("\x00", ""), gateway=gateway,
                             from_phone=sender[:32].replace("\x00", ""), to=to[:32].replace("\x00", ""),
                             body=(body or "")[:MAX_BODY].replace("\x00", ""), user_id=user_id, error="", command="",
                             received_at=now_utc())
    db.session.add(message)
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    finally:
        session.expire_on_commit = True
    return message


def _handle(message: InboundMessage) -> str | None:
    user = db.session.get(User, message.user_id) if message.user_id else None
    if user is None or not user.active:
        return _unknown_sender(message)
    with force_locale(user.language or "zh"):
        request = commands.Inbound(user=user, message=message, text=parsing.normalize(message.body))
        name, reply = commands.dispatch(request)
        if reply:
            reply = segments.truncate(reply, REPLY_SEGMENTS, services.signature())
    _finish(message, name, reply)
    return reply


def _unknown_sender(message: InboundMessage) -> str | None:
    """One reply, in Chinese, pointing to the village liaison point — at most once a
    day per number, so that a wrong number costs little. No account is made."""
    since = now_utc() - timedelta(hours=24)
    answered = db.session.scalar(select(func.count(InboundMessage.id)).where(
        InboundMessage.from_phone == message.from_phone, InboundMessage.id != message.id,
        InboundMessage.command == "unknown-sender", InboundMessage.reply.is_not(None),
        InboundMessage.received_at >= since))
    reply = None
    if not answered:
        from flask import current_app

        with force_locale("zh"):
            reply = _("This number is not registered with the farmers' mailbox. Please bring your ID card to "
                      "your village liaison point to register. Hotline: %(hotline)s",
                      hotline=current_app.config["HOTLINE_NUMBER"])
    _finish(message, "unknown-sender", reply)
    return reply


def _finish(message: InboundMessage, command: str, reply: str | None, error: str = "") -> None:
    """Keep the reply with the message and in the outbox (sent inline), and commit
    it together with whatever the command did."""
    db.session.execute(update(InboundMessage).where(InboundMessage.id == message.id).values(
        command=command[:32], reply=reply, handled_at=now_utc(), error=error))
    if reply:
        counted = segments.count(reply, services.signature())
        db.session.add(OutboundMessage(to=message.from_phone, user_id=message.user_id, body=reply, kind=REPLY,
                                       cause=f"inbound:{message.id}", segments=counted.segments,
                                       encoding=counted.encoding, status=SENT, gateway="inline", attempts=1,
                                       last_error=""))
    db.session.commit()
    services.dispatch_pending()
