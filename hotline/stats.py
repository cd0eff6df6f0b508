"""The hotline's figures for the bureau: the reply rate 办结回复率 and what goes with it.

**The definitions** (the page writes them out too):

- *Received in the period*: the questions (by voice, SMS or the web) whose arrival time
  falls between the first and the last day of the period, local time, both included.
  Every figure about questions is about these, whenever they were answered.
- *Deadline*: the end of the ``QUESTION_SLA_DAYS``-th working day after the day a
  question came (``hotline.workdays``).
- *办结回复率 (reply rate)*: the questions answered before their deadline over the
  questions received. A question still unanswered counts as not answered in time, even
  while its deadline is ahead (it is also counted as *waiting*), so the rate of a period
  that is not over yet can still rise.
- *Answered*: answered by now; *late*: answered after the deadline; *overdue*: not
  answered and the deadline has passed; *waiting*: not answered, the deadline still ahead.
- *Average time to answer*: the mean time from arrival to answer of those answered, in
  hours of the clock (nights and holidays included).
- *Satisfaction*: the answers the farmer rated 1 (satisfied) over those rated at all.
- *Per topic*: by the question's topic now (after any transfer); *per expert*: by who
  answered, over the questions they answered.
- *Calls*: the calls that started in the period, by how they ended.
"""
from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from hotline import topics, workdays
from hotline.models import (CALLBACK, CALLED_BACK, CONNECTED, HUNG_UP, IN_MENU, INBOUND, MISSED, QUESTION_LEFT,
                            SATISFIED, Call, Question)
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.timeutil import local_zone, now_utc, parse_day

THIS_MONTH, LAST_MONTH, CUSTOM = "this", "last", "custom"
MAX_DAYS = 3 * 366  # a custom period longer than this is refused (one query over years of questions)
OUTCOMES = {
    IN_MENU: _l("Still in the menu, or hung up there"),
    HUNG_UP: _l("Hung up"),
    QUESTION_LEFT: _l("Left a question"),
    CONNECTED: _l("Talked to an expert"),
    MISSED: _l("No expert reached"),
    CALLED_BACK: _l("Called back by an expert"),
}


def outcome_label(code: str) -> str:
    return str(OUTCOMES[code]) if code in OUTCOMES else code


# --- the period ------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last``, both included."""

    kind: str
    first: date
    last: date

    def bounds(self, zone: ZoneInfo | None = None) -> tuple[datetime, datetime]:
        """The period as naive UTC ``[start, end)``, the form the stored times have."""
        zone = zone or local_zone()
        utc = ZoneInfo("UTC")
        start = datetime.combine(self.first, time(0), tzinfo=zone).astimezone(utc).replace(tzinfo=None)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return start, end.astimezone(utc).replace(tzinfo=None)


def month_of(day: date, kind: str = THIS_MONTH) -> Period:
    last_day = calendar.monthrange(day.year, day.month)[1]
    return Period(kind, day.replace(day=1), day.replace(day=last_day))


def choose_period(kind: str | None, first: str | None, last: str | None, today: date) -> tuple[Period, str | None]:
    """The period asked for (this month, last month or custom dates ``YYYY-MM-DD``), and
    what was wrong with the request, if anything (then this month is shown)."""
    if kind == LAST_MONTH:
        return month_of(today.replace(day=1) - timedelta(days=1), LAST_MONTH), None
    if kind != CUSTOM:
        return month_of(today), None
    start, end = parse_day(first), parse_day(last)
    if start is None or end is None:
        return month_of(today), _("Enter both dates as YYYY-MM-DD.")
    if end < start:
        return month_of(today), _("The first day must not be after the last.")
    if (end - start).days >= MAX_DAYS:
        return month_of(today), _("A period can have at most %(n)s days.", n=MAX_DAYS)
    return Period(CUSTOM, start, end), None


# --- the figures -----------------------------------------------------------------------

@dataclass
class Figures:
    """Questions received and how they were answered (see the module's definitions)."""

    received: int = 0
    answered: int = 0
    in_time: int = 0
    overdue: int = 0
    waiting: int = 0
    seconds: float = 0.0  # total time to answer of those answered
    rated: int = 0
    satisfied: int = 0

    @property
    def late(self) -> int:
        return self.answered - self.in_time

    @property
    def rate(self) -> float | None:
        """办结回复率: answered in time over received (None when nothing was received)."""
        return self.in_time / self.received if self.received else None

    @property
    def in_time_share(self) -> float | None:
        """Of those answered, the share answered in time (an expert's own figure)."""
        return self.in_time / self.answered if self.answered else None

    @property
    def average_hours(self) -> float | None:
        return round(self.seconds / self.answered / 3600, 1) if self.answered else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    def add(self, created: datetime, answered: datetime | None, rating: int | None, due: datetime,
            at: datetime) -> None:
        self.received += 1
        if answered is None:
            if due <= at:
                self.overdue += 1
            else:
                self.waiting += 1
        else:
            self.answered += 1
            self.in_time += answered < due
            self.seconds += max((answered - created).total_seconds(), 0)
        if rating is not None:
            self.rated += 1
            self.satisfied += rating == SATISFIED


