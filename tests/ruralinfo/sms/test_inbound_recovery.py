"""A text stored but not handled is not lost: when the process dies between storing
and handling it, Twilio's retry (same MessageSid) or the sweep handles it, once.

The deaths are real: a child process, sharing this test's database, is killed
with SIGKILL right after ``inbound._store`` committed the row (or inside a
command's handler, while the sweep runs)."""
from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import textwrap
import threading
import time
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from mailbox import services as mailbox_services
from mailbox.models import Letter, Post
from ruralinfo.extensions import db
from ruralinfo.sms import inbound, tasks
from ruralinfo.sms.cli import sms_cli
from ruralinfo.sms.models import QUEUED, REPLY, SENT, InboundMessage, OutboundMessage
from ruralinfo.sms.webhooks import sign
from ruralinfo.timeutil import now_utc
from tests.conftest import CHANGXI, next_id_number

ROOT = Path(__file__).resolve().parents[3]
PHONE = "+8613800138000"
BODY = "卖 土豆 500斤"

CHILD = textwrap.dedent("""
    import json, os, signal, sys

    from ruralinfo import create_app
    from ruralinfo.sms import inbound

    mode, config, params = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])

    def die(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    app = create_app(config)
    with app.app_context():
        if mode == "webhook":  # dies between storing the text and handling it
            store = inbound._store

            def store_then_die(*args, **kwargs):
                if store(*args, **kwargs) is not None:  # committed
                    die()

            inbound._store = store_then_die
            from ruralinfo.sms.webhooks import sign

            url = app.config["PUBLIC_BASE_URL"].rstrip("/") + "/twilio/sms"
            app.test_client().post("/twilio/sms", data=params, headers={"X-Twilio-Signature": sign(url, params)})
        else:  # the sweep dies inside a command's handler
            import mailbox.services
            from ruralinfo.sms import tasks

            mailbox.services.create_post = die
            tasks.sweep()
    print("survived")
""")


def run_child(app_config: dict, mode: str, params: dict | None = None) -> None:
    """Run the app in a child process that kills itself with SIGKILL (see CHILD)."""
    db.session.commit()  # nothing of ours holds a lock or a snapshot
    result = subprocess.run([sys.executable, "-c", CHILD, mode, json.dumps(app_config), json.dumps(params or {})],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stdout, result.stderr[-3000:])
    db.session.expire_all()


def params_for(sid: str, body: str = BODY, phone: str = PHONE) -> dict:
    return {"MessageSid": sid, "From": phone, "To": "+8610690000", "Body": body,
            "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def stored(sid: str) -> InboundMessage:
    db.session.expire_all()
    return db.session.scalar(select(InboundMessage).where(InboundMessage.provider_id == sid))


def replies(message_id: int) -> list[OutboundMessage]:
    db.session.expire_all()
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.cause == f"inbound:{message_id}")
                              .order_by(OutboundMessage.id)).all()


def age(message_id: int, seconds: int = 120) -> None:
    """As if the text had arrived ``seconds`` ago."""
    db.session.execute(update(InboundMessage).where(InboundMessage.id == message_id)
                       .values(received_at=now_utc() - timedelta(seconds=seconds)))
    db.session.commit()


def store_only(sid: str, body: str = BODY, phone: str = PHONE) -> int:
    """Store a text as the webhook does first, and stop there (the death, in-process)."""
    message = inbound._store(sid, phone, "+8610690000", body, "twilio")
    return message.id


@pytest.fixture
def farmer(make_point, make_farmer):
    make_point("长溪村联络点", (CHANGXI,))
    return make_farmer(region_code=CHANGXI, name="陈阿毛", phone=PHONE)


@pytest.fixture
def failing_posts(monkeypatch):
    """Every SELL/BUY raises, with the text and an ID number in the exception's message."""
    id_number = next_id_number()

    def boom(user, kind, text, **_kwargs):
        raise RuntimeError(f"cannot save {text!r} for {id_number}")

    monkeypatch.setattr(mailbox_services, "create_post", boom)
    return id_number


def apology() -> str:
    """The answer to a text that could not be handled (in the farmer's language, Chinese)."""
    from flask_babel import force_locale, gettext

    with force_locale("zh"):
        return gettext("Sorry, something went wrong. Your message is saved and we will look at it.")


def twiml_reply(response) -> str | None:
    assert response.status_code == 200, response.get_data(as_text=True)
    message = ET.fromstring(response.get_data()).find("Message")
    return message.text if message is not None else None


# --- the process dies between storing and handling ---------------------------------------------------

def test_the_retry_handles_a_text_whose_process_died_after_storing_it_once(app_config, farmer, text_in):
    sid = "SM" + "1" * 32
    run_child(app_config, "webhook", params_for(sid))
    message = stored(sid)
    assert message is not None and message.handled_at is None and count(Post) == 0  # stored, not handled

    _, reply = text_in(PHONE, BODY, sid=sid)  # Twilio's retry
    [post] = db.session.scalars(select(Post)).all()
    assert reply and str(post.id) in reply and post.inbound_id == message.id
    message = stored(sid)
    assert message.handled_at is not None and message.command == "sell" and message.error == ""
    [row] = replies(message.id)
    assert (row.kind, row.status, row.gateway) == (REPLY, SENT, "inline")  # answered in the TwiML

    _, again = text_in(PHONE, BODY, sid=sid)  # and once more: the same answer, nothing else
    assert again == reply and count(Post) == 1 and len(replies(message.id)) == 1


