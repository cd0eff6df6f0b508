"""The farmer's questions to the experts at ``/mailbox/questions``: ask one (it joins the
questions that came by phone and SMS), see one's questions with their answers, and say
whether an answer helped, as the SMS asks."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from hotline import queue, services, topics
from hotline.forms import AskForm, RateForm
from hotline.models import ANSWERED, WEB, Question
from mailbox import services as mailbox
from ruralinfo.accounts import roles
from ruralinfo.extensions import db, login_manager
from ruralinfo.web import guard_area, page_arg

bp = Blueprint("questions", __name__)
guard_area(bp, (roles.FARMER,))
PER_PAGE = 10


@bp.record_once
def _log_in_by_code(_state) -> None:
    """Farmers log in with a code sent by SMS, as for the rest of the mailbox."""
    login_manager.blueprint_login_views["questions"] = "auth.code_request"


@bp.context_processor
def _helpers():
    # the mailbox's header counts unread letters
    return {"mailbox_unread": lambda: mailbox.unread_count(current_user), "topic_label": topics.label,
            "channel_label": lambda code: str(queue.CHANNELS.get(code, code)), "ANSWERED": ANSWERED}


def _page(form: AskForm, status: int = 200):
    pagination = db.paginate(queue.of_farmer(current_user), page=page_arg(),
                             per_page=PER_PAGE, error_out=False)
    return render_template("hotline/my_questions.html", form=form, pagination=pagination,
                           rate_form=RateForm()), status


@bp.route("/", methods=["GET", "POST"])
def index():
    form = AskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _page(form, 400)
        try:
            question = services.ask(topic=form.topic.data, channel=WEB, text=form.text.data, user=current_user)
        except services.QuestionRefused as refused:
            form.text.errors = [*form.text.errors, str(refused)]
            return _page(form, 400)
        flash(services.acknowledgement(question, language=str(get_locale())), "success")
        return redirect(url_for(".index", _anchor=f"q{question.id}"))
    return _page(form)


@bp.post("/<int:question_id>/rate")
def rate(question_id: int):
    question = db.session.get(Question, question_id)
    if question is None or question.user_id != current_user.id:
        abort(404)
    form = RateForm()
    if question.status != ANSWERED or question.rating is not None:
        flash(_l("This answer cannot be rated now."), "error")
    elif form.validate_on_submit():
        flash(services.rate(question, form.rating.data, user=current_user, channel=WEB), "success")
    else:
        flash(_l("Choose 1 satisfied or 2 not satisfied."), "error")
    return redirect(url_for(".index", _anchor=f"q{question_id}"))
