"""Row locks that hold on every engine we run: PostgreSQL and the embedded SQLite.

``SELECT … FOR UPDATE`` does nothing on SQLite, so a rule that reads and then writes
("is this village free?", "is this post still held?") is serialised by a no-op
UPDATE of the row instead: it takes PostgreSQL's row lock and SQLite's write lock
alike, until the transaction ends (``accounts.services.lock_account`` is the same idea).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute

from ruralinfo.extensions import db


def lock_rows(key: InstrumentedAttribute, values: Iterable) -> None:
    """Hold the rows of ``key``'s model whose ``key`` is one of ``values`` until the
    transaction ends. One row at a time, in sorted order, so that two transactions
    locking overlapping rows never deadlock. A value without a row locks nothing on
    PostgreSQL (SQLite's lock is the whole database's anyway). Not committed."""
    for value in sorted(set(values)):
        db.session.execute(update(key.class_).where(key == value).values({key: key})
                           .execution_options(synchronize_session=False))
