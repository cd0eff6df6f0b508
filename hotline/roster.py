"""The duty roster: which expert covers which topic at which hours.

A shift names one account with the expert role, a topic, the weekdays (Monday = 0) and
two local times; ``ends`` before ``starts`` runs across midnight and belongs to the
weekday it started on. The voice driver asks ``on_duty`` whom to ring; the bureau edits
the shifts here (every change audited as ``roster.change``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline import topics
from hotline.models import DutyShift
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User, UserRole
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.web import DB_INT_MAX
from ruralinfo.timeutil import now_utc, to_local

WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


class RosterError(FieldErrors):
    """A shift cannot be saved as given; ``errors`` says which field and why."""


class ShiftNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ShiftData:
    """A shift as typed in the form, before it is checked."""

    user_id: str | int | None
    topic: str
    weekdays: list[str]
    starts: str
    ends: str


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
        user = shift.user
        if covers(shift, local) and user.active and user.has_role(roles.EXPERT) and user not in experts:
            experts.append(user)
    return experts


def on_duty_by_topic(at: datetime | None = None) -> list[tuple[str, list[User]]]:
    """Every topic with the experts on duty for it now (or at UTC ``at``)."""
    return [(code, on_duty(code, at)) for code in topics.TOPICS]


def shifts() -> list[DutyShift]:
    """The whole roster, by topic (in the topics' order), then start time."""
    order = {code: number for number, code in enumerate(topics.TOPICS)}
    found = db.session.scalars(select(DutyShift).order_by(DutyShift.starts, DutyShift.id)).all()
    return sorted(found, key=lambda shift: order.get(shift.topic, len(order)))


def experts() -> list[User]:
    """The active accounts with the expert role: who may be put on the roster."""
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == roles.EXPERT, User.active.is_(True)).order_by(User.name, User.id)))


def get(shift_id: int) -> DutyShift:
    shift = db.session.get(DutyShift, shift_id)
    if shift is None:
        raise ShiftNotFound(shift_id)
    return shift


def weekday_names(shift: DutyShift) -> str:
    """``Mon, Wed, Fri`` (in the reader's language)."""
    return ", ".join(str(WEEKDAYS[int(day)]) for day in sorted(shift.weekdays) if day.isdigit() and int(day) < 7)


def add(data: ShiftData, *, actor: User, channel: str = audit.WEB) -> DutyShift:
    """Put an expert on the roster."""
    values = _clean(data)
    shift = DutyShift(**values)
    db.session.add(shift)
    db.session.flush()
    audit.record("roster.change", shift, actor=actor, channel=channel, details={"change": "add"},
                 after=_snapshot(shift))
    db.session.commit()
    return shift


def update(shift_id: int, data: ShiftData, *, actor: User, channel: str = audit.WEB) -> DutyShift:
    """Change a shift (its expert, topic, days or hours)."""
    shift = get(shift_id)
    values = _clean(data)
    before = _snapshot(shift)
    for key, value in values.items():
        setattr(shift, key, value)
    db.session.flush()
    audit.record("roster.change", shift, actor=actor, channel=channel, details={"change": "edit"},
                 before=before, after=_snapshot(shift))
    db.session.commit()
    return shift


def delete(shift_id: int, *, actor: User, channel: str = audit.WEB) -> None:
    """Take a shift off the roster."""
    shift = get(shift_id)
    audit.record("roster.change", shift, actor=actor, channel=channel, details={"change": "delete"},
                 before=_snapshot(shift))
    db.session.delete(shift)
    db.session.commit()


def _snapshot(shift: DutyShift) -> dict:
    return {"user_id": shift.user_id, "topic": shift.topic, "weekdays": shift.weekdays,
            "starts": shift.starts.strftime("%H:%M"), "ends": shift.ends.strftime("%H:%M")}


def _clean(data: ShiftData) -> dict:
    """The checked values of a shift, or ``RosterError`` with every problem at once."""
    errors: dict[str, str] = {}
    expert = _expert(data.user_id)
    if expert is None:
        errors["user_id"] = str(_l("Choose an expert: only accounts with the expert role can be on duty."))
    if data.topic not in topics.TOPICS:
        errors["topic"] = str(_l("Choose a topic from the list."))
    days = "".join(sorted({day for day in data.weekdays if day in "0123456" and len(day) == 1}))
    if not days:
        errors["weekdays"] = str(_l("Choose at least one weekday."))
    starts, ends = _time(data.starts), _time(data.ends)
    if starts is None:
        errors["starts"] = str(_l("Enter the start as hours and minutes, e.g. 08:30."))
    if ends is None:
        errors["ends"] = str(_l("Enter the end as hours and minutes, e.g. 17:30."))
    elif starts is not None and starts == ends:
        errors["ends"] = str(_l("A shift must end at another time than it starts (an end before the start "
                                "runs across midnight)."))
    if errors:
        raise RosterError(errors)
    return {"user_id": expert.id, "topic": data.topic, "weekdays": days, "starts": starts, "ends": ends}


def _expert(user_id) -> User | None:
    try:
        number = int(user_id)
        user = db.session.get(User, number) if 0 < number <= DB_INT_MAX else None
    except (TypeError, ValueError):
        return None
    if user is None or not user.active or not user.has_role(roles.EXPERT):
        return None
    return user


def _time(text: str | None) -> time | None:
    """``08:30`` or ``8:30`` (a ``24:00`` end is midnight: ``00:00``)."""
    hours, colon, minutes = (text or "").strip().partition(":")
    if not colon or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 or len(hours) > 2:
        return None
    h, m = int(hours), int(minutes)
    if (h, m) == (24, 0):
        return time(0)
    if h > 23 or m > 59:
        return None
    return time(h, m)
