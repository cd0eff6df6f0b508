"""Admin view (filled in below)."""
from flask import Blueprint, render_template

from ruralinfo.accounts import roles
from ruralinfo.web import guard_area

bp = Blueprint("admin", __name__)
guard_area(bp, roles.ADMIN_VIEW)


@bp.get("/")
def index():
    return render_template("error.html", code=200, message="admin")
