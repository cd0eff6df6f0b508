"""The hotline as the bureau sees it, at ``/bureau/hotline``: the reply rate 办结回复率
with the average time to answer and satisfaction, per topic and per expert, for a
period (this month, last month, or chosen days), as CSV and XLSX too; the call log;
and the duty roster, edited here.

Bureau staff (staff, approver) and administrators only, like all of ``/bureau``:
experts work in ``/hotline``, and their own figures are ``stats.for_expert`` (the
console may show them) — the bureau's tables compare experts with each other, which
is the bureau's business, not theirs.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline import call_log, roster, stats, topics, workdays
from ruralinfo import exports
from ruralinfo.accounts import roles
from ruralinfo.timeutil import local_today
from ruralinfo.web import guard_area, int_arg, page_arg

bp = Blueprint("hotline_bureau", __name__)
guard_area(bp, (*roles.BUREAU, roles.ADMIN))  # an administrator sees all a clerk sees
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period() -> tuple[stats.Period, str | None]:
    args = request.args
    return stats.choose_period(args.get("period"), args.get("from"), args.get("to"), local_today())


def _period_args(period: stats.Period) -> dict:
    if period.kind == stats.CUSTOM:
        return {"period": stats.CUSTOM, "from": period.first.isoformat(), "to": period.last.isoformat()}
    return {"period": period.kind}


@bp.get("/", strict_slashes=False)
def index():
    period, error = _period()
    if error:
        flash(error, "error")
    return render_template("hotline/bureau/index.html", summary=stats.summary(period), period=period,
                           period_args=_period_args(period), sla_days=workdays.sla_days(),
                           topic_label=topics.label, outcome_label=stats.outcome_label)


@bp.get("/figures.<ext>")
def export(ext: str):
    """The page's tables as one sheet, for the period the page shows."""
    if ext not in ("csv", "xlsx"):
        abort(404)
    period, _error = _period()
    result = stats.summary(period)
    header, rows = stats.export_header(), stats.export_rows(result)
    data = exports.csv_bytes(header, rows) if ext == "csv" else exports.xlsx_bytes(_("Hotline"), header, rows)
    name = f"hotline-{period.first.isoformat()}-{period.last.isoformat()}.{ext}"
    return Response(data, mimetype="text/csv" if ext == "csv" else XLSX, headers={
        "Content-Disposition": f"attachment; filename={name}", "Cache-Control": "no-store"})


@bp.get("/calls")
def calls():
    filters = call_log.Filters.parse(request.args)
    page = page_arg()
    rows, more = call_log.recent(filters, page)
    return render_template("hotline/bureau/calls.html", calls=rows, more=more, page=page, filters=filters,
                           directions=call_log.DIRECTIONS, outcomes=stats.OUTCOMES, topic_choices=topics.choices(),
                           mask=call_log.mask_phone, farmer_phone=call_log.farmer_phone,
                           topic_label=topics.label, outcome_label=stats.outcome_label)


# --- the duty roster -------------------------------------------------------------------------

def _shift_data() -> roster.ShiftData:
    form = request.form
    return roster.ShiftData(user_id=form.get("user_id"), topic=form.get("topic", ""),
                            weekdays=form.getlist("weekdays"), starts=form.get("starts", ""),
                            ends=form.get("ends", ""))


def _roster_page(editing=None, values=None, errors=None, status: int = 200):
    return render_template("hotline/bureau/roster.html", shifts=roster.shifts(), experts=roster.experts(),
                           on_duty=roster.on_duty_by_topic(), editing=editing, values=values or {},
                           errors=errors or {}, weekdays=roster.WEEKDAYS, topic_choices=topics.choices(),
                           topic_label=topics.label, weekday_names=roster.weekday_names), status


@bp.get("/roster")
def roster_page():
    editing = int_arg(request.args, "edit")
    shift = None
    if editing:
        try:
            shift = roster.get(editing)
        except roster.ShiftNotFound:
            flash(_("That shift is no longer on the roster."), "info")
    return _roster_page(editing=shift)


@bp.post("/roster")
def roster_add():
    data = _shift_data()
    try:
        roster.add(data, actor=current_user)
    except roster.RosterError as err:
        return _roster_page(values=data.__dict__, errors=err.errors, status=400)
    flash(_("The shift is on the roster."), "success")
    return redirect(url_for(".roster_page"))


@bp.post("/roster/<int:shift_id>")
def roster_update(shift_id: int):
    data = _shift_data()
    try:
        roster.update(shift_id, data, actor=current_user)
    except roster.ShiftNotFound:
        abort(404)
    except roster.RosterError as err:
        return _roster_page(editing=roster.get(shift_id), values=data.__dict__, errors=err.errors, status=400)
    flash(_("The shift is changed."), "success")
    return redirect(url_for(".roster_page"))


@bp.post("/roster/<int:shift_id>/delete")
def roster_delete(shift_id: int):
    try:
        roster.delete(shift_id, actor=current_user)
    except roster.ShiftNotFound:
        abort(404)
    flash(_("The shift is off the roster."), "success")
    return redirect(url_for(".roster_page"))
