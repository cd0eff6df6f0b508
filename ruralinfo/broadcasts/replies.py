"""Sign-up replies (会议通知报名): which sign-up a farmer's answer is for, storing it (a
later answer replaces the earlier one), the tally, who answered what (CSV and XLSX),
and a reminder to those who have not answered.

A sign-up is a broadcast that asks for an answer (``Broadcast.asks_reply``). A
reminder is a broadcast of its own (``reminder_of_id``): its answers count for the
sign-up it reminds of, so every function here takes either and works on the
original. A phone "received" a sign-up when its recipient row, of the sign-up or of
a reminder of it, has a text that left (``WENT``: not waiting, not failed).
The SMS commands that call this are in ``reply_commands``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, cast, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ruralinfo import exports
from ruralinfo.accounts.models import User
from ruralinfo.audit import labels as audit_labels
from ruralinfo.audit import services as audit
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import texts
from ruralinfo.broadcasts.models import Broadcast, Recipient, Reply
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.regions.models import Region
from ruralinfo.sms import parsing, segments
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import DELIVERED, SENDING, SENT, UNDELIVERED, UNKNOWN, OutboundMessage
from ruralinfo.timeutil import now_utc, to_local

# A text that left for the phone (or may have): one still queued or failed was not received.
WENT = (SENDING, SENT, DELIVERED, UNDELIVERED, UNKNOWN)
MAX_ANSWER = 160  # characters kept of an answer (``Reply.answer``)
NOTICE_CHARS = 20  # at most this much of the notice names it in a confirmation
MIN_NOTICE = 6  # a shorter cut names nothing: rather two segments
# An answer this long after its sign-up closed is told so; later, a digit is just a text again.
LATE = timedelta(days=7)


class SignUpClosed(FieldErrors):
    """The sign-up has closed: the answer is not counted. ``message`` is the polite reply."""

    def __init__(self, message: str):
        super().__init__({"reply": message})
        self.message = message


class NotAnAnswer(FieldErrors):
    """Not an answer this sign-up takes (no such option, an empty answer, nothing asked).
    ``message`` says what to send instead."""

    def __init__(self, message: str):
        super().__init__({"reply": message})
        self.message = message


# --- which sign-up ------------------------------------------------------------------------

def original(broadcast: Broadcast) -> Broadcast:
    """The sign-up itself: ``broadcast``, or the one it reminds of."""
    if broadcast.reminder_of_id is None:
        return broadcast
    return db.session.get(Broadcast, broadcast.reminder_of_id) or broadcast


def is_open(broadcast: Broadcast) -> bool:
    signup = original(broadcast)
    return signup.asks_reply and (signup.replies_close_at is None or signup.replies_close_at > now_utc())


def _asks_reply():
    """SQL: the broadcast offers options or takes a free answer."""
    options = cast(Broadcast.reply_options, Text)
    return or_(Broadcast.free_reply.is_(True), options.not_in(("[]", "null")))


def _phone(user_or_phone) -> str:
    return user_or_phone if isinstance(user_or_phone, str) else user_or_phone.phone


def _latest_received(phone: str, *conditions) -> Broadcast | None:
    """The sign-up (meeting ``conditions``) whose text, or a reminder's, reached
    ``phone`` last. The sign-ups are few: the recipients are found by their unique
    (broadcast, phone) index, whatever the size of the broadcasts."""
    signups = select(Broadcast.id).where(Broadcast.reminder_of_id.is_(None), _asks_reply(), *conditions)
    with_reminders = select(Broadcast.id).where(or_(Broadcast.id.in_(signups), Broadcast.reminder_of_id.in_(signups)))
    found = db.session.scalar(_sent_to(phone, with_reminders).limit(1))
    return original(db.session.get(Broadcast, found)) if found is not None else None


def _sent_to(phone: str, broadcast_ids):
    """SQL: the broadcasts among ``broadcast_ids`` whose text reached ``phone``, the latest first."""
    return (select(Recipient.broadcast_id).join(OutboundMessage, OutboundMessage.id == Recipient.message_id)
            .where(Recipient.phone == phone, Recipient.broadcast_id.in_(broadcast_ids),
                   OutboundMessage.status.in_(WENT))
            .order_by(Recipient.message_id.desc()))


def received(user_or_phone, number: int) -> Broadcast | None:
    """Sign-up no. ``number`` (or the one it reminds of), open or closed, if its text or
    a reminder's reached this phone; else None."""
    broadcast = db.session.get(Broadcast, number)
    if broadcast is None:
        return None
    signup = original(broadcast)
    if not signup.asks_reply:
        return None
    ids = select(Broadcast.id).where(or_(Broadcast.id == signup.id, Broadcast.reminder_of_id == signup.id))
    return signup if db.session.scalar(_sent_to(_phone(user_or_phone), ids).limit(1)) is not None else None


