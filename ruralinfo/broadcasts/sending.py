"""Sending a planned broadcast: batches of recipients become outbox texts, then each
text goes to the gateway at the shared rate (``rate``), through the SMS channel's
own guarded send (``ruralinfo.sms.tasks.send_message``: claimed before it goes, so
never sent twice).

A batch is taken in one transaction — its recipients marked queued and their texts
written together — so a worker killed at any moment leaves each recipient either
still planned or with its text in the outbox. The job that takes over (``run`` is
safe to run twice, and on several workers at once) first sends the broadcast's
texts still queued, then takes the next batch. Texts go out in chunks
(``send_chunk``), claimed before any of them goes; a text the killed worker had
claimed is the SMS channel's to settle: looked up at the provider, never sent
twice, and queued again if the provider never had it.
A broadcast that is paused or cancelled stops between two texts, and so does a
routine one when the quiet hours begin.
"""
from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, case, func, insert, literal, or_, select, text, update

from ruralinfo.accounts.models import User
from ruralinfo.broadcasts import daily_cap, rate, texts
from ruralinfo.broadcasts.models import PLANNED, QUEUED_TEXT, SENDING, Broadcast, Recipient, TopicOptOut
from ruralinfo.extensions import db
from ruralinfo.regions.models import Region
from ruralinfo.sms import gateways, quiet, status
from ruralinfo.sms import services as sms
from ruralinfo.sms.gateways import GatewayError, SendOutcomeUnknown
from ruralinfo.sms.models import BROADCAST, FAILED, QUEUED, UNKNOWN, OutboundMessage, StatusEvent
from ruralinfo.sms.models import SENDING as SENDING_TEXT
from ruralinfo.timeutil import now_utc

BATCH = 200  # recipients a worker takes at once
CHUNK = 100  # at most this many texts claimed, sent and recorded together
LEASE = timedelta(seconds=90)  # a sender that has not asked to go on for this long has stopped
# (BROADCAST_LEASE, in seconds, if set: the kill -9 test shortens it for its worker processes)


AFTER_SENT: list = []  # features' hooks, called with the ids of texts just accepted (``after_sent``)


def after_sent(func) -> None:
    """Call ``func(message_ids)`` in the transaction that records texts as accepted by the
    gateway (the mailbox files each notice as a letter): once per text, or never."""
    if func not in AFTER_SENT:
        AFTER_SENT.append(func)


def notify_accepted(message_ids: list[int]) -> None:
    """Tell the features (``after_sent``) of broadcast texts the gateway has just taken for
    the first time — from a sender, or from the SMS channel finding at the provider a text
    whose sender died before recording it. Not committed: in the recording transaction."""
    if message_ids:
        for hook in AFTER_SENT:
            hook(message_ids)


def cause(broadcast_id: int) -> str:
    """What the broadcast's outbox texts are marked with."""
    return f"broadcast:{broadcast_id}"


def run(broadcast_id: int, until: float | None = None) -> int:
    """The job: send what is left of broadcast ``broadcast_id`` while it is sending (and,
    given ``until``, a ``time.monotonic()`` value, not past it once it has sent a chunk).
    Returns how many texts this run handed to the gateway."""
    handed = 0
    try:
        while (until is None or not handed or time.monotonic() < until) and may_send(broadcast_id):
            queued = _queued_texts(broadcast_id) or _take_batch(broadcast_id)
            if not queued:
                break
            size = chunk_size()
            for start in range(0, len(queued), size):
                if start and (not may_send(broadcast_id) or (until is not None and time.monotonic() >= until)):
                    return handed
                handed += send_chunk(queued[start:start + size], topic_id=_topic_of(broadcast_id))
        return handed
    finally:  # stopping of its own accord: the sweep may start the next sender whenever there is work
        db.session.rollback()
        db.session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(lease_until=None)
                           .execution_options(synchronize_session=False))
        db.session.commit()


def chunk_size() -> int:
    """About a second of texts at ``SMS_RATE`` (at most ``CHUNK``): a pause is noticed
    within a second or so, and a worker killed mid-chunk leaves few texts to look up."""
    return max(1, min(CHUNK, int(float(current_app.config["SMS_RATE"]))))


def _topic_of(broadcast_id: int) -> int | None:
    return db.session.scalar(select(Broadcast.topic_id).where(Broadcast.id == broadcast_id))


