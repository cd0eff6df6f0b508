"""RQ jobs of the SMS channel. They take ids, re-load the row and are safe to
run twice (RQ delivers at least once): a message is claimed by a guarded UPDATE
before it goes to the gateway, so a second job finds nothing to do.

Retries happen only when they cannot make a second message (the gateway says
so with ``GatewayError.retryable``). A send whose outcome is unknown is never
sent again: ``reconcile_message`` looks it up at the provider at fixed times
after the attempt (``CHECK_AFTER``) and fails it when it never shows up.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from ruralinfo import jobs
from ruralinfo.extensions import db
from ruralinfo.sms import gateways, inbound, services, status
from ruralinfo.sms.gateways import GatewayError, SendOutcomeUnknown, SendResult
from ruralinfo.accounts.models import User
from ruralinfo.sms.models import BROADCAST, ESSENTIAL, FAILED, QUEUED, SENDING, UNKNOWN, OutboundMessage
from ruralinfo.timeutil import now_utc

log = logging.getLogger(__name__)

RETRY_DELAY = 30       # seconds before the first retry, doubled each time (SMS_RETRY_DELAY)
MAX_ATTEMPTS = 5       # sends, counting the first (SMS_MAX_ATTEMPTS)
# When an unknown outcome is looked up, counted from the attempt. Twilio keeps a
# message queued up to 10 hours, but one it accepted exists from the first second.
CHECK_AFTER = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=5),
               timedelta(minutes=10), timedelta(minutes=20))
# A claim older than this with no provider id: the worker died mid-send.
STALE_CLAIM = timedelta(minutes=5)
TIMED_OUT = "timed out: outcome unknown"


def send_message(message_id: int) -> None:
    """Hand one queued message to the gateway, once."""
    gateway = gateways.current()  # before the claim: a configuration error leaves it queued
    claimed_at = now_utc()
    if not _claim(message_id, gateway.name, claimed_at):
        return  # already sent, being sent, or gone
    message = db.session.get(OutboundMessage, message_id)
    if _opted_out_meanwhile(message):
        _update(message, SENDING, status=FAILED, last_error="recipient opted out before sending")
        db.session.commit()
        return
    try:
        result = gateway.send(message.to, services.framed(message.body, message.kind), None)
    except GatewayError as err:
        after_error(message, err)
    except SendOutcomeUnknown as err:
        log.warning("outbox message %s: %s", message_id, err)
        after_unknown(message, claimed_at, err.provider_id)
    else:
        _after_success(message, result)


BATCH = 10  # texts a send_batch job takes: 10 time-outs stay well within RQ's job time-out


def send_batch(message_ids: list[int]) -> None:
    """``send_message`` for texts made together (a match's alerts, a letter to a group):
    one job for all of them. Each is claimed on its own, so a text
    another job took, or sent already, is skipped; a worker that dies half-way leaves
    the rest queued for the sweep."""
    for message_id in message_ids:
        send_message(message_id)


def reconcile_message(message_id: int) -> None:
    """Find out what became of a send that timed out; never sends."""
    message = db.session.get(OutboundMessage, message_id)
    if message is None or message.status != UNKNOWN:
        return
    check, attempted_at = _check_number(message), message.updated_at
    try:
        found = gateways.current().find(message.to, services.framed(message.body, message.kind), attempted_at,
                                        exclude=_stored_ids(message))
    except (GatewayError, SendOutcomeUnknown) as err:
        db.session.rollback()
        log.warning("outbox message %s: lookup failed (%s), trying again", message_id, err)
        if now_utc() < attempted_at + 2 * CHECK_AFTER[-1]:
            _schedule(reconcile_message, message_id, timedelta(minutes=1))
        return  # the row is unchanged: still due for the sweep
    if found is not None and _taken(found.provider_id, message_id):
        found = None  # a backend that ignored ``exclude``
    if found is not None:
        _store_found(message, found)
    elif check < len(CHECK_AFTER):
        _recheck(message, attempted_at + CHECK_AFTER[check])
    elif message.kind == BROADCAST:  # the provider never had it: a notice late is better than none
        _update(message, UNKNOWN, status=QUEUED, next_attempt_at=None,
                last_error=f"not at the provider (checked {check} times): sent again")
        db.session.commit()
    else:
        _update(message, UNKNOWN, status=FAILED, next_attempt_at=None,
                last_error=f"not accepted by the provider (checked {check} times)")
        db.session.commit()


@dataclass(frozen=True)
class SweepReport:
    stale: int    # claims abandoned mid-send, now unknown
    queued: int   # queued messages handed to send_message
    unknown: int  # unknown messages handed to reconcile_message
    inbound: int = 0         # received texts left unhandled (their process died), handled now
    inbound_failed: int = 0  # of which the handling failed: listed for the bureau


def sweep(now: datetime | None = None, limit: int | None = None) -> SweepReport:
    """Send every due queued message, reconcile every due unknown one, and handle
    the received texts left unhandled for more than a minute.

    For operators (``flask --app wsgi sms sweep``, e.g. from cron), the worker's
    periodic schedule and the embedded mode without Redis, where retries wait for
    it. Safe to run twice, and alongside another sweep."""
    now = now or now_utc()
    stale = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.status == SENDING, OutboundMessage.provider_id.is_(None),
               OutboundMessage.updated_at < now - STALE_CLAIM)
        .values(status=UNKNOWN, next_attempt_at=now, updated_at=OutboundMessage.updated_at,
                last_error="stopped while sending: outcome unknown")
        .execution_options(synchronize_session=False)).rowcount
    due = or_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.next_attempt_at <= now)
    ids = {}
    for state in (QUEUED, UNKNOWN):
        query = select(OutboundMessage.id).where(and_(OutboundMessage.status == state, due))
        if state == QUEUED:  # a broadcast's texts go at the shared rate, by its own job (broadcasts.sending)
            query = query.where(OutboundMessage.kind != BROADCAST)
        ids[state] = db.session.scalars(query.order_by(OutboundMessage.id).limit(limit)).all()
    db.session.commit()
    for message_id in ids[QUEUED]:
        _run(send_message, message_id)
    for message_id in ids[UNKNOWN]:
        _run(reconcile_message, message_id)
    # Last: a text whose handling kills the process cannot hold up the outgoing ones.
    handled, failed = inbound.sweep(now, limit)
    return SweepReport(stale=stale, queued=len(ids[QUEUED]), unknown=len(ids[UNKNOWN]), inbound=handled,
                       inbound_failed=failed)


# --- steps -------------------------------------------------------------------------------

def _opted_out_meanwhile(message: OutboundMessage) -> bool:
    """An opt-out holds from the moment it is stored: also for texts already queued."""
    if message.kind in ESSENTIAL or message.user_id is None:
        return False
    return bool(db.session.scalar(select(User.sms_opt_out).where(User.id == message.user_id)))


def _claim(message_id: int, gateway_name: str, claimed_at: datetime) -> bool:
    result = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status == QUEUED)
        .values(status=SENDING, attempts=OutboundMessage.attempts + 1, gateway=gateway_name,
                updated_at=claimed_at, next_attempt_at=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _update(message: OutboundMessage, *from_states: str, **values) -> bool:
    """Move a message on only if it is still in one of ``from_states`` (nobody overtook us)."""
    values.setdefault("updated_at", now_utc())
    result = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message.id, OutboundMessage.status.in_(from_states))
        .values(**values)
        .execution_options(synchronize_session=False))
    db.session.expire(message)
    return result.rowcount == 1


def _after_success(message: OutboundMessage, result: SendResult) -> None:
    new = result.status if status.can_move(SENDING, result.status) else SENDING
    # UNKNOWN too: a slow send may have been declared abandoned by the sweep meanwhile.
    stored = _update(message, SENDING, UNKNOWN, provider_id=result.provider_id, status=new, last_error="")
    db.session.commit()
    if stored:  # after the id is committed: see services.apply_status
        services.replay_early_events(message)
        db.session.commit()


def after_error(message: OutboundMessage, err: GatewayError) -> None:
    """The gateway refused a claimed message: retried later if that cannot make a second text."""
    text = str(err)[:200]
    max_attempts = int(current_app.config.get("SMS_MAX_ATTEMPTS", MAX_ATTEMPTS))
    if not err.retryable:
        _update(message, SENDING, status=FAILED, last_error=text)
    elif message.attempts >= max_attempts:
        _update(message, SENDING, status=FAILED, last_error=f"{text} (gave up after {message.attempts} attempts)")
    else:
        delay = timedelta(seconds=float(current_app.config.get("SMS_RETRY_DELAY", RETRY_DELAY))
                          * 2 ** (message.attempts - 1))
        retried = _update(message, SENDING, status=QUEUED, last_error=text, next_attempt_at=now_utc() + delay)
        db.session.commit()
        if retried:
            _schedule(send_message, message.id, delay)
        return
    db.session.commit()


def after_unknown(message: OutboundMessage, attempted_at: datetime, provider_id: str | None = None) -> None:
    """A claimed message whose send may or may not have reached the gateway: looked up later.
    ``provider_id``: the id the gateway gave the text before sending (Kannel's is ours),
    kept so that a status report for it still finds the text."""
    # updated_at keeps the time of the attempt: reconcile looks for messages created since.
    first_check = attempted_at + CHECK_AFTER[0]
    known = {"provider_id": provider_id} if provider_id else {}
    moved = _update(message, SENDING, status=UNKNOWN, last_error=TIMED_OUT, updated_at=attempted_at,
                    next_attempt_at=first_check, **known)
    db.session.commit()
    if moved and provider_id:  # a report may have come while we waited: see services.apply_status
        services.replay_early_events(message)
        db.session.commit()
    if moved:
        _schedule(reconcile_message, message.id, max(first_check - now_utc(), timedelta(0)))


def _check_number(message: OutboundMessage) -> int:
    """Which of the CHECK_AFTER lookups this is (1-based), from the time it was due."""
    if message.next_attempt_at is None:
        return len(CHECK_AFTER)
    return max(1, sum(1 for after in CHECK_AFTER if message.updated_at + after <= message.next_attempt_at))


def _stored_ids(message: OutboundMessage) -> set[str]:
    """Provider ids of our other rows with the same text to the same number."""
    query = select(OutboundMessage.provider_id).where(
        OutboundMessage.to == message.to, OutboundMessage.body == message.body,
        OutboundMessage.provider_id.is_not(None), OutboundMessage.id != message.id)
    return set(db.session.scalars(query))


def _taken(provider_id: str, message_id: int) -> bool:
    return db.session.scalar(select(OutboundMessage.id).where(OutboundMessage.provider_id == provider_id,
                                                              OutboundMessage.id != message_id)) is not None


def _store_found(message: OutboundMessage, found: SendResult) -> None:
    new = found.status if status.can_move(UNKNOWN, found.status) else SENDING
    first = message.provider_id is None
    stored = _update(message, UNKNOWN, provider_id=found.provider_id, status=new, next_attempt_at=None,
                     last_error="timed out; found at the provider")
    if stored and message.kind == BROADCAST and first:  # its sender died before it could say so
        from ruralinfo.broadcasts import sending

        sending.notify_accepted([message.id])
    db.session.commit()
    if stored:  # after the id is committed: see services.apply_status
        services.replay_early_events(message)
        db.session.commit()


def _recheck(message: OutboundMessage, at: datetime) -> None:
    _update(message, UNKNOWN, next_attempt_at=at, updated_at=OutboundMessage.updated_at)
    db.session.commit()
    _schedule(reconcile_message, message.id, max(at - now_utc(), timedelta(0)))


def _schedule(func, message_id: int, delay: timedelta) -> None:
    """Run ``func(message_id)`` later on RQ (the worker must run its scheduler).
    Without Redis, or with Redis down, the row waits for ``sweep``."""
    if not current_app.config.get("REDIS_URL"):
        return
    from redis.exceptions import RedisError

    try:
        jobs.queue().enqueue_in(delay, func, message_id)
    except RedisError as err:
        log.warning("outbox message %s waits for the sweep: job queue unavailable (%s)",
                    message_id, type(err).__name__)


def _run(func, message_id: int) -> None:
    try:
        jobs.enqueue(func, message_id)
    except jobs.JobQueueUnavailable:
        func(message_id)
