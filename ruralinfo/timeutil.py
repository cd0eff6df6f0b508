"""Time helpers. The database holds naive UTC; people see the configured time zone."""
from __future__ import annotations

from datetime import UTC, datetime
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
