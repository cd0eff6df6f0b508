"""Kannel's calls to the app: the shared secret and allowed addresses, inbound texts by
the same store-first path as Twilio's with the reply as an outbox text, and delivery
reports moving the status. (tests/kannel runs the same through a real Kannel.)"""
import pytest
from sqlalchemy import func, select

from mailbox.models import Post
from ruralinfo import create_app
from ruralinfo.config import ConfigError
from ruralinfo.extensions import db
from ruralinfo.sms import services
from ruralinfo.sms.models import (DELIVERED, FAILED, REPLY, SENDING, SENT, UNDELIVERED, InboundMessage,
                                  OutboundMessage, StatusEvent)

SECRET = "kannel-secret-for-tests-0123"


@pytest.fixture
def app(app_config):
    app = create_app({**app_config, "KANNEL_SECRET": SECRET})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text_in(client, sender: str, text: str, kannel_id: str = "a1b2c3", secret: str = SECRET, **extra):
    query = {"secret": secret, "from": sender, "to": "1069012316", "text": text, "id": kannel_id,
             "time": "2026-12-07 09:30:00", "smsc": "cmcc", **extra}
    return client.post("/kannel/sms", query_string=query)


def test_a_text_without_the_secret_or_from_elsewhere_changes_nothing(app, app_config, client, make_farmer):
    farmer = make_farmer()
    assert text_in(client, farmer.phone, "卖 土豆 500斤", secret="").status_code == 403
    assert text_in(client, farmer.phone, "卖 土豆 500斤", secret=SECRET[:-1] + "x").status_code == 403
    assert client.get("/kannel/dlr", query_string={"id": "kannel-1", "status": "1"}).status_code == 403
    guarded = create_app({**app_config, "KANNEL_SECRET": SECRET, "KANNEL_ALLOWED_IPS": "10.0.0.5, 192.168.1.0/24"})
    outside = guarded.test_client().post("/kannel/sms", environ_base={"REMOTE_ADDR": "10.0.0.6"},
                                         query_string={"secret": SECRET, "from": farmer.phone, "text": "卖 土豆",
                                                       "id": "x1"})
    assert outside.status_code == 403
    assert count(InboundMessage) == count(Post) == count(StatusEvent) == 0
    inside = guarded.test_client().post("/kannel/sms", environ_base={"REMOTE_ADDR": "192.168.1.20"},
                                        query_string={"secret": SECRET, "from": farmer.phone, "text": "卖 土豆",
                                                      "id": "x2"})
    mapped = guarded.test_client().post("/kannel/sms", environ_base={"REMOTE_ADDR": "::ffff:10.0.0.5"},
                                        query_string={"secret": SECRET, "from": farmer.phone, "text": "我的",
                                                      "id": "x3"})  # the same address on a dual-stack socket
    assert inside.status_code == mapped.status_code == 200 and count(InboundMessage) == 2


def test_no_secret_configured_accepts_nothing(app_config, make_farmer):
    app = create_app(dict(app_config))  # KANNEL_SECRET unset
    with app.app_context():
        response = app.test_client().post("/kannel/sms", query_string={"secret": "", "from": "+8613800138000",
                                                                        "text": "帮助", "id": "z"})
        assert response.status_code == 403 and count(InboundMessage) == 0


def test_a_wrong_allowed_address_list_or_a_short_secret_is_refused_at_start(app_config):
    with pytest.raises(ConfigError, match="KANNEL_ALLOWED_IPS"):
        create_app({**app_config, "KANNEL_ALLOWED_IPS": "10.0.0.5, the gateway"})
    from ruralinfo import config

    kannel = {**app_config, "TESTING": False, "SMS_BACKEND": "kannel", "KANNEL_SEND_URL": "http://127.0.0.1:13013/",
              "KANNEL_USERNAME": "ruralinfo", "KANNEL_PASSWORD": "pass-word-42"}
    with pytest.raises(ConfigError, match="KANNEL_SECRET is shorter than 16"):
        create_app({**kannel, "KANNEL_SECRET": "guessable"})
    config.validate(create_app({**kannel, "KANNEL_SECRET": SECRET}).config, debug=False)  # long enough


def test_a_post_by_text_is_handled_and_the_reply_goes_out_as_a_text_of_its_own(app, client, make_farmer):
    farmer = make_farmer(phone="+8613800138000")
    response = text_in(client, "8613800138000", "卖 土豆 500斤 每斤1.5元")  # as an SMSC writes the number
    assert response.status_code == 200 and response.get_data() == b""  # Kannel sends nothing itself
    post = db.session.scalar(select(Post))
    assert post.user_id == farmer.id and post.channel == "sms" and post.base_quantity == 250  # 500斤 = 250 公斤
    stored = db.session.scalar(select(InboundMessage))
    assert stored.gateway == "kannel" and stored.handled_at is not None and stored.user_id == farmer.id
    reply = db.session.scalar(select(OutboundMessage).where(OutboundMessage.kind == REPLY))
    assert reply.to == farmer.phone and reply.gateway == "outbox" and "土豆" in reply.body
    assert reply.cause == f"inbound:{stored.id}" and reply.body == stored.reply


