"""The bureau's review of posts, at ``/bureau/posts``: the posts held for review
(banned words, unusual prices, or every post when POST_MODERATION is ``before``) —
approve, or reject with the reason the farmer is told — and hiding a published one."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mailbox import classify, classify_web, moderation, post_text
from ruralinfo.accounts import roles
from ruralinfo.audit.services import WEB
from ruralinfo.extensions import db
from ruralinfo.web import flash_errors, guard_area

bp = Blueprint("bureau_posts", __name__)
guard_area(bp, (roles.STAFF, roles.APPROVER, roles.ADMIN))


@bp.get("/")
def index():
    held = db.session.scalars(moderation.queue().limit(200)).all()
    waiting = db.session.scalars(classify.unclassified(None)).all()
    return render_template("bureau/posts.html", held=held, unclassified=waiting, what=post_text.of_post)


@bp.post("/<int:post_id>/classify")
def classify_post(post_id: int):
    """Say what an unclassified post is; it is then matched."""
    classify_web.classify_from_form(post_id)
    return redirect(url_for(".index", _anchor="unclassified"))


def _act(action, post_id: int, done):
    try:
        post = action(post_id)
    except moderation.ReviewError as err:
        flash_errors(err.errors.values())
    else:
        flash(done(post), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:post_id>/approve")
def approve(post_id: int):
    return _act(lambda pid: moderation.approve(pid, actor=current_user, channel=WEB), post_id,
                lambda post: _l("Post no. %(n)s is published.", n=post.id))


@bp.post("/<int:post_id>/reject")
def reject(post_id: int):
    reason = request.form.get("reason", "")
    return _act(lambda pid: moderation.reject(pid, actor=current_user, reason=reason, channel=WEB), post_id,
                lambda post: _l("Post no. %(n)s is rejected; the farmer is told why.", n=post.id))


@bp.post("/hide")
def hide():
    reason = request.form.get("reason", "")
    post_id = request.form.get("post_id", 0, type=int)
    return _act(lambda pid: moderation.hide(pid, actor=current_user, reason=reason, channel=WEB), post_id,
                lambda post: _l("Post no. %(n)s is taken out of the market; the farmer is told why.", n=post.id))
