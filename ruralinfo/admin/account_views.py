"""Admin view: accounts. Everyone in the admin view may look; only
administrators create staff accounts, change roles, reset passwords and
deactivate or reactivate accounts."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.admin import queries, staff
from ruralinfo.admin.blueprint import MANAGE_ACCOUNTS, bp
from ruralinfo.admin.common import filters_of, get_or_404, paginate, require
from ruralinfo.web import add_errors, flash_errors
from ruralinfo.admin.forms import AccountFilterForm, PasswordForm, RolesForm, StaffForm, role_choices
from ruralinfo.audit.services import WEB
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import TOWNSHIP


@bp.get("/accounts/", endpoint="accounts")
def accounts_list():
    form = AccountFilterForm(request.args)
    form.role.choices = [("", str(_l("Any role")))] + role_choices(roles.ALL)
    page = paginate(queries.accounts(text=form.q.data or "", role=form.role.data or "",
                                     active=form.active.data or ""))
    return render_template("admin/accounts.html", form=form, page=page, filters=filters_of(form))


def _point_choices(form: RolesForm) -> None:
    form.liaison_point.choices = [(None, str(_l("— none —")))] + [
        (p.id, str(_l("%(name)s (suspended)", name=p.name)) if p.is_suspended else p.name)
        for p in queries.liaison_points()]


@bp.get("/accounts/<int:user_id>")
def account(user_id: int):
    return _render_account(get_or_404(User, user_id))


def _render_account(user: User, *, roles_form=None, password_form=None, status: int = 200):
    if roles_form is None:
        roles_form = RolesForm(formdata=None, roles=sorted(user.roles & set(roles.STAFF_ROLES)),
                               liaison_point=user.liaison_point_id)
    _point_choices(roles_form)
    return render_template(
        "admin/account.html", user=user, roles_form=roles_form,
        password_form=password_form or PasswordForm(formdata=None),
        region_name=regions.full_name(user.region, start_level=TOWNSHIP) if user.region else "",
        entries=queries.account_audit(user)), status


@bp.route("/accounts/new", methods=["GET", "POST"])
def account_new():
    require(*MANAGE_ACCOUNTS, back=url_for("admin.accounts"))
    form = StaffForm()
    _point_choices(form)
    if form.validate_on_submit():
        try:
            user = staff.create(name=form.name.data, phone=form.phone.data, password=form.password.data,
                                role_names=form.roles.data or [], liaison_point_id=form.liaison_point.data,
                                actor=current_user, channel=WEB)
        except accounts.RegistrationError as err:
            for message in add_errors(form, err.errors):
                flash(message, "error")
        else:
            flash(_l("Account for %(name)s created.", name=user.name), "info")
            return redirect(url_for("admin.account", user_id=user.id))
    return render_template("admin/account_new.html", form=form)


@bp.post("/accounts/<int:user_id>/roles")
def account_roles(user_id: int):
    require(*MANAGE_ACCOUNTS, back=url_for("admin.account", user_id=user_id))
    user = get_or_404(User, user_id)
    form = RolesForm()
    _point_choices(form)
    if form.validate_on_submit():
        try:
            staff.change_roles(user, form.roles.data or [], liaison_point_id=form.liaison_point.data,
                               actor=current_user, channel=WEB)
        except staff.AccountChangeError as err:
            for message in add_errors(form, err.errors):
                flash(message, "error")
        else:
            flash(_l("Roles of %(name)s saved.", name=user.name), "info")
            return redirect(url_for("admin.account", user_id=user.id))
    return _render_account(user, roles_form=form)


@bp.post("/accounts/<int:user_id>/password")
def account_password(user_id: int):
    require(*MANAGE_ACCOUNTS, back=url_for("admin.account", user_id=user_id))
    user = get_or_404(User, user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            staff.reset_password(user, form.password.data, actor=current_user, channel=WEB)
        except staff.AccountChangeError as err:
            add_errors(form, err.errors)
        else:
            flash(_l("New password set for %(name)s. Tell them in person or by phone, never by SMS.",
                     name=user.name), "info")
            return redirect(url_for("admin.account", user_id=user.id))
    return _render_account(user, password_form=form)


@bp.post("/accounts/<int:user_id>/deactivate")
def account_deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.post("/accounts/<int:user_id>/reactivate")
def account_reactivate(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    require(*MANAGE_ACCOUNTS, back=url_for("admin.account", user_id=user_id))
    user = get_or_404(User, user_id)
    try:
        staff.change_active(user, active, actor=current_user, channel=WEB)
    except staff.AccountChangeError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("Account of %(name)s reactivated.", name=user.name) if active
              else _l("Account of %(name)s deactivated.", name=user.name), "info")
    return redirect(url_for("admin.account", user_id=user.id))
