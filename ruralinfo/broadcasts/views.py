"""The bureau's broadcasts, at ``/bureau/broadcasts``: write a notice (or start from a
template), choose whom it is for, preview what it takes, send or submit it for
approval; then watch it go, pause, resume, cancel, retry what failed, download the
delivery report, and follow a sign-up's answers. The rules are the services' —
these views only read forms and show results."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ruralinfo.accounts import roles
from ruralinfo.broadcasts import catalog, compose, planning, replies, report, services, texts
from ruralinfo.broadcasts.models import PENDING_APPROVAL, Broadcast, Template
from ruralinfo.broadcasts.pickers import choices
from ruralinfo.extensions import db
from ruralinfo.timeutil import local_today
from ruralinfo.web import guard_area, int_arg, page_arg

bp = Blueprint("bureau_broadcasts", __name__)
guard_area(bp, (*roles.BUREAU, roles.ADMIN))  # an administrator sees all a clerk sees
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 50
STEPS = ("approve", "pause", "resume", "cancel", "retry")


@bp.get("/")
def index():
    page = page_arg()
    shown = db.session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).offset((page - 1) * PAGE)
                               .limit(PAGE + 1)).all()
    waiting = db.session.scalars(select(Broadcast).where(Broadcast.status == PENDING_APPROVAL)
                                 .order_by(Broadcast.id)).all()
    return render_template("bureau/broadcasts/index.html", broadcasts=shown[:PAGE], more=len(shown) > PAGE,
                           page=page, waiting=waiting, labels=services.STATUS_LABELS,
                           counts={one.id: report.counts(one.id) for one in shown[:PAGE]})


@bp.get("/new")
def new():
    """The compose form, empty or filled from a template (``?template=ID``) or from an
    earlier broadcast (``?copy=ID``)."""
    filled = {"topic": "general"}
    template = db.session.get(Template, int_arg(request.args, "template", 0))
    earlier = db.session.get(Broadcast, int_arg(request.args, "copy", 0))
    if template is not None and template.active:
        filled = {"body": template.body, "body_en": template.body_en, "topic": template.topic.key,
                  "urgent": template.urgent, "reply_options": "\n".join(template.reply_options)}
    elif earlier is not None:
        filled = {"body": earlier.body, "body_en": earlier.body_en, "topic": earlier.topic.key,
                  "urgent": earlier.urgent, "reply_options": "\n".join(earlier.reply_options)}
    return _compose(filled)


@bp.post("/new")
def create():
    """``action=preview`` shows what the notice takes; ``action=send`` makes it and sends
    it, or submits it for approval (then nothing goes until a second person approves)."""
    composed = compose.read(request.form, request.files)
    fields, errors = services.check(**composed.values)
    composed.errors = {**errors, **composed.errors}
    preview = None
    if composed.audience is not None and not composed.errors:
        preview = planning.preview(composed.audience, fields.body, fields.body_en, urgent=composed.urgent,
                                   topic_id=fields.topic.id, reply_options=fields.reply_options,
                                   free_reply=fields.free_reply)
    if request.form.get("action") == "send" and preview is not None:
        try:
            broadcast, _shown = services.propose(actor=current_user, audience=composed.audience,
                                                 urgent=composed.urgent, **composed.values)
        except services.BroadcastError as err:
            composed.errors.update(err.errors)
        else:
            flash(_sent_message(broadcast), "info")
            return redirect(url_for(".show", broadcast_id=broadcast.id))
    return _compose(request.form, composed=composed, preview=preview)


def _sent_message(broadcast: Broadcast) -> str:
    if broadcast.status == PENDING_APPROVAL:
        return str(_l("Broadcast %(n)s to %(people)s people waits for a second person's approval.",
                      n=broadcast.id, people=broadcast.recipient_count))
    if broadcast.status == "scheduled":
        return str(_l("Broadcast %(n)s is scheduled.", n=broadcast.id))
    return str(_l("Broadcast %(n)s is being sent to %(people)s people.", n=broadcast.id,
                  people=broadcast.recipient_count))


def _compose(filled, *, composed: compose.Composed | None = None, preview: planning.Preview | None = None):
    filled = filled if isinstance(filled, MultiDict) else MultiDict(filled)
    status = 422 if composed is not None and composed.errors else 200
    return render_template("bureau/broadcasts/new.html", filled=filled, composed=composed, preview=preview,
                           errors=composed.errors if composed else {}, choices=choices(),
                           templates=catalog.offered_templates(),
                           currency=_currency(), hours=_hours), status


@bp.get("/<int:broadcast_id>")
def show(broadcast_id: int):
    broadcast = _get(broadcast_id)
    target = db.session.get(Broadcast, broadcast.reminder_of_id) if broadcast.reminder_of_id else broadcast
    return render_template("bureau/broadcasts/show.html", broadcast=broadcast, target=target,
                           counts=report.counts(broadcast.id, retryable=True), labels=services.STATUS_LABELS,
                           bar=report.BAR, bar_labels=report.BAR_LABELS,
                           text_zh=texts.template(broadcast, "zh"), text_en=texts.template(broadcast, "en"),
                           tally=replies.tally(target.id) if target.asks_reply else {},
                           answers=replies.answers(target.id) if target.asks_reply else [],
                           may_approve=_may_approve(broadcast))


def _may_approve(broadcast: Broadcast) -> bool:
    return (broadcast.status == PENDING_APPROVAL and current_user.has_role(roles.APPROVER)
            and broadcast.created_by_id != current_user.id)


@bp.get("/<int:broadcast_id>/progress.json")
def progress(broadcast_id: int):
    """What the page's progress bar and tally show, for the page to update itself."""
    broadcast = _get(broadcast_id)
    target_id = broadcast.reminder_of_id or broadcast.id
    return jsonify(status=broadcast.status, status_label=str(services.STATUS_LABELS[broadcast.status]),
                   counts=report.counts(broadcast.id).as_dict(),
                   replies=replies.tally(target_id) if broadcast.asks_reply else {})


