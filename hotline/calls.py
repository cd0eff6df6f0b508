"""Calls to the hotline, whatever platform carries them: a call starts, takes steps,
rings experts, records questions and spoken replies, and ends — each rule here, the
response rendered by the voice driver the caller came through (``hotline.drivers``).

Every step is idempotent per (call, step number): each response names the number of
the step that follows it (in the driver's URLs), and the response given to step n is
kept (``CallStep``). A request for a step already answered gets the kept response and
changes nothing; two copies of one step at once both try to insert its row, one wins,
the other rolls back everything it did and answers with the winner's response.

A recording is believed only when the step it names really asked for it (read back
from the kept response by the driver), and filed once (``Recording.sid`` is unique; a
recording the call simulator kept for this call before calling back is the one filed).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask_babel import force_locale
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from hotline import menu, services, speech, topics, voice_content, voice_flow
from hotline.drivers import Driver, Turn
from hotline.models import CONNECTED, QUESTION_LEFT, VOICE, Call, CallStep, Question, Recording
from mailbox import services as mailbox
from mailbox.models import Letter
from ruralinfo.accounts import phones
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import REPLY
from ruralinfo.timeutil import now_utc

log = logging.getLogger(__name__)

FINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})  # a call's status never leaves these
Said = voice_flow.Said


def start(driver: Driver, *, call_sid: str, from_phone: str, to_phone: str = "") -> str:
    """Step 0: the greeting (by name, in the caller's language, for a registered caller;
    in Chinese for anyone else) and the main menu."""
    sid = _clean(call_sid, 64)
    if not sid:
        return driver.nothing()
    call = _find(sid) or _new_call(sid, from_phone, to_phone) or _find(sid)
    if call is None:
        return driver.nothing()
    return _answer(driver, call, 0, voice_flow.greet)


def step(driver: Driver, *, call_sid: str, n: int | None, at: str, said: Said, from_phone: str = "",
         to_phone: str = "") -> str:
    """Step ``n``: what the caller pressed or said (or silence) where they were (``at``)."""
    call = _find(_clean(call_sid, 64))
    if call is None:  # its first request never reached us: start it now
        log.warning("voice step for unknown call %s: started anew", _clean(call_sid, 64))
        return start(driver, call_sid=call_sid, from_phone=from_phone, to_phone=to_phone)
    return _answer(driver, call, _number(n, call), lambda found: voice_flow.next_turn(found, at, said))


def recorded(driver: Driver, *, call_sid: str, n: int | None, at: str, recording_sid: str, seconds: int) -> str:
    """Step ``n`` after a recording: the caller finished (``recording_sid`` empty: nothing was recorded)."""
    call = _find(_clean(call_sid, 64))
    if call is None:
        log.warning("recording action for unknown call %s: nothing done", _clean(call_sid, 64))
        return driver.nothing()
    heard = bool(recording_sid) and seconds >= 1
    return _answer(driver, call, _number(n, call), lambda found: voice_flow.after_recording(found, at, heard))


def dialled(driver: Driver, *, call_sid: str, n: int | None, at: str, dial_status: str, bridged: str = "") -> str:
    """Step ``n`` after the experts were rung: a finished conversation says goodbye; busy,
    no answer or a failure offers to leave a question for the topic instead."""
    call = _find(_clean(call_sid, 64))
    if call is None:
        log.warning("dial action for unknown call %s: nothing done", _clean(call_sid, 64))
        return driver.nothing()
    status = (dial_status or "").strip().lower()
    joined = (bridged or "").strip().lower()
    return _answer(driver, call, _number(n, call), lambda found: voice_flow.after_dial(found, at, status, joined))


def screen(driver: Driver, *, call_sid: str, topic: str, expert_phone: str) -> str:
    """An expert picked up: who calls about what, in the expert's language, and 1 to take it."""
    expert = _expert(expert_phone)
    language = services.language_of(expert)
    with force_locale(language):
        label = topics.label(topic if topic in topics.TOPICS else topics.GENERAL)
    return driver.screen(call=_clean(call_sid, 64), topic_label=label, language=language)