def latest_open(user_or_phone, number: int | None = None) -> Broadcast | None:
    """The open sign-up an answer from this phone is for: the latest one it received
    (a reminder counts for the sign-up it reminds of); with ``number``, that one (or the
    one it reminds of) if it received it. None when there is no such open sign-up."""
    if number is not None:
        signup = received(user_or_phone, number)
        return signup if signup is not None and is_open(signup) else None
    now = now_utc()
    return _latest_received(_phone(user_or_phone),
                            or_(Broadcast.replies_close_at.is_(None), Broadcast.replies_close_at > now))


def lately_closed(user_or_phone) -> Broadcast | None:
    """The latest sign-up this phone received that closed less than ``LATE`` ago: an
    answer now is a late answer to it (to be told so)."""
    now = now_utc()
    return _latest_received(_phone(user_or_phone), Broadcast.replies_close_at <= now,
                            Broadcast.replies_close_at > now - LATE)


# --- answering -----------------------------------------------------------------------------

def record(broadcast: Broadcast, *, phone: str, user: User | None = None, choice: int | None = None,
           answer: str = "", channel: str = audit.SMS, language: str | None = None, commit: bool = True) -> str:
    """Store this phone's answer to the sign-up (``broadcast`` or the one it reminds of),
    replacing an earlier one, and return the confirmation in the farmer's language.
    ``choice`` (1-based) for a sign-up with options, ``answer`` as written (the answer
    itself for a free-answer sign-up). Two answers at once from one phone leave one
    row (an upsert on the unique (broadcast, phone)). Raises ``SignUpClosed`` after the
    closing time and ``NotAnAnswer`` for an option not offered or an empty answer."""
    signup = original(broadcast)
    language = language or getattr(user, "language", None) or "zh"
    answer = parsing.normalize(answer)[:MAX_ANSWER]
    with force_locale(language):
        if not signup.asks_reply:
            raise NotAnAnswer(_("This notice asks for no answer."))
        if not is_open(signup):
            raise SignUpClosed(closed_text(signup, language))
        if signup.reply_options:
            if choice is None or not 1 <= choice <= len(signup.reply_options):
                raise NotAnAnswer(choices_text(signup, language))
        elif not answer:
            raise NotAnAnswer(how_to_text(signup))
        else:
            choice = None
    _upsert({"broadcast_id": signup.id, "user_id": getattr(user, "id", None), "phone": phone, "choice": choice,
             "answer": answer, "channel": channel, "at": now_utc()})
    audit.record("broadcast.reply", signup, actor=user, channel=channel,
                 details={"choice": choice} if choice is not None else {"free": True})
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return confirmation(signup, choice, answer, language)


def _upsert(values: dict) -> None:
    """Insert the answer, or replace the one this phone gave: one statement, so that a
    second answer racing the first waits for it and then replaces it (no IntegrityError)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Reply).values(values)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[Reply.broadcast_id, Reply.phone],
        set_={name: statement.excluded[name] for name in ("user_id", "choice", "answer", "channel", "at")}))


def notice_name(signup: Broadcast, language: str) -> str:
    """The notice in the reader's language, placeholders left out, on one line: its
    start says which sign-up a confirmation is about."""
    body = signup.body_en if texts.language_of(signup, language) == "en" else signup.body
    for mark in texts.PLACEHOLDERS:
        body = body.replace(mark, "")
    return " ".join(body.split()).strip(parsing.SEPARATORS)


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text`` and "…" (not inside an English word)."""
    if len(text) <= limit:
        return text
    end = limit
    if text[end - 1].isascii() and text[end - 1].isalnum() and text[end].isascii() and text[end].isalnum():
        space = text.rfind(" ", 0, end)
        end = space if space > limit // 2 else end
    return text[:end].rstrip(parsing.SEPARATORS) + "…"


