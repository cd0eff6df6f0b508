"""Log-in and log-out: staff by password, farmers by a one-time SMS code."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask import (Blueprint, after_this_request, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, ValidationError

from ruralinfo.accounts import login as logins
from ruralinfo.accounts import otp, phones, roles
from ruralinfo.accounts.forms import LoginForm
from ruralinfo.extensions import limiter
from ruralinfo.timeutil import now_utc, to_local
from ruralinfo.web import home_for, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        result = logins.authenticate(form.phone.data, form.password.data)
        if result.user is not None:
            login_user(result.user)
            return redirect(safe_next(request.args.get("next")) or home_for(result.user))
        if result.error == logins.LOCKED:
            flash(_l("Too many wrong passwords: this account is locked until %(time)s. "
                     "Try again then, or ask an administrator to reset the password.",
                     time=when_text(result.locked_until)), "error")
        elif result.error == logins.INACTIVE:
            flash(_l("This account has been deactivated. Ask the bureau."), "error")
        else:
            flash(_l("Wrong mobile number or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logins.log_out(current_user._get_current_object() if current_user.is_authenticated else None)
    logout_user()
    return redirect(url_for("auth.login"))


# --- farmers: log in with a code sent by SMS ----------------------------------------------------

# session keys (the code itself never is one)
CODE_PHONE, CODE_NEXT, CODE_STATE = "code_login_phone", "code_login_next", "code_login_state"
REQUESTER = "code_requester"  # a random token: the codes this browser asked for are bound to it


def _requester() -> str:
    if not session.get(REQUESTER):
        session[REQUESTER] = secrets.token_urlsafe(24)
    return session[REQUESTER]


class CodeRequestForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[DataRequired()],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the SMS"), validators=[DataRequired()],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 12})

    def validate_code(self, field):
        code = otp.clean_code(field.data)
        if len(code) not in (otp.CODE_DIGITS, otp.IN_PERSON_DIGITS) or not code.isdigit():
            raise ValidationError(_l("The code has %(n)s digits.", n=otp.CODE_DIGITS))


def _code_home(user) -> str:
    return url_for("mailbox.inbox") if user.has_role(roles.FARMER) else home_for(user)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def code_request():
    """Ask for a code. Registered or not, the number gets the same answer."""
    if current_user.is_authenticated:
        return redirect(_code_home(current_user))
    form = CodeRequestForm()
    if form.validate_on_submit():
        try:
            result = otp.request_code(form.phone.data, address=request.remote_addr or "", requester=_requester())
        except phones.PhoneError as err:
            form.phone.errors = [*form.phone.errors, err.message]
        else:
            _send_after_the_answer(result.outbox_ids)
            session[CODE_PHONE] = result.phone
            session[CODE_STATE] = {"status": "delayed" if result.delayed else result.status,
                                   "retry_at": result.retry_at.isoformat() if result.retry_at else None}
            session.pop(CODE_NEXT, None)
            if safe_next(request.args.get("next")):
                session[CODE_NEXT] = safe_next(request.args.get("next"))
            return redirect(url_for(".code_enter"))
    elif request.method == "GET" and session.get(CODE_PHONE):
        form.phone.data = phones.display(session[CODE_PHONE])
    return render_template("auth/code.html", form=form)


def _send_after_the_answer(outbox_ids: list[int]) -> None:
    """Send the code text once the page has answered: the answer then takes as long
    for a registered number as for an unknown one, even when texts go out inline."""
    if not outbox_ids:
        return
    app = current_app._get_current_object()

    @after_this_request
    def later(response):
        def send():
            with app.app_context():
                otp.send(outbox_ids)
        response.call_on_close(send)
        return response


def when_text(moment: datetime | None) -> str:
    """A time to try again, as the farmer reads it: ``14:35``, or ``12-02 08:10`` on another day."""
    if moment is None:
        return ""
    local = to_local(moment)
    same_day = local.date() == to_local(now_utc()).date()
    return format_datetime(local, "HH:mm" if same_day else "MM-dd HH:mm")


@bp.route("/login/code/enter", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def code_enter():
    if current_user.is_authenticated:
        return redirect(_code_home(current_user))
    phone = session.get(CODE_PHONE)
    if not phone:
        return redirect(url_for(".code_request"))
    form = CodeForm()
    if form.validate_on_submit():
        result = otp.verify_code(phone, form.code.data, requester=session.get(REQUESTER, ""))
        if result.user is not None:
            target = session.pop(CODE_NEXT, None)
            for key in (CODE_PHONE, CODE_STATE):
                session.pop(key, None)
            login_user(result.user)
            return redirect(target or _code_home(result.user))
        if result.error == otp.EXPIRED:
            flash(_l("This code can no longer be used: it is older than %(n)s minutes, was used already, or "
                     "was typed wrong too many times. Ask for a new code.", n=otp.CODE_MINUTES), "error")
        else:
            form.code.errors = [*form.code.errors, _l("Wrong code. Check the SMS and try again.")]
    form.code.data = ""  # a typed code is never sent back in a page
    state = session.get(CODE_STATE) or {"status": otp.SENT}
    retry_at = datetime.fromisoformat(state["retry_at"]) if state.get("retry_at") else None
    return render_template("auth/code_enter.html", form=form, phone=phone, minutes=otp.CODE_MINUTES,
                           status=state["status"], retry_at=when_text(retry_at))


@bp.errorhandler(429)
def too_many(_err):
    """The per-address limits: on the code pages, say what to do."""
    if request.endpoint in ("auth.code_request", "auth.code_enter"):
        flash(_l("Too many log-in attempts from this connection. Wait an hour and try again, "
                 "or ask your village liaison point for help."), "error")
        return render_template("auth/code.html", form=CodeRequestForm(), limited=True), 429
    return render_template("error.html", code=429,
                           message=_l("Too many attempts. Wait a minute and try again.")), 429
