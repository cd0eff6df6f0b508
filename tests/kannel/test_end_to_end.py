"""The whole product through a real Kannel: a farmer's phone (the fake SMSC) texts in, Kannel
calls /kannel/sms, the command runs as it would on Twilio, the reply goes out through
sendsms to the phone, and the delivery report comes back to /kannel/dlr and moves its status."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from mailbox.models import Post
from ruralinfo import create_app
from ruralinfo.extensions import db
from ruralinfo.sms import services as sms
from ruralinfo.sms import tasks
from ruralinfo.sms.models import DELIVERED, QUEUED, REPLY, InboundMessage, OutboundMessage
from tests.conftest import BASE_CONFIG, CHANGXI
from tests.kannel.conftest import SECRET
from tests.kannel.harness import KannelHarness, require_kannel

LONG_NUMBER = "1069012316"
HINT = "拒收请回复R"


@pytest.fixture
def county_before_kannel(database_url):
    """The app served on a free port with the kannel backend, and a Kannel that will call
    it, not started yet (``kannel.start()``). Tests reach the database through ``app``'s
    context: other fixtures (make_farmer) push the outbox backend's."""
    require_kannel()
    kannel = KannelHarness(secret=SECRET)
    config = {**BASE_CONFIG, "DATABASE_URL": database_url, "SMS_BACKEND": "kannel",
              "KANNEL_SEND_URL": kannel.send_url, "KANNEL_USERNAME": kannel.username,
              "KANNEL_PASSWORD": kannel.password, "KANNEL_SECRET": SECRET, "KANNEL_FROM": LONG_NUMBER,
              "KANNEL_ALLOWED_IPS": "127.0.0.1", "QUIET_HOURS": "", "SMS_SEND_TIMEOUT": 5,
              "SMS_OPTOUT_HINT": HINT}
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = kannel.app_url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with app.app_context():
            yield app, kannel
            db.session.remove()
            db.engine.dispose()
    finally:
        kannel.stop()
        server.shutdown()


@pytest.fixture
def county(county_before_kannel):
    app, kannel = county_before_kannel
    kannel.start()
    return app, kannel


def _until(check, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # see the server's commits
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("the app never got there")


def test_a_farmer_posts_by_text_and_gets_the_reply_on_the_phone(county, make_farmer):
    app, kannel = county
    farmer = make_farmer(region_code=CHANGXI, phone="+8613800138011")
    kannel.send_in("8613800138011", LONG_NUMBER, "卖 土豆 500斤 每斤1.5元")
    post = _until(lambda: db.session.scalar(select(Post).where(Post.user_id == farmer.id)))
    assert post.channel == "sms" and post.base_quantity == 250
    stored = db.session.scalar(select(InboundMessage))
    assert stored.gateway == "kannel" and stored.provider_id.startswith("kannel-")
    got = kannel.wait_for(lambda m: m.receiver.endswith("13800138011"), joined=True)
    assert got.text.startswith(app.config["SMS_SIGNATURE"]) and "土豆" in got.text and got.sender == LONG_NUMBER
    reply = db.session.scalar(select(OutboundMessage).where(OutboundMessage.kind == REPLY))
    assert got.text == app.config["SMS_SIGNATURE"] + reply.body
    delivered = _until(lambda: db.session.scalar(select(OutboundMessage.status).where(
        OutboundMessage.id == reply.id, OutboundMessage.status == DELIVERED)))
    assert delivered == DELIVERED


def test_english_in_and_a_notice_out_with_the_opt_out_hint(county, make_farmer):
    app, kannel = county
    farmer = make_farmer(phone="+8613800138012")
    kannel.send_in("+8613800138012", LONG_NUMBER, "HELP")
    got = kannel.wait_for(lambda m: m.receiver.endswith("13800138012"), joined=True)
    assert got.text.startswith(app.config["SMS_SIGNATURE"]) and HINT not in got.text  # a reply: no hint
    with app.app_context():  # this app's (make_farmer pushed the outbox backend's)
        notice = sms.queue_sms(farmer.phone, "明早有霜冻，请注意茶园防冻。", kind="notice", user=farmer)
        db.session.commit()
        sms.dispatch_pending()
        notice_id = notice.id
    kannel.wait_for(lambda m: m.text.endswith("请注意茶园防冻。 " + HINT), joined=True)
    _until(lambda: db.session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.id == notice_id, OutboundMessage.status == DELIVERED)))


def test_texts_wait_while_kannel_is_down_and_go_when_it_is_back(county_before_kannel, make_farmer):
    app, kannel = county_before_kannel
    farmer = make_farmer(phone="+8613800138013")
    with app.app_context():
        notice = sms.queue_sms(farmer.phone, "明天上午停电检修。", kind="notice", user=farmer)
        db.session.commit()
        sms.dispatch_pending()  # Kannel is not running: refused, kept for a retry
        db.session.refresh(notice)
        assert notice.status == QUEUED and notice.attempts == 1 and "not reachable" in notice.last_error
        kannel.start()
        report = tasks.sweep(now=notice.next_attempt_at + timedelta(seconds=1))
        assert report.queued == 1
        notice_id = notice.id
    kannel.wait_for(lambda m: m.text.endswith("明天上午停电检修。 " + HINT))
    _until(lambda: db.session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.id == notice_id, OutboundMessage.status == DELIVERED)))
