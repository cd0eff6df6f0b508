"""The expert console at ``/hotline``, made for a phone: the queue by topic and age, a
question with its text or recording, and what an expert does with it — take it, give
it back, answer it (by SMS and in the mailbox), move it to another topic, publish the
answer for everyone.

Experts and administrators act; bureau staff and approvers may look (every POST is
refused to them). A recording is heard through ``/hotline/recordings/<id>``, which
checks the recording rather than the role: a farmer hears a spoken reply there too.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from hotline import answers, followups, queue, recordings, services, topics
from hotline.forms import AnswerForm, PublishForm, TransferForm
from hotline.models import ANSWERED, CLAIMED, WAITING, Question
from mailbox import services as mailbox_services
from ruralinfo.extensions import db, login_manager
from ruralinfo.web import int_arg, page_arg

bp = Blueprint("hotline", __name__)
PER_PAGE = 30


@bp.before_request
def _guard():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if request.endpoint == "hotline.recording":
        return None  # the recording is checked, not the role
    if not current_user.has_role(*queue.VIEWERS):
        abort(403)
    if request.method not in ("GET", "HEAD") and not current_user.has_role(*queue.ACTORS):
        abort(403)
    return None


@bp.context_processor
def _helpers():
    can_act = current_user.is_authenticated and current_user.has_role(*queue.ACTORS)
    return {"topic_label": topics.label, "topic_choices": topics.choices(), "age": queue.age,
            "farmer_label": queue.farmer_label, "channel_label": lambda code: str(queue.CHANNELS.get(code, code)),
            "status_label": lambda code: str(queue.STATUSES.get(code, code)),
            "may_take_over": queue.may_take_over, "can_act": can_act,
            "WAITING": WAITING, "CLAIMED": CLAIMED, "ANSWERED": ANSWERED}


def _topic() -> str | None:
    topic = request.args.get("topic")
    return topic if topic in topics.TOPICS else None


@bp.get("/")
def index():
    """The queue: one's own questions first, then those waiting (oldest first), then those others hold."""
    topic = _topic()
    pagination = db.paginate(queue.waiting(topic), page=page_arg(),
                             per_page=PER_PAGE, error_out=False)
    return render_template("hotline/queue.html", topic=topic, counts=queue.waiting_counts(),
                           mine=queue.mine(current_user, topic), pagination=pagination,
                           held=queue.held_by_others(current_user, topic),
                           answered=queue.recently_answered(topic, limit=10),
                           letters=followups.to_expert(current_user))


@bp.post("/letters/<int:letter_id>/reply")
def reply_letter(letter_id: int):
    """The expert answers a farmer's letter (a reply to an answer) from the console."""
    try:
        followups.reply(letter_id, current_user, request.form.get("body", ""))
    except mailbox_services.LetterNotFound:
        abort(404)
    except mailbox_services.MailboxError as refused:
        flash(" ".join(str(message) for message in refused.errors.values()), "error")
        return redirect(url_for(".index", _anchor=f"letter-{letter_id}"))
    flash(_l("Your answer is sent to the farmer."), "success")
    return redirect(url_for(".index"))


def _question_or_404(question_id: int) -> Question:
    question = queue.question(question_id)
    if question is None:
        abort(404)
    return question


def _publish_form(question: Question) -> PublishForm:
    """Prefilled: the farmer's words and the answer, in the language they were written in, to rewrite."""
    written = "en" if question.language == "en" else "zh"
    return PublishForm(topic=question.topic, **{f"question_{written}": question.text,
                                                f"answer_{written}": question.answer})


def _show(question: Question, *, answer_form=None, transfer_form=None, publish_form=None, status: int = 200):
    page = render_template(
        "hotline/question.html", question=question,
        answer_form=answer_form or AnswerForm(),
        transfer_form=transfer_form or TransferForm(exclude=question.topic),
        publish_form=publish_form or _publish_form(question),
        published=queue.published_for(question.id))
    return page, status


@bp.get("/questions/<int:question_id>")
def question(question_id: int):
    return _show(_question_or_404(question_id))


def _back(question_id: int):
    return redirect(url_for(".question", question_id=question_id))


