"""Staff log-in and log-out (farmers log in with an SMS code, see the mailbox)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from ruralinfo.accounts import services
from ruralinfo.accounts.forms import LoginForm
from ruralinfo.extensions import limiter
from ruralinfo.timeutil import to_local
from ruralinfo.web import home_for

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        result = services.authenticate(form.phone.data, form.password.data)
        if result.user is not None:
            login_user(result.user)
            return redirect(_safe_next() or home_for(result.user))
        if result.error == "locked":
            flash(_l("Too many wrong passwords: this account is locked until %(time)s. "
                     "Try again then, or ask an administrator to reset the password.",
                     time=format_datetime(to_local(result.locked_until), "HH:mm")), "error")
        elif result.error == "inactive":
            flash(_l("This account has been deactivated. Ask the bureau."), "error")
        else:
            flash(_l("Wrong mobile number or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next() -> str | None:
    target = request.args.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return None
