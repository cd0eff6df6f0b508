"""The ``kannel`` backend against a real Kannel: texts from the outbox reach the fake SMSC
intact (Chinese as UCS-2, a long one in parts, the signature first), each with a report
URL that names it; Kannel down leaves the text queued, never lost; a refusal is said."""
from __future__ import annotations

import socket

import pytest

from ruralinfo import create_app
from ruralinfo.extensions import db
from ruralinfo.sms import gateways
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import QUEUED, SENDING, OutboundMessage
from tests.conftest import BASE_CONFIG
from tests.kannel.conftest import SECRET


@pytest.fixture
def kannel_config(kannel, database_url):
    return {**BASE_CONFIG, "DATABASE_URL": database_url, "SMS_BACKEND": "kannel",
            "KANNEL_SEND_URL": kannel.send_url, "KANNEL_USERNAME": kannel.username,
            "KANNEL_PASSWORD": kannel.password, "KANNEL_SECRET": SECRET, "KANNEL_FROM": "1069012316",
            "PUBLIC_BASE_URL": "https://nongmin.example.cn", "QUIET_HOURS": "", "SMS_SEND_TIMEOUT": 5}


def _app(config: dict):
    return create_app(dict(config))


def _send(app, to: str, body: str) -> OutboundMessage:
    with app.app_context():
        message = sms.queue_sms(to, body, kind="reply")
        db.session.commit()
        sms.dispatch_pending()  # no Redis: sent inline, as `make run` does
        db.session.expire_all()
        return db.session.get(OutboundMessage, message.id)


def test_a_chinese_text_reaches_the_operator_as_ucs2_with_the_signature(kannel, kannel_config):
    app = _app(kannel_config)
    text = "明早有霜冻，请注意茶园防冻。Frost tomorrow + cover"
    message = _send(app, "+8613800138001", text)
    got = kannel.wait_for(lambda m: m.text.endswith(text))
    assert got.text == app.config["SMS_SIGNATURE"] + text and got.type == "ucs-2"
    assert got.sender == "1069012316" and got.receiver.endswith("13800138001")
    assert message.status == SENDING and message.provider_id.startswith("kannel-")


def test_a_long_text_arrives_whole_in_parts(kannel, kannel_config):
    app = _app(kannel_config)
    text = "请各村做好防汛准备，" * 12
    _send(app, "+8613800138002", text)
    got = kannel.wait_for(lambda m: m.text.endswith(text), joined=True)
    assert got.text == app.config["SMS_SIGNATURE"] + text


def test_each_text_asks_for_every_report_at_a_url_that_names_it(kannel, kannel_app, kannel_config):
    """The fake SMSC reports back; Kannel calls our report URL with our id for the text."""
    app = _app({**kannel_config, "PUBLIC_BASE_URL": kannel_app.url})
    message = _send(app, "+8613800138003", "测试回执")
    reports = kannel_app.wait_for(lambda r: r.path == "/kannel/dlr" and r.query.get("id") == message.provider_id
                                  and r.query.get("status") == "1")
    assert reports[0].query["secret"] == SECRET  # delivered (1), after accepted by the SMSC (8)


def test_kannel_down_leaves_the_text_queued_and_a_wrong_password_is_said(kannel_config):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/cgi-bin/sendsms"
    app = _app({**kannel_config, "KANNEL_SEND_URL": closed})
    message = _send(app, "+8613800138004", "明天停水")
    assert message.status == QUEUED and message.provider_id in (None, "")  # kept for the sweep: not lost
    app = _app({**kannel_config, "KANNEL_PASSWORD": "wrong"})
    with app.app_context(), pytest.raises(gateways.GatewayError) as refused:
        gateways.current().send("+8613800138005", "测试", None)
    assert not refused.value.retryable


def test_plain_english_goes_as_gsm_7bit_and_is_cut_where_it_was_counted(kannel, kannel_config):
    """Sent as UCS-2 it would be cut every 67 characters and cost three times what was counted."""
    app = _app({**kannel_config, "SMS_SIGNATURE": "[Bureau] "})
    text = "Frost warning for tonight: cover the tea bushes and drain the fields. " * 3  # 210 characters
    message = _send(app, "+8613800138006", text)
    got = kannel.wait_for(lambda m: m.text.endswith(text), joined=True)
    parts = [m for m in kannel.received() if m.receiver.endswith("13800138006")]
    assert got.text == "[Bureau] " + text and len(parts) == message.segments == 2


def test_a_full_kannel_queue_is_retried_later_a_refusal_is_not(kannel_config):
    """Kannel's 503 ("Temporal failure, try again later") sent nothing; its 403 is final."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    answers = iter([(503, b"Temporal failure, try again later."), (403, b"Not routable. Do not try again.")])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = next(answers)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = _app({**kannel_config, "KANNEL_SEND_URL": f"http://127.0.0.1:{server.server_port}/cgi-bin/sendsms"})
        busy = _send(app, "+8613800138007", "明天停水")
        assert busy.status == QUEUED and "503" in busy.last_error  # kept for a retry
        with app.app_context(), pytest.raises(gateways.GatewayError) as refused:
            gateways.current().send("+8613800138008", "测试", None)
        assert not refused.value.retryable and "Not routable" in str(refused.value)
    finally:
        server.shutdown()


def test_a_send_without_an_answer_keeps_its_id_and_its_report_settles_it(kannel_config):
    """Kannel has no message list to look a text up in; its report (8: the SMSC took it) does."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ruralinfo.sms.models import SENT, UNKNOWN

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(2)  # longer than SMS_SEND_TIMEOUT: the answer never reaches the app
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = _app({**kannel_config, "SMS_SEND_TIMEOUT": 0.3,
                    "KANNEL_SEND_URL": f"http://127.0.0.1:{server.server_port}/cgi-bin/sendsms"})
        message = _send(app, "+8613800138009", "明天停水")
        assert message.status == UNKNOWN and message.provider_id.startswith("kannel-")
        with app.app_context():
            response = app.test_client().get("/kannel/dlr", query_string={
                "secret": SECRET, "id": message.provider_id, "status": "8", "answer": "ACK/"})
            assert response.status_code == 200
            assert db.session.get(OutboundMessage, message.id).status == SENT
    finally:
        server.shutdown()
