"""Twilio's webhooks: inbound SMS and status callbacks.

Every request's ``X-Twilio-Signature`` is checked against PUBLIC_BASE_URL +
path (never the Host header, so it holds behind a reverse proxy); a mismatch
is a 403 that changes nothing. The inbound text is stored before anything
else; a repeated MessageSid gets the stored reply and has no second effect —
unless the first delivery's process died before handling it: then the repeat
handles it, once (see ``ruralinfo.sms.inbound``).
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from ruralinfo.extensions import csrf, limiter
from ruralinfo.sms import commands, inbound, services

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__)
csrf.exempt(bp)
limiter.exempt(bp)


def webhook_token() -> str:
    """Twilio's auth token; with the outbox backend and no token, a secret derived
    from SECRET_KEY, so that the phone simulator signs its requests just as Twilio does."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if token:
        return token
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"ruralinfo sms webhook", hashlib.sha256).hexdigest()


def public_url() -> str:
    """The URL Twilio called, as configured (never as the proxy rewrote it)."""
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def sign(url: str, params: dict) -> str:
    """The signature Twilio would send for ``params`` posted to ``url``."""
    return RequestValidator(webhook_token()).compute_signature(url, params)


def _verify() -> None:
    signature = request.headers.get("X-Twilio-Signature", "")
    valid = bool(signature) and RequestValidator(webhook_token()).validate(
        public_url(), request.form.to_dict(flat=True), signature)
    if not valid:
        log.warning("rejected webhook with a bad or missing signature: %s", request.path)
        abort(403)


def twiml(reply: str | None) -> Response:
    response = MessagingResponse()
    for part in commands.parts(reply):  # one <Message> a text: an answer may take two
        response.message(services.signature() + part)
    return Response(str(response), mimetype="application/xml")


@bp.post("/twilio/sms")
def sms_inbound():
    _verify()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    if not sid:
        return twiml(None)
    reply = inbound.receive(provider_id=sid, from_phone=request.form.get("From", ""),
                            to=request.form.get("To", ""), body=request.form.get("Body", ""), gateway="twilio")
    return twiml(reply)


@bp.post("/twilio/sms/status")
def sms_status():
    _verify()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    if sid:
        services.apply_status(sid, request.form.get("MessageStatus") or request.form.get("SmsStatus") or "",
                              request.form.get("ErrorCode") or "")
    return Response(status=204)
