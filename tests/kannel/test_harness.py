"""The Kannel harness itself: texts out to the fake SMSC, texts in to the app, reports back."""
from __future__ import annotations

import urllib.parse
import urllib.request
import uuid

from tests.kannel.conftest import SECRET

SHORT_CODE = "1069012316"


def sendsms(kannel, **params) -> str:
    query = urllib.parse.urlencode({"username": kannel.username, "password": kannel.password,
                                    "from": SHORT_CODE, **params})
    with urllib.request.urlopen(f"{kannel.send_url}?{query}", timeout=10) as resp:
        return resp.read().decode()


def test_chinese_text_reaches_the_fake_smsc_intact(kannel):
    text = f"【慈溪市农业农村局】明天 有霜冻, please cover + protect 秧苗 {uuid.uuid4().hex[:6]}"
    answer = sendsms(kannel, to="13800138001", text=text, coding=2, charset="UTF-8")
    assert answer.startswith("0:"), answer          # "0: Accepted for delivery"

    got = kannel.wait_for(lambda m: m.text == text)
    assert got.sender == SHORT_CODE and got.receiver == "13800138001" and got.type == "ucs-2"


def test_long_chinese_text_arrives_as_concatenated_parts(kannel):
    text = "长文本" * 40 + uuid.uuid4().hex[:4]     # 124 characters: two UCS-2 parts
    sendsms(kannel, to="13800138002", text=text, coding=2, charset="UTF-8")

    got = kannel.wait_for(lambda m: m.text == text, joined=True)
    parts = got.raw.splitlines()
    assert len(parts) == 2 and all(" udh " in part for part in parts)


def test_text_from_a_phone_reaches_the_app(kannel, kannel_app):
    kannel.send_in("13900139001", SHORT_CODE, "卖 苹果  100斤 每斤3元")
    kannel.send_in("13900139002", SHORT_CODE, "HELP  me & you + 100%")

    chinese, = kannel_app.wait_for(lambda r: r.query.get("from") == "13900139001")
    assert chinese.method == "POST" and chinese.path == "/kannel/sms"
    assert chinese.query["secret"] == SECRET
    assert chinese.query["to"] == SHORT_CODE
    assert chinese.query["text"] == "卖 苹果  100斤 每斤3元"
    assert chinese.body.decode("utf-8") == "卖 苹果  100斤 每斤3元"
    assert chinese.query["id"] and chinese.query["time"]      # Kannel's id, "YYYY-MM-DD HH:MM:SS"

    english, = kannel_app.wait_for(lambda r: r.query.get("from") == "13900139002")
    assert english.query["text"] == "HELP  me & you + 100%"
    assert english.query["id"] != chinese.query["id"]


def test_delivery_reports_come_back_to_the_dlr_url(kannel, kannel_app):
    outbox_id = uuid.uuid4().hex[:8]
    dlr_url = (f"{kannel_app.url}/kannel/dlr?secret={SECRET}&id={outbox_id}"
               "&status=%d&answer=%A&smsc_id=%F&to=%p&at=%t")
    sendsms(kannel, to="13800138003", text="报告 please", coding=2, charset="UTF-8",
            **{"dlr-mask": 31, "dlr-url": dlr_url})

    kannel_app.wait_for(lambda r: r.path == "/kannel/dlr" and r.query.get("id") == outbox_id
                        and r.query.get("status") == "1")
    reports = kannel_app.wait_for(lambda r: r.query.get("id") == outbox_id)
    statuses = [r.query["status"] for r in reports]
    # the fake SMSC acknowledges (8, "ACK/") and then reports delivered (1)
    assert "8" in statuses and "1" in statuses, statuses
    assert all(r.query["secret"] == SECRET and r.query["to"] == "13800138003" for r in reports)
    assert next(r for r in reports if r.query["status"] == "8").query["answer"] == "ACK/"