def send_chunk(message_ids: list[int], topic_id: int | None = None) -> int:
    """Send a few queued texts: claimed together (committed before any goes, so none
    is ever sent twice), opt-outs checked at that moment, each handed to the gateway
    at the shared rate, the outcomes written together. A worker killed mid-chunk
    leaves the rest claimed: the SMS channel looks them up at the provider, and a
    broadcast text the provider never had is queued again. Returns how many went."""
    from ruralinfo.sms import tasks

    gateway = gateways.current()
    claimed_at = now_utc()
    claimed = db.session.execute(
        update(OutboundMessage).where(OutboundMessage.id.in_(message_ids), OutboundMessage.status == QUEUED)
        .values(status=SENDING_TEXT, attempts=OutboundMessage.attempts + 1, gateway=gateway.name,
                updated_at=claimed_at, next_attempt_at=None)
        .returning(OutboundMessage.id, OutboundMessage.to, OutboundMessage.body, OutboundMessage.user_id,
                   OutboundMessage.provider_id)
        .execution_options(synchronize_session=False)).all()
    db.session.commit()
    users = {row.user_id for row in claimed if row.user_id is not None}
    opted = set(db.session.scalars(select(User.id).where(User.id.in_(users), or_(
        User.sms_opt_out.is_(True), User.id.in_(select(TopicOptOut.user_id).where(TopicOptOut.topic_id == topic_id))))
    )) if users else set()
    accepted, went = [], 0
    rows = sorted(claimed, key=lambda one: one.id)
    for position, row in enumerate(rows):
        if row.user_id in opted:
            _finish(row.id, status=FAILED, last_error="recipient opted out (of notices or this topic) before sending")
            continue
        try:
            rate.wait_turn(gateway.name)
        except rate.RateUnavailable:  # never handed to the gateway: queued again, the rest recorded
            _finish_many([later.id for later in rows[position:]], status=QUEUED, attempts=OutboundMessage.attempts - 1)
            _record(accepted)
            raise
        went += 1
        try:
            result = gateway.send(row.to, sms.framed(row.body, BROADCAST), None)
        except GatewayError as err:
            tasks.after_error(db.session.get(OutboundMessage, row.id), err)
        except SendOutcomeUnknown as err:
            tasks.after_unknown(db.session.get(OutboundMessage, row.id), claimed_at, err.provider_id)
        else:
            accepted.append({"message": row.id, "provider": result.provider_id, "first": row.provider_id is None,
                             "new": result.status if status.can_move(SENDING_TEXT, result.status) else SENDING_TEXT})
    _record(accepted)
    return went


def _record(accepted: list[dict]) -> None:
    """Write the gateway's answers for the texts it accepted, together, and commit."""
    if accepted:
        if db.engine.dialect.name == "postgresql":  # one statement for the chunk, compiled once: arrays
            db.session.execute(_RECORD_PG, {
                "ids": [one["message"] for one in accepted], "providers": [one["provider"] for one in accepted],
                "news": [one["new"] for one in accepted], "now": now_utc(), "sending": SENDING_TEXT,
                "unknown": UNKNOWN})
        else:  # SQLite has no arrays: one row at a time
            table = OutboundMessage.__table__
            db.session.execute(table.update().where(table.c.id == bindparam("message"),
                                                    or_(table.c.status == SENDING_TEXT, table.c.status == UNKNOWN))
                               .values(provider_id=bindparam("provider"), status=bindparam("new"), last_error="",
                                       updated_at=now_utc()),
                               [{"message": one["message"], "provider": one["provider"], "new": one["new"]}
                                for one in accepted])
        # a text accepted before (then undelivered, and retried) was filed already: hooks hear of first sends only
        notify_accepted([one["message"] for one in accepted if one["first"]])
    db.session.commit()
    if accepted:  # after the ids are committed: see services.apply_status
        _replay_early_events([one["provider"] for one in accepted])
        db.session.commit()


_RECORD_PG = text(
    "UPDATE sms_outbox SET provider_id = a.provider, status = a.new, last_error = '', updated_at = :now "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:providers AS varchar[]), CAST(:news AS varchar[])) "
    "AS a(message, provider, new) WHERE sms_outbox.id = a.message AND sms_outbox.status IN (:sending, :unknown)")


def _finish(message_id: int, **values) -> None:
    _finish_many([message_id], **values)


