"""Farmers log in on the web with their phone number and a one-time SMS code."""
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ruralinfo import create_app
from ruralinfo.accounts import otp, roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import LoginCode
from ruralinfo.accounts.views import when_text
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.sms.models import OTP, OutboundMessage
from ruralinfo.timeutil import now_utc
from tests.conftest import next_phone

UNKNOWN = "+8613912345678"
SENT_PAGE = "If %s is registered, a code is on its way by SMS"


def ask(client, phone):
    return client.post("/login/code", data={"phone": phone})


def enter(client, code):
    return client.post("/login/code/enter", data={"code": code})


def texts(phone):
    """The log-in codes sent to ``phone`` (not its welcome text)."""
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == phone, OutboundMessage.kind == OTP)
                              .order_by(OutboundMessage.id)).all()


def last_code(phone) -> str:
    message = texts(phone)[-1]
    assert message.kind == OTP
    return re.search(r"(?<!\d)(\d{6}|\d{8})(?!\d)", message.body).group(1)


def logged_in(client) -> bool:
    return client.get("/mailbox/").status_code == 200


@pytest.fixture
def farmer(make_farmer):
    return make_farmer(name="陈阿毛", phone="+8613800138000")


def test_a_code_goes_out_by_sms_and_logs_the_farmer_in_once(client, farmer, db_dump):
    response = ask(client, "138 0013 8000")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code/enter")
    [message] = texts(farmer.phone)
    assert message.kind == OTP and message.user_id == farmer.id
    code = last_code(farmer.phone)
    assert "10分钟内有效" in message.body and "请勿告诉他人" in message.body  # the farmer's language: zh
    page = client.get("/login/code/enter").get_data(as_text=True)
    assert SENT_PAGE % "138 0013 8000" in page

    response = enter(client, code)
    assert response.status_code == 302 and response.headers["Location"].endswith("/mailbox/")
    assert logged_in(client)
    row = db.session.scalar(select(LoginCode))
    assert row.used_at is not None and row.code_digest == otp.digest(farmer.phone, code)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.code"))
    assert entry.actor_id == farmer.id and entry.target_id == farmer.id and entry.channel == "web"

    # the same code a second time: refused, on the page and in the service
    client.post("/logout")
    assert not logged_in(client)
    ask(client, farmer.phone)
    page = enter(client, code).get_data(as_text=True)
    assert "Wrong code" in page and not logged_in(client)
    assert otp.verify_code(farmer.phone, code).user is None


def test_an_opted_out_farmer_still_gets_the_code(client, farmer):
    accounts.set_sms_opt_out(farmer, True, actor=farmer, channel="sms")
    ask(client, farmer.phone)
    enter(client, last_code(farmer.phone))
    assert logged_in(client)


def test_the_code_comes_in_the_accounts_language(client, make_farmer):
    user = make_farmer(phone="+8613800138001")
    user.language = "en"
    db.session.commit()
    ask(client, user.phone)
    assert texts(user.phone)[-1].body.startswith("Your login code is ")


def test_full_width_digits_and_spaces_are_forgiven(client, farmer):
    ask(client, farmer.phone)
    code = last_code(farmer.phone)
    typed = " ".join(chr(ord("０") + int(d)) for d in code)
    enter(client, typed)
    assert logged_in(client)


def test_an_expired_code_fails(client, farmer):
    ask(client, farmer.phone)
    code = last_code(farmer.phone)
    row = db.session.scalar(select(LoginCode))
    row.expires_at = now_utc() - timedelta(seconds=1)
    db.session.commit()
    page = enter(client, code).get_data(as_text=True)
    assert "can no longer be used" in page and not logged_in(client)


