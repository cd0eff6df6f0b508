"""Letters to a liaison point as work to be done: each is new, read, answered or
closed without an answer (with the reason), and each point has a reply rate —
the 答复率 (办结回复率) the counties publish: letters answered within
``LETTER_SLA_DAYS`` over the letters received in a period — and a median time
to answer.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from mailbox.models import Letter
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.timeutil import now_utc

MAX_REASON = 200


class CloseError(FieldErrors):
    """A letter cannot be closed as asked."""


def pending_filter(point_id: int):
    """Letters to the point that still wait for an answer (待回复)."""
    return (Letter.recipient_point_id == point_id, Letter.answered_at.is_(None), Letter.closed_at.is_(None))


def pending_count(point: LiaisonPoint | None) -> int:
    if point is None:
        return 0
    return db.session.scalar(select(func.count(Letter.id)).where(*pending_filter(point.id)))


def mark_answered(point_id: int, root_id: int, at: datetime) -> None:
    """The point wrote in thread ``root_id``: every letter to it there waiting is answered now."""
    db.session.execute(update(Letter).where(
        Letter.recipient_point_id == point_id, Letter.answered_at.is_(None), Letter.closed_at.is_(None),
        or_(Letter.id == root_id, Letter.thread_id == root_id))
        .values(answered_at=at).execution_options(synchronize_session=False))


def close(letter: Letter, *, actor, reason: str, channel: str) -> None:
    """Close a letter to the actor's point without an answer (e.g. "the farmer came to the point")."""
    rules.check_may_write(actor)
    if letter.recipient_point_id is None or letter.recipient_point_id != actor.liaison_point_id:
        raise CloseError({"reason": str(_l("Only letters to your own point can be closed."))})
    text = " ".join((reason or "").split())
    if not text:
        raise CloseError({"reason": str(_l("Say why the letter needs no answer."))})
    if len(text) > MAX_REASON:
        raise CloseError({"reason": str(_l("At most %(n)s characters.", n=MAX_REASON))})
    if letter.answered_at is not None or letter.closed_at is not None:
        return
    letter.closed_at, letter.close_reason, letter.closed_by_id = now_utc(), text, actor.id
    audit.record("letter.close", letter, actor=actor, channel=channel, details={"reason": text})
    db.session.commit()


@dataclass(frozen=True)
class ReplyRate:
    """A point's letters received in a period and how they were answered."""

    point_id: int
    received: int
    answered_in_time: int
    answered: int
    pending: int
    closed: int
    median_hours: float | None

    @property
    def rate(self) -> float | None:
        """Answered within the SLA over received (None when nothing was received)."""
        return self.answered_in_time / self.received if self.received else None


def sla() -> timedelta:
    return timedelta(days=int(current_app.config["LETTER_SLA_DAYS"]))


def reply_rates(since: datetime, until: datetime | None = None,
                point_ids: list[int] | None = None) -> dict[int, ReplyRate]:
    """Reply rate and median time to answer for every point (or ``point_ids``) over
    the letters received from ``since`` to ``until``. A letter still waiting past
    the SLA counts as not answered in time; one still within it counts too (the
    period is not over for it) — so a fresh letter lowers the rate until answered."""
    until = until or now_utc()
    stmt = select(Letter.recipient_point_id, Letter.created_at, Letter.answered_at, Letter.closed_at).where(
        Letter.recipient_point_id.is_not(None), Letter.created_at >= since, Letter.created_at < until)
    if point_ids is not None:
        stmt = stmt.where(Letter.recipient_point_id.in_(point_ids))
    limit = sla()
    rows: dict[int, list] = {}
    for point_id, created, answered, closed in db.session.execute(stmt):
        rows.setdefault(point_id, []).append((created, answered, closed))
    result = {}
    for point_id, letters in rows.items():
        waits = [answered - created for created, answered, _closed in letters if answered is not None]
        result[point_id] = ReplyRate(
            point_id=point_id, received=len(letters),
            answered_in_time=sum(1 for wait in waits if wait <= limit), answered=len(waits),
            pending=sum(1 for _c, answered, closed in letters if answered is None and closed is None),
            closed=sum(1 for _c, answered, closed in letters if answered is None and closed is not None),
            median_hours=round(statistics.median(w.total_seconds() for w in waits) / 3600, 1) if waits else None)
    return result


def by_point(since: datetime) -> list[tuple[LiaisonPoint, ReplyRate | None]]:
    """Every point with its reply rate since ``since``: the worst rate first, points
    that received nothing last."""
    found = reply_rates(since)
    points = db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.name)).all()
    rows = [(point, found.get(point.id)) for point in points]
    rows.sort(key=lambda row: (row[1] is None or row[1].rate is None, row[1].rate if row[1] else 0))
    return rows


def inbox(point: LiaisonPoint, *, pending_only: bool = False):
    """A select of the letters to ``point``: those waiting for an answer first, unread
    first among them, newest first; ``pending_only``: only those waiting (待回复)."""
    stmt = select(Letter).where(Letter.recipient_point_id == point.id)
    if pending_only:
        stmt = stmt.where(*pending_filter(point.id))
    waiting = Letter.answered_at.is_(None) & Letter.closed_at.is_(None)
    return stmt.order_by(~waiting, Letter.read_at.is_not(None), Letter.id.desc())
