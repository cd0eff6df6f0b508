"""A farmer's own choice of notices on the web: which topics they get, and the plain
stop of every notice (the same as texting 退订). Changes go through ``topics.leave``
and ``topics.join`` and ``accounts.set_sms_opt_out``, so each is in the audit log
with its time: the proof of consent the page shows back."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ruralinfo.accounts import services as accounts
from ruralinfo.audit.models import AuditEntry
from ruralinfo.broadcasts import topics
from ruralinfo.broadcasts.models import Topic, TopicOptOut
from ruralinfo.extensions import db

CONSENT_ACTIONS = ("topic.leave", "topic.join", "sms.opt_out", "sms.opt_in")
HISTORY = 20  # changes shown on the page


@dataclass
class TopicChoice:
    topic: Topic
    left_at: datetime | None  # since when the farmer gets none of it; None: they get it

    @property
    def receives(self) -> bool:
        return self.left_at is None


def choices_of(user) -> list[TopicChoice]:
    """Every active topic, and since when ``user`` left it (if they did)."""
    left = dict(db.session.execute(select(TopicOptOut.topic_id, TopicOptOut.at)
                                   .where(TopicOptOut.user_id == user.id)).all())
    return [TopicChoice(topic, left.get(topic.id)) for topic in
            db.session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.id))]


def save(user, *, wanted: set[int], stop_all: bool, channel: str) -> int:
    """``user`` gets the active topics in ``wanted`` (ids) and none of the others, and
    no notice at all with ``stop_all``. Only what differs is changed (and audited);
    returns how many changes were made."""
    changes = 0
    for choice in choices_of(user):
        if choice.topic.id in wanted and not choice.receives:
            changes += topics.join(user, choice.topic, channel=channel, commit=False)
        elif choice.topic.id not in wanted and choice.receives:
            changes += topics.leave(user, choice.topic, channel=channel, commit=False)
    changes += accounts.set_sms_opt_out(user, bool(stop_all), actor=user, channel=channel, commit=False)
    db.session.commit()
    return changes


def history(user, limit: int = HISTORY) -> list[AuditEntry]:
    """``user``'s latest changes of the notices they get (by SMS, on the web, or by a
    liaison), newest first."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.target_type == "users", AuditEntry.target_id == user.id,
                                 AuditEntry.action.in_(CONSENT_ACTIONS))
        .order_by(AuditEntry.id.desc()).limit(limit)))


def topic_labels(locale: str) -> dict[str, str]:
    """Every topic's name by its key (retired ones too: the history may name them)."""
    return {topic.key: topic.label(locale) for topic in db.session.scalars(select(Topic))}
