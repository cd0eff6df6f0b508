"""An expert calls a farmer back about a question, through Twilio Voice.

The platform rings the expert first (Twilio's REST API: ``calls.create`` to the expert's
phone); when the expert answers, Twilio asks ``/twilio/voice/callback`` what to do, and
is told to say which question it is and to ``<Dial>`` the farmer with the hotline's
number as caller ID; when that dial ends, ``/twilio/voice/callback/done`` records how
it went (``callback``: they talked; ``missed``: the farmer did not answer). The call is
one ``Call`` row (direction ``callback``) from the start, so that Twilio's requests find
it even before its CallSid is known; the status callback (``/twilio/voice/status``)
keeps its status and duration.

Without Twilio credentials (the ``outbox`` backend of a laptop) nothing can ring: the
call-back is refused with a message that says so. A Twilio that is down or slow is a
message too: the client has a time-out (``SMS_SEND_TIMEOUT``), and a request that may
have gone out is never sent twice in a hurry (a call-back under way is refused).
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import requests
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse
from urllib3.exceptions import MaxRetryError, NewConnectionError

from hotline import topics
from hotline.models import CALLBACK, CALLED_BACK, MISSED, Call, Question
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

ANSWER_PATH = "/twilio/voice/callback"
DONE_PATH = "/twilio/voice/callback/done"
STATUS_PATH = "/twilio/voice/status"
PENDING = "pending-"  # the call_sid of a call Twilio has not numbered yet
RING_SECONDS = 30  # how long the farmer's phone rings
DEFAULT_TIMEOUT = 10.0
UNDER_WAY = ("queued", "initiated", "ringing", "in-progress")
UNDER_WAY_FOR = timedelta(minutes=2)  # a call-back this recent and not over blocks another
CONNECTED = ("completed", "answered")  # DialCallStatus of a farmer who picked up
FINAL = ("completed", "busy", "failed", "no-answer", "canceled")  # a call's status never leaves these


class CallbackRefused(ValueError):
    """The call-back cannot be made; ``str()`` says why, in the expert's language."""


def available() -> bool:
    """Whether calls can be made: Twilio's credentials are set."""
    config = current_app.config
    return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN"))


def caller_id() -> str:
    """The number the expert and the farmer see: the hotline's when it is a full number
    (+…: Twilio calls only from a number of the account), else Twilio's sender."""
    hotline, sender = current_app.config.get("HOTLINE_NUMBER") or "", current_app.config.get("TWILIO_FROM") or ""
    return hotline if hotline.startswith("+") or not sender.startswith("+") else sender


def _url(path: str, call: Call | None = None) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
    return f"{base}?call={call.id}" if call is not None else base


def _client() -> Client:
    """The REST client, with a time-out; pointed at ``TWILIO_API_BASE`` in tests."""
    config = current_app.config
    timeout = float(config.get("SMS_SEND_TIMEOUT") or DEFAULT_TIMEOUT)
    client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                    http_client=TwilioHttpClient(timeout=timeout))
    if config.get("TWILIO_API_BASE"):
        client.api.base_url = config["TWILIO_API_BASE"].rstrip("/")
    return client


def call_back(question_id: int, expert: User, *, channel: str = audit.WEB) -> Call:
    """Ring ``expert``, then (when they answer) the farmer who asked question ``question_id``."""
    question, phone = _check(question_id, expert)
    call = Call(call_sid=PENDING + uuid.uuid4().hex, direction=CALLBACK, from_phone=caller_id(), to_phone=phone,
                user_id=question.user_id, language=_language(expert), topic=question.topic, status="queued",
                outcome=MISSED, question_id=question.id, expert_id=expert.id)
    db.session.add(call)
    db.session.commit()  # before Twilio is asked: its requests must find the call
    try:
        created = _client().calls.create(to=expert.phone, from_=caller_id(), url=_url(ANSWER_PATH, call),
                                         status_callback=_url(STATUS_PATH))
    except TwilioRestException as err:
        _failed(call)
        raise CallbackRefused(_("Twilio refused the call (%(code)s): %(error)s", code=err.code or err.status,
                                error=err.msg)) from err
    except (requests.exceptions.RequestException, ValueError) as err:
        if _never_sent(err):
            _failed(call)
            raise CallbackRefused(_("Twilio cannot be reached now: nobody was called. Try again in a few "
                                    "minutes.")) from err
        _audit(call, expert, channel, unsure=True)
        raise CallbackRefused(_("Twilio did not answer in time: your phone may still ring. Wait two minutes "
                                "before trying again.")) from err
    call.call_sid, call.status = created.sid, created.status or "queued"
    _audit(call, expert, channel)
    return call


