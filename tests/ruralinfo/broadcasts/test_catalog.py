"""The administrators' topics and templates (ruralinfo.broadcasts.catalog): what may be
saved, what is refused with which message (and nothing changed), and the audit of
every change. A retired topic is no longer offered; a used one is never deleted."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import catalog, services, topics
from ruralinfo.broadcasts.audience import Rules
from ruralinfo.broadcasts.catalog import CatalogError, TemplateData
from ruralinfo.broadcasts.models import Broadcast, Template, Topic
from ruralinfo.extensions import db
from tests.ruralinfo.broadcasts.catalog_helpers import shipped_catalog  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("shipped_catalog")


@pytest.fixture
def admin(make_staff):
    return make_staff(roles.ADMIN, name="周建平")


def topic(key: str) -> Topic:
    return db.session.scalar(select(Topic).where(Topic.key == key))


def entries(prefix: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action.like(prefix + ".%"))
                                   .order_by(AuditEntry.id)))


def refused(call, *args, **kwargs) -> dict[str, str]:
    """The field errors ``call`` raises; the database is as it was."""
    counts = (db.session.scalar(select(func.count()).select_from(Topic)),
              db.session.scalar(select(func.count()).select_from(Template)),
              db.session.scalar(select(func.count()).select_from(AuditEntry)))
    with pytest.raises(CatalogError) as raised:
        call(*args, **kwargs)
    db.session.rollback()
    assert (db.session.scalar(select(func.count()).select_from(Topic)),
            db.session.scalar(select(func.count()).select_from(Template)),
            db.session.scalar(select(func.count()).select_from(AuditEntry))) == counts
    return raised.value.errors


def frost(**changes) -> TemplateData:
    values = dict(name_zh="寒潮预警", name_en="Cold wave warning", topic_id=topic("weather").id,
                  body="{name}您好：{village}明后两天有寒潮，请做好防冻。", body_en="Dear {name}: a cold wave is coming.",
                  urgent=True, reply_options=[])
    values.update(changes)
    return TemplateData(**values)


# --- topics ----------------------------------------------------------------------------------

def test_the_shipped_topics_are_offered(app):
    assert [t.name_zh for t in catalog.offered_topics()] == ["天气", "病虫害", "价格行情", "政策", "培训", "会议",
                                                              "其他通知"]


def test_a_topic_is_added_with_its_key_lowercased_and_audited(app, admin):
    added = catalog.create_topic(" Frost ", "霜冻", "frost", actor=admin, channel="web")
    assert (added.key, added.name_zh, added.name_en, added.active) == ("frost", "霜冻", "frost", True)
    assert added in catalog.offered_topics()
    [entry] = entries("topic")
    assert (entry.action, entry.target_type, entry.target_id, entry.actor_id) == (
        "topic.create", "broadcast_topics", added.id, admin.id)
    assert entry.details["after"] == {"key": "frost", "name_zh": "霜冻", "name_en": "frost", "active": True}
    assert topics.named("霜冻") == added and topics.named("frost") == added  # farmers can leave it by SMS


@pytest.mark.parametrize("key", ["", "霜冻", "a", "frost warning", "1frost", "frost!", "x" * 33])
def test_a_key_is_lowercase_ascii(app, admin, key):
    errors = refused(catalog.create_topic, key, "霜冻", "frost", actor=admin, channel="web")
    assert errors == {"key": "A key is 2 to 32 lowercase letters a–z, digits, - or _, starting with a letter."}


def test_keys_and_names_are_unique(app, admin):
    errors = refused(catalog.create_topic, "weather", "天气", "Weather", actor=admin, channel="web")
    assert errors == {"key": "There is already a topic with this key.",
                      "name_zh": "There is already a topic with this name.",
                      "name_en": "There is already a topic with this name."}
    errors = refused(catalog.create_topic, "frost", "", "f" * 41, actor=admin, channel="web")
    assert errors == {"name_zh": "Enter the Chinese name (at most 20 characters).",
                      "name_en": "Enter the English name (at most 40 characters)."}


def test_renaming_a_topic_is_audited_and_checked(app, admin):
    prices = topic("prices")
    catalog.rename_topic(prices, "市场价格", "market prices", actor=admin, channel="web")
    db.session.expire_all()
    assert (prices.key, prices.name_zh, prices.name_en) == ("prices", "市场价格", "market prices")
    [entry] = entries("topic")
    assert entry.details == {"before": {"name_zh": "价格行情", "name_en": "prices"},
                             "after": {"name_zh": "市场价格", "name_en": "market prices"}}
    catalog.rename_topic(prices, "市场价格", "market prices", actor=admin, channel="web")  # no change, no entry
    assert len(entries("topic")) == 1
    assert refused(catalog.rename_topic, prices, "天气", "weather", actor=admin, channel="web") == {
        "name_zh": "There is already a topic with this name.", "name_en": "There is already a topic with this name."}


def test_a_retired_topic_is_no_longer_offered_but_old_broadcasts_keep_it(app, admin, make_staff, make_farmer):
    clerk = make_staff(roles.STAFF, name="孙丽华")
    make_farmer(name="王桂芳")
    policy = topic("policy")
    old = services.create(actor=clerk, body="春耕补贴开始申报", topic="policy",
                          audience=audiences.clean(Rules(groups=["葡萄"])))
    catalog.set_topic_active(policy, False, actor=admin, channel="web")
    assert policy not in catalog.offered_topics()
    assert topics.named("政策") is None
    with pytest.raises(services.BroadcastError) as raised:
        services.create(actor=clerk, body="新政策", topic="policy", audience=audiences.clean(Rules(groups=["葡萄"])))
    assert raised.value.errors == {"topic": "Choose a topic."}
    db.session.expire_all()
    assert db.session.get(Broadcast, old.id).topic.key == "policy"
    catalog.set_topic_active(policy, True, actor=admin, channel="web")
    assert policy in catalog.offered_topics()
    assert [e.action for e in entries("topic")] == ["topic.retire", "topic.reactivate"]
    assert entries("topic")[0].details == {"before": {"active": True}, "after": {"active": False}}


def test_the_last_active_topic_stays(app, admin):
    for row in catalog.offered_topics()[1:]:
        catalog.set_topic_active(row, False, actor=admin, channel="web")
    assert refused(catalog.set_topic_active, topic("weather"), False, actor=admin, channel="web") == {
        "active": "This is the last active topic: every broadcast needs one."}
    assert topic("weather").active


def test_only_an_unused_topic_can_be_deleted(app, admin, make_staff, make_farmer):
    for key in ("frost", "hail", "drought"):
        catalog.create_topic(key, {"frost": "霜冻", "hail": "冰雹", "drought": "干旱"}[key], key, actor=admin,
                             channel="web")
    catalog.create_template(frost(topic_id=topic("hail").id), actor=admin, channel="web")
    topics.leave(make_farmer(name="陈阿毛"), topic("drought"), channel="sms")
    services.create(actor=make_staff(roles.STAFF, name="孙丽华"), body="霜冻", topic="frost",
                    audience=audiences.clean(Rules(groups=["葡萄"])))
    used = {row.topic.key: row for row in catalog.all_topics()}
    assert (used["frost"].broadcasts, used["hail"].templates, used["drought"].left_by) == (1, 1, 1)
    for key in ("frost", "hail", "drought", "weather"):
        assert refused(catalog.delete_topic, topic(key), actor=admin, channel="web") == {
            "topic": "This topic is in use (broadcasts, templates or farmers who left it): retire it instead."}
    spare = catalog.create_topic("spare", "备用", "spare", actor=admin, channel="web")
    spare_id = spare.id
    catalog.delete_topic(spare, actor=admin, channel="web")
    assert db.session.get(Topic, spare_id) is None
    assert entries("topic")[-1].action == "topic.delete" and entries("topic")[-1].details["before"]["key"] == "spare"


# --- templates -------------------------------------------------------------------------------

def test_a_template_is_added_and_audited(app, admin):
    made = catalog.create_template(frost(body="  {name}您好：\n{village}明后两天有寒潮，请做好防冻。 ",
                                         reply_options=["收到|got it", "  ", " 需要 帮助 "]),
                                   actor=admin, channel="web")
    assert made.body == "{name}您好： {village}明后两天有寒潮，请做好防冻。"  # one line, as a broadcast is stored
    assert made.reply_options == ["收到|got it", "需要 帮助"] and made.urgent and made.active
    assert made in catalog.offered_templates()
    [entry] = entries("template")
    assert (entry.action, entry.target_type, entry.target_id) == ("template.create", "broadcast_templates", made.id)
    assert entry.details["after"]["topic"] == "weather"
    assert entry.details["after"]["reply_options"] == ["收到|got it", "需要 帮助"]


def test_full_width_braces_become_placeholders(app, admin):
    made = catalog.create_template(frost(body="｛name｝您好：｛village｝有寒潮。"), actor=admin, channel="web")
    assert made.body == "{name}您好：{village}有寒潮。"


@pytest.mark.parametrize("body, message", [
    ("{phone}您好：明天有霜冻。", "{phone} is not a placeholder. Only these are filled in: {name}、{village}."),
    ("{Name}您好，{name}：{date}有霜冻", "{Name}、{date} is not a placeholder. Only these are filled in: "
                                      "{name}、{village}."),
    ("{}您好", "{} is not a placeholder. Only these are filled in: {name}、{village}."),
    ("{name您好：明天有霜冻。", "A brace without its pair. Placeholders are written so: {name}、{village}."),
    ("您好}明天有霜冻", "A brace without its pair. Placeholders are written so: {name}、{village}."),
])
def test_only_name_and_village_are_placeholders(app, admin, body, message):
    assert refused(catalog.create_template, frost(body=body), actor=admin, channel="web") == {"body": message}
    assert refused(catalog.create_template, frost(body_en=body), actor=admin, channel="web") == {"body_en": message}


def test_the_body_is_required_and_at_most_500_characters(app, admin):
    assert refused(catalog.create_template, frost(body=" \n "), actor=admin, channel="web") == {
        "body": "Write the notice."}
    assert refused(catalog.create_template, frost(body="霜" * 501, body_en="f" * 501), actor=admin,
                   channel="web") == {"body": "At most 500 characters (this one has 501).",
                                      "body_en": "At most 500 characters (this one has 501)."}
    assert catalog.create_template(frost(body="霜" * 500), actor=admin, channel="web").body == "霜" * 500


def test_every_problem_is_reported_at_once(app, admin):
    errors = refused(catalog.create_template, TemplateData(reply_options=[str(n) for n in range(10)]),
                     actor=admin, channel="web")
    assert errors == {"name_zh": "Enter the Chinese name (at most 40 characters).",
                      "name_en": "Enter the English name (at most 80 characters).",
                      "topic_id": "Choose a topic.", "body": "Write the notice.",
                      "reply_options": "At most 9 answers (a farmer replies with one digit)."}


@pytest.mark.parametrize("options, message", [
    (["报名", "报名"], "Two answers are the same."),
    (["报名", "x" * 21], "Each answer is 1 to 20 characters."),
    (["|sign up"], "Each answer is 1 to 20 characters."),
])
def test_answers_follow_the_broadcasts_rules(app, admin, options, message):
    assert refused(catalog.create_template, frost(reply_options=options), actor=admin, channel="web") == {
        "reply_options": message}


def test_template_names_are_unique(app, admin):
    assert refused(catalog.create_template, frost(name_zh="霜冻预警", name_en="frost WARNING"), actor=admin,
                   channel="web") == {"name_zh": "There is already a template with this name.",
                                      "name_en": "There is already a template with this name."}


def test_editing_a_template_is_audited_with_what_changed(app, admin):
    meeting = db.session.scalar(select(Template).where(Template.name_zh == "会议通知"))
    data = TemplateData(name_zh="培训通知", name_en="Training notice", topic_id=topic("training").id,
                        body="{name}您好：本周五在{village}文化礼堂举办葡萄修剪培训。", body_en="",
                        urgent=False, reply_options=["报名|sign up", "不参加|no"])
    catalog.update_template(meeting, data, actor=admin, channel="web")
    db.session.expire_all()
    assert (meeting.name_zh, meeting.topic.key, meeting.reply_options) == (
        "培训通知", "training", ["报名|sign up", "不参加|no"])
    [entry] = entries("template")
    assert entry.action == "template.update"
    assert entry.details["before"]["topic"] == "meetings" and entry.details["after"]["topic"] == "training"
    assert entry.details["before"]["reply_options"] == ["报名", "不参加"]
    assert "urgent" not in entry.details["after"]  # unchanged


def test_a_retired_topic_cannot_be_chosen_but_a_template_may_keep_it(app, admin):
    pests = topic("pests")
    alert = db.session.scalar(select(Template).where(Template.name_zh == "病虫害预警"))
    catalog.set_topic_active(pests, False, actor=admin, channel="web")
    assert alert not in catalog.offered_templates()  # of a retired topic: the bureau does not see it
    assert refused(catalog.create_template, frost(topic_id=pests.id), actor=admin, channel="web") == {
        "topic_id": "This topic is retired: choose an active one."}
    catalog.update_template(alert, frost(name_zh=alert.name_zh, name_en=alert.name_en, topic_id=pests.id),
                            actor=admin, channel="web")
    assert alert.topic_id == pests.id


def test_a_retired_template_is_no_longer_offered(app, admin):
    storm = db.session.scalar(select(Template).where(Template.name_zh == "暴雨大风预警"))
    catalog.set_template_active(storm, False, actor=admin, channel="web")
    assert storm not in catalog.offered_templates() and storm in catalog.all_templates()
    catalog.set_template_active(storm, True, actor=admin, channel="web")
    assert storm in catalog.offered_templates()
    assert [e.action for e in entries("template")] == ["template.retire", "template.reactivate"]
