"""The duty roster: which shift covers which local time (across midnight too), who is on
duty, and the rules a shift must keep (an expert, a weekday, an end that is not the start)."""
from __future__ import annotations

from datetime import datetime, time

import pytest
from sqlalchemy import func, select

from hotline import roster
from hotline.models import DutyShift
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db

# 2031-01-03 is a Friday; UTC is eight hours behind Shanghai.
FRIDAY = datetime(2031, 1, 3)


def shift(weekdays="01234", starts=time(8, 30), ends=time(17, 30)) -> DutyShift:
    return DutyShift(user_id=1, topic="crops", weekdays=weekdays, starts=starts, ends=ends)


def test_a_day_shift_covers_its_hours_on_its_days():
    day = shift()
    assert roster.covers(day, FRIDAY.replace(hour=8, minute=30))
    assert roster.covers(day, FRIDAY.replace(hour=17, minute=29))
    assert not roster.covers(day, FRIDAY.replace(hour=17, minute=30))  # the end is not covered
    assert not roster.covers(day, FRIDAY.replace(hour=8, minute=29))
    assert not roster.covers(day, datetime(2031, 1, 4, 10, 0))  # Saturday


def test_a_night_shift_runs_across_midnight_and_belongs_to_the_day_it_starts():
    night = shift(weekdays="4", starts=time(22, 0), ends=time(6, 0))  # Friday night
    assert roster.covers(night, FRIDAY.replace(hour=22))
    assert roster.covers(night, FRIDAY.replace(hour=23, minute=59))
    assert roster.covers(night, datetime(2031, 1, 4, 0, 0))  # Saturday after midnight: Friday's night
    assert roster.covers(night, datetime(2031, 1, 4, 5, 59))
    assert not roster.covers(night, datetime(2031, 1, 4, 6, 0))
    assert not roster.covers(night, FRIDAY.replace(hour=2))  # early Friday belongs to Thursday's night
    assert not roster.covers(night, FRIDAY.replace(hour=21, minute=59))
    sunday = shift(weekdays="6", starts=time(20, 0), ends=time(2, 0))
    assert roster.covers(sunday, datetime(2031, 1, 6, 1, 0))  # Monday 01:00: Sunday's night (the week wraps)
    assert not roster.covers(sunday, datetime(2031, 1, 5, 1, 0))  # Sunday 01:00: Saturday's, not on


def test_on_duty_lists_active_experts_once_in_roster_order(app, make_staff):
    first = make_staff(roles.EXPERT, name="张农技")
    second = make_staff(roles.EXPERT, name="刘兽医")
    gone = make_staff(roles.EXPERT, name="离职专家")
    demoted = make_staff(roles.EXPERT, name="改岗专家")
    for user, starts, ends in ((first, time(8), time(12)), (second, time(9), time(17)), (first, time(10), time(11)),
                               (gone, time(8), time(18)), (demoted, time(8), time(18))):
        db.session.add(DutyShift(user_id=user.id, topic="crops", weekdays="01234", starts=starts, ends=ends))
    db.session.add(DutyShift(user_id=second.id, topic="livestock", weekdays="4", starts=time(22), ends=time(6)))
    db.session.commit()
    accounts.set_active(gone, False, actor=None, channel="cli")
    accounts.set_roles(demoted, [roles.STAFF], actor=None, channel="cli")
    friday_10_30_local = datetime(2031, 1, 3, 2, 30)  # UTC
    assert roster.on_duty("crops", friday_10_30_local) == [first, second]
    assert roster.on_duty("crops", datetime(2031, 1, 4, 2, 30)) == []  # Saturday
    assert roster.on_duty("livestock", datetime(2031, 1, 3, 18, 0)) == [second]  # Saturday 02:00 local
    by_topic = dict(roster.on_duty_by_topic(friday_10_30_local))
    assert by_topic["crops"] == [first, second] and by_topic["fisheries"] == []


