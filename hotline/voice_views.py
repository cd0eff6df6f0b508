"""Twilio's voice webhooks: the incoming call, each step after it, the end of a
recording, the end of ringing the experts, the recording's file and the call's status.

Every request's ``X-Twilio-Signature`` is checked as the SMS webhooks do (against
PUBLIC_BASE_URL + path and query — the step number and where the caller is ride in
the query, so Twilio's signature covers them); a mismatch is a 403 that changes
nothing. The views only read the request: the rules are in ``hotline.calls``, the
TwiML in ``hotline.twiml``.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from hotline import calls, drivers
from hotline import twiml as _twiml  # registers the "twilio" driver
from ruralinfo.extensions import csrf, limiter
from ruralinfo.sms.webhooks import _verify

bp = Blueprint("voice", __name__)
csrf.exempt(bp)
limiter.exempt(bp)
DRIVER = _twiml.TwilioDriver.name


def _driver() -> drivers.Driver:
    return drivers.get(DRIVER)


def _respond(body: str) -> Response:
    return Response(body, mimetype=_driver().mimetype)


def _form(name: str) -> str:
    return request.form.get(name, "")


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or "")
    except ValueError:
        return default


@bp.post("/twilio/voice")
def incoming():
    _verify()
    return _respond(calls.start(_driver(), call_sid=_form("CallSid"), from_phone=_form("From"), to_phone=_form("To")))


@bp.post("/twilio/voice/step")
def step():
    _verify()
    said = calls.Said(digits=_form("Digits"), speech=_form("SpeechResult"))
    return _respond(calls.step(_driver(), call_sid=_form("CallSid"), n=request.args.get("n", type=int),
                               at=request.args.get("at", ""), said=said, from_phone=_form("From"),
                               to_phone=_form("To")))


@bp.post("/twilio/voice/recording")
def recording():
    _verify()
    return _respond(calls.recorded(_driver(), call_sid=_form("CallSid"), n=request.args.get("n", type=int),
                                   at=request.args.get("at", ""), recording_sid=_form("RecordingSid"),
                                   seconds=_int(_form("RecordingDuration"))))


@bp.post("/twilio/voice/dial")
def dial():
    _verify()
    return _respond(calls.dialled(_driver(), call_sid=_form("CallSid"), n=request.args.get("n", type=int),
                                  at=request.args.get("at", ""), dial_status=_form("DialCallStatus"),
                                  bridged=_form("DialBridged")))


@bp.post("/twilio/voice/screen")
def screen():
    """An expert's phone picked up while the hotline rang: before being joined they press 1."""
    _verify()
    return _respond(calls.screen(_driver(), call_sid=request.args.get("call", ""), topic=request.args.get("at", ""),
                                 expert_phone=_form("To")))


@bp.post("/twilio/voice/take")
def take():
    _verify()
    return _respond(calls.take(_driver(), call_sid=request.args.get("call", ""), expert_phone=_form("To"),
                               digits=_form("Digits")))


@bp.post("/twilio/voice/recording-status")
def recording_status():
    _verify()
    calls.recording_ready(_driver(), call_sid=_form("CallSid"), n=request.args.get("n", type=int),
                          rec=request.args.get("rec", ""), recording_sid=_form("RecordingSid"),
                          url=_form("RecordingUrl"), seconds=_int(_form("RecordingDuration")),
                          status=_form("RecordingStatus") or "completed")
    return Response(status=204)


@bp.post("/twilio/voice/status")
def status():
    _verify()
    calls.status(call_sid=_form("CallSid"), call_status=_form("CallStatus"), duration=_form("CallDuration"))
    return Response(status=204)
