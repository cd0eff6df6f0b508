"""Fixtures for the SMS channel's tests: the fake Twilio API and an app that sends through it."""
from __future__ import annotations

import uuid

import pytest

# The backends register themselves when imported (create_app imports them too).
import ruralinfo.sms.gateways.outbox  # noqa: F401
import ruralinfo.sms.gateways.twilio  # noqa: F401
from tests.fakes.twilio_api import CLIENT_TIMEOUT, FakeTwilio

ACCOUNT_SID = "AC" + uuid.UUID(int=0x5A17).hex
AUTH_TOKEN = "fake-auth-token-" + "0" * 16
SENDER = "+15005550006"
SIGNATURE = "【慈溪市农业农村局】"
FARMER = "+8613800138000"


@pytest.fixture
def fake_twilio():
    """Twilio's Messages API on a free port of 127.0.0.1 (a thread), stopped after the test."""
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def twilio_config(app_config, fake_twilio):
    """``app_config`` for the twilio backend pointed at the fake (use before ``app``)."""
    app_config.update({
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM": SENDER,
        "TWILIO_API_BASE": fake_twilio.url,
        "PUBLIC_BASE_URL": "https://ruralinfo.example.org/",
        "SMS_SIGNATURE": SIGNATURE,
        "SMS_SEND_TIMEOUT": CLIENT_TIMEOUT,
    })
    return app_config


@pytest.fixture
def twilio_app(twilio_config, request):
    """The app, sending through the real twilio client to the fake."""
    return request.getfixturevalue("app")


@pytest.fixture
def queue_text():
    """Put one text in the outbox of the current app and commit, as a service would: returns its id.
    (No dependency on ``app``, so that it never builds the app before ``twilio_config``.)"""
    from ruralinfo.extensions import db
    from ruralinfo.sms import services

    def queue(body: str = "您的验证码是 123456", to: str = FARMER, kind: str = "otp") -> int:
        message = services.queue_sms(to, body, kind=kind, cause="test")
        db.session.commit()
        return message.id
    return queue
