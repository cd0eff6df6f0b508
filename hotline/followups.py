"""What farmers write back to an expert: a reply to an answer (by SMS ``回复 N``, on the
web, or spoken on the hotline) is a letter to the expert who answered. Experts have no
mailbox of their own: the console shows these letters, with their recordings, and the
expert answers them there — through the mailbox's own ``reply``, so the farmer gets the
answer by SMS and in the mailbox like any letter."""
from __future__ import annotations

from sqlalchemy import select

from mailbox import services as mailbox
from mailbox.models import Letter
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db

SHOWN = 20  # the newest letters listed in the console


def to_expert(expert: User) -> list[Letter]:
    """The newest letters farmers wrote to ``expert``, unread first."""
    return list(db.session.scalars(select(Letter).where(Letter.recipient_id == expert.id)
                                   .order_by(Letter.read_at.is_not(None), Letter.id.desc()).limit(SHOWN)))


def reply(letter_id: int, expert: User, body: str) -> Letter:
    """The expert's answer to a farmer's letter (``mailbox.LetterNotFound`` when it is not
    theirs to answer; ``mailbox.MailboxError`` for an empty or too long text); the letter
    is read from then on."""
    letter = db.session.get(Letter, letter_id)
    if letter is None or letter.recipient_id != expert.id:
        raise mailbox.LetterNotFound(letter_id)
    sent = mailbox.reply(letter_id, sender=expert, body=body, channel="web")
    mailbox.mark_read([letter], expert)
    return sent
