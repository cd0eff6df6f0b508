"""Every rule of a broadcast's life, for the bureau's pages, the JSON API and the CLI
alike: compose, submit (planned at once, so its size is known), approve, pause,
resume, cancel — each step audited.

A broadcast to more than ``BROADCAST_APPROVAL_THRESHOLD`` recipients, and every
urgent one, waits for a second person with the approver role; the one who made it
cannot approve it. Sending runs in the background (RQ jobs, or a thread of this
process without Redis): no request waits for it.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from ruralinfo import jobs
from ruralinfo.accounts import roles
from ruralinfo.audit import services as audit
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import planning, rate, report, sending
from ruralinfo.broadcasts.models import (CANCELLED, DONE, DRAFT, PAUSED, PENDING_APPROVAL, PLANNED, SCHEDULED,
                                         SENDING, Broadcast, Recipient, Topic)
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

log = logging.getLogger(__name__)
MAX_BODY = 500  # characters: a notice longer than this is no text message
JOB_SECONDS = 120  # one send job's share, well inside RQ's job timeout; the next job goes on
MAX_OPTIONS, MAX_OPTION = 9, 20  # a sign-up's answers, replied by one digit; characters of one
STATUS_LABELS = {DRAFT: _l("draft"), PENDING_APPROVAL: _l("waiting for approval"), SCHEDULED: _l("scheduled"),
                 SENDING: _l("sending"), PAUSED: _l("paused"), DONE: _l("done"), CANCELLED: _l("cancelled")}


class BroadcastError(FieldErrors):
    """A broadcast cannot be made or moved as asked."""


@dataclass
class Fields:
    """A broadcast's fields as checked: what ``create`` stores."""
    body: str
    body_en: str
    topic: Topic | None
    send_at: datetime | None
    reply_options: list[str]
    free_reply: bool
    replies_close_at: datetime | None


def check(*, body: str, topic: str, body_en: str = "", send_at: datetime | None = None,
          reply_options: list[str] | None = None, free_reply: bool = False,
          replies_close_at: datetime | None = None, **_others) -> tuple[Fields, dict[str, str]]:
    """The fields cleaned, and what is wrong with them (the audience is ``audience.clean``'s)."""
    errors: dict[str, str] = {}
    options = [" ".join(str(option).split()) for option in (reply_options or [])]
    body, body_en = " ".join((body or "").split()), " ".join((body_en or "").split())
    if not body:
        errors["body"] = str(_l("Write the notice first."))
    for field, text in (("body", body), ("body_en", body_en)):
        if len(text) > MAX_BODY:
            errors[field] = str(_l("At most %(n)s characters.", n=MAX_BODY))
    found = db.session.scalar(select(Topic).where(Topic.active.is_(True), (Topic.key == topic) | (Topic.name_zh == topic)))
    if found is None:
        errors["topic"] = str(_l("Choose a topic."))
    when = _utc(send_at)
    if when is not None and when < now_utc():
        errors["send_at"] = str(_l("This time has passed."))
    errors.update(_reply_errors(options, free_reply, _utc(replies_close_at), when))
    return Fields(body, body_en, found, when, options, bool(free_reply) and not options, _utc(replies_close_at)), errors


def create(*, actor, audience: audiences.Audience, urgent: bool = False, reminder_of: Broadcast | None = None,
           channel: str = audit.WEB, **values) -> Broadcast:
    """A draft broadcast (committed). ``values`` are ``check``'s: ``topic`` is a topic's
    key or Chinese name; ``send_at`` is aware or naive UTC, and not in the past. A
    sign-up offers ``reply_options`` (answered 1, 2 … in order; ``报名|sign up`` for both
    languages) or takes a ``free_reply``, until ``replies_close_at``."""
    fields, errors = check(**values)
    if errors:
        raise BroadcastError(errors)
    broadcast = Broadcast(body=fields.body, body_en=fields.body_en, topic=fields.topic, urgent=urgent,
                          audience=audience.to_json(), status=DRAFT, send_at=fields.send_at, created_by_id=actor.id,
                          reply_options=fields.reply_options, free_reply=fields.free_reply,
                          replies_close_at=fields.replies_close_at,
                          reminder_of_id=reminder_of.id if reminder_of is not None else None)
    db.session.add(broadcast)
    db.session.flush()
    audit.record("broadcast.create", broadcast, actor=actor, channel=channel,
                 details={"urgent": urgent, "topic": fields.topic.key})
    db.session.commit()
    return broadcast


