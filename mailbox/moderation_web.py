"""The web actions behind the review forms, the bureau's (``/bureau/posts``) and the
liaison's (``/liaison/posts/review``) alike: decide as the logged-in user, say what
happened. Who may decide about which post is the service's rule (``moderation``)."""
from __future__ import annotations

from flask import flash, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mailbox import moderation
from ruralinfo.audit.services import WEB
from ruralinfo.web import flash_errors, int_arg


def _act(action, done) -> None:
    try:
        post = action()
    except moderation.ReviewError as err:
        flash_errors(err.errors.values())
    else:
        flash(done(post), "success")


def approve_from_form(post_id: int) -> None:
    """Publish held post ``post_id`` (it is then matched)."""
    _act(lambda: moderation.approve(post_id, actor=current_user, channel=WEB),
         lambda post: _l("Post no. %(n)s is published.", n=post.id))


def reject_from_form(post_id: int) -> None:
    """Reject held post ``post_id`` for the form's ``reason``, which the farmer is told."""
    reason = request.form.get("reason", "")
    _act(lambda: moderation.reject(post_id, actor=current_user, reason=reason, channel=WEB),
         lambda post: _l("Post no. %(n)s is rejected; the farmer is told why.", n=post.id))


def hide_from_form() -> None:
    """Take the form's ``post_id`` out of the market for the form's ``reason``."""
    reason = request.form.get("reason", "")
    post_id = int_arg(request.form, "post_id", 0)
    _act(lambda: moderation.hide(post_id, actor=current_user, reason=reason, channel=WEB),
         lambda post: _l("Post no. %(n)s is taken out of the market; the farmer is told why.", n=post.id))
