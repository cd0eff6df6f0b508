"""The wrong-password lock-out, counted per mobile number in the database.

Every password try first *reserves* a place with one atomic UPDATE … RETURNING;
only a try that got a place is checked. So however many requests arrive at once,
on however many workers and from however many addresses, at most
``LOGIN_MAX_FAILURES`` passwords are checked before the number is locked, and
none while it is locked. Each lock-out in a row lasts twice as long as the one
before (``LOGIN_LOCK_MINUTES``, then double, up to a day): the limit per account
that no change of address escapes. A successful log-in or a new password clears it.

Numbers without an account are counted the same way, so the answers (and their
timing, see ``services.authenticate``) never tell whether a number is registered.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from ruralinfo.accounts.models import LoginThrottle
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc

MAX_LOCK = timedelta(days=1)


@dataclass(frozen=True)
class Reservation:
    """``check`` is False when the number is locked (``locked_until`` says until when)."""

    check: bool
    locked_until: datetime | None = None
    locked_now: bool = False  # this try is the one that locked the number


def _insert_missing(phone: str) -> None:
    dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
    db.session.execute(dialect.insert(LoginThrottle).values(phone=phone, failures=0, locks=0)
                       .on_conflict_do_nothing(index_elements=["phone"]))


def lock_length(locks: int) -> timedelta:
    """How long the ``locks``-th lock-out in a row lasts (1 → LOGIN_LOCK_MINUTES)."""
    base = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    return min(base * 2 ** max(locks - 1, 0), MAX_LOCK)


def reserve(phone: str) -> Reservation:
    """Count one try for ``phone`` and say whether it may be checked. Commits."""
    now = now_utc()
    most = current_app.config["LOGIN_MAX_FAILURES"]
    _insert_missing(phone)
    lock_over = LoginThrottle.locked_until.is_not(None)  # the WHERE below lets only an expired lock through
    failures = case((lock_over, 1), else_=LoginThrottle.failures + 1)
    row = db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.phone == phone,
               or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now))
        .values(failures=failures,
                locked_until=case((failures >= most, now + MAX_LOCK), else_=None),
                locks=case((failures >= most, LoginThrottle.locks + 1), else_=LoginThrottle.locks))
        .returning(LoginThrottle.failures, LoginThrottle.locks, LoginThrottle.locked_until)
        .execution_options(synchronize_session=False)).first()
    if row is None:
        locked_until = db.session.get(LoginThrottle, phone).locked_until
        db.session.commit()
        return Reservation(False, locked_until)
    locked_until = None
    if row.locked_until is not None:
        # The lock was taken for a day in the same statement; shorten it to its real length.
        locked_until = now + lock_length(row.locks)
        db.session.execute(update(LoginThrottle).where(LoginThrottle.phone == phone)
                           .values(locked_until=locked_until).execution_options(synchronize_session=False))
    db.session.commit()
    return Reservation(True, locked_until, locked_now=locked_until is not None)


def clear(phone: str, *, commit: bool = True) -> None:
    """After a successful log-in or a new password: no failures, no lock."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.phone == phone)
                       .execution_options(synchronize_session=False))
    if commit:
        db.session.commit()


def locked_until(phone: str) -> datetime | None:
    row = db.session.get(LoginThrottle, phone)
    if row is None or row.locked_until is None or row.locked_until <= now_utc():
        return None
    return row.locked_until