def _finish_many(message_ids: list[int], **values) -> None:
    """Move claimed texts on (only while still claimed: nobody overtook us)."""
    db.session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(message_ids),
                                                     OutboundMessage.status == SENDING_TEXT)
                       .values(updated_at=now_utc(), **values).execution_options(synchronize_session=False))


def _replay_early_events(provider_ids: list[str]) -> None:
    """Status callbacks that came before their provider id was stored (rare): apply them."""
    early = db.session.scalars(select(StatusEvent.provider_id).where(
        StatusEvent.provider_id.in_(provider_ids), StatusEvent.message_id.is_(None))).all()
    for provider_id in set(early):
        message = db.session.scalar(select(OutboundMessage).where(OutboundMessage.provider_id == provider_id))
        if message is not None:
            sms.replay_early_events(message)


def may_send(broadcast_id: int) -> bool:
    """Sending, and not a routine notice in the quiet hours (it waits for the morning,
    when the sweep takes it up again; an urgent alert goes day and night). Asking
    renews this sender's lease (``LEASE``): while it holds, the sweep starts no other."""
    urgent = db.session.scalar(update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == SENDING)
                               .values(lease_until=now_utc() + lease()).returning(Broadcast.urgent)
                               .execution_options(synchronize_session=False))
    db.session.commit()
    return urgent is not None and (urgent or quiet.held_until() is None)


def lease() -> timedelta:
    """How long a sender's lease lasts: ``BROADCAST_LEASE`` seconds, or ``LEASE``."""
    seconds = current_app.config.get("BROADCAST_LEASE")
    return timedelta(seconds=float(seconds)) if seconds else LEASE


def _queued_texts(broadcast_id: int) -> list[int]:
    """The broadcast's texts in the outbox that nobody has sent yet (a worker stopped)."""
    ids = db.session.scalars(select(OutboundMessage.id).where(
        OutboundMessage.cause == cause(broadcast_id), OutboundMessage.status == QUEUED)
        .order_by(OutboundMessage.id).limit(BATCH)).all()
    db.session.commit()
    return list(ids)


def texts_left(broadcast_id: int) -> bool:
    """Whether any of the broadcast's texts is not settled yet: waiting in the outbox, or
    claimed by a sender that may have stopped (the channel will look it up, and may
    queue it again). A text the provider took (its id stored) is settled, even while the
    provider still says queued: only its delivery is to come."""
    return db.session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.cause == cause(broadcast_id),
        or_(OutboundMessage.status == QUEUED,
            and_(OutboundMessage.status.in_((SENDING_TEXT, UNKNOWN)), OutboundMessage.provider_id.is_(None))))
        .limit(1)) is not None


def drop_queued(broadcast_id: int) -> int:
    """A cancelled broadcast's texts still waiting: failed, with the reason (not committed)."""
    return db.session.execute(update(OutboundMessage).where(
        OutboundMessage.cause == cause(broadcast_id), OutboundMessage.status == QUEUED)
        .values(status=FAILED, last_error="the broadcast was cancelled", updated_at=now_utc())
        .execution_options(synchronize_session=False)).rowcount


def _take_batch(broadcast_id: int) -> list[int]:
    """Turn the next planned recipients into outbox texts, in one transaction: their
    ids, or [] when none are left (or the broadcast is no longer sending). People who
    had today's routine notices are held for tomorrow on the way."""
    while True:
        taken = _take_once(broadcast_id)
        if taken is not None:
            return taken