def test_a_repeated_kannel_id_does_nothing_twice(app, client, make_farmer):
    farmer = make_farmer(phone="+8613800138000")
    for _ in range(3):  # Kannel retrying a call it thinks failed
        assert text_in(client, farmer.phone, "卖 土豆 500斤", kannel_id="9f8e7d").status_code == 200
    assert count(Post) == count(InboundMessage) == 1
    assert db.session.scalar(select(func.count()).where(OutboundMessage.kind == REPLY)) == 1


def test_without_an_id_the_same_call_is_still_recognised(app, client, make_farmer):
    farmer = make_farmer(phone="+8613800138000")
    for _ in range(2):
        assert text_in(client, farmer.phone, "卖 白菜 300斤", kannel_id="").status_code == 200
    text_in(client, farmer.phone, "卖 白菜 300斤", kannel_id="", time="2026-12-07 09:41:00")  # sent again later
    assert count(InboundMessage) == count(Post) == 2


def test_the_text_may_come_in_the_body_and_a_stranger_gets_the_registration_hint(app, client):
    response = client.post("/kannel/sms", query_string={"secret": SECRET, "from": "+8613900139000", "id": "b1"},
                           data="你好".encode("utf-8"), content_type="text/plain; charset=utf-8")
    assert response.status_code == 200
    stored = db.session.scalar(select(InboundMessage))
    assert stored.body == "你好" and stored.user_id is None
    reply = db.session.scalar(select(OutboundMessage))
    assert reply.to == "+8613900139000" and app.config["HOTLINE_NUMBER"] in reply.body


def test_a_text_with_no_sender_is_refused_and_odd_text_is_kept(app, client, make_farmer):
    assert client.post("/kannel/sms", query_string={"secret": SECRET, "text": "帮助", "id": "n1"}).status_code == 400
    farmer = make_farmer(phone="+8613800138000")
    odd = "卖\x00 土豆🥔" + "很" * 2000
    assert text_in(client, farmer.phone, odd, kannel_id="n2").status_code == 200
    stored = db.session.scalar(select(InboundMessage))
    assert stored.body.startswith("卖 土豆🥔") and stored.handled_at is not None


def _sent(provider_id: str) -> OutboundMessage:
    message = services.queue_sms("+8613800138000", "明天有霜冻", kind="notice")
    message.provider_id, message.status = provider_id, SENDING
    db.session.commit()
    return message


def report(client, provider_id: str, kind: str, answer: str = "", method: str = "get"):
    query = {"secret": SECRET, "id": provider_id, "status": kind, "answer": answer}
    return getattr(client, method)("/kannel/dlr", query_string=query)


def test_delivery_reports_move_the_status_and_late_ones_change_nothing(app, client):
    message = _sent("kannel-aaa")
    assert report(client, "kannel-aaa", "8", "ACK/").status_code == 200  # accepted by the SMSC
    db.session.refresh(message)
    assert message.status == SENT
    report(client, "kannel-aaa", "1", "id:77 sub:001 dlvrd:001 stat:DELIVRD err:000", method="post")
    report(client, "kannel-aaa", "4")  # a buffered report arriving late
    db.session.refresh(message)
    assert message.status == DELIVERED and message.last_error == ""
    events = db.session.scalars(select(StatusEvent).order_by(StatusEvent.id)).all()
    assert [(e.status, e.applied) for e in events] == [("sent", True), ("delivered", True), ("sent", False)]


def test_undelivered_rejected_unknown_and_odd_reports(app, client):
    undelivered, rejected = _sent("kannel-bbb"), _sent("kannel-ccc")
    report(client, "kannel-bbb", "2", "id:78 sub:001 dlvrd:000 stat:UNDELIV err:012")
    report(client, "kannel-ccc", "16", "NACK/0x00000045/Message submit failed")
    report(client, "kannel-none", "1")  # not ours: recorded only
    report(client, "kannel-bbb", "32")  # a type Kannel does not send
    assert client.get("/kannel/dlr", query_string={"secret": SECRET}).status_code == 200  # no id: nothing
    db.session.refresh(undelivered)
    db.session.refresh(rejected)
    assert undelivered.status == UNDELIVERED and undelivered.last_error == "provider error 012"
    assert rejected.status == FAILED and rejected.last_error == "provider error 0x00000045"
    assert count(StatusEvent) == 4
