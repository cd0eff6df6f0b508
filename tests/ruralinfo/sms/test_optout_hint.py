"""The opt-out hint (``SMS_OPTOUT_HINT``, e.g. 拒收请回复R) that Chinese operators require: on
every text an opt-out stops, after the body, counted in its segments; never on replies or
log-in codes. What the phone gets is checked through the real twilio client and the fake API."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbox import letter_sms
from mailbox import services as mailbox
from ruralinfo.extensions import db
from ruralinfo.sms import segments, services, tasks
from ruralinfo.sms.models import LETTER, NOTICE, OTP, REPLY, OutboundMessage
from tests.ruralinfo.sms.conftest import FARMER, SIGNATURE

HINT = "拒收请回复R"


@pytest.fixture
def hinted(twilio_config):
    twilio_config["SMS_OPTOUT_HINT"] = HINT
    return twilio_config


def test_a_notice_carries_the_hint_and_pays_for_it_a_reply_does_not(hinted, twilio_app, fake_twilio):
    room = 70 - len(SIGNATURE)  # one UCS-2 segment holds exactly this much body
    body = "明" * room
    notice = services.queue_sms(FARMER, body, kind=NOTICE)
    reply = services.queue_sms(FARMER, body, kind=REPLY)
    code = services.queue_sms(FARMER, "您的验证码是 123456", kind=OTP)
    db.session.commit()
    assert (notice.segments, reply.segments, code.segments) == (2, 1, 1)
    for message in (notice, reply, code):
        tasks.send_message(message.id)
    got = [m["body"] for m in fake_twilio.messages]
    assert got == [SIGNATURE + body + " " + HINT, SIGNATURE + body, SIGNATURE + "您的验证码是 123456"]


def test_a_notice_whose_send_timed_out_is_found_with_its_hint(hinted, twilio_app, fake_twilio):
    message = services.queue_sms(FARMER, "明天停水", kind=NOTICE)
    db.session.commit()
    fake_twilio.hang_next()
    tasks.send_message(message.id)
    tasks.reconcile_message(message.id)  # looks the text up as it was sent: hint included
    db.session.expire_all()
    assert db.session.get(OutboundMessage, message.id).provider_id == fake_twilio.messages[0]["sid"]


def test_no_hint_configured_changes_nothing(twilio_app, fake_twilio):
    message = services.queue_sms(FARMER, "明天停水", kind=NOTICE)
    db.session.commit()
    tasks.send_message(message.id)
    assert fake_twilio.messages[0]["body"] == SIGNATURE + "明天停水"


def test_a_long_letter_keeps_within_the_limit_with_its_hint(hinted, twilio_app, make_farmer, make_staff):
    farmer, clerk = make_farmer(), make_staff("staff")
    body = "请各村做好防汛准备，检查沟渠、加固大棚，转移低洼地带的农机和农资。" * 20
    letter = mailbox.send_letter(sender=clerk, recipient=farmer, body=body, channel="web")
    text = db.session.scalar(select(OutboundMessage).where(OutboundMessage.to == farmer.phone,
                                                           OutboundMessage.kind == LETTER))
    limit = twilio_app.config["SMS_MAX_SEGMENTS"]
    assert text.segments == limit == segments.count(services.framed(text.body, LETTER)).segments
    assert f"看{letter.id}" in text.body.replace(" ", "")  # the rest by READ, not cut off by the hint
    count, over = letter_sms.preview(body, number=letter.id, sender_label="农业局", locale="zh")
    assert over and count > limit
