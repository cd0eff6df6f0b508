"""Locks (``ruralinfo.locks``) on both engines: a locked row waits for the transaction
that holds it, and on PostgreSQL others may still refer to it; jobs take turns over
people without locking their rows."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from mailbox.models import Letter
from ruralinfo import locks
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db


def _in_thread(app, work):
    def run() -> None:
        with app.app_context():
            try:
                work()
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, daemon=True)  # a broken test fails, it does not hang
    thread.start()
    return thread


def _race(app, hold, other) -> list[str]:
    """``hold()`` in one transaction, then ``other()`` in another while the first stays
    open (up to a second, or until the other has committed). Returns the order in which
    the two committed: ``["holder", "other"]`` when the other had to wait."""
    order: list[str] = []
    held, done = threading.Event(), threading.Event()

    def first() -> None:
        hold()
        held.set()
        done.wait(1)  # the other one has its chance to go ahead
        order.append("holder")
        db.session.commit()

    def second() -> None:
        held.wait(10)
        other()
        db.session.commit()
        order.append("other")
        done.set()

    for thread in [_in_thread(app, first), _in_thread(app, second)]:
        thread.join(30)
    return order


def test_a_locked_account_waits_for_the_transaction_holding_it(app, make_farmer):
    first, second = make_farmer(), make_farmer()
    assert _race(app, lambda: locks.lock_rows(User.id, [second.id, first.id]),  # any order: taken sorted
                 lambda: locks.lock_rows(User.id, [second.id])) == ["holder", "other"]


def test_on_postgresql_a_locked_account_can_still_receive_letters(app, make_farmer, database_url):
    """The lock is an UPDATE's (FOR NO KEY UPDATE): a letter to the person can be written
    meanwhile. SQLite's lock is the whole database's: there the letter waits its turn."""
    farmer, writer = make_farmer(), make_farmer()
    order = _race(app, lambda: locks.lock_rows(User.id, [farmer.id]), lambda: db.session.add(
        Letter(kind="personal", sender_id=writer.id, recipient_id=farmer.id, body="你好", channel="web")))
    assert order == (["other", "holder"] if database_url.startswith("postgresql") else ["holder", "other"])
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.recipient_id == farmer.id)) == 1


def test_jobs_over_the_same_people_take_turns(app, make_farmer):
    first, second = make_farmer(), make_farmer()
    assert _race(app, lambda: locks.take_turns(locks.MATCH_TEXTS, [second.id, first.id], sqlite_lock=User.id),
                 lambda: locks.take_turns(locks.MATCH_TEXTS, [second.id], sqlite_lock=User.id)) == ["holder", "other"]


def test_on_postgresql_a_farmers_stop_does_not_wait_for_a_job_taking_turns_over_them(app, make_farmer,
                                                                                      database_url):
    """A match job (at idle priority, perhaps slow) holds its turn over the people it tells;
    their own texts — a STOP updating their row — go on meanwhile. SQLite's lock is the
    whole database's: there the STOP waits its turn."""
    farmer = make_farmer()

    def stop() -> None:
        db.session.get(User, farmer.id).sms_opt_out = True

    order = _race(app, lambda: locks.take_turns(locks.MATCH_TEXTS, [farmer.id], sqlite_lock=User.id), stop)
    assert order == (["other", "holder"] if database_url.startswith("postgresql") else ["holder", "other"])
    db.session.expire_all()
    assert db.session.get(User, farmer.id).sms_opt_out is True
