"""Locks (``ruralinfo.locks``) on both engines: a locked row waits for the transaction
that holds it, and on PostgreSQL others may still refer to it; jobs take turns over
people without locking their rows."""
from __future__ import annotations

import threading
import time

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


def test_a_locked_account_waits_for_the_transaction_holding_it(app, make_farmer):
    first, second = make_farmer(), make_farmer()
    ids = [first.id, second.id]
    events: list[str] = []
    held = threading.Event()

    def holder() -> None:
        locks.lock_rows(User.id, reversed(ids))  # any order: they are taken sorted
        held.set()
        time.sleep(0.5)  # the other one has had its chance to go ahead
        events.append("holder commits")
        db.session.commit()

    def waiter() -> None:
        held.wait(10)
        locks.lock_rows(User.id, [second.id])
        events.append("waiter has the lock")
        db.session.commit()

    threads = [_in_thread(app, holder), _in_thread(app, waiter)]
    for thread in threads:
        thread.join(30)
    assert events == ["holder commits", "waiter has the lock"]


def test_on_postgresql_a_locked_account_can_still_receive_letters(app, make_farmer, database_url):
    """The lock is an UPDATE's (FOR NO KEY UPDATE): a letter to the person can be written
    meanwhile — a match job holding ten owners does not stop a farmer's text to them.
    SQLite's lock is the whole database's: there the letter waits its turn."""
    farmer, writer = make_farmer(), make_farmer()
    events: list[str] = []
    held, written = threading.Event(), threading.Event()

    def holder() -> None:
        locks.lock_rows(User.id, [farmer.id])
        held.set()
        written.wait(2)  # on SQLite, in vain
        events.append("holder commits")
        db.session.commit()

    def letter() -> None:
        held.wait(10)
        db.session.add(Letter(kind="personal", sender_id=writer.id, recipient_id=farmer.id, body="你好",
                              channel="web"))
        db.session.commit()
        events.append("letter written")
        written.set()

    threads = [_in_thread(app, holder), _in_thread(app, letter)]
    for thread in threads:
        thread.join(30)
    if database_url.startswith("postgresql"):
        assert events == ["letter written", "holder commits"]
    else:
        assert events == ["holder commits", "letter written"]
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.recipient_id == farmer.id)) == 1


def test_jobs_over_the_same_people_take_turns(app, make_farmer):
    first, second = make_farmer(), make_farmer()
    events: list[str] = []
    held = threading.Event()

    def holder() -> None:
        locks.take_turns(locks.MATCH_TEXTS, [second.id, first.id], sqlite_lock=User.id)
        held.set()
        time.sleep(0.5)  # the other one has had its chance to go ahead
        events.append("holder commits")
        db.session.commit()

    def waiter() -> None:
        held.wait(10)
        locks.take_turns(locks.MATCH_TEXTS, [second.id], sqlite_lock=User.id)
        events.append("waiter's turn")
        db.session.commit()

    threads = [_in_thread(app, holder), _in_thread(app, waiter)]
    for thread in threads:
        thread.join(30)
    assert events == ["holder commits", "waiter's turn"]


def test_on_postgresql_a_farmers_stop_does_not_wait_for_a_job_taking_turns_over_them(app, make_farmer,
                                                                                      database_url):
    """A match job (at idle priority, perhaps slow) holds its turn over the people it tells;
    their own texts — a STOP updating their row — go on meanwhile. SQLite's lock is the
    whole database's: there the STOP waits its turn."""
    farmer = make_farmer()
    events: list[str] = []
    held, stopped = threading.Event(), threading.Event()

    def job() -> None:
        locks.take_turns(locks.MATCH_TEXTS, [farmer.id], sqlite_lock=User.id)
        held.set()
        stopped.wait(2)  # on SQLite, in vain
        events.append("job commits")
        db.session.commit()

    def stop() -> None:
        held.wait(10)
        db.session.get(User, farmer.id).sms_opt_out = True
        db.session.commit()
        events.append("STOP recorded")
        stopped.set()

    threads = [_in_thread(app, job), _in_thread(app, stop)]
    for thread in threads:
        thread.join(30)
    if database_url.startswith("postgresql"):
        assert events == ["STOP recorded", "job commits"]
    else:
        assert events == ["job commits", "STOP recorded"]
    db.session.expire_all()
    assert db.session.get(User, farmer.id).sms_opt_out is True
