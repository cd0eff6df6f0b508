"""Admin view: interest groups (产业). Everyone in the admin view may look;
administrators add, rename, deactivate and reactivate."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ruralinfo.accounts.models import InterestGroup
from ruralinfo.admin import groups
from ruralinfo.admin.blueprint import MANAGE_GROUPS, bp
from ruralinfo.admin.common import get_or_404, require
from ruralinfo.web import add_errors
from ruralinfo.admin.forms import GroupForm
from ruralinfo.audit.services import WEB


@bp.route("/groups/", methods=["GET", "POST"], endpoint="groups")
def groups_list():
    form = GroupForm()
    if request.method == "POST":
        require(*MANAGE_GROUPS, back=url_for("admin.groups"))
        if form.validate_on_submit():
            try:
                group = groups.create(form.name_zh.data, form.name_en.data, actor=current_user, channel=WEB)
            except groups.GroupError as err:
                add_errors(form, err.errors)
            else:
                flash(_l("Interest group %(name)s added.", name=group.name_zh), "info")
                return redirect(url_for("admin.groups"))
    return render_template("admin/groups.html", form=form, rows=groups.all_groups())


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id: int):
    group = get_or_404(InterestGroup, group_id)
    form = GroupForm(obj=group if request.method == "GET" else None)
    if request.method == "POST":
        require(*MANAGE_GROUPS, back=url_for("admin.group", group_id=group_id))
        if form.validate_on_submit():
            try:
                groups.rename(group, form.name_zh.data, form.name_en.data, actor=current_user, channel=WEB)
            except groups.GroupError as err:
                add_errors(form, err.errors)
            else:
                flash(_l("Interest group saved."), "info")
                return redirect(url_for("admin.groups"))
    return render_template("admin/group.html", form=form, group=group)


@bp.post("/groups/<int:group_id>/deactivate")
def group_deactivate(group_id: int):
    return _set_active(group_id, False)


@bp.post("/groups/<int:group_id>/reactivate")
def group_reactivate(group_id: int):
    return _set_active(group_id, True)


def _set_active(group_id: int, active: bool):
    require(*MANAGE_GROUPS, back=url_for("admin.groups"))
    group = get_or_404(InterestGroup, group_id)
    groups.set_active(group, active, actor=current_user, channel=WEB)
    flash(_l("Interest group %(name)s reactivated.", name=group.name_zh) if active
          else _l("Interest group %(name)s deactivated.", name=group.name_zh), "info")
    return redirect(url_for("admin.groups"))
