"""Admin view: the topics of broadcasts (天气, 病虫害 …) and the reusable notice
templates. Everyone in the admin view may look; administrators add, edit, retire
and reactivate. The rules are in ``ruralinfo.broadcasts.catalog``."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ruralinfo.accounts import roles
from ruralinfo.admin.blueprint import bp
from ruralinfo.admin.common import get_or_404, require
from ruralinfo.admin.topic_forms import TemplateForm, TopicForm, TopicNamesForm
from ruralinfo.audit.services import WEB
from ruralinfo.broadcasts import catalog
from ruralinfo.broadcasts.models import Template, Topic
from ruralinfo.web import add_errors, flash_errors

MANAGE_TOPICS = (roles.ADMIN,)


def _page(name: str, **context):
    return render_template(name, can_manage_topics=current_user.has_role(*MANAGE_TOPICS), **context)


# --- topics ----------------------------------------------------------------------------------

@bp.route("/topics/", methods=["GET", "POST"], endpoint="topics")
def topics_list():
    form = TopicForm()
    if request.method == "POST":
        require(*MANAGE_TOPICS, back=url_for("admin.topics"))
        if form.validate_on_submit():
            try:
                topic = catalog.create_topic(form.key.data, form.name_zh.data, form.name_en.data,
                                             actor=current_user, channel=WEB)
            except catalog.CatalogError as err:
                flash_errors(add_errors(form, err.errors))
            else:
                flash(_l("Topic %(name)s added.", name=topic.name_zh), "info")
                return redirect(url_for("admin.topics"))
    return _page("admin/topics.html", form=form, rows=catalog.all_topics())


@bp.route("/topics/<int:topic_id>", methods=["GET", "POST"])
def topic(topic_id: int):
    topic = get_or_404(Topic, topic_id)
    form = TopicNamesForm(obj=topic if request.method == "GET" else None)
    if request.method == "POST":
        require(*MANAGE_TOPICS, back=url_for("admin.topic", topic_id=topic_id))
        if form.validate_on_submit():
            try:
                catalog.rename_topic(topic, form.name_zh.data, form.name_en.data, actor=current_user, channel=WEB)
            except catalog.CatalogError as err:
                flash_errors(add_errors(form, err.errors))
            else:
                flash(_l("Topic saved."), "info")
                return redirect(url_for("admin.topics"))
    row = next(row for row in catalog.all_topics() if row.topic.id == topic.id)
    return _page("admin/topic.html", form=form, row=row, topic=topic)


@bp.post("/topics/<int:topic_id>/retire")
def topic_retire(topic_id: int):
    return _set_topic_active(topic_id, False)


@bp.post("/topics/<int:topic_id>/reactivate")
def topic_reactivate(topic_id: int):
    return _set_topic_active(topic_id, True)


def _set_topic_active(topic_id: int, active: bool):
    require(*MANAGE_TOPICS, back=url_for("admin.topics"))
    topic = get_or_404(Topic, topic_id)
    try:
        catalog.set_topic_active(topic, active, actor=current_user, channel=WEB)
    except catalog.CatalogError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("Topic %(name)s is offered again.", name=topic.name_zh) if active
              else _l("Topic %(name)s retired: it is no longer offered for new broadcasts.", name=topic.name_zh),
              "info")
    return redirect(url_for("admin.topics"))


@bp.post("/topics/<int:topic_id>/delete")
def topic_delete(topic_id: int):
    require(*MANAGE_TOPICS, back=url_for("admin.topics"))
    topic = get_or_404(Topic, topic_id)
    name = topic.name_zh
    try:
        catalog.delete_topic(topic, actor=current_user, channel=WEB)
    except catalog.CatalogError as err:
        flash_errors(err.errors.values())
        return redirect(url_for("admin.topic", topic_id=topic_id))
    flash(_l("Topic %(name)s deleted.", name=name), "info")
    return redirect(url_for("admin.topics"))


# --- templates -------------------------------------------------------------------------------

@bp.get("/templates/", endpoint="templates")
def templates_list():
    return _page("admin/notice_templates.html", rows=catalog.all_templates())


@bp.route("/templates/new", methods=["GET", "POST"])
def template_new():
    require(*MANAGE_TOPICS, back=url_for("admin.templates"))
    form = TemplateForm()
    _topic_choices(form, None)
    saved = _save_template(form, None)
    if saved is not None:
        flash(_l("Template %(name)s added.", name=saved.name_zh), "info")
        return redirect(url_for("admin.templates"))
    return _page("admin/notice_template.html", form=form, template=None)


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
def template(template_id: int):
    template = get_or_404(Template, template_id)
    form = TemplateForm(obj=template if request.method == "GET" else None)
    if request.method == "GET":
        form.reply_options.data = "\n".join(template.reply_options or [])
    _topic_choices(form, template)
    if request.method == "POST":
        require(*MANAGE_TOPICS, back=url_for("admin.template", template_id=template_id))
        if _save_template(form, template) is not None:
            flash(_l("Template %(name)s saved.", name=template.name_zh), "info")
            return redirect(url_for("admin.templates"))
    return _page("admin/notice_template.html", form=form, template=template)


def _topic_choices(form: TemplateForm, template: Template | None) -> None:
    """The active topics, and a retired one the template has (it may keep it)."""
    topics = catalog.offered_topics()
    if template is not None and template.topic is not None and not template.topic.active:
        topics.append(template.topic)
    form.topic_id.choices = [(None, str(_l("— choose —")))] + [
        (t.id, t.name_zh if t.active else str(_l("%(name)s (retired)", name=t.name_zh))) for t in topics]


def _save_template(form: TemplateForm, template: Template | None) -> Template | None:
    """On a valid POST, call the service; the saved template, or None to show the form (again)."""
    if not form.validate_on_submit():
        return None
    data = catalog.TemplateData(name_zh=form.name_zh.data, name_en=form.name_en.data, topic_id=form.topic_id.data,
                                body=form.body.data, body_en=form.body_en.data, urgent=form.urgent.data,
                                reply_options=catalog.options_from_lines(form.reply_options.data))
    try:
        if template is None:
            return catalog.create_template(data, actor=current_user, channel=WEB)
        catalog.update_template(template, data, actor=current_user, channel=WEB)
        return template
    except catalog.CatalogError as err:
        flash_errors(add_errors(form, err.errors))
        return None


@bp.post("/templates/<int:template_id>/retire")
def template_retire(template_id: int):
    return _set_template_active(template_id, False)


@bp.post("/templates/<int:template_id>/reactivate")
def template_reactivate(template_id: int):
    return _set_template_active(template_id, True)


def _set_template_active(template_id: int, active: bool):
    require(*MANAGE_TOPICS, back=url_for("admin.templates"))
    template = get_or_404(Template, template_id)
    catalog.set_template_active(template, active, actor=current_user, channel=WEB)
    flash(_l("Template %(name)s is offered again.", name=template.name_zh) if active
          else _l("Template %(name)s retired: the bureau no longer sees it.", name=template.name_zh), "info")
    return redirect(url_for("admin.templates"))
