"""Staff log-in under attack: parallel guesses, enumeration, copied cookies, bad ``next``."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug import security

from ruralinfo.accounts import login, roles
from ruralinfo.accounts.models import LoginThrottle, User
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc
from tests.conftest import PASSWORD


class _Checked(list):
    tried: list[str]


@pytest.fixture
def counted_checks(monkeypatch):
    """Every password check really runs, slowed down so that parallel requests overlap;
    returns the list of hashes that were checked."""
    checked = _Checked()
    lock = threading.Lock()

    def check(pwhash: str, password: str) -> bool:
        with lock:
            checked.append(pwhash)
            tried.append(password)
        time.sleep(0.05)
        return security.check_password_hash(pwhash, password)

    monkeypatch.setattr(login, "check_password_hash", check)
    tried: list[str] = []
    checked.tried = tried  # the passwords, in the order they were checked
    return checked


def _in_parallel(app: Flask, phone: str, passwords: list[str]) -> list[login.LoginResult]:
    results: list = [None] * len(passwords)
    start = threading.Barrier(len(passwords))

    def guess(index: int, password: str) -> None:
        with app.app_context():
            start.wait()
            results[index] = login.authenticate(phone, password)
            db.session.remove()

    threads = [threading.Thread(target=guess, args=item) for item in enumerate(passwords)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_parallel_wrong_guesses_check_exactly_the_limit(app, make_staff, counted_checks):
    user = make_staff(roles.ADMIN)
    results = _in_parallel(app, user.phone, ["wrong-%d" % i for i in range(20)])
    real = [h for h in counted_checks if h == user.password_hash]
    assert len(real) == app.config["LOGIN_MAX_FAILURES"] == 5
    assert all(result.user is None for result in results)
    assert sum(result.error == login.LOCKED for result in results) == 16  # 15 refused unchecked, 1 locking
    counted_checks.clear()
    refused = login.authenticate(user.phone, PASSWORD)
    assert refused.user is None and refused.error == login.LOCKED and counted_checks == []


def test_a_burst_with_the_right_password_among_wrong_ones_never_checks_more_than_five(app, make_staff,
                                                                                       counted_checks):
    user = make_staff(roles.ADMIN)
    passwords = ["wrong-%d" % i for i in range(20)]
    passwords.insert(12, PASSWORD)
    results = _in_parallel(app, user.phone, passwords)
    winners = [result for result in results if result.user is not None]
    assert len(winners) <= 1
    if winners:
        # the right password got in only as one of the first five checked (a success then
        # clears the count, as it should: the person who knows the password is in)
        assert PASSWORD in counted_checks.tried[:5]
    else:
        assert len(counted_checks) == 5 and PASSWORD not in counted_checks.tried
        assert login.authenticate(user.phone, PASSWORD).error == login.LOCKED


def test_each_lock_in_a_row_lasts_twice_as_long(app, make_staff):
    user = make_staff(roles.ADMIN)
    minutes = []
    for _round in range(3):
        for _ in range(5):
            result = login.authenticate(user.phone, "wrong")
        minutes.append(round((result.locked_until - now_utc()) / timedelta(minutes=1)))
        assert login.authenticate(user.phone, PASSWORD).error == login.LOCKED
        row = db.session.get(LoginThrottle, user.phone)
        row.locked_until = now_utc() - timedelta(seconds=1)  # the lock runs out
        db.session.commit()
    assert minutes == [15, 30, 60]
    assert login.authenticate(user.phone, PASSWORD).user == user
    assert db.session.get(LoginThrottle, user.phone) is None  # a success clears the count


def test_an_unknown_number_and_a_farmer_answer_exactly_like_a_staff_account(app, client, make_staff,
                                                                            make_farmer, counted_checks):
    staff, farmer = make_staff(roles.ADMIN), make_farmer()
    pages = {}
    for who, phone in (("staff", staff.phone), ("farmer", farmer.phone), ("nobody", "+8613999999999")):
        counted_checks.clear()
        answers = [client.post("/login", data={"phone": phone, "password": "wrong"}).get_data(as_text=True)
                   for _ in range(6)]
        pages[who] = ["Wrong mobile number or password" in page for page in answers], \
            ["locked until" in page for page in answers]
        # one full password hash is checked per try, real or dummy, until the lock
        assert len(counted_checks) == 5
        assert all(h.startswith(app.config["PASSWORD_HASH_METHOD"].split(":")[0]) for h in counted_checks)
    assert pages["staff"] == pages["farmer"] == pages["nobody"]
    assert pages["nobody"] == ([True] * 4 + [False, False], [False] * 4 + [True, True])


# --- sessions ---------------------------------------------------------------------------------

def _copied_cookie_still_works(app, client, user, end) -> bool:
    """Log in, copy the session cookie, ``end`` the session some way, then use the copy."""
    client.post("/login", data={"phone": user.phone, "password": PASSWORD})
    cookie = client.get_cookie("session").value
    end()
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/admin/points/").status_code == 200


def test_a_copied_cookie_works_until_the_session_is_ended(app, client, make_staff):
    user = make_staff(roles.ADMIN)
    assert _copied_cookie_still_works(app, client, user, lambda: None)


def test_logout_ends_every_session_of_the_account(app, client, make_staff):
    user = make_staff(roles.ADMIN)
    assert not _copied_cookie_still_works(app, client, user, lambda: client.post("/logout"))
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "logout")).actor_id == user.id


@pytest.mark.parametrize("change", ["password", "roles", "deactivate"])
def test_password_role_and_deactivation_changes_end_every_session(app, client, make_staff, change):
    from ruralinfo.accounts import services as accounts

    admin, user = make_staff(roles.ADMIN), make_staff(roles.ADMIN, roles.STAFF)
    ends = {
        "password": lambda: accounts.set_password(user, "another-password-9", actor=admin, channel="web"),
        "roles": lambda: accounts.set_roles(user, [roles.ADMIN], actor=admin, channel="web"),
        "deactivate": lambda: accounts.set_active(user, False, actor=admin, channel="web"),
    }

    def end():
        ends[change]()
        db.session.expire_all()

    assert not _copied_cookie_still_works(app, client, db.session.get(User, user.id), end)


# --- where to go after log-in ----------------------------------------------------------------

@pytest.mark.parametrize("target", ["/%0a", "/x%0Ay", "/%0d%0aSet-Cookie:x=1", "/\\evil.example",
                                    "//evil.example", "http://evil.example/"])
def test_a_next_with_a_line_break_or_another_host_falls_back_home(client, make_staff, target):
    response = client.get(f"/lang/en?next={target}")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = make_staff(roles.ADMIN)
    response = client.post(f"/login?next={target}", data={"phone": user.phone, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
