"""Published answers: a question rewritten for everyone, with its answer, read on the
public answers page and heard under its topic's 常见问题 menu; withdrawn, it is neither.

An answer is published from an answered question or written on its own; what is
published must not name the farmer who asked nor carry a phone or ID number (the
expert rewrites the question for everyone).
"""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from hotline import topics
from mailbox import market
from hotline.models import ANSWERED, PublishedAnswer, Question
from hotline.services import MAX_ANSWER
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

MAX_QUESTION = 300  # the column's length
MAX_TERMS = 5  # words of a search


class PublishRefused(ValueError):
    """``errors`` maps a field (question_zh, answer_zh, topic …) to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _words(text: str | None) -> str:
    """Text as typed, without leading and trailing blanks and with at most one blank line between paragraphs."""
    return re.sub(r"\n{3,}", "\n\n", (text or "").replace("\r\n", "\n").strip())


def _check(fields: dict[str, str], question: Question | None) -> dict[str, str]:
    errors = {}
    if not fields["question_zh"]:
        errors["question_zh"] = _("Write the question as everyone should read it.")
    if not fields["answer_zh"]:
        errors["answer_zh"] = _("Write the answer.")
    for name in ("question_zh", "question_en"):
        if len(fields[name]) > MAX_QUESTION:
            errors[name] = _("At most %(n)s characters.", n=MAX_QUESTION)
    for name in ("answer_zh", "answer_en"):
        if len(fields[name]) > MAX_ANSWER:
            errors[name] = _("At most %(n)s characters.", n=MAX_ANSWER)
    phone = question.phone[-11:] if question is not None and len(question.phone) >= 7 else None
    name = question.user.name if question is not None and question.user is not None else ""
    for field, text in fields.items():
        compact = "".join(text.split())
        if field in errors:
            continue
        if market.has_contact_number(text) or (phone and phone in compact):
            errors[field] = _("Leave out phone and ID numbers: everyone reads this.")
        elif len(name) >= 2 and name in compact:
            errors[field] = _("Leave out the farmer's name: everyone reads this.")
    return errors


def publish(question_id: int | None, expert: User, *, topic: str, question_zh: str, answer_zh: str,
            question_en: str = "", answer_en: str = "", commit: bool = True) -> PublishedAnswer:
    """Publish an answer for everyone, from an answered question (``question_id``) or on its own."""
    question = db.session.get(Question, question_id) if question_id is not None else None
    if question_id is not None and (question is None or question.status != ANSWERED):
        raise PublishRefused({"question": _("Answer the question before publishing it.")})
    fields = {"question_zh": _words(question_zh), "answer_zh": _words(answer_zh),
              "question_en": _words(question_en), "answer_en": _words(answer_en)}
    errors = _check(fields, question)
    if topic not in topics.TOPICS:
        errors["topic"] = _("Choose a topic from the list.")
    if errors:
        raise PublishRefused(errors)
    if question is not None and _published_already(question.id):
        raise PublishRefused({"question": _("This question's answer is published already.")})
    published = PublishedAnswer(topic=topic, question_id=question_id, published_by_id=expert.id, **fields)
    db.session.add(published)
    db.session.flush()
    audit.record("answer.publish", published, actor=expert, details={"topic": topic, "question": question_id})
    if commit:
        db.session.commit()
    return published


def _published_already(question_id: int) -> bool:
    """Whether the question's answer is published (and not withdrawn). The question's row is
    locked first (a guarded no-op UPDATE), so that two experts publishing it at once
    publish it once: the second waits for the first to commit, then finds it."""
    db.session.execute(update(Question).where(Question.id == question_id).values(topic=Question.topic)
                       .execution_options(synchronize_session=False))
    return db.session.scalar(select(PublishedAnswer.id).where(
        PublishedAnswer.question_id == question_id, PublishedAnswer.withdrawn_at.is_(None)).limit(1)) is not None


def withdraw(answer_id: int, actor: User, *, commit: bool = True) -> bool:
    """No longer shown nor heard. False when it was withdrawn already (or never was)."""
    done = db.session.execute(
        update(PublishedAnswer).where(PublishedAnswer.id == answer_id, PublishedAnswer.withdrawn_at.is_(None))
        .values(withdrawn_at=now_utc()).execution_options(synchronize_session=False)).rowcount
    if done:
        audit.record("answer.withdraw", ("hotline_published_answers", answer_id), actor=actor)
    if commit:
        db.session.commit()
    return bool(done)


def _current():
    return select(PublishedAnswer).where(PublishedAnswer.withdrawn_at.is_(None))


def published(topic: str | None = None) -> list[PublishedAnswer]:
    """The answers shown and heard (of one topic, when given), the newest first."""
    stmt = _current()
    if topic is not None:
        stmt = stmt.where(PublishedAnswer.topic == topic)
    return db.session.scalars(stmt.order_by(PublishedAnswer.published_at.desc(), PublishedAnswer.id.desc())).all()


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(q: str | None = None, topic: str | None = None):
    """A select of the answers shown, the newest first: every word of ``q`` in the
    question or the answer (Chinese or English), of ``topic`` when given."""
    stmt = _current()
    if topic in topics.TOPICS:
        stmt = stmt.where(PublishedAnswer.topic == topic)
    columns = (PublishedAnswer.question_zh, PublishedAnswer.question_en, PublishedAnswer.answer_zh,
               PublishedAnswer.answer_en)
    terms = [term for term in (q or "").split() if term][:MAX_TERMS]
    if terms:
        stmt = stmt.where(and_(*(or_(*(column.ilike(f"%{_escape(term)}%", escape="\\") for column in columns))
                                 for term in terms)))
    return stmt.order_by(PublishedAnswer.published_at.desc(), PublishedAnswer.id.desc())


def shown(answer_id: int) -> PublishedAnswer | None:
    """One answer as the public sees it: None when withdrawn or unknown."""
    return db.session.scalar(_current().where(PublishedAnswer.id == answer_id))


def every(limit: int = 200) -> list[PublishedAnswer]:
    """For the console: the latest answers published, withdrawn ones included."""
    return db.session.scalars(select(PublishedAnswer).order_by(PublishedAnswer.id.desc()).limit(limit)).all()
