"""Time helpers. The database holds naive UTC; people see the configured time zone."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now_utc() -> datetime:
    """The current time as naive UTC, the form every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(value: datetime | None) -> datetime | None:
    """A stored naive-UTC timestamp in the configured local time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(local_zone())


def local_today():
    return datetime.now(local_zone()).date()


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # the days anyone asks the platform about


def parse_day(text: str | None) -> date | None:
    """A day typed as ``YYYY-MM-DD`` (in a form or a query), None when it is not one or lies
    outside 2000–2099 (a year 9999 would overflow the arithmetic on it)."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None
