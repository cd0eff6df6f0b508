"""Questions to the experts, whichever way they came (a recorded call, an ``ASK`` text,
the farmers' web page), and their answers.

Every rule is here, so that the voice driver, the SMS command, the web form and the
expert console behave alike: one question with its topic, farmer and channel,
acknowledged with its number; claimed by one expert at a time (a guarded UPDATE, so
two experts at once cannot both hold it); answered by the expert holding it, the farmer
getting the answer by SMS and in the mailbox, then one text asking whether it helped.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from hotline import topics
from hotline.models import ANSWERED, CLAIMED, SATISFIED, UNSATISFIED, WAITING, Question, Recording
from mailbox import services as mailbox
from mailbox.models import ANSWER
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.sms import segments
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import REPLY
from ruralinfo.timeutil import now_utc

MAX_QUESTION = 1000  # characters of a written question
MAX_ANSWER = 900  # characters: with its heading, the answer is one letter (mailbox.MAX_LETTER)
CLAIM_MINUTES = 30  # a claim nobody acted on for this long may be taken by another expert
RATING_DAYS = 7  # a "1"/"2" this long after the answer still rates it


class QuestionRefused(ValueError):
    """The question or the step cannot be taken; ``str()`` says why, in the user's language."""


class HeldByAnother(QuestionRefused):
    """Another expert holds the question."""


def _finish(commit: bool) -> None:
    if commit:
        db.session.commit()
        sms.dispatch_pending()


def language_of(user: User | None, fallback: str = "zh") -> str:
    return (user.language if user is not None and user.language in ("zh", "en") else fallback) or "zh"


def ask(*, topic: str, channel: str, text: str = "", user: User | None = None, phone: str = "",
        language: str | None = None, recording: Recording | None = None, call_id: int | None = None,
        inbound_id: int | None = None, commit: bool = True) -> Question:
    """A new question. A written one needs words; a recorded one needs a recording of at
    least a second. An unknown topic becomes the general one."""
    words = " ".join((text or "").split())
    if recording is None and not words:
        raise QuestionRefused(_("Please write your question."))
    if recording is not None and recording.seconds < 1 and not recording.transcript.strip():
        raise QuestionRefused(_("We did not hear a question."))
    if len(words) > MAX_QUESTION:
        raise QuestionRefused(_("A question can have at most %(n)s characters.", n=MAX_QUESTION))
    question = Question(topic=topic if topic in topics.TOPICS else topics.GENERAL, channel=channel,
                        user_id=getattr(user, "id", None), phone=phone or getattr(user, "phone", ""),
                        language=language or language_of(user), text=words or (recording.transcript if recording else ""),
                        recording_id=getattr(recording, "id", None), call_id=call_id, inbound_id=inbound_id)
    db.session.add(question)
    db.session.flush()
    audit.record("question.ask", question, actor=user, channel=channel, details={"topic": question.topic})
    _finish(commit)
    return question


def acknowledgement(question: Question, language: str | None = None) -> str:
    """What the farmer is told: the question's number and when to expect the answer (in
    ``language``, the page's on the web; else the question's)."""
    with force_locale(language or question.language):
        return _("Your question no. %(n)s has reached the experts (%(topic)s). The answer will come by SMS.",
                 n=question.id, topic=topics.label(question.topic))