def propose(*, actor, audience: audiences.Audience, urgent: bool = False, channel: str = audit.WEB,
            **values) -> tuple[Broadcast, planning.Preview]:
    """Make a broadcast and submit it at once (the page's Send, the API's POST), with the
    preview it was made on. When anything is wrong — a field, or a sending time over
    ``BROADCAST_MAX_HOURS`` — BroadcastError names it and nothing is written."""
    fields, errors = check(**values)
    if errors:
        raise BroadcastError(errors)
    shown = planning.preview(audience, fields.body, fields.body_en, urgent=urgent, topic_id=fields.topic.id,
                             reply_options=fields.reply_options, free_reply=fields.free_reply)
    if shown.too_long:
        raise BroadcastError({"audience": too_long_message()})
    broadcast = create(actor=actor, audience=audience, urgent=urgent, channel=channel, **values)
    submit(broadcast, actor=actor, channel=channel)
    return broadcast, shown


def too_long_message() -> str:
    return str(_l("Sending would take longer than %(h)s hours: choose fewer recipients, or split the notice.",
                  h=current_app.config["BROADCAST_MAX_HOURS"]))


def _reply_errors(options: list[str], free_reply: bool, closes: datetime | None,
                  send_at: datetime | None) -> dict[str, str]:
    errors = {}
    if len(options) > MAX_OPTIONS:
        errors["reply_options"] = str(_l("At most %(n)s answers (a farmer replies with one digit).", n=MAX_OPTIONS))
    elif any(not option or len(option) > MAX_OPTION for option in options):
        errors["reply_options"] = str(_l("Each answer is 1 to %(n)s characters.", n=MAX_OPTION))
    elif len({option.casefold() for option in options}) < len(options):
        errors["reply_options"] = str(_l("Two answers are the same."))
    if closes is not None:
        if not (options or free_reply):
            errors["replies_close_at"] = str(_l("Only a broadcast that asks for an answer closes."))
        elif closes < max(now_utc(), send_at or now_utc()):
            errors["replies_close_at"] = str(_l("Sign-up must close after the notice goes out."))
    return errors


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def needs_approval(broadcast: Broadcast) -> bool:
    return broadcast.urgent or broadcast.recipient_count > int(current_app.config["BROADCAST_APPROVAL_THRESHOLD"])


def submit(broadcast: Broadcast, *, actor, channel: str = audit.WEB) -> Broadcast:
    """Plan the recipients; then it waits for approval, or for its time, or goes."""
    _require(broadcast, DRAFT)
    if preview_of(broadcast).too_long:
        raise BroadcastError({"audience": too_long_message()})
    planning.plan(broadcast)
    audit.record("broadcast.submit", broadcast, actor=actor, channel=channel,
                 details={"recipients": broadcast.recipient_count})
    if needs_approval(broadcast):
        broadcast.status = PENDING_APPROVAL
        db.session.commit()
        return broadcast
    return _release(broadcast)


def preview_of(broadcast: Broadcast) -> planning.Preview:
    return planning.preview(audiences.Audience.from_json(broadcast.audience), broadcast.body, broadcast.body_en,
                            urgent=broadcast.urgent, topic_id=broadcast.topic_id,
                            reply_options=broadcast.reply_options, free_reply=broadcast.free_reply)


def approve(broadcast: Broadcast, *, actor, channel: str = audit.WEB) -> Broadcast:
    """A second person with the approver role lets it go."""
    if not actor.has_role(roles.APPROVER):
        raise BroadcastError({"approver": str(_l("Only an approver can approve a broadcast."))})
    if actor.id == broadcast.created_by_id:
        raise BroadcastError({"approver": str(_l("Another person must approve what you made."))})
    _require(broadcast, PENDING_APPROVAL)
    broadcast.approved_by_id, broadcast.approved_at = actor.id, now_utc()
    audit.record("broadcast.approve", broadcast, actor=actor, channel=channel)
    return _release(broadcast)


def pause(broadcast: Broadcast, *, actor, channel: str = audit.WEB) -> Broadcast:
    _require(broadcast, SENDING, SCHEDULED)
    return _move(broadcast, PAUSED, "broadcast.pause", actor, channel)


def resume(broadcast: Broadcast, *, actor, channel: str = audit.WEB) -> Broadcast:
    _require(broadcast, PAUSED)
    audit.record("broadcast.resume", broadcast, actor=actor, channel=channel)
    return _release(broadcast)


def cancel(broadcast: Broadcast, *, actor, channel: str = audit.WEB) -> Broadcast:
    """Nothing more goes out; what was sent stays sent."""
    _require(broadcast, DRAFT, PENDING_APPROVAL, SCHEDULED, SENDING, PAUSED)
    sending.drop_queued(broadcast.id)
    return _move(broadcast, CANCELLED, "broadcast.cancel", actor, channel)


