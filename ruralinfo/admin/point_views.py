"""Admin view: liaison points (list, quiet points, create, edit, suspend, liaisons)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.admin import queries
from ruralinfo.admin.blueprint import MANAGE_POINTS, bp
from ruralinfo.admin.common import default_township, filters_of, get_or_404, home_county, paginate, require
from ruralinfo.web import add_errors, flash_errors
from ruralinfo.admin.forms import (QUIET_DAYS, AssignLiaisonForm, NewLiaisonForm, PointFilterForm, PointForm,
                                   QuietForm)
from ruralinfo.audit.services import WEB
from ruralinfo.liaison import points
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import TOWNSHIP

RECENT_DAYS = 30
FARMERS_PER_PAGE = 20


@bp.get("/points/", endpoint="points")
def points_list():
    form = PointFilterForm(request.args)
    form.region.choices = queries.region_filter_choices(home_county(), form.region.data or "")
    region_code = ""
    if form.region.data:
        region = regions.get(form.region.data)
        if region is None:
            form.region.errors = [str(_l("Unknown region code."))]
        else:
            region_code = region.code
    page = paginate(points.search(text=form.q.data or "", region_code=region_code, status=form.status.data or ""))
    return render_template("admin/points.html", form=form, page=page, rows=points.rows(page.items, days=RECENT_DAYS),
                           recent_days=RECENT_DAYS, filters=filters_of(form))


@bp.get("/points/quiet")
def points_quiet():
    form = QuietForm(request.args)
    days = form.days.data if form.validate() and form.days.data else QUIET_DAYS
    page = paginate(points.quiet(days))
    last = points.last_registrations([p.id for p in page.items])
    return render_template("admin/points_quiet.html", form=form, page=page, days=days, filters={"days": days},
                           rows=[(p, last.get(p.id)) for p in page.items])


@bp.get("/points/<int:point_id>")
def point(point_id: int):
    return _render_point(get_or_404(LiaisonPoint, point_id))


def _render_point(point: LiaisonPoint, *, assign_form=None, liaison_form=None, status: int = 200):
    assign_form = assign_form or AssignLiaisonForm(formdata=None)
    _liaison_choices(assign_form, point)
    farmers = paginate(points.farmers(point), per_page=FARMERS_PER_PAGE)
    return render_template(
        "admin/point.html", point=point, farmers=farmers, monthly=points.monthly_registrations(point),
        entries=points.audit_entries(point), assign_form=assign_form,
        liaison_form=liaison_form or NewLiaisonForm(formdata=None),
        served=[(r, regions.full_name(r, start_level=TOWNSHIP)) for r in point.regions]), status


def _liaison_choices(form: AssignLiaisonForm, point: LiaisonPoint) -> None:
    choices = [(None, str(_l("— choose —")))]
    for user in points.liaison_candidates(point):
        where = user.liaison_point.name if user.liaison_point is not None else str(_l("no point yet"))
        choices.append((user.id, f"{user.name} ({where})"))
    form.user_id.choices = choices


@bp.route("/points/new", methods=["GET", "POST"])
def point_new():
    require(*MANAGE_POINTS, back=url_for("admin.points"))
    form = PointForm()
    if request.method == "GET":
        form.township.data = default_township()
    saved = _save_point(form, None)
    if saved is not None:
        flash(_l("Liaison point “%(name)s” created. Now add its liaisons.", name=saved.name), "info")
        return redirect(url_for("admin.point", point_id=saved.id))
    return render_template("admin/point_form.html", form=form, point=None)


@bp.route("/points/<int:point_id>/edit", methods=["GET", "POST"])
def point_edit(point_id: int):
    require(*MANAGE_POINTS, back=url_for("admin.point", point_id=point_id))
    point = get_or_404(LiaisonPoint, point_id)
    form = PointForm(obj=point if request.method == "GET" else None)
    if request.method == "GET":
        form.region_codes.data = point.region_codes
        form.township.data = point.region_codes[0][:9] if point.region_codes else default_township()
    saved = _save_point(form, point)
    if saved is not None:
        flash(_l("Liaison point “%(name)s” saved.", name=saved.name), "info")
        return redirect(url_for("admin.point", point_id=saved.id))
    return render_template("admin/point_form.html", form=form, point=point)


def _save_point(form: PointForm, point: LiaisonPoint | None) -> LiaisonPoint | None:
    """Fill the region choices; on "Save", validate and call the service.
    Returns the saved point, or None to show the form (again)."""
    selected = list(form.region_codes.data or [])
    form.township.choices = queries.township_choices(home_county(), selected)
    form.region_codes.choices = queries.village_choices(form.township.data or default_township(), selected)
    if form.show_township.data or not form.validate_on_submit():
        return None
    data = points.PointData(name=form.name.data, address=form.address.data or "", phone=form.phone.data or "",
                            opening_hours=form.opening_hours.data or "",
                            region_codes=selected + points.split_codes(form.more_codes.data or ""))
    try:
        if point is None:
            return points.create(data, actor=current_user, channel=WEB)
        return points.update(point, data, actor=current_user, channel=WEB)
    except points.PointError as err:
        for message in add_errors(form, err.errors):
            flash(message, "error")
        return None


@bp.post("/points/<int:point_id>/suspend")
def point_suspend(point_id: int):
    require(*MANAGE_POINTS, back=url_for("admin.point", point_id=point_id))
    point = get_or_404(LiaisonPoint, point_id)
    points.suspend(point, actor=current_user, channel=WEB)
    flash(_l("Liaison point “%(name)s” suspended.", name=point.name), "info")
    return redirect(url_for("admin.point", point_id=point.id))


@bp.post("/points/<int:point_id>/reactivate")
def point_reactivate(point_id: int):
    require(*MANAGE_POINTS, back=url_for("admin.point", point_id=point_id))
    point = get_or_404(LiaisonPoint, point_id)
    try:
        points.reactivate(point, actor=current_user, channel=WEB)
    except points.PointError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("Liaison point “%(name)s” is active again.", name=point.name), "info")
    return redirect(url_for("admin.point", point_id=point.id))


@bp.post("/points/<int:point_id>/liaisons")
def point_liaison_assign(point_id: int):
    require(*MANAGE_POINTS, back=url_for("admin.point", point_id=point_id))
    point = get_or_404(LiaisonPoint, point_id)
    form = AssignLiaisonForm()
    _liaison_choices(form, point)
    if form.validate_on_submit():
        user = get_or_404(User, form.user_id.data)
        try:
            points.assign_liaison(point, user, actor=current_user, channel=WEB)
        except points.PointError as err:
            add_errors(form, err.errors)
        else:
            flash(_l("%(name)s now works at this point.", name=user.name), "info")
            return redirect(url_for("admin.point", point_id=point.id))
    return _render_point(point, assign_form=form)


@bp.post("/points/<int:point_id>/liaisons/<int:user_id>/remove")
def point_liaison_remove(point_id: int, user_id: int):
    require(*MANAGE_POINTS, back=url_for("admin.point", point_id=point_id))
    point = get_or_404(LiaisonPoint, point_id)
    user = get_or_404(User, user_id)
    try:
        points.remove_liaison(point, user, actor=current_user, channel=WEB)
    except points.PointError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("%(name)s no longer works at this point.", name=user.name), "info")
    return redirect(url_for("admin.point", point_id=point.id))


@bp.post("/points/<int:point_id>/liaisons/new")
def point_liaison_new(point_id: int):
    require(*MANAGE_POINTS, back=url_for("admin.point", point_id=point_id))
    point = get_or_404(LiaisonPoint, point_id)
    form = NewLiaisonForm()
    if form.validate_on_submit():
        try:
            user = points.create_liaison(point, name=form.name.data, phone=form.phone.data,
                                         password=form.password.data, actor=current_user, channel=WEB)
        except accounts.RegistrationError as err:
            for message in add_errors(form, err.errors):
                flash(message, "error")
        else:
            flash(_l("Liaison account for %(name)s created. Give them the mobile number and the initial "
                     "password.", name=user.name), "info")
            return redirect(url_for("admin.point", point_id=point.id))
    return _render_point(point, liaison_form=form)
