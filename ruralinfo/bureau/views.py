"""The bureau's start page: registrations across the county at a glance."""
from __future__ import annotations

from flask import Blueprint, render_template

from ruralinfo.accounts import roles
from ruralinfo.bureau import services
from ruralinfo.web import guard_area

bp = Blueprint("bureau", __name__)
guard_area(bp, roles.BUREAU)


@bp.get("/")
def index():
    return render_template("bureau/index.html", summary=services.summary())


@bp.get("/texts")
def texts():
    """Farmers' texts that reached no liaison point (their village has none yet)."""
    return render_template("bureau/texts.html", texts=services.unrouted_texts())
