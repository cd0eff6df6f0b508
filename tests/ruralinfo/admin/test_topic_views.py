"""Broadcast topics and notice templates in the admin view: administrators add, edit,
retire and reactivate them (audited); bureau staff only look; farmers do not get in;
bad input is refused with a clear message and changes nothing."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.broadcasts.models import Template, Topic
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from tests.ruralinfo.broadcasts.catalog_helpers import shipped_catalog  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("shipped_catalog")


@pytest.fixture
def admin(make_staff, login):
    user = make_staff(roles.ADMIN, name="周建平")
    login(user)
    return user


def topic(key: str) -> Topic:
    return db.session.scalar(select(Topic).where(Topic.key == key))


def template(name_zh: str) -> Template:
    return db.session.scalar(select(Template).where(Template.name_zh == name_zh))


def actions(prefix: str) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like(prefix + ".%"))
                                   .order_by(AuditEntry.id)))


FROST = {"name_zh": "寒潮预警", "name_en": "Cold wave warning", "body": "{name}您好：{village}明后两天有寒潮，请做好防冻。",
         "body_en": "Dear {name}: a cold wave is coming to {village}.", "urgent": "y", "reply_options": ""}


def test_the_admin_nav_links_to_topics_and_templates(client, admin):
    page = client.get("/admin/topics/").get_data(as_text=True)
    assert 'href="/admin/topics/" class="current"' in page and 'href="/admin/templates/"' in page
    assert 'href="/admin/templates/" class="current"' in client.get("/admin/templates/").get_data(as_text=True)


def test_an_admin_adds_renames_retires_and_reactivates_a_topic(client, admin):
    page = client.get("/admin/topics/").get_data(as_text=True)
    assert "价格行情" in page and "pests and diseases" in page and "Add a topic" in page

    response = client.post("/admin/topics/", data={"key": "frost", "name_zh": "霜冻", "name_en": "frost"})
    assert response.status_code == 302
    frost = topic("frost")
    assert "Topic 霜冻 added." in client.get("/admin/topics/").get_data(as_text=True)
    assert client.get(f"/admin/topics/{frost.id}").status_code == 200
    assert client.post(f"/admin/topics/{frost.id}", data={"name_zh": "霜冻寒潮", "name_en": "frost and cold"}
                       ).status_code == 302
    assert client.post(f"/admin/topics/{frost.id}/retire").status_code == 302
    db.session.expire_all()
    assert (frost.name_zh, frost.name_en, frost.active) == ("霜冻寒潮", "frost and cold", False)
    assert "it is no longer offered for new broadcasts" in client.get("/admin/topics/").get_data(as_text=True)
    assert client.post(f"/admin/topics/{frost.id}/reactivate").status_code == 302
    db.session.expire_all()
    assert frost.active
    assert actions("topic") == ["topic.create", "topic.rename", "topic.retire", "topic.reactivate"]
    audit = client.get(f"/admin/audit/?target_type=broadcast_topics&target_id={frost.id}").get_data(as_text=True)
    assert "Broadcast topic renamed" in audit and "Broadcast topic retired" in audit


def test_a_used_topic_is_not_deleted_an_unused_one_is(client, admin):
    weather = topic("weather")
    response = client.post(f"/admin/topics/{weather.id}/delete", follow_redirects=True)
    assert "This topic is in use (broadcasts, templates or farmers who left it): retire it instead." in \
        response.get_data(as_text=True)
    assert topic("weather") is not None
    assert "Delete" not in client.get(f"/admin/topics/{weather.id}").get_data(as_text=True)
    client.post("/admin/topics/", data={"key": "spare", "name_zh": "备用", "name_en": "spare"})
    spare_id = topic("spare").id
    assert "Delete" in client.get(f"/admin/topics/{spare_id}").get_data(as_text=True)
    response = client.post(f"/admin/topics/{spare_id}/delete", follow_redirects=True)
    assert "Topic 备用 deleted." in response.get_data(as_text=True)
    assert db.session.get(Topic, spare_id) is None


@pytest.mark.parametrize("data, message", [
    ({"key": "霜冻", "name_zh": "霜冻", "name_en": "frost"}, "A key is 2 to 32 lowercase letters"),
    ({"key": "frost warning", "name_zh": "霜冻", "name_en": "frost"}, "A key is 2 to 32 lowercase letters"),
    ({"key": "weather", "name_zh": "霜冻", "name_en": "frost"}, "There is already a topic with this key."),
    ({"key": "frost", "name_zh": "天气", "name_en": "frost"}, "There is already a topic with this name."),
    ({"key": "frost", "name_zh": "", "name_en": "frost"}, "Enter the Chinese name (at most 20 characters)."),
])
def test_bad_topics_are_refused_with_a_message_and_nothing_changes(client, admin, db_dump, data, message):
    before = db_dump()
    response = client.post("/admin/topics/", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db_dump() == before


def test_renaming_to_a_taken_name_is_refused(client, admin, db_dump):
    before = db_dump()
    response = client.post(f"/admin/topics/{topic('prices').id}", data={"name_zh": "天气", "name_en": "prices"})
    assert response.status_code == 200 and "There is already a topic with this name." in response.get_data(
        as_text=True)
    assert db_dump() == before


def test_an_admin_adds_edits_and_retires_a_template(client, admin):
    page = client.get("/admin/templates/").get_data(as_text=True)
    assert "霜冻预警" in page and "会议通知" in page and "New template" in page
    form = client.get("/admin/templates/new").get_data(as_text=True)
    assert "价格行情" in form and "{name}" in form

    response = client.post("/admin/templates/new", data={**FROST, "topic_id": topic("weather").id,
                                                         "reply_options": "收到|got it\n\n需要帮助\n"})
    assert response.status_code == 302
    made = template("寒潮预警")
    assert (made.topic.key, made.urgent, made.reply_options) == ("weather", True, ["收到|got it", "需要帮助"])
    edit = client.get(f"/admin/templates/{made.id}").get_data(as_text=True)
    assert "收到|got it\n需要帮助</textarea>" in edit

    response = client.post(f"/admin/templates/{made.id}", data={
        **FROST, "name_zh": "寒潮大风预警", "topic_id": topic("weather").id, "urgent": "", "reply_options": ""})
    assert response.status_code == 302
    assert client.post(f"/admin/templates/{made.id}/retire").status_code == 302
    db.session.expire_all()
    assert (made.name_zh, made.urgent, made.reply_options, made.active) == ("寒潮大风预警", False, [], False)
    assert client.post(f"/admin/templates/{made.id}/reactivate").status_code == 302
    assert actions("template") == ["template.create", "template.update", "template.retire", "template.reactivate"]
    update = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "template.update"))
    assert update.details["before"] == {"name_zh": "寒潮预警", "urgent": True, "reply_options": ["收到|got it", "需要帮助"]}


@pytest.mark.parametrize("changes, message", [
    ({"body": "{phone}您好：明天有霜冻。"}, "{phone} is not a placeholder. Only these are filled in: {name}、{village}."),
    ({"body_en": "Dear {farmer}"}, "{farmer} is not a placeholder."),
    ({"body": "   "}, "Write the notice."),
    ({"body": "霜" * 501}, "At most 500 characters (this one has 501)."),
    ({"name_zh": "霜冻预警"}, "There is already a template with this name."),
    ({"topic_id": ""}, "Choose a topic."),
    ({"topic_id": "abc"}, "Choose a topic."),
    ({"reply_options": "报名\n报名"}, "Two answers are the same."),
])
def test_bad_templates_are_refused_with_a_message_and_nothing_changes(client, admin, db_dump, changes, message):
    before = db_dump()
    response = client.post("/admin/templates/new", data={**FROST, "topic_id": topic("weather").id, **changes})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db_dump() == before
    alert = template("病虫害预警")
    response = client.post(f"/admin/templates/{alert.id}", data={
        **FROST, "name_zh": alert.name_zh, "name_en": alert.name_en, "topic_id": alert.topic_id, **changes})
    assert response.status_code == 200 and (message in response.get_data(as_text=True)
                                            or "name_zh" in changes)  # its own name is no clash
    if "name_zh" not in changes:
        assert db_dump() == before


def test_a_retired_topic_is_not_offered_for_new_templates(client, admin):
    client.post(f"/admin/topics/{topic('policy').id}/retire")
    form = client.get("/admin/templates/new").get_data(as_text=True)
    choices = form[form.index('<select id="topic_id"'):form.index("</select>")]
    assert "政策" not in choices and "价格行情" in choices
    response = client.post("/admin/templates/new", data={**FROST, "topic_id": topic("policy").id})
    assert "This topic is retired: choose an active one." in response.get_data(as_text=True)
    assert template("寒潮预警") is None


def test_bureau_staff_see_topics_and_templates_but_cannot_change_them(client, login, make_staff, db_dump):
    login(make_staff(roles.STAFF, name="孙丽华"))
    weather, frost = topic("weather"), template("霜冻预警")
    for url in ("/admin/topics/", f"/admin/topics/{weather.id}", "/admin/templates/", f"/admin/templates/{frost.id}"):
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        assert "<form method=\"post\" class=\"form" not in text and "Add a topic" not in text, url
    assert "霜冻预警" in client.get(f"/admin/templates/{frost.id}").get_data(as_text=True)
    before = db_dump()
    for url, data in [("/admin/topics/", {"key": "frost", "name_zh": "霜冻", "name_en": "frost"}),
                      (f"/admin/topics/{weather.id}", {"name_zh": "气象", "name_en": "weather"}),
                      (f"/admin/topics/{weather.id}/retire", {}), (f"/admin/topics/{weather.id}/reactivate", {}),
                      (f"/admin/topics/{weather.id}/delete", {}),
                      ("/admin/templates/new", {**FROST, "topic_id": weather.id}),
                      (f"/admin/templates/{frost.id}", {**FROST, "topic_id": weather.id}),
                      (f"/admin/templates/{frost.id}/retire", {}), (f"/admin/templates/{frost.id}/reactivate", {})]:
        response = client.post(url, data=data)
        assert response.status_code == 302 and response.headers["Location"].startswith("/admin/"), url
    assert client.get("/admin/templates/new").status_code == 302
    assert "Only an administrator can make this change." in client.get("/admin/topics/").get_data(as_text=True)
    assert db_dump() == before


def test_farmers_do_not_get_into_the_admin_view(client, make_farmer):
    farmer = make_farmer(name="陈阿毛")
    client.post("/login/code", data={"phone": farmer.phone})
    body = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.to == farmer.phone)
                              .order_by(OutboundMessage.id.desc())).first()
    assert client.post("/login/code/enter", data={"code": re.search(r"\d{6}", body).group(0)}).status_code == 302
    for url in ("/admin/topics/", "/admin/templates/", "/admin/templates/new"):
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/topics/", data={"key": "frost", "name_zh": "霜冻", "name_en": "frost"}
                       ).status_code == 403
    assert topic("frost") is None
