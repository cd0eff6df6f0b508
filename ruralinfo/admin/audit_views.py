"""Admin view: the audit log, read-only. There is deliberately no route that
changes or deletes an entry (and the model refuses it anyway)."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from ruralinfo.admin import queries
from ruralinfo.admin.blueprint import bp
from ruralinfo.admin.common import filters_of, paginate
from ruralinfo.admin.forms import AuditFilterForm
from ruralinfo.audit import labels
from ruralinfo.audit import services as audit

PER_PAGE = 50


@bp.get("/audit/", endpoint="audit")
def audit_log():
    form = AuditFilterForm(request.args)
    form.action.choices = [("", str(_l("Any action")))] + [(a, labels.label(labels.ACTIONS, a))
                                                           for a in audit.actions()]
    form.channel.choices = [("", str(_l("Any channel")))] + [(c, labels.label(labels.CHANNELS, c))
                                                             for c in queries.channels_in_use()]
    form.target_type.choices = [("", str(_l("Any target")))] + [(t, labels.label(labels.TARGETS, t))
                                                                for t in queries.target_types()]
    stmt = None
    if form.validate():
        stmt = queries.audit_log(action=form.action.data or "", channel=form.channel.data or "",
                                 actor=form.actor.data or "", target_type=form.target_type.data or "",
                                 target_id=form.target_id.data, since=form.since.data, until=form.until.data)
    page = paginate(stmt if stmt is not None else queries.audit_log(), per_page=PER_PAGE)
    return render_template("admin/audit.html", form=form, page=page,
                           filters=filters_of(form) if stmt is not None else {})