def _fitted(make, notice: str) -> str:
    """``make(notice)`` with the start of ``notice`` (``NOTICE_CHARS`` at most) as fits one
    segment — two when one would keep less than ``MIN_NOTICE`` characters of it."""
    mark = "\x00"
    prefix, _mark, suffix = make(mark).partition(mark)
    shown, signature = _cut(notice, NOTICE_CHARS), sms.signature()
    for parts in (1, 2):
        if segments.fits(prefix + shown + suffix, parts, signature):
            return prefix + shown + suffix
        kept = segments.fit(notice, parts, signature, prefix, "…" + suffix)
        if kept >= MIN_NOTICE:
            return prefix + notice[:kept].rstrip(parsing.SEPARATORS) + "…" + suffix
    return prefix + shown + suffix  # long option names: the channel keeps it within SMS_MAX_SEGMENTS


def confirmation(signup: Broadcast, choice: int | None, answer: str, language: str) -> str:
    """已为您登记：报名（12月10日葡萄培训…）。如需更改，回复其他编号。 — one text."""
    with force_locale(language):
        if choice is not None:
            label = texts.option_label(signup.reply_options[choice - 1], language)
            return _fitted(lambda notice: _("Recorded: %(answer)s (%(notice)s). To change it, reply another "
                                            "number.", answer=label, notice=notice), notice_name(signup, language))
        short = answer if len(answer) <= 30 else answer[:29] + "…"
        return _fitted(lambda notice: _("Recorded your answer: %(answer)s (%(notice)s). To change it, send it "
                                        "again.", answer=short, notice=notice), notice_name(signup, language))


def closed_text(signup: Broadcast, language: str) -> str:
    """抱歉，…的报名已于12-09 18:00截止，您的回复未登记。 (the closing time in local time)."""
    with force_locale(language):
        return _fitted(lambda notice: _("Sorry, sign-up for %(notice)s closed at %(time)s. Your answer was not "
                                        "counted.", notice=notice,
                                        time=format_datetime(to_local(signup.replies_close_at), "MM-dd HH:mm")),
                       notice_name(signup, language))


def choices_text(signup: Broadcast, language: str) -> str:
    """Please reply 1 to N, with what each number means."""
    with force_locale(language):
        separator = ", " if language == "en" else "，"
        choices = separator.join(f"{number} {texts.option_label(option, language)}"
                                 for number, option in enumerate(signup.reply_options, start=1))
        return _("Please reply with a number from 1 to %(n)s: %(choices)s.", n=len(signup.reply_options),
                 choices=choices)


def how_to_text(signup: Broadcast) -> str:
    """How to give a free answer (in the current locale)."""
    return _("To answer, send ANSWER %(n)s and your answer, e.g.: ANSWER %(n)s 2 people", n=signup.id)


# --- counting and listing -----------------------------------------------------------------

def tally(broadcast_id: int) -> dict[str, int]:
    """Answers counted: each option's Chinese label → count (every option, even at 0, in
    order); for a free-answer sign-up, each distinct answer → count (most first)."""
    signup = _signup(broadcast_id)
    if signup is None:
        return {}
    if signup.reply_options:
        counts = dict(db.session.execute(select(Reply.choice, func.count()).where(Reply.broadcast_id == signup.id)
                                         .group_by(Reply.choice)).all())
        result: dict[str, int] = {}
        for number, option in enumerate(signup.reply_options, start=1):
            label = texts.option_label(option, "zh")
            result[label] = result.get(label, 0) + counts.get(number, 0)
        return result
    rows = db.session.execute(select(Reply.answer, func.count()).where(Reply.broadcast_id == signup.id)
                              .group_by(Reply.answer).order_by(func.count().desc(), Reply.answer)).all()
    return {answer: number for answer, number in rows}


def _signup(broadcast_id: int) -> Broadcast | None:
    broadcast = db.session.get(Broadcast, broadcast_id)
    return original(broadcast) if broadcast is not None else None


@dataclass
class Answer:
    """One row of who answered what."""

    name: str
    phone: str  # as people write it (138 0013 8000): the bureau calls those who signed up
    village: str
    answer: str  # the option's Chinese label, or the free answer
    written: str  # the text as the farmer wrote it
    at: datetime  # naive UTC
    channel: str


