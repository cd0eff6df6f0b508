"""The bureau's review of posts, at ``/bureau/posts``: the posts held for review
(banned words, unusual prices, or every post when POST_MODERATION is ``before``) —
approve, or reject with the reason the farmer is told — and hiding a published one.
(The liaison reviews their own farmers' posts at ``/liaison/posts/review``.)"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from mailbox import classify, classify_web, moderation, moderation_web, post_text
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from ruralinfo.web import guard_area

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


@bp.post("/<int:post_id>/approve")
def approve(post_id: int):
    moderation_web.approve_from_form(post_id)
    return redirect(url_for(".index"))


@bp.post("/<int:post_id>/reject")
def reject(post_id: int):
    moderation_web.reject_from_form(post_id)
    return redirect(url_for(".index"))


@bp.post("/hide")
def hide():
    moderation_web.hide_from_form()
    return redirect(url_for(".index"))
