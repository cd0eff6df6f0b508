"""The bureau's view of how the liaison points answer their letters: the reply
rate (答复率) and the median time to answer of every point, the figure the
counties publish. Mounted under ``/bureau/letters`` (the core never imports the
mailbox)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mailbox import bureau_texts, letter_sms, point_letters, services
from ruralinfo.accounts import roles
from ruralinfo.timeutil import now_utc
from ruralinfo.audit.services import WEB
from ruralinfo.web import flash_errors, guard_area, int_arg

bp = Blueprint("bureau_letters", __name__)
guard_area(bp, (roles.STAFF, roles.APPROVER, roles.ADMIN))
PERIODS = (7, 30, 90, 365)


@bp.get("/")
def rates():
    """Every point, the worst reply rate first (points that received nothing last)."""
    days = request.args.get("days", 30, type=int)
    days = days if days in PERIODS else 30
    rows = point_letters.by_point(now_utc() - timedelta(days=days))
    total = [rate for _point, rate in rows if rate is not None]
    received = sum(rate.received for rate in total)
    in_time = sum(rate.answered_in_time for rate in total)
    return render_template("bureau/letters.html", rows=rows, days=days, periods=PERIODS,
                           sla_days=current_app.config["LETTER_SLA_DAYS"], received=received, in_time=in_time,
                           pending=sum(rate.pending for rate in total))


@bp.app_context_processor
def _bureau_texts():
    """For the core's /bureau/texts page: what became of a text, and the points to pass it to."""
    return {"bureau_text_letter": bureau_texts.letter_for, "bureau_text_points": bureau_texts.active_points,
            "bureau_waiting_letters": bureau_texts.waiting_letters}


@bp.post("/<int:letter_id>/answer")
def answer_letter(letter_id: int):
    """Answer a farmer's letter to the bureau (a follow-up to an earlier answer)."""
    try:
        answer = bureau_texts.answer_letter(letter_id, clerk=current_user, body=request.form.get("body", ""),
                                            channel=WEB)
    except (bureau_texts.TextError, services.MailboxError) as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("Your answer is sent to %(name)s.", name=answer.recipient.name), "success")
    return redirect(url_for("bureau.texts", _anchor="letters"))


@bp.post("/texts/<int:text_id>/answer")
def answer_text(text_id: int):
    body = (request.form.get("body") or "").strip()
    try:
        letter = bureau_texts.answer(text_id, clerk=current_user, body=body, channel=WEB)
    except (bureau_texts.TextError, services.MailboxError) as err:
        flash_errors(err.errors.values())
    except services.LetterNotFound:
        flash(_l("This text is not waiting for the bureau."), "error")
    else:
        by_sms = letter_sms.reaches_by_sms(letter.recipient, essential=True)
        flash(_l("Your answer is sent to %(name)s, by letter and SMS.", name=letter.recipient.name) if by_sms else
              _l("Your answer is in the mailbox of %(name)s; not by SMS: the account is deactivated.",
                 name=letter.recipient.name), "success")
    return redirect(url_for("bureau.texts", _anchor="unrouted"))


@bp.post("/texts/<int:text_id>/forward")
def forward_text(text_id: int):
    try:
        letter = bureau_texts.forward(text_id, clerk=current_user, point_id=int_arg(request.form, "point_id", 0),
                                      channel=WEB)
    except bureau_texts.TextError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("Passed to %(point)s; the farmer is told.", point=letter.recipient_point.name), "success")
    return redirect(url_for("bureau.texts", _anchor="unrouted"))
