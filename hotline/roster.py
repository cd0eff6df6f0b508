"""The duty roster: which expert covers which topic at which hours."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hotline.models import DutyShift
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc, to_local


def covers(shift: DutyShift, local: datetime) -> bool:
    """Whether ``shift`` covers the local time ``local`` (a shift across midnight counts
    for the weekday it started on)."""
    at, day = local.time(), local.weekday()
    if shift.starts <= shift.ends:
        return str(day) in shift.weekdays and shift.starts <= at < shift.ends
    if at >= shift.starts:
        return str(day) in shift.weekdays
    return at < shift.ends and str((day - 1) % 7) in shift.weekdays


def on_duty(topic: str, at: datetime | None = None) -> list[User]:
    """The active experts covering ``topic`` now (or at UTC ``at``), each once, in roster order."""
    local = to_local(at or now_utc())
    shifts = db.session.scalars(select(DutyShift).where(DutyShift.topic == topic).order_by(DutyShift.id)).all()
    experts: list[User] = []
    for shift in shifts:
        if covers(shift, local) and shift.user.active and shift.user not in experts:
            experts.append(shift.user)
    return experts
