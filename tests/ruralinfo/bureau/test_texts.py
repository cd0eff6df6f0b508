"""The bureau's texts page: texts whose handling failed are listed with their error,
and can be handled again (once, with CSRF, in the audit log)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from mailbox import services as mailbox_services
from mailbox.models import Post
from ruralinfo.accounts import phones, roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.sms import inbound, tasks
from ruralinfo.sms.models import InboundMessage, OutboundMessage
from ruralinfo.timeutil import now_utc
from tests.conftest import CHANGXI, PASSWORD


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}  # as in production


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def clerk(client, make_staff):
    user = make_staff(roles.STAFF)
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"phone": user.phone, "password": PASSWORD, "csrf_token": token_of(page)})
    assert response.status_code == 302
    return user


@pytest.fixture
def broken_posts(monkeypatch):
    """SELL and BUY fail until the test repairs them (``broken_posts.repair()``)."""
    original = mailbox_services.create_post

    def boom(*_args, **_kwargs):
        raise LookupError("price table missing")

    monkeypatch.setattr(mailbox_services, "create_post", boom)
    return type("Broken", (), {"repair": staticmethod(lambda: monkeypatch.setattr(mailbox_services, "create_post",
                                                                                   original))})


def failed_text(phone: str, body: str, sid: str, minutes: int) -> int:
    message = inbound._store(sid, phone, "+8610690000", body, "twilio")
    db.session.execute(update(InboundMessage).where(InboundMessage.id == message.id)
                       .values(received_at=now_utc() - timedelta(minutes=minutes)))
    db.session.commit()
    return message.id


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_failed_texts_are_listed_newest_first_with_their_error(client, clerk, make_point, make_farmer, broken_posts):
    make_point("长溪村联络点", (CHANGXI,))
    farmer = make_farmer(region_code=CHANGXI, name="陈阿毛", phone="+8613800138000")
    failed_text(farmer.phone, "卖 土豆 500斤", "SM" + "1" * 32, minutes=10)
    failed_text(farmer.phone, "买 化肥 2吨", "SM" + "2" * 32, minutes=5)
    fine = failed_text(farmer.phone, "帮助", "SM" + "3" * 32, minutes=3)
    assert tasks.sweep().inbound_failed == 2

    page = client.get("/bureau/texts").get_data(as_text=True)
    assert page.index("化肥") < page.index("土豆")  # newest first
    assert page.count("LookupError: price table missing") == 2 and "陈阿毛" in page
    assert phones.display(farmer.phone) in page
    assert page.count("/handle\"") == 2 and f"/bureau/texts/{fine}/handle" not in page


def test_handle_again_needs_the_token_and_goes_through_once(client, clerk, make_point, make_farmer, broken_posts):
    make_point("长溪村联络点", (CHANGXI,))
    farmer = make_farmer(region_code=CHANGXI, phone="+8613800138000")
    message_id = failed_text(farmer.phone, "卖 土豆 500斤", "SM" + "4" * 32, minutes=5)
    tasks.sweep()
    url = f"/bureau/texts/{message_id}/handle"
    replies = (OutboundMessage.cause == f"inbound:{message_id}",)
    assert count(OutboundMessage, *replies) == 1  # the apology

    assert client.post(url).status_code == 400  # no CSRF token: nothing happens
    assert count(AuditEntry, AuditEntry.action == "sms.handle_again") == 0

    token = token_of(client.get("/bureau/texts").get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token}, follow_redirects=True)  # still broken
    assert "failed again" in response.get_data(as_text=True) and "LookupError" in response.get_data(as_text=True)
    assert count(OutboundMessage, *replies) == 1 and count(Post) == 0  # no second apology

    broken_posts.repair()
    response = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The text is handled now." in page and "LookupError" not in page
    message = db.session.get(InboundMessage, message_id)
    assert message.command == "sell" and message.error == "" and count(Post) == 1
    assert count(OutboundMessage, *replies) == 2  # the real answer, as a text

    response = client.post(url, data={"csrf_token": token}, follow_redirects=True)  # a double click
    assert "already handled" in response.get_data(as_text=True)
    assert count(Post) == 1 and count(OutboundMessage, *replies) == 2
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sms.handle_again")).all()
    assert [(e.actor_id, e.target_type, e.target_id, e.channel) for e in entries] == \
        [(clerk.id, "sms_inbox", message_id, "web")] * 2


def test_only_failed_texts_can_be_handled_again(client, clerk, make_farmer):
    farmer = make_farmer(phone="+8613800138000")
    message_id = failed_text(farmer.phone, "帮助", "SM" + "5" * 32, minutes=5)
    token = token_of(client.get("/bureau/texts").get_data(as_text=True))
    for target in (message_id, message_id + 100):  # unhandled yet (the sweep's), or no such text
        response = client.post(f"/bureau/texts/{target}/handle", data={"csrf_token": token}, follow_redirects=True)
        assert "already handled" in response.get_data(as_text=True)
    assert db.session.get(InboundMessage, message_id).handled_at is None
    assert count(AuditEntry, AuditEntry.action == "sms.handle_again") == 0
