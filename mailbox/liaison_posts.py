"""The liaison's side of the market: a farmer who is with the liaison (of their
point) gets a supply or demand post written for them, or a request for contact
about post N made on their behalf — the same rules as by SMS or on the farmer's
own pages, recorded with the liaison as actor. The point also classifies its
farmers' unclassified posts, and reviews their posts held for review (publish, or
reject with the reason the farmer is told), as the bureau does. A suspended point
can look only.

A blueprint of the mailbox package mounted under ``/liaison/posts``.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import DataRequired, NumberRange

from mailbox import classify, classify_web, moderation, moderation_web, post_text, services, web_contacts
from mailbox.forms import PostForm, printable
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.liaison import services as liaison
from ruralinfo.web import flash_errors, guard_area, int_arg, page_arg

bp = Blueprint("liaison_posts", __name__)
guard_area(bp, (roles.LIAISON,))
PER_PAGE = 50
POSTS_SHOWN = 10
HELD_SHOWN = 200


class AskForm(FlaskForm):
    post = IntegerField(_l("Post number"), validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)],
                        render_kw={"inputmode": "numeric", "size": 8})


@bp.app_context_processor
def _liaison_nav():
    """``liaison_posts_held()`` for the liaison console's nav: their farmers' posts held for review."""
    def held() -> int:
        if not current_user.is_authenticated or not current_user.has_role(roles.LIAISON):
            return 0
        return accounts.count(moderation.queue(liaison.scope_of(current_user)))
    return {"liaison_posts_held": held}


@bp.before_request
def _load_point():
    g.point = liaison.point_of(current_user)
    g.scope = liaison.scope_of(current_user)


def _farmer_or_404(user_id: int):
    farmer = accounts.farmer_in_scope(user_id, g.scope)
    if farmer is None or not farmer.active:  # a deactivated account neither posts nor asks
        abort(404)
    return farmer


def _post_number() -> int | None:
    number = int_arg(request.args, "post")
    return number if number and 0 < number < 2**31 else None


def _writable() -> bool:
    """A suspended point (or a liaison with none) can look, not write."""
    if g.point is None:
        abort(403)
    try:
        rules.check_may_write(current_user)
    except rules.PointSuspended as err:
        flash(str(err), "error")
        return False
    return True


@bp.get("/")
def index():
    """Pick the farmer who is with you (``?post=N`` is carried to their page)."""
    search = (printable(request.args.get("q")) or "").strip()[:40]
    pagination = None
    if g.point is not None:
        page = page_arg()
        pagination = db.paginate(accounts.farmers(g.scope, search=search, include_inactive=False), page=page,
                                 per_page=PER_PAGE, error_out=False)
    waiting = db.session.scalars(classify.unclassified(g.scope)).all() if g.point is not None else []
    return render_template("liaison/posts.html", point=g.point, pagination=pagination, search=search,
                           post_number=_post_number(), unclassified=waiting)


@bp.post("/<int:post_id>/classify")
def classify_post(post_id: int):
    """Say what an unclassified post of one of the point's farmers is; it is then matched."""
    classify_web.classify_from_form(post_id)
    return redirect(url_for(".index", _anchor="unclassified"))


@bp.get("/review")
def review():
    """The posts of the point's farmers held for review, oldest first (only theirs)."""
    held = db.session.scalars(moderation.queue(g.scope).limit(HELD_SHOWN)).all() if g.point is not None else []
    return render_template("liaison/posts_review.html", point=g.point, held=held, what=post_text.of_post)


@bp.post("/<int:post_id>/approve")
def approve(post_id: int):
    """Publish a held post of one of the point's farmers; it is then matched."""
    if _writable():
        moderation_web.approve_from_form(post_id)
    return redirect(url_for(".review"))


@bp.post("/<int:post_id>/reject")
def reject(post_id: int):
    """Reject a held post of one of the point's farmers; the farmer is told why by SMS."""
    if _writable():
        moderation_web.reject_from_form(post_id)
    return redirect(url_for(".review"))


def _render(farmer, post_form=None, ask_form=None):
    ask_form = ask_form or AskForm(formdata=None, post=_post_number())
    posts = db.session.scalars(services.posts_of(farmer).limit(POSTS_SHOWN)).all()
    return render_template("liaison/posts_farmer.html", point=g.point, farmer=farmer,
                           post_form=post_form or PostForm(formdata=None), ask_form=ask_form, posts=posts)


@bp.get("/farmers/<int:user_id>")
def farmer(user_id: int):
    return _render(_farmer_or_404(user_id))


@bp.post("/farmers/<int:user_id>/post")
def post(user_id: int):
    """Write a 卖/买 post for the farmer."""
    farmer = _farmer_or_404(user_id)
    if not _writable():
        return redirect(url_for(".farmer", user_id=farmer.id))
    form = PostForm()
    if not form.validate_on_submit():
        return _render(farmer, post_form=form)
    try:
        new = web_contacts.post_for(farmer, form.kind.data, form.text.data, liaison=current_user)
    except services.MailboxError as err:
        flash_errors(err.errors.values())
        return _render(farmer, post_form=form)
    flash(web_contacts.saved_message(new, for_name=farmer.name), "success")
    return redirect(url_for(".farmer", user_id=farmer.id))


@bp.post("/farmers/<int:user_id>/ask")
def ask(user_id: int):
    """Ask for contact about post N for the farmer: the owner is asked, as if the
    farmer had texted CONTACT N."""
    farmer = _farmer_or_404(user_id)
    if not _writable():
        return redirect(url_for(".farmer", user_id=farmer.id))
    form = AskForm()
    if not form.validate_on_submit():
        return _render(farmer, ask_form=form)
    try:
        asked = web_contacts.ask(form.post.data, user=farmer, actor=current_user)
    except web_contacts.Refused as refused:
        flash(str(refused), "error")
        return _render(farmer, ask_form=form)
    flash(web_contacts.asked_message(asked, form.post.data, for_name=farmer.name), "success")
    return redirect(url_for(".farmer", user_id=farmer.id))
