"""The Twilio webhooks: signatures, storing first, repeats, status callbacks, odd input."""
import itertools
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mailbox.models import Post
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.sms import services
from ruralinfo.sms.models import DELIVERED, SENT, InboundMessage, OutboundMessage, StatusEvent

PARAMS = {"MessageSid": "SM" + "a" * 32, "From": "+8613800138000", "To": "+8610690000", "Body": "卖 土豆 500斤"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_forged_unsigned_and_replayed_requests_change_nothing(app, client, signed_post, make_farmer):
    make_farmer(phone="+8613800138000")
    assert client.post("/twilio/sms", data=PARAMS).status_code == 403  # unsigned
    assert signed_post("/twilio/sms", PARAMS, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403  # forged
    # a real signature, but for another URL (replayed to this one)
    assert signed_post("/twilio/sms", PARAMS, url="https://elsewhere.example/twilio/sms").status_code == 403
    assert signed_post("/twilio/sms", PARAMS, url=app.config["PUBLIC_BASE_URL"] + "/twilio/sms/status").status_code == 403
    # a real signature, but the body was changed on the way
    from ruralinfo.sms.webhooks import sign
    good = sign(app.config["PUBLIC_BASE_URL"] + "/twilio/sms", PARAMS)
    assert signed_post("/twilio/sms", {**PARAMS, "Body": "卖 大米"}, signature=good).status_code == 403
    assert signed_post("/twilio/sms/status", {"MessageSid": "SMx", "MessageStatus": "delivered"},
                       signature="x").status_code == 403
    assert count(InboundMessage) == count(Post) == count(StatusEvent) == 0


def test_signatures_hold_behind_a_proxy(app_config, make_farmer):
    """The public URL is configured; the Host the proxy forwards does not matter."""
    from ruralinfo import create_app
    from ruralinfo.sms.webhooks import sign

    app = create_app({**app_config, "PUBLIC_BASE_URL": "https://nongmin.example.cn", "PROXY_COUNT": 1})
    with app.app_context():
        make_farmer(phone="+8613800138000")
        signature = sign("https://nongmin.example.cn/twilio/sms", PARAMS)
        response = app.test_client().post("/twilio/sms", data=PARAMS, base_url="http://10.0.0.5:8000",
                                          headers={"X-Twilio-Signature": signature,
                                                   "X-Forwarded-Proto": "https", "X-Forwarded-For": "54.1.2.3"})
        assert response.status_code == 200 and count(Post) == 1


def test_a_repeated_message_sid_answers_the_same_and_does_nothing_twice(make_farmer, text_in):
    farmer = make_farmer(phone="+8613800138000")
    _, first = text_in(farmer.phone, "卖 土豆 500斤", sid="SM" + "b" * 32)
    _, again = text_in(farmer.phone, "卖 土豆 500斤", sid="SM" + "b" * 32)
    assert first == again and "土豆" in first
    assert count(Post) == 1 and count(InboundMessage) == 1
    assert db.session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.kind == "reply")) == 1


def test_the_reply_is_twiml_with_the_signature(make_farmer, text_in, app):
    farmer = make_farmer(phone="+8613800138000")
    response, reply = text_in(farmer.phone, "帮助")
    assert response.mimetype == "application/xml"
    assert reply.startswith(app.config["SMS_SIGNATURE"])


def test_status_callbacks_in_any_order_and_for_unknown_messages(app, signed_post):
    message = services.queue_sms("+8613800138000", "测试", kind="notice")
    message.provider_id, message.status = "SM" + "c" * 32, SENT
    db.session.commit()
    for word in ("delivered", "sent", "sending"):  # delivered first, then the late ones
        assert signed_post("/twilio/sms/status", {"MessageSid": message.provider_id, "MessageStatus": word}).status_code == 204
    db.session.refresh(message)
    assert message.status == DELIVERED
    assert signed_post("/twilio/sms/status", {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered"}).status_code == 204
    events = db.session.scalars(select(StatusEvent).order_by(StatusEvent.id)).all()
    assert [(e.status, e.applied) for e in events] == [("delivered", True), ("sent", False), ("sending", False),
                                                         ("delivered", False)]
    assert events[-1].message_id is None


ODD_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=2000) | st.sampled_from([
    "", " ", "\x00\x01\x02", "卖" * 2000, "回复 99999999999999999999 x", "REPLY", "?" * 500, "\u202e卖\u200b土豆",
    "<Response><Message>x</Message></Response>", "]]>&<'\"", "😀" * 700])


_odd_sids = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=ODD_TEXT, known=st.booleans())
def test_any_text_gets_200_and_valid_twiml(app, signed_post, make_farmer, body, known):
    """Arbitrary Unicode, control characters, 2,000-character bodies, from a
    registered farmer or a stranger: always 200 with valid TwiML, never a 500."""
    phone = "+8613800138000" if known else "+8613900139000"
    if known and db.session.scalar(select(User).where(User.phone == phone)) is None:
        make_farmer(phone=phone)
    sid = f"SM{next(_odd_sids):032x}"
    response = signed_post("/twilio/sms", {"MessageSid": sid, "From": phone, "Body": body})
    assert response.status_code == 200
    assert ET.fromstring(response.get_data()).tag == "Response"
    stored = db.session.scalar(select(InboundMessage).where(InboundMessage.provider_id == sid))
    assert stored is not None and stored.handled_at is not None  # stored first, and handled
