"""``BROADCAST_DAILY_CAP``: at most so many routine notices a person a day (local
day, ``TIMEZONE``). The excess is not dropped: it waits for the next day. Urgent
alerts go whatever the count, and do not count.

Counted when a batch is taken, for the batch's phones only; batches of routine
broadcasts are taken one at a time (``serialise``), so two broadcasts sending at
once cannot both give a person their last text of the day.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select, text, update

from ruralinfo.broadcasts.models import QUEUED_TEXT, Broadcast, Recipient
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from ruralinfo.timeutil import local_zone

_LOCK_KEY = 731_2316  # PostgreSQL advisory lock: taking a routine batch


def cap() -> int:
    return int(current_app.config["BROADCAST_DAILY_CAP"])


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The local day of ``now`` (naive UTC): its start and the next day's, as naive UTC."""
    local = now.replace(tzinfo=UTC).astimezone(local_zone())
    start = datetime.combine(local.date(), time(0), tzinfo=local_zone())
    return (start.astimezone(UTC).replace(tzinfo=None),
            (start + timedelta(days=1)).astimezone(UTC).replace(tzinfo=None))


def serialise(broadcast_id: int) -> None:
    """Hold the routine-batch lock until the transaction ends: an advisory lock on
    PostgreSQL, the database's write lock on SQLite (a no-op UPDATE, first thing)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        db.session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(id=Broadcast.id)
                           .execution_options(synchronize_session=False))


def texts_today(phones: list[str], now: datetime) -> dict[str, int]:
    """Routine notices each of ``phones`` got in the local day of ``now``."""
    if not phones:
        return {}
    start, _end = day_bounds(now)
    rows = db.session.execute(
        select(Recipient.phone, func.count())
        .join(Broadcast, Broadcast.id == Recipient.broadcast_id)
        .join(OutboundMessage, OutboundMessage.id == Recipient.message_id)
        .where(Recipient.phone.in_(phones), Recipient.state == QUEUED_TEXT, Broadcast.urgent.is_(False),
               OutboundMessage.created_at >= start)
        .group_by(Recipient.phone)).all()
    return dict(rows)


def capped_phones(now: datetime):
    """A select of every phone that had today's routine notices (for the preview)."""
    start, _end = day_bounds(now)
    return (select(Recipient.phone).join(Broadcast, Broadcast.id == Recipient.broadcast_id)
            .join(OutboundMessage, OutboundMessage.id == Recipient.message_id)
            .where(Recipient.state == QUEUED_TEXT, Broadcast.urgent.is_(False), OutboundMessage.created_at >= start)
            .group_by(Recipient.phone).having(func.count() >= cap()))


def over(phones: list[str], now: datetime) -> set[str]:
    """Those of ``phones`` who had their routine notices for today."""
    limit = cap()
    return {phone for phone, count in texts_today(phones, now).items() if count >= limit}