@bp.post("/<int:broadcast_id>/<step>")
def move(broadcast_id: int, step: str):
    """approve, pause, resume, cancel or retry."""
    if step not in STEPS:
        abort(404)
    broadcast = _get(broadcast_id)
    try:
        done = getattr(services, step)(broadcast, actor=current_user)
    except services.BroadcastError as err:
        for message in err.errors.values():
            flash(message, "error")
    else:
        flash(_step_message(step, done), "info")
    return redirect(url_for(".show", broadcast_id=broadcast_id))


def _step_message(step: str, done) -> str:
    if step == "retry":
        return str(_l("%(n)s failed texts are being sent again.", n=done))
    return str({"approve": _l("Approved: the broadcast goes out."), "pause": _l("Paused: nothing more goes out."),
                "resume": _l("Resumed."), "cancel": _l("Cancelled: nothing more goes out.")}[step])


@bp.post("/<int:broadcast_id>/remind")
def remind(broadcast_id: int):
    """One click: a reminder to those who were sent the sign-up and have not answered."""
    broadcast = _get(broadcast_id)
    try:
        reminder = replies.remind(broadcast, actor=current_user)
    except services.BroadcastError as err:
        for message in err.errors.values():
            flash(message, "error")
        return redirect(url_for(".show", broadcast_id=broadcast_id))
    flash(_sent_message(reminder), "info")
    return redirect(url_for(".show", broadcast_id=reminder.id))


@bp.get("/<int:broadcast_id>/report.<ext>")
def delivery_report(broadcast_id: int, ext: str):
    """Every recipient with the final status of their text and the reason for every failure."""
    broadcast = _get(broadcast_id, ext)
    data = stream_with_context(report.as_csv(broadcast.id)) if ext == "csv" else report.as_xlsx(broadcast.id)
    return _download(data, ext, f"broadcast-{broadcast.id}-report-{local_today().isoformat()}")


@bp.get("/<int:broadcast_id>/answers.<ext>")
def answers(broadcast_id: int, ext: str):
    broadcast = _get(broadcast_id, ext)
    data = replies.answers_csv(broadcast.id) if ext == "csv" else replies.answers_xlsx(broadcast.id)
    return _download(data, ext, f"broadcast-{broadcast.id}-answers-{local_today().isoformat()}")


def _download(data, ext: str, name: str) -> Response:
    return Response(data, mimetype="text/csv" if ext == "csv" else XLSX, headers={
        "Content-Disposition": f"attachment; filename={name}.{ext}", "Cache-Control": "no-store"})


def _get(broadcast_id: int, ext: str = "csv") -> Broadcast:
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None or ext not in ("csv", "xlsx"):
        abort(404)
    return broadcast


def _currency() -> str:
    return current_app.config["SMS_CURRENCY"]


def _hours(hours: float) -> str:
    """A sending time as people say it: "3 min", "2.5 h"."""
    if hours < 1:
        return str(_l("%(n)s min", n=max(1, round(hours * 60))))
    return str(_l("%(n)s h", n=format_decimal(round(hours, 1), locale=get_locale())))

