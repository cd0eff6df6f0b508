"""Liaison console (filled in below)."""
from flask import Blueprint, render_template

from ruralinfo.accounts import roles
from ruralinfo.web import guard_area

bp = Blueprint("liaison", __name__)
guard_area(bp, (roles.LIAISON,))


@bp.get("/")
def index():
    return render_template("error.html", code=200, message="liaison")
