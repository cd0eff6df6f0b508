"""The call simulator: call the 12316 hotline as a farmer from the browser, through the
real signed voice webhooks — hear (and read) what it says, press keys, speak by typing,
"record" a question by typing it or from the microphone. Liaisons train farmers with it.

The phone simulator's rules (``ruralinfo.dev.phone``), whose helpers it uses: it
exists only with ``DEBUG`` or ``DEV_SIMULATORS`` and the ``outbox`` backend; staff may
call as any farmer, a liaison as their own point's farmers (or from a number with no
account); acting as a caller is written to the audit log and refused to a liaison of a
suspended point. The page's script talks to the relay (``hotline.dev_relay``) through
the JSON endpoints here; every POST carries the CSRF token.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from hotline import dev_recording, dev_relay
from hotline.models import Call, Question
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.dev import phone as phone_simulator
from ruralinfo.dev.phone import _phone_or_404, _record, _scope
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.sms.models import OTP, OutboundMessage
from ruralinfo.web import guard_area

bp = Blueprint("dev_call", __name__)
guard_area(bp, roles.STAFF_ROLES)
bp.context_processor(phone_simulator._layout)
DRIVING = "dev_call_driving"  # session key: the phone this browser calls from
SMS_SEEN = "dev_call_sms"  # session key: the last text to that phone already shown
SMS_SHOWN = 5  # texts shown after one action at most
KEYS = frozenset("0123456789*#")
MAX_WORDS = 200  # characters said at once
UNKNOWN = "+8613912345678"  # a number with no account, offered on the list
# The page may ask for the microphone (the site's policy forbids it everywhere else).
PERMISSIONS = "camera=(), microphone=(self), geolocation=()"


@bp.get("/call")
def index():
    number = request.args.get("number", "").strip()
    if number:
        return redirect(url_for(".phone", number=_phone_or_404(number)))
    search = request.args.get("q", "")
    farmers = db.session.scalars(accounts.farmers(_scope(), search=search, include_inactive=False).limit(50)).all()
    return render_template("dev/call_index.html", farmers=farmers, search=search, unknown=UNKNOWN)


@bp.get("/call/<path:number>")
def phone(number: str):
    phone = _phone_or_404(number)
    page = render_template("dev/call.html", phone=phone, owner=accounts.find_by_phone(phone),
                           hotline=dev_relay.hotline_number(), max_bytes=dev_recording.MAX_BYTES)
    return page, 200, {"Permissions-Policy": PERMISSIONS}


@bp.post("/call/<path:number>/start")
def start(number: str):
    phone = _acting_as(number)
    session[SMS_SEEN] = {phone: db.session.scalar(select(func.max(OutboundMessage.id))) or 0}
    turn = dev_relay.start(phone)
    call_id = db.session.scalar(select(Call.id).where(Call.call_sid == turn.sid))
    _record("dev.call.start", phone, {"call": call_id})
    return _answer(phone, turn)


@bp.post("/call/<path:number>/press")
def press(number: str):
    phone = _acting_as(number)
    key = request.form.get("key", "").strip()
    if len(key) != 1 or key not in KEYS:
        return jsonify(error=_("Press one key of the keypad.")), 400
    return _answer(phone, dev_relay.press(_sid(), phone, key))


@bp.post("/call/<path:number>/say")
def say(number: str):
    phone = _acting_as(number)
    words = " ".join(request.form.get("words", "").split())[:MAX_WORDS]
    if not words:
        return jsonify(error=_("Type what the caller says.")), 400
    return _answer(phone, dev_relay.say(_sid(), phone, words))


@bp.post("/call/<path:number>/silence")
def silence(number: str):
    phone = _acting_as(number)
    return _answer(phone, dev_relay.silence(_sid(), phone))


@bp.post("/call/<path:number>/record")
def record(number: str):
    """Finish the recording: keep the sound (or the typed words) as a Recording, then
    tell the hotline as Twilio would. Neither sound nor words: nothing was recorded."""
    phone = _acting_as(number)
    sid = _sid()
    waiting = dev_relay.current_recording(sid, phone)
    recording = dev_recording.take(call_sid=sid, text=request.form.get("text", ""), upload=request.files.get("audio"),
                                   measured=request.form.get("seconds"), max_seconds=waiting.get("max_length", 120))
    if recording is None:
        return _answer(phone, dev_relay.silence(sid, phone))
    _record("dev.call.record", phone, {"call": recording.call_id, "recording": recording.id})
    heard = recording.transcript or _("(spoke into the microphone)")
    turn = dev_relay.recorded(sid, phone, recording.sid, recording.seconds, heard)
    _filed(turn, recording.id)
    return _answer(phone, turn)


@bp.post("/call/<path:number>/dial")
def dial(number: str):
    phone = _acting_as(number)
    return _answer(phone, dev_relay.dialled(_sid(), phone, request.form.get("outcome", "")))


@bp.post("/call/<path:number>/hangup")
def hang_up(number: str):
    phone = _acting_as(number)
    return _answer(phone, dev_relay.hang_up(_sid(), phone))


@bp.errorhandler(dev_relay.RelayError)
def _refused(error: dev_relay.RelayError):
    return jsonify(error=str(error)), 409


@bp.errorhandler(dev_recording.RecordingRefused)
def _not_taken(error: dev_recording.RecordingRefused):
    return jsonify(error=str(error)), 400


@bp.errorhandler(rules.PointSuspended)
def _suspended(error: rules.PointSuspended):
    return jsonify(error=str(error)), 403


# --- helpers ---------------------------------------------------------------------------------

def _acting_as(number: str) -> str:
    """The phone the current user may call from; taking it is audited once (and refused
    to a suspended point's liaison)."""
    phone = _phone_or_404(number)
    rules.check_may_write(current_user)
    if session.get(DRIVING) != phone:
        session[DRIVING] = phone
        _record("dev.call.drive", phone)
    return phone


def _sid() -> str:
    return request.form.get("sid", "").strip()[:64]


def _filed(turn: dev_relay.Turn, recording_id: int) -> None:
    """Say what became of the recording: the question's number (as the SMS will)."""
    question_id = db.session.scalar(select(Question.id).where(Question.recording_id == recording_id))
    if question_id is not None:
        turn.add("system", "question", _("Question no. %(n)s reached the experts.", n=question_id),
                 question=question_id)


def _answer(phone: str, turn: dev_relay.Turn):
    """The turn as JSON, with the texts the hotline sent this phone meanwhile."""
    seen = (session.get(SMS_SEEN) or {}).get(phone, 0)
    texts = db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == phone, OutboundMessage.id > seen,
                                                             OutboundMessage.kind != OTP)
                               .order_by(OutboundMessage.id.desc()).limit(SMS_SHOWN)).all()
    for text in reversed(texts):
        turn.add("system", "sms", text.body)
    if texts:
        session[SMS_SEEN] = {phone: texts[0].id}
    return jsonify(turn.as_json())


def init_app(app) -> None:
    """Only where the phone simulator is (``ruralinfo.dev.phone.init_app``): with ``DEBUG``
    or ``DEV_SIMULATORS``, and the ``outbox`` backend — a simulated call must never make
    the platform text or ring real phones."""
    if (app.debug or app.config.get("DEV_SIMULATORS")) and app.config["SMS_BACKEND"] == "outbox":
        app.register_blueprint(bp, url_prefix="/dev")
