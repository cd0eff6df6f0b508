"""The bureau's start page: registrations across the county at a glance; and the
received texts that need the bureau (no liaison point, or handling failed)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ruralinfo.accounts import roles
from ruralinfo.bureau import services
from ruralinfo.web import guard_area

bp = Blueprint("bureau", __name__)
guard_area(bp, (*roles.BUREAU, roles.ADMIN))  # an administrator sees all a clerk sees


@bp.get("/")
def index():
    return render_template("bureau/index.html", summary=services.summary())


@bp.get("/texts")
def texts():
    """Farmers' texts that reached no liaison point (their village has none yet), and
    texts whose handling failed."""
    return render_template("bureau/texts.html", texts=services.unrouted_texts(), failed=services.failed_texts(),
                           strangers=services.unknown_senders(), reasons={
                               services.NO_POINT: _l("No liaison point serves this village yet."),
                               services.POINT_SUSPENDED: _l("The liaison point of this village is suspended.")})


@bp.post("/texts/<int:message_id>/handle")
def handle_text(message_id: int):
    try:
        error = services.handle_again(message_id, actor=current_user)
    except services.TextNotFailed:
        flash(_l("That text is already handled."), "info")
    else:
        if error is None:
            flash(_l("The text is handled now."), "info")
        else:
            flash(_l("Handling the text failed again: %(error)s", error=error), "error")
    return redirect(url_for("bureau.texts"))