@bp.post("/questions/<int:question_id>/claim")
def claim(question_id: int):
    _question_or_404(question_id)
    try:
        services.claim(question_id, current_user)
    except services.QuestionRefused as refused:  # HeldByAnother says who holds it
        flash(str(refused), "error")
    return _back(question_id)


@bp.post("/questions/<int:question_id>/release")
def release(question_id: int):
    _question_or_404(question_id)
    services.release(question_id, current_user)
    flash(_l("Question no. %(n)s is back in the queue.", n=question_id), "info")
    return redirect(url_for(".index"))


@bp.post("/questions/<int:question_id>/answer")
def answer(question_id: int):
    question = _question_or_404(question_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _show(question, answer_form=form, status=400)
    try:
        services.answer(question_id, current_user, form.text.data)
    except services.QuestionRefused as refused:
        form.text.errors = [*form.text.errors, str(refused)]
        return _show(_question_or_404(question_id), answer_form=form, status=409)
    flash(_l("Your answer to question no. %(n)s is sent to the farmer.", n=question_id), "success")
    return _back(question_id)


@bp.post("/questions/<int:question_id>/transfer")
def transfer(question_id: int):
    question = _question_or_404(question_id)
    form = TransferForm(exclude=question.topic)
    if not form.validate_on_submit():
        return _show(question, transfer_form=form, status=400)
    try:
        services.transfer(question_id, current_user, form.topic.data)
    except services.QuestionRefused as refused:
        flash(str(refused), "error")
        return _back(question_id)
    flash(_l("Question no. %(n)s is moved to %(topic)s.", n=question_id, topic=topics.label(form.topic.data)),
          "success")
    return redirect(url_for(".index"))


@bp.post("/questions/<int:question_id>/publish")
def publish(question_id: int):
    question = _question_or_404(question_id)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            published = answers.publish(question_id, current_user, topic=form.topic.data, **form.fields())
        except answers.PublishRefused as refused:
            _put_errors(form, refused.errors)
        else:
            flash(_l("The answer is published for everyone as no. %(n)s.", n=published.id), "success")
            return _back(question_id)
    return _show(question, publish_form=form, status=400)


def _put_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


# --- published answers ------------------------------------------------------------------------

@bp.route("/published", methods=["GET", "POST"])
def published():
    """Every answer published (withdrawn ones too), and a form to write one that no question asked."""
    form = PublishForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            new = answers.publish(None, current_user, topic=form.topic.data, **form.fields())
        except answers.PublishRefused as refused:
            _put_errors(form, refused.errors)
        else:
            flash(_l("The answer is published for everyone as no. %(n)s.", n=new.id), "success")
            return redirect(url_for(".published"))
    status = 400 if request.method == "POST" else 200
    return render_template("hotline/published.html", items=answers.every(), form=form), status


@bp.post("/published/<int:answer_id>/withdraw")
def withdraw(answer_id: int):
    if answers.withdraw(answer_id, current_user):
        flash(_l("Published answer no. %(n)s is withdrawn: nobody reads or hears it any more.", n=answer_id),
              "success")
    back = int_arg(request.form, "back")
    return redirect(url_for(".question", question_id=back) if back else url_for(".published"))


# --- recordings ----------------------------------------------------------------------------

@bp.get("/recordings/<int:recording_id>")
def recording(recording_id: int):
    """The sound of a recording, for an ``<audio>`` element: a file kept here, or Twilio's,
    fetched with the account's credentials. Who may not hear it gets 404."""
    found = recordings.audible(recording_id, current_user)
    if found is None:
        abort(404)
    path = recordings.local_path(found)
    if path is not None:
        response = send_file(path, mimetype=found.content_type or "audio/mpeg", conditional=True, max_age=0)
    else:
        try:
            audio = recordings.twilio_audio(found)
        except recordings.Unavailable as unavailable:
            return Response(status=unavailable.status)
        response = Response(audio.chunks, mimetype=audio.content_type, direct_passthrough=True)
        if audio.length is not None:
            response.content_length = audio.length
    response.headers["Cache-Control"] = "private, no-store"
    return response
