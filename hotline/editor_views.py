"""The hotline menu in the admin view (``/admin/hotline``): the published tree and the
draft side by side, a node's page with its forms, publishing, the history with restore;
and the recorded prompts served to Twilio (``/voice/prompts/<name>``, no log-in).

Everyone in the admin view may look; a POST by anyone but an administrator is refused
with 403. Every action URL also answers GET by leading to its page, so that a reloaded
or bookmarked action URL lands on the form rather than an error. The rules are in
``hotline.editor``.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from hotline import editor, editor_tree, prompts, topics
from hotline.editor_forms import ACTION_LABELS, MoveForm, NodeForm, PublishForm, RecordingForm
from hotline.models import DRAFT, MenuNode, MenuVersion
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.audit.services import WEB
from ruralinfo.extensions import db
from ruralinfo.web import add_errors, flash_errors, guard_area

bp = Blueprint("menu_editor", __name__)
guard_area(bp, roles.ADMIN_VIEW)
EDITORS = (roles.ADMIN,)

prompts_bp = Blueprint("voice_prompts", __name__)


@bp.before_request
def _only_administrators_change():
    if request.method == "POST" and not current_user.has_role(*EDITORS):
        abort(403)


@bp.context_processor
def _inject():
    return {"admin_section": "hotline_menu", "can_edit_menu": current_user.has_role(*EDITORS),
            "action_label": lambda code: str(ACTION_LABELS.get(code, code)), "topic_label": topics.label,
            "version_note": _note}


SHIPPED_NOTE = "default tree"  # the note the migration gives the tree it ships


def _note(version: MenuVersion) -> str:
    """A version's note; the shipped tree's, in the reader's language."""
    return str(_l("The default tree, as shipped")) if version.note == SHIPPED_NOTE else version.note


@bp.errorhandler(413)
def _too_large(_err):
    """A recording over the request limit (the app's 413 page names the spreadsheets' limit)."""
    node_id = (request.view_args or {}).get("node_id")
    return render_template("admin/hotline/error.html", message=prompts.too_large(), node_id=node_id), 413


# --- the tree, publishing, the history --------------------------------------------------------

@bp.get("/")
def index():
    draft, published = editor_tree.draft(), editor_tree.published()
    changes = editor_tree.compare(published, draft) if draft else {}
    marks = {node.id: kind for kind in ("added", "changed") for _name, node in changes.get(kind, [])}
    return render_template("admin/hotline/index.html", draft=draft, published=published,
                           draft_tree=editor_tree.outline(draft) if draft else None,
                           published_tree=editor_tree.outline(published) if published else None,
                           problems=editor_tree.problems(draft) if draft else [], marks=marks,
                           removed=[name for name, _node in changes.get("removed", [])],
                           publish_form=PublishForm(formdata=None))


@bp.route("/draft", methods=["GET", "POST"])
def start():
    if request.method == "GET":
        return redirect(url_for(".index"))
    try:
        _draft, new = editor.start_editing(actor=current_user)
    except editor.MenuError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("A draft is ready: change it, then publish it.") if new
              else _l("A draft is already being edited: here it is."), "info")
    return redirect(url_for(".index"))


@bp.route("/draft/publish", methods=["GET", "POST"])
def publish():
    if request.method == "GET":
        return redirect(url_for(".index", _anchor="publish"))
    form = PublishForm()
    try:
        version = editor.publish(actor=current_user, note=form.note.data or "", channel=WEB)
    except editor.NotPublishable as err:
        flash(_l("The draft cannot be published yet:"), "error")
        flash_errors(err.problems)
    except editor.MenuError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("Version %(number)s is published: callers hear it from their next call.", number=version.id),
              "info")
    return redirect(url_for(".index"))


@bp.route("/draft/discard", methods=["GET", "POST"])
def discard():
    if request.method == "GET":
        return redirect(url_for(".index"))
    try:
        editor.discard(actor=current_user)
    except editor.MenuError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("The draft was discarded. Callers hear what they heard before."), "info")
    return redirect(url_for(".index"))


@bp.get("/versions")
def history():
    rows = editor_tree.versions()
    ids = {row.created_by_id for row in rows} | {row.published_by_id for row in rows}
    people = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids - {None})))}
    return render_template("admin/hotline/history.html", rows=rows, people=people,
                           has_draft=any(row.status == DRAFT for row in rows))


@bp.get("/versions/<int:version_id>")
def version(version_id: int):
    row = _get(MenuVersion, version_id)
    return render_template("admin/hotline/version.html", version=row, outline=editor_tree.outline(row))


@bp.route("/versions/<int:version_id>/restore", methods=["GET", "POST"])
def restore(version_id: int):
    if request.method == "GET":
        return redirect(url_for(".version", version_id=version_id))
    try:
        draft = editor.restore(_get(MenuVersion, version_id), actor=current_user, channel=WEB)
    except editor.MenuError as err:
        flash_errors(err.errors.values())
        return redirect(url_for(".history"))
    flash(_l("Version %(number)s is copied into a new draft: check it, then publish it.", number=version_id),
          "info")
    return redirect(url_for(".index", _anchor=f"draft-{draft.id}"))


