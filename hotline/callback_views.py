"""An expert calls a farmer back: the console's button, and Twilio's two webhooks.

``POST /hotline-callback/<question_id>`` (endpoint ``voice_callback.call_back``, experts
only, with the form's CSRF token) rings the expert and goes back to the page the button
was on. ``POST /twilio/voice/callback`` (the expert answered) and
``POST /twilio/voice/callback/done`` (the farmer's leg ended) are Twilio's, signed: a
request whose ``X-Twilio-Signature`` does not match is a 403 that changes nothing.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline import callback
from ruralinfo.accounts import roles
from ruralinfo.extensions import csrf, limiter, login_manager
from ruralinfo.sms.webhooks import _verify
from ruralinfo.web import int_arg, safe_next

bp = Blueprint("voice_callback", __name__)


def _twiml(body: str) -> Response:
    return Response(body, mimetype="application/xml")


@bp.post(callback.ANSWER_PATH)
@csrf.exempt
@limiter.exempt
def answered():
    _verify()
    return _twiml(callback.answered(int_arg(request.args, "call"), request.form.get("CallSid", "")))


@bp.post(callback.DONE_PATH)
@csrf.exempt
@limiter.exempt
def done():
    _verify()
    return _twiml(callback.done(int_arg(request.args, "call"), request.form.get("DialCallStatus", "")))


@bp.post("/hotline-callback/<int:question_id>")
def call_back(question_id: int):
    """The console's button: ring me, then the farmer who asked question ``question_id``."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role(roles.EXPERT):
        abort(403)
    try:
        callback.call_back(question_id, current_user)
    except callback.CallbackRefused as err:
        flash(str(err), "error")
    else:
        flash(_("Your phone rings now: answer it, and the farmer of question no. %(n)s is called.", n=question_id),
              "success")
    return redirect(_back())


def _back() -> str:
    """The page the button was on (this site's only), else the experts' console."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host:
        found = safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
        if found:
            return found
    if "hotline.index" in current_app.view_functions:
        return url_for("hotline.index")
    return url_for("home.index")
