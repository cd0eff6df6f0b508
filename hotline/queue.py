"""What the expert console reads: the queue by topic and age, one question with what an
expert needs to answer it, a farmer's own questions. Reads only; every change is in
``hotline.services``.

Who may use the console: experts and administrators act (take, give back, answer,
move, publish); bureau staff and approvers may look (the queue, the questions, the
recordings) but change nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import format_timedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hotline import topics
from hotline.models import ANSWERED, CLAIMED, SMS, VOICE, WAITING, WEB, PublishedAnswer, Question
from hotline.services import CLAIM_MINUTES
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

ACTORS = (roles.EXPERT, roles.ADMIN)
VIEWERS = (*ACTORS, roles.STAFF, roles.APPROVER)

CHANNELS = {VOICE: _l("Call"), SMS: _l("SMS"), WEB: _l("Web")}
STATUSES = {WAITING: _l("waiting"), CLAIMED: _l("being answered"), ANSWERED: _l("answered")}
RECENT_ANSWERED = 20


def _loaded(stmt):
    """Load what a list shows (the farmer and their village, who holds it, the recording) in one go."""
    return stmt.options(selectinload(Question.user), selectinload(Question.claimed_by),
                        selectinload(Question.recording))


def _in_topic(stmt, topic: str | None):
    return stmt.where(Question.topic == topic) if topic in topics.TOPICS else stmt


def mine(expert: User, topic: str | None = None) -> list[Question]:
    """The questions ``expert`` holds now, the longest held first."""
    stmt = select(Question).where(Question.status == CLAIMED, Question.claimed_by_id == expert.id)
    return db.session.scalars(_loaded(_in_topic(stmt, topic)).order_by(Question.claimed_at, Question.id)).all()


def waiting(topic: str | None = None):
    """A select of the questions nobody holds, the oldest first (to paginate)."""
    stmt = select(Question).where(Question.status == WAITING)
    return _loaded(_in_topic(stmt, topic)).order_by(Question.created_at, Question.id)


def held_by_others(expert: User, topic: str | None = None) -> list[Question]:
    """Questions other experts hold, with who (a claim left too long may be taken over)."""
    stmt = select(Question).where(Question.status == CLAIMED, Question.claimed_by_id != expert.id)
    return db.session.scalars(_loaded(_in_topic(stmt, topic)).order_by(Question.claimed_at, Question.id)).all()


def recently_answered(topic: str | None = None, limit: int = RECENT_ANSWERED) -> list[Question]:
    stmt = select(Question).where(Question.status == ANSWERED)
    return db.session.scalars(_loaded(_in_topic(stmt, topic)).options(selectinload(Question.answered_by))
                              .order_by(Question.answered_at.desc(), Question.id.desc()).limit(limit)).all()


def waiting_counts() -> dict[str, int]:
    """How many questions wait, per topic."""
    rows = db.session.execute(select(Question.topic, func.count(Question.id))
                              .where(Question.status == WAITING).group_by(Question.topic)).all()
    return {topic: count for topic, count in rows}


def question(question_id: int) -> Question | None:
    return db.session.scalar(_loaded(select(Question).where(Question.id == question_id))
                             .options(selectinload(Question.answered_by)))


def of_farmer(user: User):
    """A select of a farmer's own questions, however they came, the newest first."""
    return (select(Question).where(Question.user_id == user.id).options(selectinload(Question.answered_by))
            .order_by(Question.id.desc()))


def published_for(question_id: int) -> PublishedAnswer | None:
    """The answer published from this question and not withdrawn, if any."""
    return db.session.scalar(select(PublishedAnswer).where(PublishedAnswer.question_id == question_id,
                                                           PublishedAnswer.withdrawn_at.is_(None))
                             .order_by(PublishedAnswer.id.desc()).limit(1))


# --- what a row shows ---------------------------------------------------------------------

def may_take_over(question: Question, now: datetime | None = None) -> bool:
    """A claim nobody acted on for ``CLAIM_MINUTES``: another expert may take it."""
    return (question.status == CLAIMED and question.claimed_at is not None
            and question.claimed_at < (now or now_utc()) - timedelta(minutes=CLAIM_MINUTES))


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the page's language (``3 hours``, ``3小时``)."""
    if moment is None:
        return ""
    return format_timedelta(max((now or now_utc()) - moment, timedelta(0)), granularity="minute",
                            threshold=1.5)


def masked_phone(phone: str) -> str:
    """``+8613800138000`` → ``138****8000``: enough to recognise a caller, not to dial them."""
    digits = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def farmer_label(question: Question) -> str:
    """Who asked, as experts see them: the name and village (never the ID number), or a
    caller who is not registered by their masked number."""
    user = question.user
    if user is None:
        return masked_phone(question.phone) if question.phone else str(_l("unknown caller"))
    village = user.region.name if user.region is not None else ""
    return f"{user.name} · {village}" if village else user.name