def _check(question_id: int, expert: User) -> tuple[Question, str]:
    """The question and the farmer's number, or ``CallbackRefused`` saying why not."""
    if not available():
        raise CallbackRefused(_("Calling back needs Twilio Voice (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN): "
                                "with the outbox backend no phone can ring. Answer in writing instead."))
    if not (expert.active and expert.has_role(roles.EXPERT)):
        raise CallbackRefused(_("Only experts can call farmers back."))
    # the question's row locked (a guarded no-op UPDATE) until this call is recorded: a
    # second press at the same moment waits, then finds this call under way
    db.session.execute(update(Question).where(Question.id == question_id).values(topic=Question.topic)
                       .execution_options(synchronize_session=False))
    question = db.session.get(Question, question_id)
    if question is None:
        raise CallbackRefused(_("There is no question no. %(n)s.", n=question_id))
    if expert.id not in (question.claimed_by_id, question.answered_by_id):
        raise CallbackRefused(_("Take question no. %(n)s before calling the farmer back.", n=question.id))
    phone = question.phone or (question.user.phone if question.user is not None else "")
    if not phone:
        raise CallbackRefused(_("Question no. %(n)s has no phone number to call back.", n=question.id))
    if _under_way(question.id):
        raise CallbackRefused(_("A call-back about question no. %(n)s is already under way.", n=question.id))
    return question, phone


def _under_way(question_id: int) -> bool:
    since = now_utc() - UNDER_WAY_FOR
    return db.session.scalar(select(Call.id).where(
        Call.question_id == question_id, Call.direction == CALLBACK, Call.status.in_(UNDER_WAY),
        Call.started_at >= since).limit(1)) is not None


def _never_sent(err: Exception) -> bool:
    """Whether the request cannot have reached Twilio (no call can have been made)."""
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return True
    if type(err) is requests.exceptions.ConnectionError and err.args:
        cause = err.args[0]
        return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)
    return False


def _failed(call: Call) -> None:
    call.status, call.ended_at = "failed", now_utc()
    db.session.commit()


def _audit(call: Call, expert: User, channel: str, unsure: bool = False) -> None:
    details = {"question": call.question_id, **({"unsure": True} if unsure else {})}
    audit.record("call.callback", call, actor=expert, channel=channel, details=details)
    db.session.commit()


def _language(user: User | None) -> str:
    return user.language if user is not None and user.language in ("zh", "en") else "zh"


# --- what Twilio is told ---------------------------------------------------------------

def _say(response: VoiceResponse, text: str, language: str) -> None:
    if language == "en":
        response.say(text, voice="Polly.Joanna", language="en-US")
    else:
        response.say(text, voice=current_app.config.get("HOTLINE_VOICE", "Polly.Zhiyu"), language="cmn-CN")


def _find(call_id: int | None) -> Call | None:
    call = db.session.get(Call, call_id) if call_id else None
    return call if call is not None and call.direction == CALLBACK else None


def answered(call_id: int | None, call_sid: str) -> str:
    """TwiML for the expert who picked up: which question, then the farmer's phone rings."""
    call = _find(call_id)
    if call is None or (call_sid and not call.call_sid.startswith(PENDING) and call.call_sid != call_sid):
        return _unknown()
    if call.call_sid.startswith(PENDING) and call_sid:
        call.call_sid = call_sid  # Twilio's answer to create was lost: its request names the call
    if call.status not in FINAL:  # a status callback that came first is not undone
        call.status = "in-progress"
    question = db.session.get(Question, call.question_id) if call.question_id else None
    farmer = question.user if question is not None else None
    with force_locale(call.language):
        name = farmer.name if farmer is not None else _("the farmer who called")
        text = _("12316 call-back about question no. %(n)s, %(topic)s. Calling %(name)s now, please hold.",
                 n=call.question_id, topic=topics.label(call.topic), name=name)
    db.session.commit()
    response = VoiceResponse()
    _say(response, text, call.language)
    dial = response.dial(caller_id=caller_id(), action=_url(DONE_PATH, call), timeout=RING_SECONDS)
    dial.number(call.to_phone)
    return str(response)


def done(call_id: int | None, dial_status: str) -> str:
    """The farmer's phone stopped ringing or the talk ended: record how, say goodbye."""
    call = _find(call_id)
    if call is None:
        return _unknown()
    connected = dial_status in CONNECTED
    if call.outcome != CALLED_BACK:  # a repeated request never undoes a talk
        call.outcome = CALLED_BACK if connected else MISSED
    db.session.commit()
    with force_locale(call.language):
        text = (_("The call has ended. Thank you.") if connected else
                _("The farmer did not answer. You can try again later from the console."))
    response = VoiceResponse()
    _say(response, text, call.language)
    response.hangup()
    return str(response)


def _unknown() -> str:
    response = VoiceResponse()
    with force_locale("zh"):
        text = _("Sorry, this call-back is not known. Goodbye.")
    _say(response, text, "zh")
    response.hangup()
    return str(response)
