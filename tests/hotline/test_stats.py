"""The reply rate 办结回复率 and its companions, against figures computed by hand.

The period is 28 September – 9 October 2026 (local days), around 国庆: 1–7 October off,
Saturday 10 October a working day (调休). Times below are UTC; Shanghai is UTC+8.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest

from hotline import stats
from hotline.models import (CALLBACK, CALLED_BACK, CONNECTED, INBOUND, MISSED, QUESTION_LEFT, SATISFIED,
                            UNSATISFIED, WAITING, Call, Question)
from ruralinfo.accounts import roles
from ruralinfo.extensions import db

PERIOD = stats.Period(stats.CUSTOM, date(2026, 9, 28), date(2026, 10, 9))
AT = datetime(2026, 10, 13, 0, 0)  # "now": Tuesday 13 October, 08:00 local


def question(topic, created, answered=None, expert=None, rating=None) -> Question:
    found = Question(topic=topic, channel="sms", text="葡萄叶子发黄", phone="+8613800000001", created_at=created,
                     status="answered" if answered else WAITING, answered_at=answered,
                     answered_by_id=expert.id if expert else None, rating=rating)
    db.session.add(found)
    return found


@pytest.fixture
def county(app, make_staff):
    a, b = make_staff(roles.EXPERT, name="甲专家"), make_staff(roles.EXPERT, name="乙专家")
    # Q1 crops, Mon 28 Sep 09:00 local; due end of Thu 8 Oct; answered 4 h later: in time, satisfied
    question("crops", datetime(2026, 9, 28, 1, 0), datetime(2026, 9, 28, 5, 0), a, SATISFIED)
    # Q2 crops, Wed 30 Sep 10:00; due end of Sat 10 Oct (调休); answered Sat 20:00 (250 h): in time, unsatisfied
    question("crops", datetime(2026, 9, 30, 2, 0), datetime(2026, 10, 10, 12, 0), b, UNSATISFIED)
    # Q3 livestock, Fri 2 Oct 08:00; due end of Sat 10 Oct; answered Mon 12 Oct 09:00 (241 h): late
    question("livestock", datetime(2026, 10, 2, 0, 0), datetime(2026, 10, 12, 1, 0), a)
    # Q4 livestock, Fri 9 Oct 10:00; due end of Tue 13 Oct: not answered, still waiting at AT
    question("livestock", datetime(2026, 10, 9, 2, 0))
    # Q5 crops, Mon 28 Sep 23:30; due end of Thu 8 Oct: not answered, overdue at AT
    question("crops", datetime(2026, 9, 28, 15, 30))
    # Q7 fisheries, Mon 28 Sep 00:30 local (still Sunday in UTC): in the period; 1 h, satisfied
    question("fisheries", datetime(2026, 9, 27, 16, 30), datetime(2026, 9, 27, 17, 30), a, SATISFIED)
    # Q6 Sat 10 Oct 00:30 local (still 9 Oct in UTC): after the period, not counted
    question("crops", datetime(2026, 10, 9, 16, 30), datetime(2026, 10, 9, 17, 0), b, SATISFIED)
    # Sunday 27 Sep 23:00 local: before the period
    question("crops", datetime(2026, 9, 27, 15, 0))
    calls = [(INBOUND, QUESTION_LEFT), (INBOUND, QUESTION_LEFT), (INBOUND, CONNECTED), (CALLBACK, CALLED_BACK),
             (CALLBACK, MISSED)]
    for number, (direction, outcome) in enumerate(calls):
        db.session.add(Call(call_sid=f"CA{number:032d}", direction=direction, outcome=outcome,
                            started_at=datetime(2026, 10, 1, 2, number)))
    db.session.add(Call(call_sid="CA" + "9" * 32, outcome=CONNECTED, started_at=datetime(2026, 10, 9, 16, 0)))
    db.session.commit()
    return a, b


def figures(f: stats.Figures) -> tuple:
    return (f.received, f.answered, f.in_time, f.late, f.overdue, f.waiting, f.average_hours, f.rated, f.satisfied)


def test_the_whole_period(county):
    result = stats.summary(PERIOD, at=AT)
    assert figures(result.total) == (6, 4, 3, 1, 1, 1, 124.0, 3, 2)  # (4 + 250 + 241 + 1) / 4 hours
    assert result.total.rate == 0.5
    assert result.total.satisfaction == pytest.approx(2 / 3)


def test_per_topic_in_the_topics_order(county):
    result = stats.summary(PERIOD, at=AT)
    assert [(code, figures(f)) for code, f in result.by_topic] == [
        ("crops", (3, 2, 2, 0, 1, 0, 127.0, 2, 1)),
        ("livestock", (2, 1, 0, 1, 0, 1, 241.0, 0, 0)),
        ("fisheries", (1, 1, 1, 0, 0, 0, 1.0, 1, 1)),
    ]
    rates = {code: f.rate for code, f in result.by_topic}
    assert rates == {"crops": pytest.approx(2 / 3), "livestock": 0.0, "fisheries": 1.0}


def test_per_expert_over_the_questions_they_answered(county):
    a, b = county
    result = stats.summary(PERIOD, at=AT)
    assert [(user, figures(f)) for user, f in result.by_expert] == [
        (a, (3, 3, 2, 1, 0, 0, 82.0, 2, 2)),  # (4 + 241 + 1) / 3
        (b, (1, 1, 1, 0, 0, 0, 250.0, 1, 0)),  # the question after the period does not count
    ]
    assert result.by_expert[0][1].in_time_share == pytest.approx(2 / 3)
    assert figures(stats.for_expert(a.id, PERIOD, at=AT)) == (3, 3, 2, 1, 0, 0, 82.0, 2, 2)


def test_calls_per_outcome(county):
    result = stats.summary(PERIOD, at=AT)
    assert result.calls == [(QUESTION_LEFT, 2, 0), (CONNECTED, 1, 0), (MISSED, 0, 1), (CALLED_BACK, 0, 1)]
    assert result.calls_total == 5


def test_overdue_and_waiting_depend_on_when_one_looks(county):
    later = stats.summary(PERIOD, at=datetime(2026, 10, 13, 16, 0))  # Wednesday 00:00 local: Q4 is overdue now
    assert (later.total.overdue, later.total.waiting) == (2, 0)
    assert later.total.rate == 0.5  # the rate does not change: both counted as not answered in time


def test_a_longer_deadline_changes_what_is_in_time(app_config, request):
    app_config["QUESTION_SLA_DAYS"] = 5
    request.getfixturevalue("county")
    result = stats.summary(PERIOD, at=AT)
    assert (result.total.in_time, result.total.late) == (4, 0)  # Q3 is due end of Tue 13 Oct now


def test_an_empty_period_has_no_rates(app):
    result = stats.summary(PERIOD, at=AT)
    assert result.total.received == 0 and result.total.rate is None and result.total.average_hours is None
    assert result.total.satisfaction is None and result.by_topic == [] and result.calls == []


def test_the_period_picker(app):
    today = date(2031, 1, 15)
    assert stats.choose_period(None, None, None, today) == (stats.Period("this", date(2031, 1, 1),
                                                                         date(2031, 1, 31)), None)
    assert stats.choose_period("last", None, None, today)[0] == stats.Period("last", date(2030, 12, 1),
                                                                            date(2030, 12, 31))
    assert stats.choose_period("custom", "2030-02-01", "2030-02-28", today)[0] == stats.Period(
        "custom", date(2030, 2, 1), date(2030, 2, 28))
    for first, last in (("2030-02-30", "2030-03-01"), ("", ""), ("2030-03-01", "2030-02-01"),
                        ("2020-01-01", "2030-01-01")):
        period, error = stats.choose_period("custom", first, last, today)
        assert error and period.kind == "this"


def test_the_period_is_local_days(app):
    assert PERIOD.bounds() == (datetime(2026, 9, 27, 16, 0), datetime(2026, 10, 9, 16, 0))


def test_the_export_rows(county):
    a, b = county
    rows = stats.export_rows(stats.summary(PERIOD, at=AT))
    assert len(stats.export_header()) == len(rows[0]) == 14
    assert rows[0][1:10] == ["2026-09-28 – 2026-10-09", 6, 4, 3, "50.0", 1, 1, 1, 124.0]
    assert [row[1] for row in rows[1:4]] == ["Crops", "Livestock and veterinary", "Fisheries"]
    assert rows[4][1:7] == [a.name, "", 3, 2, "66.7", 1]
    assert [(row[1], row[-1]) for row in rows[6:]] == [("Left a question", 2), ("Talked to an expert", 1),
                                                       ("No expert reached", 1), ("Called back by an expert", 1)]