def answers(broadcast_id: int) -> list[Answer]:
    """Who answered what, in the order they answered (the latest answer of each)."""
    signup = _signup(broadcast_id)
    if signup is None:
        return []
    labels = [texts.option_label(option, "zh") for option in signup.reply_options]
    rows = db.session.execute(
        select(User.name, Reply.phone, Region.name, Reply.choice, Reply.answer, Reply.at, Reply.channel)
        .select_from(Reply).outerjoin(User, User.id == Reply.user_id)
        .outerjoin(Region, Region.code == User.region_code)
        .where(Reply.broadcast_id == signup.id).order_by(Reply.at, Reply.id)).all()
    return [Answer(name or "", exports.phone_cell(phone), village or "",
                   labels[choice - 1] if choice is not None and 0 < choice <= len(labels) else written,
                   written, at, channel) for name, phone, village, choice, written, at, channel in rows]


def header() -> list[str]:
    return [str(_l("Name")), str(_l("Phone")), str(_l("Village")), str(_l("Answer")), str(_l("As written")),
            str(_l("Time (local time)")), str(_l("Channel"))]


def _rows(broadcast_id: int):
    for one in answers(broadcast_id):
        yield [one.name, one.phone, one.village, one.answer, one.written, exports.local_time(one.at),
               audit_labels.label(audit_labels.CHANNELS, one.channel)]


def answers_csv(broadcast_id: int) -> bytes:
    return exports.csv_bytes(header(), _rows(broadcast_id))


def answers_xlsx(broadcast_id: int) -> bytes:
    """The same table as ``answers_csv``, every cell made safe."""
    return exports.xlsx_bytes(str(_l("Sign-up answers")), header(), _rows(broadcast_id))


def not_answered_phones(broadcast_id: int) -> list[str]:
    """The phones the sign-up (or a reminder of it) reached that have not answered, in
    the order they were planned."""
    signup = _signup(broadcast_id)
    if signup is None:
        return []
    ids = select(Broadcast.id).where(or_(Broadcast.id == signup.id, Broadcast.reminder_of_id == signup.id))
    answered = exists().where(Reply.broadcast_id == signup.id, Reply.phone == Recipient.phone)
    first = func.min(Recipient.id)
    rows = db.session.execute(
        select(Recipient.phone, first).join(OutboundMessage, OutboundMessage.id == Recipient.message_id)
        .where(Recipient.broadcast_id.in_(ids), OutboundMessage.status.in_(WENT), ~answered)
        .group_by(Recipient.phone).order_by(first)).all()
    return [phone for phone, _first in rows]


def remind(broadcast: Broadcast, *, actor, body: str | None = None, channel: str = audit.WEB) -> Broadcast:
    """Make and submit a reminder to those the sign-up reached who have not answered:
    same topic, answers and closing time, its own text ("提醒：" and the notice unless
    ``body`` is given). Its answers count for the sign-up. Raises ``BroadcastError``
    when the sign-up has closed or nobody is left to remind."""
    from ruralinfo.broadcasts import services

    signup = original(broadcast)
    if not signup.asks_reply:
        raise services.BroadcastError({"reply_options": str(_l("This notice asks for no answer."))})
    if not is_open(signup):
        raise services.BroadcastError({"replies_close_at": str(_l("Sign-up has closed: there is nothing to "
                                                                  "remind of."))})
    phones = not_answered_phones(signup.id)
    if not phones:
        raise services.BroadcastError({"audience": str(_l("Everyone who received the notice has answered."))})
    try:
        audience = audiences.clean(audiences.Rules(phones=phones))
    except audiences.AudienceError as err:
        raise services.BroadcastError(err.errors) from None
    reminder = services.create(
        actor=actor, body=body or _reminder_text(signup.body, "zh"),
        body_en=_reminder_text(signup.body_en, "en") if signup.body_en and not body else "",
        topic=signup.topic.key, audience=audience, reply_options=list(signup.reply_options),
        free_reply=signup.free_reply, replies_close_at=signup.replies_close_at, reminder_of=signup, channel=channel)
    audit.record("broadcast.remind", signup, actor=actor, channel=channel,
                 details={"reminder": reminder.id, "phones": len(phones)})
    return services.submit(reminder, actor=actor, channel=channel)


def _reminder_text(body: str, language: str) -> str:
    from ruralinfo.broadcasts.services import MAX_BODY

    with force_locale(language):
        prefix = _("Reminder:") + ("" if language == "zh" else " ")
    return prefix + body[:MAX_BODY - len(prefix)]