def _take_once(broadcast_id: int) -> list[int] | None:
    """One try of ``_take_batch``: None when the whole batch was held (try again)."""
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status != SENDING:
        db.session.rollback()
        return []
    now = now_utc()
    if not broadcast.urgent:
        daily_cap.serialise(broadcast_id)  # first write of the transaction: counts are then current
    taking = (select(Recipient.id, Recipient.phone)
              .where(Recipient.broadcast_id == broadcast_id, Recipient.state == PLANNED,
                     or_(Recipient.held_until.is_(None), Recipient.held_until <= now))
              .order_by(Recipient.id).limit(BATCH))
    if db.engine.dialect.name == "postgresql":
        taking = taking.with_for_update(skip_locked=True)  # two workers take two batches
    candidates = db.session.execute(taking).all()
    capped = daily_cap.over([phone for _id, phone in candidates], now) if not broadcast.urgent else set()
    if capped:
        db.session.execute(update(Recipient).where(Recipient.id.in_([i for i, phone in candidates if phone in capped]))
                           .values(held_until=daily_cap.day_bounds(now)[1])
                           .execution_options(synchronize_session=False))
    wanted = [i for i, phone in candidates if phone not in capped]
    # claimed by the guarded state change: a worker that read the same rows gets none of them
    ids = db.session.scalars(update(Recipient).where(Recipient.id.in_(wanted), Recipient.state == PLANNED)
                             .values(state=QUEUED_TEXT).returning(Recipient.id)
                             .execution_options(synchronize_session=False)).all() if wanted else []
    if not ids:
        db.session.commit()
        return None if capped else []
    chosen = Recipient.id.in_(ids)
    made = _texts(broadcast)
    if any(texts.has_placeholders(body) for body, _segments, _encoding in made.values()):
        _write_personal(broadcast, ids, made)
    else:
        _write_same(broadcast_id, chosen, made)
    text_of = (select(OutboundMessage.id).where(OutboundMessage.cause == cause(broadcast_id),
                                                OutboundMessage.to == Recipient.phone).scalar_subquery())
    db.session.execute(update(Recipient).where(chosen).values(message_id=text_of)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return list(db.session.scalars(select(Recipient.message_id).where(chosen).order_by(Recipient.id)))


def _write_same(broadcast_id: int, chosen, made: dict[str, tuple[str, int, str]]) -> None:
    """One text for every reader of a language: written for the whole batch by one INSERT … SELECT."""
    body = case((Recipient.language == "en", literal(made["en"][0])), else_=literal(made["zh"][0]))
    counted = case((Recipient.language == "en", literal(made["en"][1])), else_=literal(made["zh"][1]))
    encoding = case((Recipient.language == "en", literal(made["en"][2])), else_=literal(made["zh"][2]))
    now = now_utc()
    db.session.execute(insert(OutboundMessage).from_select(
        ["to", "user_id", "body", "segments", "encoding", "kind", "cause", "status", "gateway", "attempts",
         "last_error", "created_at", "updated_at"],
        select(Recipient.phone, Recipient.user_id, body, counted, encoding, literal(BROADCAST),
               literal(cause(broadcast_id)), literal(QUEUED), literal(""), literal(0), literal(""), literal(now),
               literal(now)).where(chosen)))


def _write_personal(broadcast: Broadcast, ids: list[int], made: dict[str, tuple[str, int, str]]) -> None:
    """Texts with ``{name}`` and ``{village}``: filled in for each recipient of the batch."""
    now = now_utc()
    rows = db.session.execute(select(Recipient.phone, Recipient.user_id, Recipient.language, User.name, Region.name)
                              .outerjoin(User, User.id == Recipient.user_id)
                              .outerjoin(Region, Region.code == User.region_code)
                              .where(Recipient.id.in_(ids))).all()
    values = []
    for phone, user_id, language, name, village in rows:
        reads = texts.language_of(broadcast, language)
        body = texts.personal(made[reads][0], name, village, reads)
        counted = sms.counted(body, BROADCAST)
        values.append({"to": phone, "user_id": user_id, "body": body, "segments": counted.segments,
                       "encoding": counted.encoding, "kind": BROADCAST, "cause": cause(broadcast.id),
                       "status": QUEUED, "gateway": "", "attempts": 0, "last_error": "",
                       "created_at": now, "updated_at": now})
    db.session.execute(insert(OutboundMessage), values)


def _texts(broadcast: Broadcast) -> dict[str, tuple[str, int, str]]:
    """The text each language gets (English falls back to Chinese, a sign-up's how-to
    included), with its segments and encoding."""
    result = {}
    for language in ("zh", "en"):
        body = texts.template(broadcast, language)
        counted = sms.counted(body, BROADCAST)
        result[language] = (body, counted.segments, counted.encoding)
    return result


def progress(broadcast_id: int) -> dict[str, int]:
    """Recipients by where they are: planned, opted out, and their texts' statuses."""
    rows = db.session.execute(
        select(func.coalesce(OutboundMessage.status, Recipient.state), func.count())
        .select_from(Recipient).outerjoin(OutboundMessage, and_(OutboundMessage.id == Recipient.message_id))
        .where(Recipient.broadcast_id == broadcast_id)
        .group_by(func.coalesce(OutboundMessage.status, Recipient.state))).all()
    return {state: number for state, number in rows}
