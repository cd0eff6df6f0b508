"""Working days and a question's deadline: Chinese holidays, 调休 weekends, local days."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from hotline import workdays
from ruralinfo import config


def utc(*args) -> datetime:
    return datetime(*args)


def test_national_day_2026_and_its_working_weekend_days():
    assert not any(workdays.is_working_day(date(2026, 10, day)) for day in range(1, 8))  # 国庆: 1–7 October off
    assert workdays.is_working_day(date(2026, 9, 20))  # a Sunday worked for it (调休)
    assert workdays.is_working_day(date(2026, 10, 10))  # a Saturday worked for it (调休)
    assert not workdays.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert not workdays.is_working_day(date(2026, 9, 25))  # 中秋, a Friday
    assert workdays.is_working_day(date(2026, 10, 8))


@pytest.mark.parametrize(("received", "n", "expected"), [
    (date(2026, 9, 30), 3, date(2026, 10, 10)),  # Thu 8, Fri 9, then the working Saturday
    (date(2026, 10, 3), 3, date(2026, 10, 10)),  # a holiday: the same three days
    (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Friday: the next working day is Saturday
    (date(2026, 10, 9), 3, date(2026, 10, 13)),  # Sat 10, Mon 12, Tue 13
    (date(2026, 9, 18), 3, date(2026, 9, 22)),  # Sun 20 (调休), Mon 21, Tue 22
    (date(2026, 9, 23), 3, date(2026, 9, 29)),  # Thu 24, (中秋 Fri 25, weekend), Mon 28, Tue 29
    (date(2025, 12, 30), 2, date(2026, 1, 4)),  # across the new year: Wed 31, (1–3 January off), Sun 4 (调休)
    (date(2025, 12, 30), 3, date(2026, 1, 5)),
])
def test_the_nth_working_day_after_a_day(received, n, expected):
    assert workdays.nth_working_day_after(received, n) == expected


def test_the_day_itself_never_counts():
    with pytest.raises(ValueError):
        workdays.nth_working_day_after(date(2026, 9, 30), 0)


def test_the_deadline_is_the_end_of_the_third_working_day_in_local_time(app):
    # received 30 September, morning or the last minute of the day (15:59 UTC = 23:59 in Shanghai)
    for received in (utc(2026, 9, 30, 1, 0), utc(2026, 9, 30, 15, 59)):
        assert workdays.deadline(received) == utc(2026, 10, 10, 16, 0)  # midnight ending 10 October, local
    # 16:30 UTC on 30 September is already 1 October in Shanghai: a holiday, the same deadline
    assert workdays.deadline(utc(2026, 9, 30, 16, 30)) == utc(2026, 10, 10, 16, 0)
    # 16:30 UTC on 9 October is Saturday 10 October local: Mon 12, Tue 13, Wed 14
    assert workdays.deadline(utc(2026, 10, 9, 16, 30)) == utc(2026, 10, 14, 16, 0)


def test_in_time_means_before_the_deadline(app):
    received = utc(2026, 9, 30, 2, 0)
    assert workdays.in_time(received, utc(2026, 10, 10, 15, 59, 59))  # Saturday 23:59:59 local
    assert not workdays.in_time(received, utc(2026, 10, 10, 16, 0))  # Sunday 00:00 local
    assert not workdays.in_time(received, None)


def test_question_sla_days_is_configurable(app_config, request, monkeypatch):
    app_config["QUESTION_SLA_DAYS"] = 1
    request.getfixturevalue("app")
    assert workdays.sla_days() == 1
    assert workdays.deadline(utc(2026, 9, 30, 2, 0)) == utc(2026, 10, 8, 16, 0)
    assert workdays.deadline(utc(2026, 9, 30, 2, 0), days=3) == utc(2026, 10, 10, 16, 0)
    monkeypatch.setenv("QUESTION_SLA_DAYS", "5")
    assert config.from_environment()["QUESTION_SLA_DAYS"] == 5
    assert config.defaults("/tmp")["QUESTION_SLA_DAYS"] == 3