# --- a node --------------------------------------------------------------------------------

@bp.get("/nodes/<int:node_id>")
def node(node_id: int):
    return _page(_get(MenuNode, node_id))


def _page(node: MenuNode, **forms):
    """The node's page, with the forms given (those that failed) or fresh ones."""
    editable = node.version.status == DRAFT
    edit = forms.get("edit") or NodeForm(formdata=None, obj=node)
    edit.fill([] if node.parent is None else [node.key] + editor_tree.free_keys(node.parent, node))
    add = forms.get("add") or NodeForm(formdata=None)
    add.fill(editor_tree.free_keys(node))
    move = forms.get("move") or MoveForm(formdata=None, parent_id=node.parent_id, key=node.key)
    move.parent_id.choices = [(menu.id, " › ".join(n.title_zh for n in editor_tree.trail(menu)))
                              for menu in editor_tree.menus(node.version, node)] if editable else []
    move.key.choices = [(key, key) for key in editor_tree.DIGITS]
    return render_template("admin/hotline/node.html", node=node, editable=editable, trail=editor_tree.trail(node),
                           below=len(editor_tree.below(node)), edit_form=edit, add_form=add, move_form=move,
                           recording_form=forms.get("recording") or RecordingForm(formdata=None),
                           twilio_plays=prompts.twilio_plays(node.recording))


def action(rule: str, anchor: str):
    """An administrator's change at a node: POST does it, GET leads to the node's page."""
    def register(view):
        @wraps(view)
        def run(node_id: int):
            if request.method == "GET":
                return redirect(url_for(".node", node_id=node_id, _anchor=anchor))
            return view(_get(MenuNode, node_id))
        bp.add_url_rule(f"/nodes/<int:node_id>/{rule}", view.__name__, run, methods=["GET", "POST"])
        return run
    return register


@action("edit", "edit")
def edit(node: MenuNode):
    form = NodeForm()
    try:
        editor.edit_node(node, form.data_for_service(), actor=current_user)
    except editor.MenuError as err:
        flash_errors(add_errors(form, err.errors))
        return _page(_get(MenuNode, node.id), edit=form)
    return _done(node.id, _l("Saved."), "edit")


@action("add", "add")
def add(node: MenuNode):
    form = NodeForm()
    try:
        child = editor.add_node(node, form.data_for_service(), actor=current_user)
    except editor.MenuError as err:
        flash_errors(add_errors(form, err.errors))
        return _page(_get(MenuNode, node.id), add=form)
    return _done(child.id, _l("“%(name)s” added on the key %(key)s.", name=child.title_zh, key=child.key))


@action("move", "move")
def move(node: MenuNode):
    form = MoveForm()
    try:
        editor.move_node(node, form.parent_id.data, form.key.data or "", actor=current_user)
    except editor.MenuError as err:
        flash_errors(add_errors(form, err.errors))
        return _page(_get(MenuNode, node.id), move=form)
    return _done(node.id, _l("Moved."))


@action("delete", "delete")
def delete(node: MenuNode):
    parent_id = node.parent_id
    try:
        gone = editor.delete_node(node, actor=current_user)
    except editor.MenuError as err:
        flash_errors(err.errors.values())
        return redirect(url_for(".node", node_id=node.id))
    return _done(parent_id, _l("Deleted.") if gone == 1
                 else _l("Deleted, with what was under it: %(num)s places in all.", num=gone))


@action("recording", "recording")
def upload(node: MenuNode):
    form = RecordingForm()
    try:
        name = prompts.save(form.file.data)
        node = editor.set_recording(node, name, actor=current_user)
    except prompts.PromptRefused as err:
        flash(str(err), "error")
        return _page(node, recording=form)
    except editor.MenuError as err:
        flash_errors(err.errors.values())
        return redirect(url_for(".node", node_id=node.id, _anchor="recording"))
    if not prompts.twilio_plays(name):
        flash(_l("Recording kept, but Twilio plays only MP3 and WAV: callers on Twilio hear the spoken "
                 "prompt instead. Upload an MP3 or WAV to be heard there."), "error")
    return _done(node.id, _l("Recording saved: callers hear it instead of the spoken prompt."), "recording")


@action("recording/remove", "recording")
def remove_recording(node: MenuNode):
    try:
        editor.set_recording(node, "", actor=current_user)
    except editor.MenuError as err:
        flash_errors(err.errors.values())
        return redirect(url_for(".node", node_id=node.id, _anchor="recording"))
    return _done(node.id, _l("Recording removed: callers hear the spoken prompt."), "recording")


def _done(node_id: int, message, anchor: str = ""):
    flash(message, "info")
    return redirect(url_for(".node", node_id=node_id, _anchor=anchor or None))


def _get(model, ident: int):
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


# --- recorded prompts, for Twilio -------------------------------------------------------------

@prompts_bp.get("/<name>")
def audio(name: str):
    """A recorded prompt (no log-in: Twilio fetches it). Only our random names; else 404."""
    try:
        found = prompts.path(name)
    except LookupError:
        abort(404)
    return send_file(found, mimetype=prompts.content_type(name), conditional=True, max_age=86400 * 30)
