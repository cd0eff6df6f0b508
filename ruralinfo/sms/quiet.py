"""Quiet hours (``QUIET_HOURS``, e.g. ``21:00-08:00`` in ``TIMEZONE``): routine texts
that arrive then wait in the outbox until the morning instead of waking farmers.
Replies to a farmer's own text, log-in codes and urgent alerts are never held.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import current_app

from ruralinfo.timeutil import local_zone, now_utc


def window() -> tuple[time, time] | None:
    """(start, end) of the quiet hours, or None when ``QUIET_HOURS`` is empty."""
    text = (current_app.config.get("QUIET_HOURS") or "").strip()
    if not text:
        return None
    start, _dash, end = text.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def held_until(at: datetime | None = None) -> datetime | None:
    """When a routine text made at ``at`` (naive UTC, default now) may go: None when
    it may go at once, else the end of the quiet hours, as naive UTC."""
    hours = window()
    if hours is None:
        return None
    start, end = hours
    local = (at or now_utc()).replace(tzinfo=UTC).astimezone(local_zone())
    clock = local.time().replace(tzinfo=None)
    overnight = start > end
    quiet = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not quiet:
        return None
    day = local.date() if (not overnight or clock < end) else local.date() + timedelta(days=1)
    ends = datetime.combine(day, end, tzinfo=local_zone())
    return ends.astimezone(UTC).replace(tzinfo=None)
