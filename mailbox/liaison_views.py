"""The liaison's side of the mailbox: the letters farmers send to their point
(their free-text SMS land here too), read and answered in their threads.

A blueprint of the mailbox package mounted under ``/liaison/letters``: the core
(``ruralinfo.liaison``) never imports the mailbox, so its nav finds the unread
count through the context processor below, when this blueprint is registered.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from mailbox import letter_sms, point_letters, services
from mailbox.forms import CloseForm, LetterForm
from mailbox.models import NEW, READ, Letter
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.audit.services import WEB
from ruralinfo.extensions import db
from ruralinfo.liaison import services as liaison
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.timeutil import now_utc
from ruralinfo.web import flash_errors, guard_area, page_arg

bp = Blueprint("liaison_letters", __name__)
guard_area(bp, (roles.LIAISON,))
PER_PAGE = 50
RATE_DAYS = 30  # the period of the reply rate shown to the point


@bp.app_context_processor
def _liaison_nav():
    """``liaison_letters_pending()`` for the liaison console's nav: letters waiting for an answer."""
    def pending() -> int:
        if not current_user.is_authenticated or not current_user.has_role(roles.LIAISON):
            return 0
        return point_letters.pending_count(liaison.point_of(current_user))
    return {"liaison_letters_pending": pending}


@bp.before_request
def _load_point():
    g.point = liaison.point_of(current_user)


def _thread_or_404(letter_id: int) -> list[Letter]:
    if g.point is None:
        abort(404)
    try:
        return services.thread(letter_id, current_user)
    except services.LetterNotFound:
        abort(404)


def _farmer_of(letters: list[Letter], point: LiaisonPoint) -> User | None:
    """Whom the point talks with in this thread: the latest writer to it, or the
    latest person it wrote to."""
    for letter in reversed(letters):
        if letter.recipient_point_id == point.id and letter.sender is not None:
            return letter.sender
        if letter.sender_point_id == point.id and letter.recipient is not None:
            return letter.recipient
    return None


@bp.get("/")
def index():
    """The letters to the liaison's point, waiting ones first, newest first; ``?show=pending``
    only those waiting for an answer (待回复)."""
    pagination = rate = None
    show = "pending" if request.args.get("show") == "pending" else "all"
    if g.point is not None:
        stmt = point_letters.inbox(g.point, pending_only=show == "pending")
        page = page_arg()
        pagination = db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)
        since = now_utc() - timedelta(days=RATE_DAYS)
        rate = point_letters.reply_rates(since, point_ids=[g.point.id]).get(g.point.id)
    return render_template("liaison/letters.html", point=g.point, pagination=pagination, show=show,
                           pending=point_letters.pending_count(g.point), rate=rate, rate_days=RATE_DAYS,
                           sla_days=current_app.config["LETTER_SLA_DAYS"])


@bp.get("/<int:letter_id>")
def letter(letter_id: int):
    letters = _thread_or_404(letter_id)
    services.mark_read(letters, current_user)
    return render_template("liaison/letters_thread.html", point=g.point, letters=letters, letter_id=letter_id,
                           farmer=_farmer_of(letters, g.point), form=LetterForm(), close_form=CloseForm(),
                           waiting=_waiting(letters), by_sms=_by_sms(letters))


def _by_sms(letters: list[Letter]) -> bool:
    """Whether the point's answer in this thread will reach the farmer's phone now: it
    answers the latest letter the farmer wrote to the point, as ``reply`` does."""
    farmer = _farmer_of(letters, g.point)
    received = [item for item in letters if item.recipient_point_id == g.point.id]
    return letter_sms.reaches_by_sms(farmer, essential=letter_sms.is_answer(received[-1] if received else None,
                                                                           farmer))


def _waiting(letters: list[Letter]) -> list[Letter]:
    """The letters of the thread to this point that still wait for an answer."""
    return [item for item in letters if item.recipient_point_id == g.point.id and item.state in (NEW, READ)]


def _answered(letters: list[Letter], letter_id: int) -> Letter:
    """The letter an answer in this thread answers: the latest that came to the point,
    else the one shown."""
    received = [item for item in letters if item.recipient_point_id == g.point.id]
    return received[-1] if received else next(item for item in letters if item.id == letter_id)


@bp.post("/<int:letter_id>/count")
def count(letter_id: int):
    """As the liaison types: how many texts the answer takes on the farmer's phone."""
    letters = _thread_or_404(letter_id)
    farmer = _farmer_of(letters, g.point)
    answered = _answered(letters, letter_id)
    texts, over = letter_sms.preview(request.form.get("body", ""), number=max(item.id for item in letters) + 1,
                                     sender_label=g.point.name, locale=farmer.language if farmer else "zh",
                                     essential=letter_sms.is_answer(answered, farmer))
    limit = current_app.config["SMS_MAX_SEGMENTS"]
    if over:
        message = _l("%(n)s texts: more than %(max)s. The farmer gets the first %(max)s and the rest by "
                     "sending READ and the letter's number.", n=texts, max=limit)
    else:
        message = ngettext("%(num)s text on the farmer's phone.", "%(num)s texts on the farmer's phone.", texts)
    return jsonify(texts=texts, over=over, message=str(message))


@bp.post("/<int:letter_id>/close")
def close(letter_id: int):
    """Close the letters of this thread that wait, without an answer, giving the reason."""
    letters = _thread_or_404(letter_id)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            for item in _waiting(letters):
                point_letters.close(item, actor=current_user, reason=form.reason.data, channel=WEB)
        except point_letters.CloseError as err:
            flash_errors(err.errors.values())
        else:
            flash(_l("Closed without an answer: %(reason)s", reason=form.reason.data), "success")
    else:
        flash_errors(form.reason.errors)
    return redirect(url_for(".letter", letter_id=letter_id))


@bp.post("/<int:letter_id>/reply")
def reply(letter_id: int):
    """Answer in the thread, in the point's name and the liaison's real name; the
    farmer also gets it by SMS."""
    letters = _thread_or_404(letter_id)
    farmer = _farmer_of(letters, g.point)
    form = LetterForm()
    if form.validate_on_submit():
        try:
            new = services.reply(_answered(letters, letter_id).id, sender=current_user,
                                 body=form.body.data, channel=WEB)
        except services.MailboxError as err:
            form.body.errors = [*form.body.errors, *err.errors.values()]
        except services.LetterNotFound:
            flash(_l("Nobody to answer in this thread."), "error")
        else:
            flash(_l("Your answer is sent to %(name)s.", name=new.recipient.name if new.recipient else
                     new.recipient_point.name), "success")
            return redirect(url_for(".letter", letter_id=new.id, _anchor=f"l{new.id}"))
    return render_template("liaison/letters_thread.html", point=g.point, letters=letters, letter_id=letter_id,
                           farmer=farmer, form=form, close_form=CloseForm(), waiting=_waiting(letters),
                           by_sms=_by_sms(letters))
