"""The gateway backends: the outbox, and twilio through the real client against the local fake API."""
import time
from datetime import timedelta

import pytest

from ruralinfo.sms import gateways
from ruralinfo.sms.gateways import GatewayError, SendOutcomeUnknown, SendResult
from ruralinfo.sms.gateways import outbox as outbox_backend
from ruralinfo.sms.gateways import twilio as twilio_backend
from ruralinfo.timeutil import now_utc
from tests.fakes.twilio_api import CLIENT_TIMEOUT, HANG

from .conftest import ACCOUNT_SID, AUTH_TOKEN, FARMER, SENDER

CALLBACK = "https://ruralinfo.example.org/twilio/sms/status"


def make_twilio(fake, **overrides):
    config = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM": SENDER,
              "TWILIO_API_BASE": fake.url, "PUBLIC_BASE_URL": "https://ruralinfo.example.org/",
              "SMS_SEND_TIMEOUT": CLIENT_TIMEOUT, **overrides}
    return twilio_backend.make(config)


def test_both_backends_are_registered():
    assert {"outbox", "twilio"} <= set(gateways.names())


def test_the_outbox_backend_keeps_everything_on_the_machine():
    gateway = outbox_backend.make({})
    first, second = gateway.send(FARMER, "【局】你好", None), gateway.send(FARMER, "【局】你好", None)
    assert first.status == "sent" and first.provider_id.startswith("outbox-")
    assert len(first.provider_id) == len("outbox-") + 32 and first.provider_id != second.provider_id
    assert gateway.find(FARMER, "【局】你好", now_utc()) is None


def test_the_configured_backend_is_built_once_per_app(twilio_app, fake_twilio):
    gateway = gateways.current()
    assert gateway.name == "twilio" and gateways.current() is gateway


def test_an_unconfigured_twilio_backend_says_what_is_missing(fake_twilio):
    with pytest.raises(RuntimeError, match="TWILIO_ACCOUNT_SID"):
        make_twilio(fake_twilio, TWILIO_ACCOUNT_SID="")


def test_twilio_send_from_a_number(fake_twilio):
    result = make_twilio(fake_twilio).send(FARMER, "【局】稻飞虱预警", None)
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.status == "sending"  # Twilio answered "queued"
    [received] = fake_twilio.messages
    assert received["sid"] == result.provider_id
    assert (received["to"], received["from"], received["body"]) == (FARMER, SENDER, "【局】稻飞虱预警")
    assert received["status_callback"] == CALLBACK and received["messaging_service_sid"] is None


def test_twilio_send_through_a_messaging_service(fake_twilio):
    service = "MG" + "a" * 32
    gateway = make_twilio(fake_twilio, TWILIO_FROM=service)
    result = gateway.send(FARMER, "Hello", None)
    [received] = fake_twilio.messages
    assert received["messaging_service_sid"] == service and received["from"] is None
    assert result.status == "sending"  # "accepted"
    assert gateway.find(FARMER, "Hello", now_utc() - timedelta(seconds=5)).provider_id == result.provider_id


def test_an_explicit_callback_url_wins(fake_twilio):
    make_twilio(fake_twilio).send(FARMER, "x", "https://elsewhere.example.org/cb")
    assert fake_twilio.messages[0]["status_callback"] == "https://elsewhere.example.org/cb"


def test_no_public_url_no_callback(fake_twilio):
    make_twilio(fake_twilio, PUBLIC_BASE_URL="").send(FARMER, "x", None)
    assert fake_twilio.messages[0]["status_callback"] is None


def test_wrong_credentials_are_a_permanent_error(fake_twilio):
    with pytest.raises(GatewayError) as caught:
        make_twilio(fake_twilio, TWILIO_AUTH_TOKEN="wrong").send(FARMER, "x", None)
    assert not caught.value.retryable and caught.value.code == "20003"
    assert fake_twilio.messages == []


def test_an_invalid_number_is_a_permanent_error_with_twilios_code(fake_twilio):
    fake_twilio.fail_next()
    with pytest.raises(GatewayError) as caught:
        make_twilio(fake_twilio).send("+861", "x", None)
    assert not caught.value.retryable and caught.value.code == "21211"
    assert "21211" in str(caught.value) and "HTTP 400" in str(caught.value)


def test_a_server_error_is_not_retried(fake_twilio):
    fake_twilio.fail_next(500, 20500, "Internal Server Error")
    with pytest.raises(GatewayError) as caught:
        make_twilio(fake_twilio).send(FARMER, "x", None)
    assert not caught.value.retryable and caught.value.code == "20500"


def test_too_many_requests_is_retryable(fake_twilio):
    fake_twilio.throttle_next()
    gateway = make_twilio(fake_twilio)
    with pytest.raises(GatewayError) as caught:
        gateway.send(FARMER, "x", None)
    assert caught.value.retryable and caught.value.code == "20429"
    assert fake_twilio.messages == []
    gateway.send(FARMER, "x", None)
    assert len(fake_twilio.messages) == 1


def test_a_refused_connection_is_retryable(fake_twilio):
    gateway = make_twilio(fake_twilio)
    fake_twilio.stop()
    with pytest.raises(GatewayError) as caught:
        gateway.send(FARMER, "x", None)
    assert caught.value.retryable
    fake_twilio.start()  # same port
    assert gateway.send(FARMER, "x", None).provider_id == fake_twilio.messages[0]["sid"]


def test_a_time_out_after_sending_is_an_unknown_outcome(fake_twilio):
    fake_twilio.hang_next()
    started = time.monotonic()
    with pytest.raises(SendOutcomeUnknown):
        make_twilio(fake_twilio).send(FARMER, "x", None)
    assert time.monotonic() - started < HANG / 2  # SMS_SEND_TIMEOUT, not the fake's hang
    assert len(fake_twilio.messages) == 1  # it did go out


def test_find_matches_recipient_exact_body_and_time(fake_twilio):
    gateway = make_twilio(fake_twilio)
    before = now_utc()
    sent = gateway.send(FARMER, "【局】明天有雨", None)
    gateway.send("+8613900139000", "【局】明天有雨", None)
    gateway.send(FARMER, "【局】明天有雨。", None)
    fake_twilio.set_status(sent.provider_id, "delivered")
    assert gateway.find(FARMER, "【局】明天有雨", before) == SendResult(sent.provider_id, "delivered")
    assert gateway.find(FARMER, "【局】明天有", before) is None
    assert gateway.find("+8613700137000", "【局】明天有雨", before) is None
    assert gateway.find(FARMER, "【局】明天有雨", before + timedelta(minutes=2)) is None  # created before


def test_the_fake_pages_lists_as_twilio_does(fake_twilio):
    gateway = make_twilio(fake_twilio)
    for n in range(45):
        gateway.send(FARMER, f"notice {n}", None)
    listed = gateway.client.messages.list(to=FARMER, page_size=20)
    assert [m.body for m in listed] == [f"notice {n}" for n in reversed(range(45))]
    assert len([1 for method, _ in fake_twilio.requests if method == "GET"]) == 3


def test_the_real_client_talks_http_to_the_fake(fake_twilio):
    make_twilio(fake_twilio).send(FARMER, "x", None)
    assert fake_twilio.requests == [("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")]
