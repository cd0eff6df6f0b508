"""Every notice a farmer was sent by SMS is also a letter from the bureau in their
mailbox, so that one who deleted the text can read it again on the web (and, later,
hear it on the hotline)."""
from __future__ import annotations

from sqlalchemy import insert, literal, select

from mailbox.models import FROM_BUREAU, Letter
from ruralinfo.broadcasts import sending
from ruralinfo.broadcasts.models import Recipient
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from ruralinfo.timeutil import now_utc


def file_as_letters(message_ids: list[int]) -> None:
    """One letter for each of these broadcast texts that went to an account, in one
    statement, in the transaction that records them as sent."""
    if not message_ids:
        return
    now = now_utc()
    db.session.execute(insert(Letter.__table__).from_select(  # Core: no ORM bulk work per chunk
        ["kind", "recipient_id", "body", "channel", "created_at", "close_reason", "sms_sent_upto"],
        select(literal(FROM_BUREAU), Recipient.user_id, OutboundMessage.body, literal("broadcast"), literal(now),
               literal(""), literal(0))
        .join(OutboundMessage, OutboundMessage.id == Recipient.message_id)
        .where(Recipient.message_id.in_(message_ids), Recipient.user_id.is_not(None))))


def init_app(app) -> None:
    sending.after_sent(file_as_letters)
