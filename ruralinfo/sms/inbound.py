"""Handling one received text: store it, find the sender, run the command,
keep the reply — so that a repeated delivery answers the same and does nothing.

The text is stored (and committed) before anything else; handling it is a second
transaction. If the process dies in between, nothing is lost: Twilio's retry with
the same MessageSid handles it then, and ``sweep`` handles whatever is left
unhandled for more than a minute. Whoever gets there, it is handled once: the
first statement of the handling transaction claims the row with a guarded UPDATE
(``handled_at IS NULL``), and the command's effects, the reply and the "handled"
mark commit with that claim. A second comer waits on the claim, finds it taken,
and answers what the first one stored.
"""
from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError, StatementError

from ruralinfo.accounts import phones
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.liaison import services as liaison
from ruralinfo.sms import commands, parsing, segments, services
from ruralinfo.sms.models import REPLY, SENT, InboundMessage, OutboundMessage
from ruralinfo.timeutil import now_utc

log = logging.getLogger(__name__)
MAX_BODY = 1600  # Twilio's limit for one message; anything longer is cut before storing
ERROR = "error"  # the command stored for a text whose handling failed: listed for the bureau
UNKNOWN_SENDER, INACTIVE_SENDER = "unknown-sender", "inactive-sender"  # also listed for the bureau
INLINE = "inline"  # the gateway of a reply that went back in the webhook's answer
SWEEP_AFTER = timedelta(minutes=1)  # a younger unhandled text is still in its own request's hands
# Stored (with handled_at still empty) while the sweep handles a text: if the sweep
# finds it again, handling it killed the process, and it is failed instead of retried.
INTERRUPTED = "interrupted: the process stopped while handling it"
# A mark younger than this is another sweep at work (several workers sweep at once), not a crash.
MARK_OUTLIVES = timedelta(minutes=5)


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt to handle a stored text."""

    handled: bool = False  # by this attempt (False: somebody else had, or has just, handled it)
    failed: bool = False   # handled by recording the failure (command "error")
    reply: str | None = None  # what to answer in the webhook's response (None: nothing)


def receive(*, provider_id: str, from_phone: str, to: str, body: str, gateway: str,
            inline: bool = True) -> str | None:
    """Store and handle one inbound text; return the reply text (or None).

    ``inline``: the reply goes back in the webhook's answer (Twilio). A gateway
    that cannot answer so (Kannel) passes False: the reply is queued as a text of
    its own, in the outbox with a status, and nothing is returned.

    A repeated provider id answers the stored reply (inline) and does nothing
    else; when the first delivery was stored but never handled (its process
    died), the repeat handles it."""
    message = _store(provider_id, from_phone, to, body, gateway)
    if message is None:  # a repeat
        message = db.session.scalar(select(InboundMessage).where(InboundMessage.provider_id == _clean(provider_id, 64)))
        if message is None:
            return None
        if message.handled_at is not None:
            return _answer(message.id, message.from_phone) if inline else None
    return _process(message, inline=inline).reply


def handle(message_id: int) -> Outcome:
    """Handle a stored, unhandled text outside a webhook (the sweep, the bureau):
    once, and its reply is queued as a text of its own."""
    message = db.session.get(InboundMessage, message_id)
    if message is None or message.handled_at is not None:
        db.session.rollback()
        return Outcome()
    return _process(message, inline=False)


def reopen(message_id: int) -> bool:
    """Make a failed text unhandled again so that ``handle`` takes it (not committed).
    False when it is not failed, or no longer: somebody handled it meanwhile."""
    result = db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == message_id, InboundMessage.command == ERROR,
               InboundMessage.handled_at.is_not(None))
        .values(handled_at=None, error="")
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def sweep(now: datetime | None = None, limit: int | None = None) -> tuple[int, int]:
    """Handle the texts left unhandled for more than a minute, oldest first, each
    in its own transaction; one that fails does not stop the others.
    Returns (handled, of which failed)."""
    now = now or now_utc()
    query = (select(InboundMessage.id)
             .where(InboundMessage.handled_at.is_(None), InboundMessage.received_at < now - SWEEP_AFTER)
             .order_by(InboundMessage.received_at, InboundMessage.id).limit(limit))
    ids = db.session.scalars(query).all()
    db.session.commit()
    handled = failed = 0
    for message_id in ids:
        try:
            outcome = _sweep_one(message_id, now)
        except Exception as err:  # noqa: BLE001 - even recording the failure failed: on to the next
            _discard()
            log.error("inbound message %s: the sweep could not handle it (%s)", message_id, type(err).__name__)
            continue
        handled += outcome.handled
        failed += outcome.failed
    return handled, failed


# --- steps -------------------------------------------------------------------------------

def _clean(value: str, limit: int) -> str:
    # NUL is the one character PostgreSQL cannot store in text; nothing else is changed.
    return (value or "")[:limit].replace("\x00", "")


def _store(provider_id: str, from_phone: str, to: str, body: str, gateway: str) -> InboundMessage | None:
    """Insert the text first of all, and commit; None when this provider id was stored before.

    The row and its sender's account are kept in memory after the commit (not
    expired), so handling it costs no second read."""
    try:
        sender = phones.normalize(from_phone, mobile=False)
    except phones.PhoneError:
        sender = from_phone[:32]
    user = db.session.scalar(select(User).where(User.phone == sender))
    message = InboundMessage(provider_id=_clean(provider_id, 64), gateway=gateway, from_phone=_clean(sender, 32),
                             to=_clean(to, 32), body=_clean(body, MAX_BODY), user=user, error="", command="",
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


def _sweep_one(message_id: int, now: datetime) -> Outcome:
    """Mark the attempt (committed), then handle: a text whose handling kills the
    process is set aside for the bureau by the next sweep, not tried forever."""
    message = db.session.get(InboundMessage, message_id)
    if message is None or message.handled_at is not None:
        db.session.rollback()
        return Outcome()
    if message.error.startswith(INTERRUPTED):
        marked_at = _mark_time(message.error)
        if marked_at is not None and marked_at > now - MARK_OUTLIVES:
            db.session.rollback()
            return Outcome()  # another sweep is handling it right now
        return _fail(message_id, INTERRUPTED, inline=False)  # the last sweep died handling it
    marked = db.session.execute(
        update(InboundMessage).where(InboundMessage.id == message_id, InboundMessage.handled_at.is_(None),
                                     InboundMessage.error == message.error)
        .values(error=f"{INTERRUPTED} @{now_utc().isoformat(timespec='seconds')}")
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()  # the mark outlives a crash; handling clears it
    if not marked:
        return Outcome()
    return handle(message_id)


def _mark_time(error: str) -> datetime | None:
    try:
        return datetime.fromisoformat(error.rpartition("@")[2])
    except ValueError:
        return None


def _process(message: InboundMessage, *, inline: bool) -> Outcome:
    """Claim, handle and finish in one transaction; or, when the handler fails,
    record the failure in another."""
    message_id, from_phone, body = message.id, message.from_phone, message.body
    if not _claim(message_id):
        db.session.rollback()
        return Outcome(reply=_answer(message_id, from_phone) if inline else None)
    try:
        command, reply = _run(message)
        _finish(message, command, reply, inline=inline)
    except Exception as err:  # noqa: BLE001 - the text is stored; never answer Twilio with a 500
        _discard()
        return _fail(message_id, describe(err, body), inline=inline, trace=err.__traceback__)
    services.dispatch_pending()
    return Outcome(handled=True, reply=reply if inline else None)


# Built once: the two writes every received text makes (on the table: no ORM bookkeeping).
_INBOX = InboundMessage.__table__
_CLAIM = (update(_INBOX).where(_INBOX.c.id == bindparam("message"), _INBOX.c.handled_at.is_(None))
          .values(handled_at=bindparam("now")))
_KEEP = (update(_INBOX).where(_INBOX.c.id == bindparam("message"))
         .values(command=bindparam("set_command"), handled_at=bindparam("now"), error=bindparam("set_error")))
_KEEP_REPLY = _KEEP.values(reply=bindparam("set_reply"))


def _claim(message_id: int) -> bool:
    """The first write of the handling transaction: whoever else tries waits for it."""
    return db.session.execute(_CLAIM, {"message": message_id, "now": now_utc()}).rowcount == 1


def _discard() -> None:
    """Roll back whatever the handler did, including the texts it queued."""
    db.session.rollback()
    db.session.info.pop("sms_pending", None)


def _run(message: InboundMessage) -> tuple[str, str | None]:
    """Run the command (the handlers write with ``commit=False``): (command, reply)."""
    user = message.user  # loaded with the message when it was stored
    if user is None:
        return commands.from_stranger(message.from_phone, parsing.normalize(message.body)) or (
            UNKNOWN_SENDER, _unknown_sender(message))
    if not user.active:
        return INACTIVE_SENDER, _inactive_sender(message, user)
    with force_locale(user.language or "zh"):
        request = commands.Inbound(user=user, message=message, text=parsing.normalize(message.body))
        name, reply = commands.dispatch(request)
        if reply:  # handlers make their answers fit; this only guards the limit, text by text
            reply = commands.PART_BREAK.join(
                segments.truncate(part, current_app.config["SMS_MAX_SEGMENTS"], services.signature())
                for part in commands.parts(reply))
    return name, reply


def _answered_today(message: InboundMessage, command: str) -> bool:
    """Whether this number already got the answer for ``command`` in the last 24 hours."""
    since = now_utc() - timedelta(hours=24)
    return bool(db.session.scalar(select(func.count(InboundMessage.id)).where(
        InboundMessage.from_phone == message.from_phone, InboundMessage.id != message.id,
        InboundMessage.command == command, InboundMessage.reply.is_not(None),
        InboundMessage.received_at >= since)))


def _inactive_sender(message: InboundMessage, user: User) -> str | None:
    """A deactivated account: say so, and whom to ask — the liaison point by name and
    phone, or the hotline — at most once a day. The text is kept for the bureau."""
    if _answered_today(message, INACTIVE_SENDER):
        return None
    point = liaison.point_serving(user.region_code)
    with force_locale(user.language or "zh"):
        if point is not None and point.phone:
            return _("Your farmers' mailbox account is not active. Please contact your liaison point, "
                     "%(point)s, phone %(phone)s.", point=point.name, phone=point.phone)
        if point is not None:
            return _("Your farmers' mailbox account is not active. Please contact your liaison point, "
                     "%(point)s.", point=point.name)
        return _("Your farmers' mailbox account is not active. Please call the hotline %(hotline)s.",
                 hotline=current_app.config["HOTLINE_NUMBER"])


def _unknown_sender(message: InboundMessage) -> str | None:
    """One reply, in Chinese, pointing to the village liaison point — at most once a
    day per number, so that a wrong number costs little. No account is made; the
    texts are listed for the bureau."""
    if _answered_today(message, UNKNOWN_SENDER):
        return None
    with force_locale("zh"):
        return _("This number is not registered with the farmers' mailbox. Please bring your ID card to "
                 "your village liaison point to register. Hotline: %(hotline)s",
                 hotline=current_app.config["HOTLINE_NUMBER"])


def _fail(message_id: int, error: str, *, inline: bool, trace=None) -> Outcome:
    """Record that the text could not be handled (command "error"), apologising to
    the sender once: a text the bureau handles again that fails again is not
    apologised for twice."""
    frames = "".join(traceback.format_tb(trace)) if trace is not None else ""
    log.error("inbound message %s could not be handled: %s\n%s", message_id, error, frames)  # no values, no text
    if not _claim(message_id):
        db.session.rollback()
        return Outcome(reply=_answer(message_id, None) if inline else None)
    message = db.session.get(InboundMessage, message_id)
    if message.command == ERROR:  # reopened by the bureau: keep the apology it was sent
        _finish(message, ERROR, None, inline=inline, error=error, keep_reply=True)
        return Outcome(handled=True, failed=True)
    user = db.session.get(User, message.user_id) if message.user_id else None
    with force_locale(user.language if user else "zh"):
        reply = _("Sorry, something went wrong. Your message is saved and we will look at it.")
    _finish(message, ERROR, reply, inline=inline, error=error)
    services.dispatch_pending()
    return Outcome(handled=True, failed=True, reply=reply if inline else None)


def _finish(message: InboundMessage, command: str, reply: str | None, *, inline: bool, error: str = "",
            keep_reply: bool = False) -> None:
    """Keep the reply with the message and in the outbox, and commit it together
    with whatever the command did. Inline, the reply goes back in the webhook's
    answer (stored as sent); otherwise it is queued as a text of its own."""
    db.session.execute(_KEEP if keep_reply else _KEEP_REPLY, {
        "message": message.id, "set_command": command[:32], "now": now_utc(), "set_error": error[:255],
        "set_reply": reply})
    for part in commands.parts(reply):  # an answer may take two texts (the help, in English)
        if inline:
            counted = segments.count(part, services.signature())
            db.session.add(OutboundMessage(to=message.from_phone, user_id=message.user_id, body=part, kind=REPLY,
                                           cause=_cause(message.id), segments=counted.segments,
                                           encoding=counted.encoding, status=SENT, gateway=INLINE, attempts=1,
                                           last_error=""))
        else:
            user = db.session.get(User, message.user_id) if message.user_id else None
            services.queue_sms(message.from_phone, part, kind=REPLY, cause=_cause(message.id), user=user)
    db.session.commit()


def _cause(message_id: int) -> str:
    return f"inbound:{message_id}"


def _answer(message_id: int, from_phone: str | None) -> str | None:
    """What a webhook answers for a text handled by someone else: the stored reply,
    unless it went out as a text of its own (the sweep or the bureau handled it)
    — then nothing, so that the sender does not get it twice."""
    row = db.session.execute(select(InboundMessage.reply, InboundMessage.from_phone)
                             .where(InboundMessage.id == message_id)).first()
    if row is None or not row.reply:
        return None
    apart = db.session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.to == (from_phone or row.from_phone), OutboundMessage.kind == REPLY,
        OutboundMessage.cause == _cause(message_id), OutboundMessage.gateway != INLINE).limit(1))
    return None if apart is not None else row.reply


# --- what went wrong, without the text ---------------------------------------------------------

_LONG_NUMBER = re.compile(r"\d{6,}[0-9Xx]?")  # ID numbers, phone numbers


def describe(err: BaseException, body: str) -> str:
    """The exception's type and the first line of its message, short, for the
    bureau and the log: never a part of the text, never an ID or phone number, and
    for a database error never the SQL statement or its parameters."""
    detail = err.orig if isinstance(err, StatementError) and err.orig is not None else err
    lines = str(detail).strip().splitlines()
    first = _scrub(lines[0][:200] if lines else "", (body or "", parsing.normalize(body or "")))
    first = _LONG_NUMBER.sub("…", first).strip()
    name = type(err).__name__
    return f"{name}: {first}"[:255] if first else name


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every non-ASCII run (error messages are English: such runs come
    from data) and every ASCII run of four or more characters found in one of
    ``secrets`` replaced by "…"."""
    haystacks = [s.casefold() for s in secrets if s]
    out: list[str] = []
    i = 0
    while i < len(text):
        n = 0
        if not text[i].isascii():
            while i + n < len(text) and not text[i + n].isascii():
                n += 1
        else:
            while (i + n < len(text) and text[i + n].isascii()
                   and any(text[i:i + n + 1].casefold() in h for h in haystacks)):
                n += 1
            if n < 4:
                n = 0
        if n:
            out.append("…")
            i += n
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