def take(driver: Driver, *, call_sid: str, expert_phone: str, digits: str) -> str:
    """The expert's key: 1 takes the call (the first to press it is the one joined; the log
    names them); anything else ends their leg."""
    call = _find(_clean(call_sid, 64))
    if call is None or voice_flow.key_of(digits) != "1":
        return driver.joined(False)
    expert = _expert(expert_phone)
    if expert is None:  # a number rung that is no account's (the roster changed): joined, unnamed
        return driver.joined(True)
    taken = db.session.execute(  # the first expert to press 1; another pressing at once is not joined
        update(Call).where(Call.id == call.id, or_(Call.expert_id.is_(None), Call.expert_id == expert.id))
        .values(expert_id=expert.id).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return driver.joined(bool(taken))


def _expert(phone: str) -> User | None:
    number = _phone(phone)
    return db.session.scalar(select(User).where(User.phone == number)) if number else None


def status(*, call_sid: str, call_status: str, duration: str | int | None = None) -> bool:
    """The platform's word on a call: its status, and at the end the end time and the
    duration. A final status is never left; an unknown call changes nothing (False)."""
    call = _find(_clean(call_sid, 64))
    state = _clean(call_status, 16).lower()
    if call is None or not state or call.status in FINAL:
        db.session.rollback()
        return False
    call.status = state
    if state in FINAL:
        call.ended_at = call.ended_at or now_utc()
        seconds = _seconds(duration)
        if seconds is not None:
            call.duration = seconds
    db.session.commit()
    return True


def recording_ready(driver: Driver, *, call_sid: str, n: int | None, rec: str, recording_sid: str, url: str,
                    seconds: int, status: str = "completed") -> str:
    """A recording is ready: file it once — a question for its topic (the caller gets
    its number by SMS), or a spoken reply to a letter. Returns what became of it."""
    sid, recording_sid = _clean(call_sid, 64), _clean(recording_sid, 64)
    call = _find(sid)
    refusal = _refuse_recording(driver, call, n, rec, recording_sid, seconds, status)
    if refusal:
        db.session.rollback()
        log.warning("recording %s of call %s: %s; nothing filed", recording_sid or "-", sid or "-", refusal)
        return refusal
    recording = _kept_unfiled(call, recording_sid) or Recording(sid=recording_sid, url=_clean(url, 300),
                                                                  seconds=seconds, call_id=call.id)
    db.session.add(recording)
    try:
        db.session.flush()
        what = _file(call, rec, recording)
    except IntegrityError:
        db.session.rollback()
        return "repeated"
    except (services.QuestionRefused, mailbox.LetterNotFound, mailbox.MailboxError) as refused:
        db.session.rollback()
        log.warning("recording %s of call %s not filed: %r", recording_sid, sid, refused)
        return "refused"
    db.session.commit()
    sms.dispatch_pending()
    log.info("recording %s of call %s filed: %s", recording_sid, sid, what)
    return what


def _refuse_recording(driver: Driver, call: Call | None, n: int | None, rec: str, recording_sid: str,
                      seconds: int, status: str) -> str:
    """Why a recording callback files nothing ("" when it may be filed)."""
    if call is None:
        return "unknown call"
    if (status or "completed") != "completed":
        return f"recording status {status}"
    if not recording_sid:
        return "no RecordingSid"
    if db.session.scalar(select(Recording.id).where(Recording.sid == recording_sid)) is not None \
            and _kept_unfiled(call, recording_sid) is None:
        return "repeated"
    asked = _stored(call.id, n - 1) if n else None
    if not rec or asked is None or rec not in driver.recordings_asked(asked):
        return "the call never reached a question node (no recording was asked for)"
    if seconds < 1:
        return "0-second recording"
    return ""


def _kept_unfiled(call: Call, recording_sid: str) -> Recording | None:
    """A recording kept here before its callback came (the call simulator saves the sound,
    then calls back as Twilio would): of this call, with its file, and filed nowhere yet."""
    recording = db.session.scalar(select(Recording).where(Recording.sid == recording_sid))
    if recording is None or recording.call_id != call.id or not recording.file:
        return None
    filed = db.session.scalar(select(Question.id).where(Question.recording_id == recording.id)) or \
        db.session.scalar(select(Letter.id).where(Letter.recording_id == recording.id))
    return None if filed else recording


def _file(call: Call, rec: str, recording: Recording) -> str:
    """The question or the spoken reply the recording is (``rec``: ``q.<topic>`` / ``r.<letter id>``)."""
    kind, _dot, what = rec.partition(".")
    if kind == voice_flow.REPLY:
        if call.user is None or not what.isdigit():
            raise mailbox.LetterNotFound(what)
        with force_locale(call.language):
            body = voice_content.spoken_reply_body(recording.seconds)
        letter = mailbox.reply(int(what), sender=call.user, body=body, channel="hotline", commit=False)
        letter.recording_id = recording.id
        return f"spoken reply, letter {letter.id}"
    question = services.ask(topic=what, channel=VOICE, user=call.user, phone=call.from_phone, language=call.language,
                            recording=recording, call_id=call.id, commit=False)
    sms.queue_sms(call.from_phone, services.acknowledgement(question), kind=REPLY,
                  cause=f"question:{question.id}", user=call.user)
    call.topic = question.topic
    if call.outcome != CONNECTED:
        call.outcome = QUESTION_LEFT
    return f"question {question.id}"


# --- steps, once each ------------------------------------------------------------------------

def _answer(driver: Driver, call: Call, n: int, compute: Callable[[Call], Turn]) -> str:
    """The response to step ``n`` of ``call``: the kept one, or computed, rendered and
    kept with every change it made, in one transaction."""
    call_id = call.id
    kept = _stored(call_id, n)
    if kept is not None:
        db.session.rollback()
        return kept
    row = CallStep(call_id=call_id, number=n, response="")
    db.session.add(row)
    try:
        db.session.flush()  # claims the step: a copy of this request running now waits here, then fails
    except IntegrityError:
        db.session.rollback()
        return _stored(call_id, n) or driver.nothing()
    with force_locale(call.language):
        turn = compute(call)
    turn.language, turn.step, turn.call = call.language, n + 1, call.call_sid
    turn.say = [speech.for_voice_item(item, call.language) for item in turn.say]
    row.response = driver.render(turn)
    call.steps = max(call.steps or 0, n)
    db.session.commit()
    return row.response


def _stored(call_id: int, n: int) -> str | None:
    return db.session.scalar(select(CallStep.response).where(CallStep.call_id == call_id, CallStep.number == n))


def _find(sid: str) -> Call | None:
    return db.session.scalar(select(Call).where(Call.call_sid == sid)) if sid else None


def _new_call(sid: str, from_phone: str, to_phone: str) -> Call | None:
    """The call, with its caller when registered (None: another request made it just now)."""
    phone = _phone(from_phone)
    user = db.session.scalar(select(User).where(User.phone == phone, User.active.is_(True))) if phone else None
    tree = menu.published()
    call = Call(call_sid=sid, from_phone=phone, to_phone=_clean(to_phone, 32), user=user,
                language=services.language_of(user), version_id=tree.version_id, node_id=tree.root_id)
    db.session.add(call)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    return call


def _phone(raw: str) -> str:
    try:
        return phones.normalize(raw, mobile=False)
    except phones.PhoneError:
        return _clean(raw, 32)


def _number(n: int | None, call: Call) -> int:
    """The step's number from the request; the next one when it did not say."""
    return n if n is not None and n > 0 else (call.steps or 0) + 1


def _seconds(value) -> int | None:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _clean(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit].replace("\x00", "")
