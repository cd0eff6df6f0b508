"""The bureau's log of the hotline's calls: the newest first, filtered, the farmer's
number never shown in full (``138****8000``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline import topics
from hotline.models import CALLBACK, INBOUND, Call
from hotline.stats import OUTCOMES
from ruralinfo.extensions import db
from ruralinfo.timeutil import local_zone, parse_day

PAGE = 50
DIRECTIONS = {INBOUND: _l("Farmer called in"), CALLBACK: _l("Expert called back")}


def mask_phone(number: str | None) -> str:
    """A phone number as the log shows it: a Chinese mobile as ``138****8000``, any other
    number with all but its first three and last four digits starred (short ones: last two)."""
    digits = "".join(ch for ch in (number or "") if ch.isdigit())
    try:
        parsed = phonenumbers.parse(number or "", None)
        if parsed.country_code == 86:
            digits = str(parsed.national_number)
    except phonenumbers.NumberParseException:
        pass
    if not digits:
        return ""
    if len(digits) <= 6:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def farmer_phone(call: Call) -> str:
    """The farmer's side of the call: who called in, or who was called back."""
    return call.to_phone if call.direction == CALLBACK else call.from_phone


@dataclass(frozen=True)
class Filters:
    direction: str = ""
    outcome: str = ""
    topic: str = ""
    since: date | None = None  # local days, both included
    until: date | None = None

    @classmethod
    def parse(cls, args) -> Filters:
        """The filters in a query string; what is not understood is left out."""
        def day(name: str) -> date | None:
            return parse_day(args.get(name))
        direction, outcome, topic = (args.get(k, "") for k in ("direction", "outcome", "topic"))
        return cls(direction=direction if direction in DIRECTIONS else "",
                   outcome=outcome if outcome in OUTCOMES else "",
                   topic=topic if topic in topics.TOPICS else "", since=day("since"), until=day("until"))

    def as_args(self) -> dict:
        found = {"direction": self.direction, "outcome": self.outcome, "topic": self.topic,
                 "since": self.since.isoformat() if self.since else "",
                 "until": self.until.isoformat() if self.until else ""}
        return {key: value for key, value in found.items() if value}


def _utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def recent(filters: Filters, page: int = 1) -> tuple[list[Call], bool]:
    """One page of calls, the newest first, and whether there are more."""
    stmt = select(Call)
    if filters.direction:
        stmt = stmt.where(Call.direction == filters.direction)
    if filters.outcome:
        stmt = stmt.where(Call.outcome == filters.outcome)
    if filters.topic:
        stmt = stmt.where(Call.topic == filters.topic)
    zone = local_zone()
    if filters.since:
        stmt = stmt.where(Call.started_at >= _utc(filters.since, zone))
    if filters.until:
        stmt = stmt.where(Call.started_at < _utc(filters.until + timedelta(days=1), zone))
    page = max(page, 1)
    found = db.session.scalars(stmt.order_by(Call.started_at.desc(), Call.id.desc())
                               .offset((page - 1) * PAGE).limit(PAGE + 1)).all()
    return list(found[:PAGE]), len(found) > PAGE