def test_five_wrong_attempts_kill_the_code(client, farmer):
    ask(client, farmer.phone)
    code = last_code(farmer.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    pages = [enter(client, wrong).get_data(as_text=True) for _ in range(otp.MAX_ATTEMPTS)]
    assert all("Wrong code" in p or "can no longer be used" in p for p in pages)
    assert "can no longer be used" in pages[-1]
    page = enter(client, code).get_data(as_text=True)
    assert "can no longer be used" in page and not logged_in(client)
    assert db.session.scalar(select(LoginCode.attempts)) == otp.MAX_ATTEMPTS
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.code_exhausted")) is not None


def test_a_code_that_is_not_six_digits_is_not_counted(client, farmer):
    ask(client, farmer.phone)
    page = enter(client, "12345").get_data(as_text=True)
    assert "The code has 6 digits" in page
    assert db.session.scalar(select(LoginCode.attempts)) == 0


def test_an_older_live_code_still_works_and_a_login_kills_the_others(client, farmer):
    ask(client, farmer.phone)
    first = last_code(farmer.phone)
    ask(client, farmer.phone)
    enter(client, first)
    assert logged_in(client)
    assert db.session.scalar(select(func.count()).select_from(LoginCode).where(LoginCode.used_at.is_(None))) == 0


def _normalise(page: str, shown: str) -> str:
    return page.replace(shown, "NUMBER")


@pytest.mark.parametrize("who", ["unknown", "inactive", "staff"])
def test_a_number_without_a_farmer_account_gets_the_same_answer_and_no_text(app, client, farmer, make_farmer,
                                                                            make_staff, who):
    if who == "unknown":
        phone, shown = UNKNOWN, "139 1234 5678"
    elif who == "inactive":
        gone = make_farmer(name="王阿婆", phone="+8613912345678")
        accounts.set_active(gone, False, actor=None, channel="cli")
        phone, shown = gone.phone, "139 1234 5678"
    else:
        phone, shown = make_staff(roles.STAFF, phone=UNKNOWN).phone, "139 1234 5678"
    other = app.test_client()
    other.get("/lang/en")
    known = ask(other, farmer.phone)
    stranger = ask(client, phone)
    assert (stranger.status_code, stranger.headers["Location"]) == (known.status_code, known.headers["Location"])
    assert _normalise(client.get("/login/code/enter").get_data(as_text=True), shown) == \
        _normalise(other.get("/login/code/enter").get_data(as_text=True), "138 0013 8000")
    assert texts(phone) == []
    # a guessed code gets the same answer as a wrong one for a real account
    assert _normalise(enter(client, "123456").get_data(as_text=True), shown) == \
        _normalise(enter(other, f"{(int(last_code(farmer.phone)) + 1) % 1_000_000:06d}").get_data(as_text=True),
                   "138 0013 8000")
    assert not logged_in(client)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.code_sent",
                                                      AuditEntry.target_id != farmer.id)) is None


def test_an_invalid_number_is_refused_with_a_reason(client):
    page = ask(client, "12345").get_data(as_text=True)
    assert "not a valid phone number" in page
    assert db.session.scalar(select(func.count()).select_from(LoginCode)) == 0


@pytest.mark.parametrize("phone", ["+8613800138000", UNKNOWN])
def test_codes_per_number_are_limited_alike_for_known_and_unknown_numbers(client, farmer, phone):
    answers = [ask(client, phone) for _ in range(4)]
    assert all(a.status_code == 302 for a in answers)
    page = client.get("/login/code/enter").get_data(as_text=True)
    first = db.session.scalar(select(func.min(LoginCode.created_at)).where(LoginCode.phone == phone))
    again_at = when_text(first + timedelta(minutes=10))  # 14:35, or 12-02 00:01 past midnight
    assert "Too many codes were asked for this number" in page and f"after {again_at}" in page
    assert "liaison point can also send you a code" in page
    assert "is on its way" not in page  # one message at a time, never a contradicting one
    assert db.session.scalar(select(func.count()).select_from(LoginCode).where(LoginCode.phone == phone)) == 3
    assert len(texts(phone)) == (3 if phone == farmer.phone else 0)
    # ten minutes later: three more, and so on up to ten a day
    for _ in range(3):
        for row in db.session.scalars(select(LoginCode)):
            row.created_at -= timedelta(minutes=11)
        db.session.commit()
        for _ in range(3):
            ask(client, phone)
    assert db.session.scalar(select(func.count()).select_from(LoginCode).where(LoginCode.phone == phone)) == 10
    assert len(texts(phone)) == (10 if phone == farmer.phone else 0)
    page = client.get("/login/code/enter").get_data(as_text=True)
    first = db.session.scalar(select(func.min(LoginCode.created_at)).where(LoginCode.phone == phone))
    assert f"after {when_text(first + timedelta(days=1))}" in page


def test_codes_are_rate_limited_per_address(app_config, make_farmer):
    app = create_app({**app_config, "RATELIMIT_ENABLED": True})
    client = app.test_client()
    client.get("/lang/en")
    codes = [client.post("/login/code", data={"phone": next_phone()}).status_code for _ in range(11)]
    assert codes[:10] == [302] * 10 and codes[-1] == 429
    page = client.post("/login/code", data={"phone": next_phone()}).get_data(as_text=True)
    assert "Too many log-in attempts from this connection" in page
    tries = [client.post("/login/code/enter", data={"code": "000000"}).status_code for _ in range(21)]
    assert tries[-1] == 429 and 429 not in tries[:20]


def test_the_code_is_never_in_the_audit_log_logs_urls_or_the_database(client, farmer, db_dump, caplog):
    caplog.set_level(logging.DEBUG)
    response = ask(client, farmer.phone)
    code = last_code(farmer.phone)
    enter_page = client.get("/login/code/enter")
    response = enter(client, code)
    assert code not in response.headers["Location"] and code not in enter_page.get_data(as_text=True)
    dump = db_dump()
    for message in texts(farmer.phone):  # the text message itself is the one place it is
        dump = dump.replace(message.body, "")
    assert code not in dump
    assert all(code not in str(entry.details) for entry in db.session.scalars(select(AuditEntry)))
    assert code not in caplog.text
    sent = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.code_sent"))
    assert sent.target_id == farmer.id and sent.actor_id is None