def claim(question_id: int, expert: User, *, commit: bool = True) -> Question:
    """``expert`` takes the question to answer it: one expert at a time. A claim left
    for ``CLAIM_MINUTES`` may be taken over."""
    now = now_utc()
    stale = now - timedelta(minutes=CLAIM_MINUTES)
    taken = db.session.execute(
        update(Question).where(Question.id == question_id, or_(
            Question.status == WAITING,
            (Question.status == CLAIMED) & or_(Question.claimed_by_id == expert.id, Question.claimed_at < stale)))
        .values(status=CLAIMED, claimed_by_id=expert.id, claimed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    question = _get(question_id)
    db.session.refresh(question)
    if not taken:
        db.session.rollback()
        _refuse_held(question, expert)
    audit.record("question.claim", question, actor=expert)
    _finish(commit)
    return question


def release(question_id: int, expert: User, *, commit: bool = True) -> None:
    """Give back a question one holds, unanswered, to the queue."""
    done = db.session.execute(
        update(Question).where(Question.id == question_id, Question.status == CLAIMED,
                               Question.claimed_by_id == expert.id)
        .values(status=WAITING, claimed_by_id=None, claimed_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if done:
        audit.record("question.release", ("hotline_questions", question_id), actor=expert)
    _finish(commit)


def transfer(question_id: int, expert: User, topic: str, *, commit: bool = True) -> Question:
    """Move a question not yet answered to another topic's queue (released, for that topic's experts)."""
    if topic not in topics.TOPICS:
        raise QuestionRefused(_("Choose a topic from the list."))
    question = _get(question_id)
    before = question.topic
    moved = db.session.execute(
        update(Question).where(Question.id == question_id, or_(
            Question.status == WAITING, (Question.status == CLAIMED) & (Question.claimed_by_id == expert.id)))
        .values(topic=topic, status=WAITING, claimed_by_id=None, claimed_at=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(question)
    if not moved:
        db.session.rollback()
        _refuse_held(question, expert)
    audit.record("question.transfer", question, actor=expert, before={"topic": before}, after={"topic": topic})
    _finish(commit)
    return question


def answer(question_id: int, expert: User, text: str, *, commit: bool = True) -> Question:
    """The expert holding the question answers it: the farmer gets the answer by SMS and
    in the mailbox, then one text asking whether it helped."""
    words = (text or "").strip()
    if not words:
        raise QuestionRefused(_("Please write the answer."))
    if len(words) > MAX_ANSWER:
        raise QuestionRefused(_("An answer can have at most %(n)s characters.", n=MAX_ANSWER))
    now = now_utc()
    done = db.session.execute(
        update(Question).where(Question.id == question_id, Question.status == CLAIMED,
                               Question.claimed_by_id == expert.id)
        .values(status=ANSWERED, answer=words, answered_by_id=expert.id, answered_at=now, rating_asked_at=now)
        .execution_options(synchronize_session=False)).rowcount
    question = _get(question_id)
    db.session.refresh(question)
    if not done:
        db.session.rollback()
        if question.status == ANSWERED:
            raise QuestionRefused(_("Question no. %(n)s has already been answered.", n=question.id))
        if question.claimed_by_id != expert.id:
            _refuse_held(question, expert)
        raise QuestionRefused(_("Take the question before answering it."))
    _deliver(question, expert)
    audit.record("question.answer", question, actor=expert)
    _finish(commit)
    return question


def _deliver(question: Question, expert: User) -> None:
    """The answer to the farmer: a letter in the mailbox (mirrored by SMS) for a registered
    farmer, an SMS for a caller who is not; then the one text asking whether it helped."""
    with force_locale(question.language):
        body = _("Answer to your question no. %(n)s: %(answer)s", n=question.id, answer=question.answer)
        ask_rating = _("Did the answer to question no. %(n)s help you? Reply 1 satisfied, 2 not satisfied.",
                       n=question.id)
    user = question.user
    if user is not None:
        letter = mailbox.send_letter(sender=expert, body=body, channel="hotline", recipient=user, kind=ANSWER,
                                     commit=False, essential=True)
        question.letter_id = letter.id
    elif question.phone:  # no account, no READ N: the whole answer, in as many texts as it takes
        for part in _texts(body):
            sms.queue_sms(question.phone, part, kind=REPLY, cause=f"question:{question.id}")
    if question.phone:
        sms.queue_sms(question.phone, ask_rating, kind=REPLY, cause=f"rating:{question.id}", user=user)


def _texts(body: str) -> list[str]:
    """``body`` cut into texts of at most ``SMS_MAX_SEGMENTS`` segments each, never inside a word or a number."""
    most, signature, parts = int(current_app.config["SMS_MAX_SEGMENTS"]), sms.signature(), []
    while body:
        cut = segments.fit(body, most, signature) or len(body)
        parts.append(body[:cut].strip())
        body = body[cut:].strip()
    return parts


def awaiting_rating(phone: str) -> Question | None:
    """The latest answered question from ``phone`` still waiting for its rating."""
    since = now_utc() - timedelta(days=RATING_DAYS)
    return db.session.scalar(select(Question).where(
        Question.phone == phone, Question.status == ANSWERED, Question.rating.is_(None),
        Question.rating_asked_at >= since).order_by(Question.rating_asked_at.desc()).limit(1))


def rate(question: Question, rating: int, *, user: User | None = None, channel: str = "sms",
         commit: bool = True) -> str:
    """Record the farmer's rating (once: a second answer changes nothing) and thank them."""
    if rating not in (SATISFIED, UNSATISFIED):
        raise QuestionRefused(_("Reply 1 satisfied, 2 not satisfied."))
    done = db.session.execute(
        update(Question).where(Question.id == question.id, Question.rating.is_(None))
        .values(rating=rating, rated_at=now_utc()).execution_options(synchronize_session=False)).rowcount
    if done:
        audit.record("question.rate", question, actor=user, channel=channel, details={"rating": rating})
    _finish(commit)
    with force_locale(question.language):
        return _("Thank you: your answer about question no. %(n)s is recorded.", n=question.id)


def _get(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        raise QuestionRefused(_("There is no question no. %(n)s.", n=question_id))
    return question


def _refuse_held(question: Question, expert: User) -> None:
    if question.status == ANSWERED:
        raise QuestionRefused(_("Question no. %(n)s has already been answered.", n=question.id))
    if question.status == CLAIMED and question.claimed_by_id != expert.id:
        raise HeldByAnother(_("%(name)s is answering question no. %(n)s.",
                              name=question.claimed_by.name if question.claimed_by else "", n=question.id))
    raise QuestionRefused(_("Question no. %(n)s cannot be changed now.", n=question.id))
