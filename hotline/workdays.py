"""Working days in China, and the deadline of a question to the experts.

**The deadline.** A question received at local time ``t`` (``TIMEZONE``, Asia/Shanghai)
on the local date ``d`` is due by the *end of the N-th working day after d*, where N is
``QUESTION_SLA_DAYS`` (3 by default): the day it arrived never counts, whatever the
hour and whether or not it is a working day; the next N working days do, and the answer
is in time when it is given before midnight (local) that ends the N-th. So a question
received on Wednesday 30 September 2026 (any hour) is due by the end of Saturday
10 October 2026: 1–7 October are the National Day holiday (国庆), Thursday 8 and
Friday 9 are working days, and Saturday 10 is a 调休 working day.

**A working day** is Monday to Friday that is not a public holiday, or a Saturday or
Sunday that the State Council made a working day (调休), as the ``holidays`` library
knows them (``holidays.China``: its public holidays and ``weekend_workdays``). For a
year the library does not yet know the 调休 of, weekends are days off and the public
holidays are those its rules compute.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from flask import current_app

from ruralinfo.timeutil import local_zone, to_local

DEFAULT_SLA_DAYS = 3


@lru_cache(maxsize=64)
def _calendar(year: int) -> holidays.HolidayBase:
    """China's calendar from ``year`` (it grows by itself to the years it is asked about)."""
    return holidays.China(years=(year, year + 1))


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in China (调休 weekends included, holidays not)."""
    return _calendar(day.year).is_working_day(day)


@lru_cache(maxsize=4096)
def nth_working_day_after(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``day`` itself never counts; ``n`` ≥ 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return _calendar(day.year).get_nth_working_day(day, n)


def sla_days() -> int:
    """``QUESTION_SLA_DAYS``: how many working days an answer may take."""
    return int(current_app.config.get("QUESTION_SLA_DAYS") or DEFAULT_SLA_DAYS)


def local_deadline(received: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The deadline (aware, in ``zone``) of a question received at the aware time ``received``."""
    last = nth_working_day_after(received.astimezone(zone).date(), days)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)


def deadline(received_utc: datetime, days: int | None = None) -> datetime:
    """The deadline of a question received at the stored (naive UTC) time ``received_utc``,
    as naive UTC like the stored times: answered before it is answered in time."""
    zone = local_zone()
    due = local_deadline(to_local(received_utc), sla_days() if days is None else days, zone)
    return due.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def in_time(received_utc: datetime, answered_utc: datetime | None, days: int | None = None) -> bool:
    """Whether an answer given at ``answered_utc`` met the deadline (no answer: no)."""
    return answered_utc is not None and answered_utc < deadline(received_utc, days)