def test_the_two_log_in_pages_link_to_each_other(client):
    assert "/login/code" in client.get("/login").get_data(as_text=True)
    assert 'href="/login"' in client.get("/login/code").get_data(as_text=True)


def test_the_mailbox_sends_visitors_to_the_code_login_and_back(client, farmer):
    response = client.get("/mailbox/posts")
    assert response.status_code == 302 and "/login/code" in response.headers["Location"]
    client.get(response.headers["Location"])
    client.post(response.headers["Location"], data={"phone": farmer.phone})
    response = enter(client, last_code(farmer.phone))
    assert response.headers["Location"].endswith("/mailbox/posts")


def test_the_enter_page_without_a_number_goes_back_to_the_start(client):
    response = client.get("/login/code/enter")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")


# --- a stranger cannot lock a farmer out ----------------------------------------------------------

def test_a_strangers_wrong_guesses_do_not_spend_the_farmers_code(app, client, farmer):
    ask(client, farmer.phone)
    code = last_code(farmer.phone)
    stranger = app.test_client()
    for _ in range(2):
        ask(stranger, farmer.phone)
    for guess in ("000000", "111111", "222222", "333333", "444444", "555555"):
        enter(stranger, guess)
    assert not logged_in(stranger)
    enter(client, code)
    assert logged_in(client)


def test_the_liaison_point_sends_a_code_when_a_stranger_filled_the_limits(app, client, farmer, make_point,
                                                                        make_staff, login):
    from tests.conftest import CHANGXI

    stranger = app.test_client()
    for _ in range(3):
        ask(stranger, farmer.phone)
    for guess in ("000000", "111111", "222222", "333333", "444444"):
        enter(stranger, guess)
    liaison = make_staff(roles.LIAISON, point=make_point("长溪村联络点", (CHANGXI,)))
    desk = app.test_client()
    desk.get("/lang/en")
    desk.post("/login", data={"phone": liaison.phone, "password": "correct-horse-42"})
    response = desk.post(f"/liaison/farmers/{farmer.id}/login-code", follow_redirects=True)
    assert "A log-in code is on its way" in response.get_data(as_text=True)
    code = last_code(farmer.phone)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.code_issued"))
    assert entry.actor_id == liaison.id and entry.target_id == farmer.id
    # the farmer, on their own phone: the number is still limited, and the page says until when
    assert len(code) == otp.IN_PERSON_DIGITS  # any browser may try it: a longer code
    page = ask(client, farmer.phone) and client.get("/login/code/enter").get_data(as_text=True)
    assert "Too many codes were asked" in page and "liaison point can also send you a code" in page
    for guess in ("00000000", "11111111", "22222222", "33333333", "44444444", "55555555"):
        enter(stranger, guess)  # the stranger keeps guessing: the in-person code survives
    enter(client, code)
    assert logged_in(client)


def test_a_suspended_point_cannot_send_codes(client, farmer, make_point, make_staff, login):
    from tests.conftest import CHANGXI

    liaison = make_staff(roles.LIAISON, point=make_point("长溪村联络点", (CHANGXI,), status="suspended"))
    login(liaison)
    client.post(f"/liaison/farmers/{farmer.id}/login-code")
    assert texts(farmer.phone) == []
    with pytest.raises(PermissionError):
        otp.issue_in_person(farmer, actor=liaison)


# --- a stopped Redis: the page tells the truth ----------------------------------------------------

@pytest.mark.parametrize("registered", [True, False])
def test_with_the_job_queue_down_the_page_says_the_text_is_queued(app_config, make_farmer, registered):
    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})  # nothing listens there
    with app.app_context():
        phone = make_farmer().phone if registered else UNKNOWN
        client = app.test_client()
        client.get("/lang/en")
        ask(client, phone)
        page = client.get("/login/code/enter").get_data(as_text=True)
        assert "queued and will be sent shortly" in page and "is on its way" not in page
        assert len(texts(phone)) == (1 if registered else 0)
        assert all(message.status == "queued" for message in texts(phone))  # kept, sent once Redis is back


def test_the_code_text_leaves_only_after_the_page_has_answered(client, farmer):
    """So that a registered number's answer takes no longer than an unknown one's,
    even when texts go out inline (no Redis) through a slow gateway."""
    response = ask(client, farmer.phone)
    [message] = texts(farmer.phone)
    assert message.status == "queued"  # the answer is out; the text is not yet sent
    response.close()  # what the web server does once the answer is sent
    db.session.expire_all()
    assert texts(farmer.phone)[0].status == "sent"
