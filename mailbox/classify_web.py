"""The one web action behind both "Classify" forms (the bureau's and the liaison's)."""
from __future__ import annotations

from flask import flash, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mailbox import classify
from ruralinfo.audit.services import WEB
from ruralinfo.web import flash_errors


def classify_from_form(post_id: int) -> None:
    """Classify post ``post_id`` as the form's ``product`` says, and say what happened."""
    try:
        post = classify.classify(post_id, request.form.get("product", ""), actor=current_user, channel=WEB)
    except classify.ClassifyError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("Post no. %(n)s is classified as %(product)s: %(num)s matching posts found.", n=post.id,
                 product=post.product.name_zh, num=post.matches_found), "success")