def retry(broadcast: Broadcast, *, actor, channel: str = audit.WEB) -> int:
    """Send again the texts that failed in a way that allows it (``report.may_retry``);
    returns how many. A paused broadcast sends them when resumed."""
    _require(broadcast, SENDING, PAUSED, DONE)
    again = report.queue_again(broadcast.id)
    if not again:
        db.session.rollback()
        raise BroadcastError({"retry": str(_l("No failed text can be sent again."))})
    audit.record("broadcast.retry", broadcast, actor=actor, channel=channel, details={"texts": again})
    if broadcast.status == PAUSED:
        db.session.commit()
        return again
    broadcast.status = SENDING
    db.session.commit()
    start(broadcast.id)
    return again


def _require(broadcast: Broadcast, *states: str) -> None:
    """The broadcast is in one of ``states``, and stays so until this transaction ends: a
    no-op UPDATE guarded by the status locks the row (PostgreSQL) or the database
    (SQLite), so of two requests at once (two approvers, pause against cancel) the second
    waits, then finds the status moved on and is told so."""
    held = db.session.execute(update(Broadcast).where(Broadcast.id == broadcast.id, Broadcast.status.in_(states))
                              .values(status=Broadcast.status).execution_options(synchronize_session=False)).rowcount
    if not held:
        db.session.rollback()
        db.session.refresh(broadcast)
        raise BroadcastError({"status": str(_l("Not possible now: the broadcast is %(status)s.",
                                               status=STATUS_LABELS[broadcast.status]))})
    db.session.refresh(broadcast)


def _move(broadcast: Broadcast, status: str, action: str, actor, channel: str) -> Broadcast:
    broadcast.status = status
    audit.record(action, broadcast, actor=actor, channel=channel)
    db.session.commit()
    return broadcast


def _release(broadcast: Broadcast) -> Broadcast:
    """Scheduled when its time is still to come, else sending at once (committed)."""
    if broadcast.send_at is not None and broadcast.send_at > now_utc():
        broadcast.status = SCHEDULED
        db.session.commit()
        return broadcast
    broadcast.status = SENDING
    db.session.commit()
    start(broadcast.id)
    return broadcast


def start(broadcast_id: int) -> None:
    """Send in the background: an RQ job, or without Redis a thread of this process
    (the sweep takes over if the process stops)."""
    if current_app.config.get("REDIS_URL"):
        try:
            jobs.enqueue(send, broadcast_id)
            return
        except jobs.JobQueueUnavailable:
            log.warning("broadcast %s: job queue unavailable, sending from this process", broadcast_id)
    app = current_app._get_current_object()

    def work() -> None:
        with app.app_context():
            try:
                send(broadcast_id)
            finally:
                db.session.remove()

    threading.Thread(target=work, name=f"broadcast-{broadcast_id}", daemon=True).start()


def send(broadcast_id: int) -> None:
    """The job: send what is left for ``JOB_SECONDS``, then hand over to a new job (RQ
    stops a job after its timeout, 180 s by default, and a job that goes on even so
    ends its worker a minute later: ``jobs.OVERRUN``); mark the broadcast done when
    nothing is left."""
    ends = time.monotonic() + JOB_SECONDS
    try:
        handed = sending.run(broadcast_id, until=ends)
    except rate.RateUnavailable as err:
        log.warning("broadcast %s waits: %s; the sweep takes it up again", broadcast_id, err)
        return
    if handed and time.monotonic() >= ends:  # out of time, not out of work: the next job goes on
        db.session.commit()
        start(broadcast_id)
        return
    broadcast = db.session.get(Broadcast, broadcast_id)
    left = db.session.scalar(select(Recipient.id).where(Recipient.broadcast_id == broadcast_id,
                                                        Recipient.state == PLANNED).limit(1))
    if broadcast is not None and broadcast.status == SENDING and left is None and not sending.texts_left(broadcast_id):
        broadcast.status = DONE
    db.session.commit()


def sweep() -> int:
    """Start the scheduled broadcasts whose time has come, and take up the ones left
    sending that no sender holds (``sending.may_send`` renews a sender's lease while it
    works: a broadcast of a day is not started again every minute). Returns how many
    scheduled ones were started."""
    due = db.session.scalars(select(Broadcast.id).where(Broadcast.status == SCHEDULED,
                                                        Broadcast.send_at <= now_utc())).all()
    for broadcast_id in due:
        db.session.get(Broadcast, broadcast_id).status = SENDING
    now = now_utc()
    waiting = db.session.scalars(select(Broadcast.id).where(
        Broadcast.status == SENDING, or_(Broadcast.lease_until.is_(None), Broadcast.lease_until < now))).all()
    db.session.commit()
    for broadcast_id in waiting:  # nobody at work on it (stopped, or waiting out the night or the daily cap)
        start(broadcast_id)
    return len(due)