def test_the_sweep_handles_a_text_whose_process_died_after_storing_it_once(app, app_config, farmer, text_in):
    sid = "SM" + "2" * 32
    run_child(app_config, "webhook", params_for(sid, body="我家的葡萄叶子发黄怎么办"))
    message = stored(sid)
    assert message.handled_at is None
    age(message.id)

    result = app.test_cli_runner().invoke(sms_cli, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "1 received text(s)" in result.output
    [letter] = db.session.scalars(select(Letter)).all()
    assert letter.body == "我家的葡萄叶子发黄怎么办" and letter.inbound_id == message.id
    message = stored(sid)
    assert message.handled_at is not None and message.command == "fallback" and message.reply
    [row] = replies(message.id)  # no webhook is waiting for it: a real text, through the outbox
    assert (row.kind, row.gateway, row.status) == (REPLY, "outbox", SENT)
    assert row.provider_id.startswith("outbox-") and row.body == message.reply and row.user_id == farmer.id

    assert tasks.sweep().inbound == 0  # nothing left
    _, late = text_in(PHONE, "我家的葡萄叶子发黄怎么办", sid=sid)  # a late retry: nothing twice
    assert late is None
    assert count(Letter) == 1 and len(replies(message.id)) == 1


def test_the_sweep_leaves_texts_younger_than_a_minute_to_their_own_request(app, farmer):
    message_id = store_only("SM" + "3" * 32)
    age(message_id, seconds=30)
    assert tasks.sweep().inbound == 0
    assert stored("SM" + "3" * 32).handled_at is None and count(Post) == 0
    report = tasks.sweep(now=now_utc() + timedelta(seconds=31))
    assert report.inbound == 1 and count(Post) == 1


def test_the_sweep_handles_the_oldest_first_and_an_unknown_sender_too(app, farmer):
    newer = store_only("SM" + "4" * 32, body="卖 大米")
    older = store_only("SM" + "5" * 32, body="卖 土豆")
    stranger = store_only("SM" + "6" * 32, body="你好", phone="+8613912345678")
    age(newer, 100)
    age(older, 200)
    age(stranger, 150)
    assert tasks.sweep().inbound == 3
    assert [p.text for p in db.session.scalars(select(Post).order_by(Post.id))] == ["土豆", "大米"]
    message = stored("SM" + "6" * 32)
    assert message.command == "unknown-sender" and "联络点" in message.reply
    [row] = replies(stranger)
    assert row.to == "+8613912345678" and row.kind == REPLY and row.gateway != "inline"


# --- failures -------------------------------------------------------------------------------------------

def test_a_failure_is_recorded_with_the_error_but_never_the_text_or_an_id_number(app, farmer, text_in,
                                                                                failing_posts, caplog):
    caplog.set_level(logging.DEBUG, logger="ruralinfo")
    _, reply = text_in(PHONE, "卖 土豆 500斤", sid="SM" + "7" * 32)
    message = stored("SM" + "7" * 32)
    assert reply == app.config["SMS_SIGNATURE"] + message.reply == app.config["SMS_SIGNATURE"] + apology()
    assert message.command == "error" and message.handled_at is not None
    assert message.error.startswith("RuntimeError: cannot save")
    for secret in ("土豆", "500斤", failing_posts, failing_posts[:10]):
        assert secret not in message.error
        assert secret not in caplog.text
    assert f"inbound message {message.id}" in caplog.text and "RuntimeError" in caplog.text
    assert count(Post) == 0 and len(replies(message.id)) == 1


def test_one_failing_text_does_not_stop_the_sweep(app, farmer, monkeypatch):
    original = mailbox_services.create_post

    def fails_for_rice(user, kind, text, **kwargs):
        if "大米" in text:
            raise ValueError("no rice today")
        return original(user, kind, text, **kwargs)

    monkeypatch.setattr(mailbox_services, "create_post", fails_for_rice)
    bad = store_only("SM" + "8" * 32, body="卖 大米")
    good = store_only("SM" + "9" * 32, body="卖 土豆")
    age(bad, 200)
    age(good, 100)
    report = tasks.sweep()
    assert (report.inbound, report.inbound_failed) == (2, 1)
    failed = stored("SM" + "8" * 32)
    assert failed.command == "error" and failed.error == "ValueError: no rice today"
    assert [p.text for p in db.session.scalars(select(Post))] == ["土豆"]
    [sorry] = replies(bad)  # told once, by a real text
    assert sorry.kind == REPLY and sorry.gateway != "inline" and sorry.body == apology()
    assert len(replies(good)) == 1
    result = app.test_cli_runner().invoke(sms_cli, ["sweep"])
    assert "0 received text(s)" in result.output  # a failed text is the bureau's now, not the sweep's


def test_a_text_that_kills_the_sweep_is_set_aside_not_tried_forever(app, app_config, farmer):
    sid = "SM" + "a" * 32
    message_id = store_only(sid)
    age(message_id)
    run_child(app_config, "sweep")  # the handler kills the process
    message = stored(sid)
    assert message.handled_at is None and count(Post) == 0
    assert tasks.sweep().inbound == 0  # at once: as far as anyone knows, another sweep is at work on it
    later = now_utc() + timedelta(minutes=6)
    report = tasks.sweep(now=later)  # the next sweep does not run it again: it is failed, for the bureau
    assert (report.inbound, report.inbound_failed) == (1, 1)
    message = stored(sid)
    assert message.command == "error" and "interrupted" in message.error and count(Post) == 0
    [sorry] = replies(message_id)
    assert (sorry.body, sorry.status, sorry.gateway) == (apology(), SENT, "outbox")


def test_a_failed_text_handled_again_is_handled_once_and_not_apologised_for_twice(app, farmer, monkeypatch):
    from ruralinfo.accounts.models import User
    from ruralinfo.bureau import services as bureau

    original = mailbox_services.create_post
    monkeypatch.setattr(mailbox_services, "create_post", lambda *a, **k: 1 / 0)
    message_id = store_only("SM" + "b" * 32)
    age(message_id)
    tasks.sweep()
    assert stored("SM" + "b" * 32).error.startswith("ZeroDivisionError")
    clerk = db.session.scalar(select(User).where(User.phone == PHONE))  # any actor will do here

    bureau.handle_again(message_id, actor=clerk)  # still failing: the error is kept, no second apology
    message = stored("SM" + "b" * 32)
    assert message.command == "error" and message.handled_at is not None and len(replies(message_id)) == 1

    monkeypatch.setattr(mailbox_services, "create_post", original)
    bureau.handle_again(message_id, actor=clerk)
    message = stored("SM" + "b" * 32)
    assert message.command == "sell" and message.error == "" and count(Post) == 1
    rows = replies(message_id)
    assert len(rows) == 2 and rows[-1].body == message.reply and rows[-1].gateway == "outbox"
    with pytest.raises(bureau.TextNotFailed):
        bureau.handle_again(message_id, actor=clerk)
    assert count(Post) == 1 and len(replies(message_id)) == 2


# --- races ----------------------------------------------------------------------------------------------

def race(app, monkeypatch, jobs: dict) -> dict:
    """Run ``jobs`` (name -> function, in their order) in threads with their own app
    contexts; the first one is held inside its command's handler (its claim taken,
    not committed) until the second has started and reached its own claim."""
    first, second = list(jobs)
    inside, release = threading.Event(), threading.Event()
    original = mailbox_services.create_post

    def slow(*args, **kwargs):
        if threading.current_thread().name == first:
            inside.set()
            assert release.wait(20)
        return original(*args, **kwargs)

    monkeypatch.setattr(mailbox_services, "create_post", slow)
    results, errors = {}, []

    def run(name):
        try:
            with app.app_context():
                results[name] = jobs[name]()
                db.session.remove()
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    db.session.commit()
    threads = [threading.Thread(target=run, args=(name,), name=name) for name in jobs]
    threads[0].start()
    assert inside.wait(20)
    threads[1].start()
    time.sleep(1.0)  # the second reaches its claim and waits there
    release.set()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("first", ["sweep", "retry"])
def test_a_retry_and_the_sweep_racing_handle_it_once(app, farmer, monkeypatch, first):
    """Whoever claims the text first handles it; the other waits for its commit and does nothing."""
    sid = "SM" + "c" * 32
    message_id = store_only(sid)
    age(message_id)
    params = params_for(sid)
    signature = sign(app.config["PUBLIC_BASE_URL"].rstrip("/") + "/twilio/sms", params)

    def retry():
        response = app.test_client().post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
        return twiml_reply(response)

    jobs = {"sweep": tasks.sweep, "retry": retry}
    results = race(app, monkeypatch, jobs if first == "sweep" else dict(reversed(list(jobs.items()))))

    assert count(Post) == 1
    message = stored(sid)
    [row] = replies(message_id)
    assert message.command == "sell" and message.handled_at is not None
    if first == "sweep":
        assert results["sweep"].inbound == 1
        assert results["retry"] is None  # the reply went as a text: not twice
        assert row.gateway != "inline" and row.status in (QUEUED, SENT)
    else:
        assert results["sweep"].inbound == 0
        assert results["retry"] == app.config["SMS_SIGNATURE"] + message.reply
        assert row.gateway == "inline"


def test_two_handlers_racing_handle_it_once(app, farmer, monkeypatch):
    """Both read the text as unhandled; the second waits on the first one's claim,
    then finds it taken (e.g. the sweep and the bureau, or two sweeps)."""
    message_id = store_only("SM" + "d" * 32)
    results = race(app, monkeypatch, {"one": lambda: inbound.handle(message_id),
                                      "two": lambda: inbound.handle(message_id)})
    assert results["one"].handled and not results["two"].handled
    assert count(Post) == 1 and len(replies(message_id)) == 1
