"""The bureau's view of how the liaison points answer their letters: the reply
rate (答复率) and the median time to answer of every point, the figure the
counties publish. Mounted under ``/bureau/letters`` (the core never imports the
mailbox)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from mailbox import point_letters
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.timeutil import now_utc
from ruralinfo.web import guard_area

bp = Blueprint("bureau_letters", __name__)
guard_area(bp, (roles.STAFF, roles.APPROVER, roles.ADMIN))
PERIODS = (7, 30, 90, 365)


@bp.get("/")
def rates():
    """Every point, the worst reply rate first (points that received nothing last)."""
    days = request.args.get("days", 30, type=int)
    days = days if days in PERIODS else 30
    found = point_letters.reply_rates(now_utc() - timedelta(days=days))
    points = db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.name)).all()
    rows = [(point, found.get(point.id)) for point in points]
    rows.sort(key=lambda row: (row[1] is None or row[1].rate is None, row[1].rate if row[1] else 0))
    total = [rate for _point, rate in rows if rate is not None]
    received = sum(rate.received for rate in total)
    in_time = sum(rate.answered_in_time for rate in total)
    return render_template("bureau/letters.html", rows=rows, days=days, periods=PERIODS,
                           sla_days=current_app.config["LETTER_SLA_DAYS"], received=received, in_time=in_time,
                           pending=sum(rate.pending for rate in total))