@dataclass
class Summary:
    period: Period
    at: datetime  # UTC: "overdue" and "waiting" are as of this moment
    total: Figures = field(default_factory=Figures)
    by_topic: list[tuple[str, Figures]] = field(default_factory=list)
    by_expert: list[tuple[User, Figures]] = field(default_factory=list)
    calls: list[tuple[str, int, int]] = field(default_factory=list)  # outcome, inbound, call-backs

    @property
    def calls_total(self) -> int:
        return sum(inbound + back for _outcome, inbound, back in self.calls)


def _questions(start: datetime, end: datetime, expert_id: int | None = None):
    stmt = select(Question.topic, Question.created_at, Question.answered_at, Question.answered_by_id,
                  Question.rating).where(Question.created_at >= start, Question.created_at < end)
    if expert_id is not None:
        stmt = stmt.where(Question.answered_by_id == expert_id)
    return db.session.execute(stmt.order_by(Question.id))


def summary(period: Period, at: datetime | None = None) -> Summary:
    """The figures of the questions received and the calls started in ``period``, as of
    UTC ``at`` (now by default)."""
    at = at or now_utc()
    start, end = period.bounds()
    result = Summary(period=period, at=at)
    by_topic: dict[str, Figures] = {}
    by_expert: dict[int, Figures] = {}
    days = workdays.sla_days()
    for topic, created, answered, expert_id, rating in _questions(start, end):
        due = workdays.deadline(created, days)
        for figures in (result.total, by_topic.setdefault(topic, Figures())):
            figures.add(created, answered, rating, due, at)
        if answered is not None and expert_id is not None:
            by_expert.setdefault(expert_id, Figures()).add(created, answered, rating, due, at)
    order = list(topics.TOPICS)
    result.by_topic = sorted(by_topic.items(), key=lambda item: (
        order.index(item[0]) if item[0] in order else len(order), item[0]))
    experts = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(list(by_expert))))}
    result.by_expert = sorted(((experts[i], f) for i, f in by_expert.items() if i in experts),
                              key=lambda item: (-item[1].answered, item[0].name))
    result.calls = calls_by_outcome(start, end)
    return result


def for_expert(expert_id: int, period: Period, at: datetime | None = None) -> Figures:
    """One expert's own figures: the questions received in ``period`` that they answered."""
    at = at or now_utc()
    start, end = period.bounds()
    figures, days = Figures(), workdays.sla_days()
    for _topic, created, answered, _expert, rating in _questions(start, end, expert_id):
        figures.add(created, answered, rating, workdays.deadline(created, days), at)
    return figures


def calls_by_outcome(start: datetime, end: datetime) -> list[tuple[str, int, int]]:
    """(outcome, inbound calls, call-backs) for the calls started in ``[start, end)``,
    in the outcomes' order."""
    counts = Counter()
    rows = db.session.execute(select(Call.outcome, Call.direction, func.count(Call.id))
                              .where(Call.started_at >= start, Call.started_at < end)
                              .group_by(Call.outcome, Call.direction))
    for outcome, direction, number in rows:
        counts[(outcome, CALLBACK if direction == CALLBACK else INBOUND)] += number
    seen = list(OUTCOMES) + sorted({outcome for outcome, _d in counts} - set(OUTCOMES))
    return [(outcome, counts[(outcome, INBOUND)], counts[(outcome, CALLBACK)]) for outcome in seen
            if counts[(outcome, INBOUND)] or counts[(outcome, CALLBACK)]]


# --- the export ----------------------------------------------------------------------------

def _percent(share: float | None) -> str:
    return f"{share * 100:.1f}" if share is not None else ""


def export_header() -> list[str]:
    return [_("Table"), _("Row"), _("Questions received"), _("Answered"), _("Answered in time"), _("Reply rate (%)"),
            _("Answered late"), _("Overdue"), _("Waiting"), _("Average hours to answer"), _("Rated"),
            _("Satisfied"), _("Satisfaction (%)"), _("Calls")]


def _figure_cells(figures: Figures, *, per_expert: bool = False) -> list:
    rate = figures.in_time_share if per_expert else figures.rate
    return [figures.received if not per_expert else "", figures.answered, figures.in_time, _percent(rate),
            figures.late, figures.overdue if not per_expert else "", figures.waiting if not per_expert else "",
            figures.average_hours if figures.average_hours is not None else "", figures.rated, figures.satisfied,
            _percent(figures.satisfaction), ""]


def export_rows(result: Summary) -> list[list]:
    """The page's tables as one sheet: the whole, per topic, per expert, calls per outcome.
    (An expert's rate is their answers in time over their answers.)"""
    rows = [[_("All questions"), f"{result.period.first.isoformat()} – {result.period.last.isoformat()}",
             *_figure_cells(result.total)]]
    rows += [[_("Question topic"), topics.label(code), *_figure_cells(figures)] for code, figures in result.by_topic]
    rows += [[_("Expert"), user.name, *_figure_cells(figures, per_expert=True)] for user, figures in result.by_expert]
    blank = [""] * 11
    for outcome, inbound, back in result.calls:
        rows.append([_("Calls"), outcome_label(outcome), *blank, inbound + back])
    return rows
