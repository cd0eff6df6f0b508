"""Putting texts in the outbox, handing them to jobs, and applying status
callbacks. Every outgoing SMS is first a row here, in the caller's transaction."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select, update

from ruralinfo import jobs
from ruralinfo.extensions import db
from ruralinfo.sms import quiet, segments, status
from ruralinfo.sms.models import ESSENTIAL, QUEUED, OutboundMessage, StatusEvent
from ruralinfo.timeutil import now_utc

log = logging.getLogger(__name__)


def signature() -> str:
    return current_app.config.get("SMS_SIGNATURE", "")


def tail(kind: str) -> str:
    """What follows the body of a text of ``kind``: the opt-out hint (``SMS_OPTOUT_HINT``,
    e.g. 拒收请回复R) on every text an opt-out stops — letters, notices, broadcasts —
    and nothing on the essential ones (replies, log-in codes), which it does not stop."""
    hint = current_app.config.get("SMS_OPTOUT_HINT", "")
    return f" {hint}" if hint and kind not in ESSENTIAL else ""


def framed(body: str, kind: str) -> str:
    """The text as the phone receives it: the signature, the body, the hint."""
    return signature() + body + tail(kind)


def counted(body: str, kind: str) -> segments.Count:
    """The segments ``body`` costs as sent (signature and hint counted)."""
    return segments.count(body + tail(kind), signature())


def queue_sms(to: str, body: str, *, kind: str, cause: str = "", user=None, force: bool = False,
              status_value: str = QUEUED, routine: bool = False) -> OutboundMessage | None:
    """Add a text to the outbox (not committed: the caller's transaction decides).

    Returns None, sending nothing, when ``user`` opted out and the text is not
    essential (a reply to their own text, a log-in code) — unless ``force``.
    A ``routine`` text made during the quiet hours waits until they end.
    """
    if user is not None and user.sms_opt_out and kind not in ESSENTIAL and not force:
        return None
    cost = counted(body, kind)
    message = OutboundMessage(to=to, body=body, kind=kind, cause=cause[:64], user_id=getattr(user, "id", None),
                              segments=cost.segments, encoding=cost.encoding, status=status_value,
                              attempts=0, last_error="", gateway="",
                              next_attempt_at=quiet.held_until() if routine and kind not in ESSENTIAL else None)
    db.session.add(message)
    db.session.info.setdefault("sms_pending", []).append(message)
    return message


def dispatch_pending() -> int:
    """After a commit: hand every message queued in this session to the send job (and
    the jobs kept with ``jobs.later``). Returns how many texts stay waiting because
    the job queue is down."""
    pending = db.session.info.pop("sms_pending", [])
    waiting = dispatch(pending)
    jobs.run_later()
    return waiting


def dispatch(messages) -> int:
    """After the commit: hand queued messages to the send job (inline without Redis).

    A stopped Redis leaves them queued, not lost: the worker's sweep or
    ``flask --app wsgi sms sweep`` picks them up. Returns how many wait so, so
    that a page can say "queued" instead of "sent"."""
    from ruralinfo.sms import tasks

    now = now_utc()
    due = [message.id for message in messages if message is not None and message.status == QUEUED
           and (message.next_attempt_at is None or message.next_attempt_at <= now)]  # else held for the quiet hours
    waiting = 0
    for start in range(0, len(due), tasks.BATCH):  # texts made together go together: one job a batch
        batch = due[start:start + tasks.BATCH]
        try:
            if len(batch) == 1:
                jobs.enqueue(tasks.send_message, batch[0])
            else:
                jobs.enqueue(tasks.send_batch, batch)
        except jobs.JobQueueUnavailable:
            waiting += len(batch)
            log.warning("outbox messages %s stay queued: job queue unavailable", batch)
    return waiting


def apply_status(provider_id: str, provider_status: str, error_code: str = "") -> bool:
    """Record a status callback and move the message if the state machine allows.

    Returns True when the message moved. Unknown ids and late callbacks are
    recorded and change nothing.

    A report can come before the sender has stored the provider id (Kannel's come
    within milliseconds). Then both sides write, commit, and read again: the sender
    replays the early events after committing the id (``replay_early_events``), and
    this looks the id up again after committing the event — so one of the two
    always sees the other, and the report is never lost between them."""
    new = status.from_provider(provider_status)
    message = _by_provider(provider_id)
    moved = False
    if message is not None and new is not None:
        moved = _move(message, new, error_code)
    db.session.add(StatusEvent(provider_id=provider_id[:64], message_id=getattr(message, "id", None),
                               status=(provider_status or "")[:16], error_code=(error_code or "")[:16],
                               applied=moved))
    db.session.commit()
    if message is None:
        message = _by_provider(provider_id)
        if message is not None:
            moved = replay_early_events(message)
            db.session.commit()
    return moved


def _by_provider(provider_id: str) -> OutboundMessage | None:
    return db.session.scalar(select(OutboundMessage).where(OutboundMessage.provider_id == provider_id))


def _move(message: OutboundMessage, new: str, error_code: str = "") -> bool:
    """A guarded UPDATE, so that two callbacks racing cannot move a message backwards.
    Never out of ``queued``: a report cannot be about a text not yet handed over — it is
    a late one about an earlier attempt of a text queued again (a broadcast's retry)."""
    allowed_from = [old for old in status.RANK if old != QUEUED and status.can_move(old, new)]
    result = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message.id, OutboundMessage.status.in_(allowed_from))
        .values(status=new, updated_at=now_utc(),
                last_error=f"provider error {error_code}" if error_code else OutboundMessage.last_error)
        .execution_options(synchronize_session=False))
    db.session.expire(message)
    return result.rowcount == 1


def replay_early_events(message: OutboundMessage) -> bool:
    """Callbacks can arrive before the send call returned the provider id: apply them now
    (not committed; call it after the id is committed). True when the message moved."""
    events = db.session.scalars(select(StatusEvent).where(StatusEvent.provider_id == message.provider_id,
                                                          StatusEvent.message_id.is_(None))
                                .order_by(StatusEvent.id)).all()
    moved = False
    for event in events:
        new = status.from_provider(event.status)
        event.message_id = message.id
        if new is not None and _move(message, new, event.error_code):
            event.applied = moved = True
    return moved
