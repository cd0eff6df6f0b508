"""The farmer's "Notices I get" page: leave and join a topic on the web, stop every
notice; each change is in the audit log with its time (the page shows it back), and
a broadcast of a topic the farmer left leaves them out."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import catalog, planning, topics
from ruralinfo.broadcasts.audience import Rules
from ruralinfo.broadcasts.models import Topic, TopicOptOut
from ruralinfo.extensions import db
from ruralinfo.timeutil import to_local
from tests.mailbox.test_pages import log_in_by_code
from tests.ruralinfo.broadcasts.catalog_helpers import shipped_catalog  # noqa: F401  (fixture)


def topic(key: str) -> Topic:
    return db.session.scalar(select(Topic).where(Topic.key == key))


def all_but(*keys: str) -> list[int]:
    return [t.id for t in catalog.offered_topics() if t.key not in keys]


@pytest.fixture
def farmer(client, make_farmer):
    """陈阿毛, a tea grower, logged in by SMS code; 王桂芳 grows tea too."""
    me = make_farmer(name="陈阿毛", groups=("茶叶",))
    make_farmer(name="王桂芳", groups=("茶叶",))
    log_in_by_code(client, me)
    return me


def tea_growers():
    return audiences.clean(Rules(groups=["茶叶"]))


def consent_log(user) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.target_type == "users", AuditEntry.target_id == user.id,
        AuditEntry.action.in_(("topic.leave", "topic.join", "sms.opt_out", "sms.opt_in"))).order_by(AuditEntry.id)))


def ticked(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'name="topics" value="(\d+)" checked', page)}


def test_the_page_lists_every_active_topic_ticked(client, farmer):
    assert 'href="/mailbox/notices"' in client.get("/mailbox/").get_data(as_text=True)  # found from the inbox
    page = client.get("/mailbox/notices").get_data(as_text=True)
    assert ticked(page) == set(all_but())
    assert "pests and diseases" in page and "prices" in page  # the English reader sees English names
    assert 'name="stop_all"' in page and "No changes: you get every notice." in page


def test_leaving_a_topic_on_the_web_is_kept_with_its_time_and_honoured(client, farmer):
    response = client.post("/mailbox/notices", data={"topics": all_but("prices")})
    assert response.status_code == 302
    db.session.expire_all()
    [left] = db.session.scalars(select(TopicOptOut).where(TopicOptOut.user_id == farmer.id)).all()
    assert left.topic_id == topic("prices").id and not farmer.sms_opt_out
    [proof] = consent_log(farmer)
    assert (proof.action, proof.channel, proof.actor_id, proof.details) == (
        "topic.leave", "web", farmer.id, {"topic": "prices"})
    page = client.get("/mailbox/notices").get_data(as_text=True)
    assert "Saved: your choice of notices holds from now on." in page
    assert topic("prices").id not in ticked(page)
    when = to_local(left.at).strftime("%Y-%m-%d %H:%M")
    assert f"left on {when}" in page and "Left: prices" in page and when in page

    shown = planning.preview(tea_growers(), "茶叶收购价上调", topic_id=topic("prices").id)
    assert (shown.people, shown.left_topic) == (1, 1)  # 王桂芳 only
    assert planning.preview(tea_growers(), "明晨霜冻", topic_id=topic("weather").id).people == 2

    client.post("/mailbox/notices", data={"topics": all_but()})  # and joins it again
    db.session.expire_all()
    assert db.session.scalar(select(TopicOptOut.id).where(TopicOptOut.user_id == farmer.id)) is None
    assert [(e.action, e.channel) for e in consent_log(farmer)] == [("topic.leave", "web"), ("topic.join", "web")]
    assert planning.preview(tea_growers(), "茶叶收购价上调", topic_id=topic("prices").id).people == 2
    page = client.get("/mailbox/notices").get_data(as_text=True)
    assert page.index("Joined again: prices") < page.index("Left: prices")  # newest first


def test_stopping_every_notice_on_the_web(client, farmer):
    client.post("/mailbox/notices", data={"topics": all_but(), "stop_all": "y"})
    db.session.expire_all()
    assert farmer.sms_opt_out and farmer.sms_opt_out_at is not None
    assert [(e.action, e.channel) for e in consent_log(farmer)] == [("sms.opt_out", "web")]
    shown = planning.preview(tea_growers(), "明晨霜冻", topic_id=topic("weather").id)
    assert (shown.people, shown.opted_out) == (1, 1)
    page = client.get("/mailbox/notices").get_data(as_text=True)
    assert 'name="stop_all" value="y" id="stop_all" checked' in page and "Stopped every notice" in page
    assert "you get no notice of any topic" in page

    client.post("/mailbox/notices", data={"topics": all_but()})  # the box unticked: notices again
    db.session.expire_all()
    assert not farmer.sms_opt_out
    assert [e.action for e in consent_log(farmer)] == ["sms.opt_out", "sms.opt_in"]


def test_changes_by_sms_show_on_the_page_too(client, farmer, text_in):
    text_in(farmer.phone, "退订 天气")
    page = client.get("/mailbox/notices").get_data(as_text=True)
    assert topic("weather").id not in ticked(page) and "Left: weather" in page and "SMS" in page


def test_saving_the_same_choice_changes_nothing(client, farmer):
    topics.leave(farmer, topic("policy"), channel="sms")
    response = client.post("/mailbox/notices", data={"topics": all_but("policy")}, follow_redirects=True)
    assert "Nothing was changed." in response.get_data(as_text=True)
    assert len(consent_log(farmer)) == 1


def test_a_tampered_form_changes_nothing(client, farmer, db_dump):
    before = db_dump()
    response = client.post("/mailbox/notices", data={"topics": ["abc"]})
    assert response.status_code == 200 and "Your choice could not be read." in response.get_data(as_text=True)
    assert db_dump() == before


@pytest.mark.usefixtures("shipped_catalog")
def test_a_retired_topic_is_not_offered_and_stays_as_it_was(client, farmer, make_staff):
    admin = make_staff(roles.ADMIN, name="周建平")
    topics.leave(farmer, topic("training"), channel="sms")
    catalog.set_topic_active(topic("training"), False, actor=admin, channel="web")
    catalog.set_topic_active(topic("meetings"), False, actor=admin, channel="web")
    page = client.get("/mailbox/notices").get_data(as_text=True)
    assert f'value="{topic("meetings").id}"' not in page and f'value="{topic("training").id}"' not in page
    client.post("/mailbox/notices", data={"topics": all_but()})
    assert db.session.scalar(select(TopicOptOut.topic_id).where(TopicOptOut.user_id == farmer.id)) == \
        topic("training").id


def test_only_farmers_have_the_page(app, client, login, make_staff):
    assert client.get("/mailbox/notices").status_code == 302  # to the SMS-code log-in
    login(make_staff(roles.STAFF, name="孙丽华"))
    assert client.get("/mailbox/notices").status_code == 403
