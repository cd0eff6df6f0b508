"""Row locks that hold on every engine we run: PostgreSQL and the embedded SQLite.

``SELECT … FOR UPDATE`` does nothing on SQLite, so a rule that reads and then writes
("is this village free?", "is this post still held?") is serialised by ``lock_rows``:
PostgreSQL's row lock, SQLite's write lock, until the transaction ends
(``accounts.services.lock_account`` is the same idea).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, text, update
from sqlalchemy.orm import InstrumentedAttribute

from ruralinfo.extensions import db


def lock_rows(key: InstrumentedAttribute, values: Iterable) -> None:
    """Hold the rows of ``key``'s model whose ``key`` is one of ``values`` until the
    transaction ends, in one statement. On PostgreSQL the rows are locked in sorted
    order (``SELECT … ORDER BY … FOR NO KEY UPDATE``, the lock an UPDATE takes, which
    lets others still insert rows that refer to them), so that two transactions
    locking overlapping rows never deadlock; on SQLite a no-op UPDATE takes the
    database's write lock. A value without a row locks nothing on PostgreSQL (SQLite's
    lock is the whole database's anyway). Not committed."""
    wanted = sorted(set(values))
    if not wanted:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(key).where(key.in_(wanted)).order_by(key).with_for_update(key_share=True))
    else:
        db.session.execute(update(key.class_).where(key.in_(wanted)).values({key: key})
                           .execution_options(synchronize_session=False))


# kinds of advisory lock (``take_turns``): one number each, never reused
MATCH_TEXTS = 1  # counting a person's match and follow texts of the day (mailbox.match_alerts)


def take_turns(kind: int, keys: Iterable[int], *, sqlite_lock: InstrumentedAttribute) -> None:
    """Make transactions that decide something about ``keys`` (of one ``kind``, e.g. the
    people a job counts texts for) take turns until each ends, without locking a row
    anybody else needs: on PostgreSQL, transaction advisory locks (kind, key) taken in
    sorted order, so that two never deadlock — a background job holding them (perhaps
    slowly: the worker runs at idle priority) never makes a farmer's text wait. On SQLite,
    whose lock is the whole database's anyway, ``lock_rows(sqlite_lock, keys)``. Not committed."""
    wanted = sorted(set(keys))
    if not wanted:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:kind, key) FROM "
                                "(SELECT unnest(CAST(:keys AS integer[])) AS key ORDER BY 1) AS sorted"),
                           {"kind": kind, "keys": wanted})
    else:
        lock_rows(sqlite_lock, wanted)