def _data(user_id, topic="crops", weekdays=("0", "2"), starts="08:00", ends="12:00") -> roster.ShiftData:
    return roster.ShiftData(user_id=user_id, topic=topic, weekdays=list(weekdays), starts=starts, ends=ends)


def test_add_edit_and_delete_are_audited(app, make_staff):
    clerk, expert = make_staff(roles.STAFF), make_staff(roles.EXPERT, name="张农技")
    added = roster.add(_data(expert.id, weekdays=("4", "0", "0")), actor=clerk)
    assert (added.weekdays, added.starts, added.ends) == ("04", time(8), time(12))
    changed = roster.update(added.id, _data(expert.id, topic="fisheries", starts="22:00", ends="6:00"), actor=clerk)
    assert (changed.topic, changed.starts, changed.ends, changed.weekdays) == ("fisheries", time(22), time(6), "02")
    roster.delete(added.id, actor=clerk)
    assert db.session.scalar(select(func.count(DutyShift.id))) == 0
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "roster.change")
                                 .order_by(AuditEntry.id)).all()
    assert [e.details["change"] for e in entries] == ["add", "edit", "delete"]
    assert all(e.actor_id == clerk.id and e.target_type == "hotline_duty_shifts" for e in entries)
    assert entries[1].details["before"] == {"topic": "crops", "starts": "08:00", "ends": "12:00", "weekdays": "04"}
    assert entries[1].details["after"] == {"topic": "fisheries", "starts": "22:00", "ends": "06:00", "weekdays": "02"}
    assert entries[2].details["before"]["user_id"] == expert.id
    with pytest.raises(roster.ShiftNotFound):
        roster.delete(added.id, actor=clerk)


@pytest.mark.parametrize(("changes", "field"), [
    ({"starts": "09:00", "ends": "09:00"}, "ends"),
    ({"weekdays": ()}, "weekdays"),
    ({"weekdays": ("7", "x", "01")}, "weekdays"),
    ({"topic": "astrology"}, "topic"),
    ({"starts": "25:00"}, "starts"),
    ({"ends": "noon"}, "ends"),
    ({"user_id": "not a number"}, "user_id"),
])
def test_a_shift_that_breaks_a_rule_is_refused_and_nothing_is_written(app, make_staff, changes, field):
    clerk, expert = make_staff(roles.STAFF), make_staff(roles.EXPERT)
    values = {"user_id": expert.id, "topic": "crops", "weekdays": ("0",), "starts": "08:00", "ends": "12:00",
              **changes}
    with pytest.raises(roster.RosterError) as refused:
        roster.add(roster.ShiftData(**{**values, "weekdays": list(values["weekdays"])}), actor=clerk)
    assert field in refused.value.errors
    assert db.session.scalar(select(func.count(DutyShift.id))) == 0
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "roster.change")) == 0


def test_only_active_accounts_with_the_expert_role_can_be_on_the_roster(app, make_staff, make_farmer):
    clerk = make_staff(roles.STAFF)
    for someone in (clerk, make_farmer(), make_staff(roles.LIAISON)):
        with pytest.raises(roster.RosterError) as refused:
            roster.add(_data(someone.id), actor=clerk)
        assert set(refused.value.errors) == {"user_id"}
    expert = make_staff(roles.EXPERT, roles.STAFF, name="兼职专家")
    accounts.set_active(expert, False, actor=None, channel="cli")
    with pytest.raises(roster.RosterError):
        roster.add(_data(expert.id), actor=clerk)
    assert roster.experts() == []
    accounts.set_active(expert, True, actor=None, channel="cli")
    assert roster.experts() == [expert]
    assert roster.add(_data(expert.id), actor=clerk).user_id == expert.id


def test_a_midnight_end_may_be_written_24_00():
    assert roster._time("24:00") == time(0)
    assert roster._time("8:05") == time(8, 5)
    assert roster._time("08:5") is None and roster._time("") is None and roster._time("12") is None
