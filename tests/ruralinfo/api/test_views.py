"""The broadcast endpoints: made and submitted at once (201, Location, recipients,
segments, cost), read with counts and the sign-up's tally, listed newest first,
approved by a second person, paused, resumed, cancelled; and each bad input of the
issue answered clearly (400, 403, 404, 409, 422 with per-field messages) with nothing
changed."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ruralinfo.audit.models import AuditEntry
from ruralinfo.broadcasts import replies, sending
from ruralinfo.broadcasts.models import Broadcast
from ruralinfo.extensions import db
from ruralinfo.sms.models import BROADCAST, OutboundMessage
from tests.conftest import CHANGXI

NOTICE = "今晚有霜冻，请做好葡萄园防冻措施。"


def notice(**changes) -> dict:
    return {"body": NOTICE, "topic": "weather", "groups": ["葡萄"], **changes}


def later(hours: float = 2) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def texts() -> int:
    return db.session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.kind == BROADCAST))


def made() -> int:
    return db.session.scalar(select(func.count(Broadcast.id)))


def test_a_notice_is_made_and_sent_at_once(app, api, bureau):
    response = api("post", "/broadcasts", json=notice(body_en="Frost tonight: protect your vines."))
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["status"] == "done" and answer["recipients"] == 3 and answer["segments"] == 3
    assert Decimal(answer["cost"]) == Decimal(app.config["SMS_PRICE"]) * 3 and answer["currency"] == "CNY"
    assert response.headers["Location"].endswith(f"/api/v1/broadcasts/{answer['id']}")
    assert "Set-Cookie" not in response.headers  # a token, never a session
    assert texts() == 3
    broadcast = db.session.get(Broadcast, answer["id"])
    assert broadcast.created_by_id == bureau["clerk"].id and broadcast.topic.key == "weather"
    channels = db.session.scalars(select(AuditEntry.channel).where(AuditEntry.target_type == "broadcasts")).all()
    assert channels and set(channels) == {"api"}


def test_a_broadcast_is_read_with_its_counts_and_its_tally(app, api, bureau):
    made_id = api("post", "/broadcasts", json=notice(reply_options=["报名", "不参加"],
                                                     replies_close_at=later(24))).get_json()["id"]
    signup = db.session.get(Broadcast, made_id)
    first, second = bureau["farmers"][:2]
    replies.record(signup, phone=first.phone, user=first, choice=1)
    replies.record(signup, phone=second.phone, user=second, choice=1)
    response = api("get", f"/broadcasts/{made_id}")
    assert response.status_code == 200
    shown = response.get_json()
    assert shown["status"] == "done" and shown["recipients"] == 3 and shown["topic"] == "weather"
    assert shown["counts"] == sending.progress(made_id) and sum(shown["counts"].values()) == 3
    assert shown["replies"] == {"报名": 2, "不参加": 0}
    assert shown["reply_options"] == ["报名", "不参加"] and shown["created_at"].endswith("Z")


def test_a_notice_that_asks_nothing_has_an_empty_tally(api):
    made_id = api("post", "/broadcasts", json=notice()).get_json()["id"]
    assert api("get", f"/broadcasts/{made_id}").get_json()["replies"] == {}


def test_recipients_and_exclusions_by_every_rule(api, bureau, make_point):
    point = make_point(region_codes=(CHANGXI,))
    left_out = bureau["farmers"][0]
    response = api("post", "/broadcasts", json={
        "body": NOTICE, "topic": "天气", "regions": [CHANGXI], "points": [point.id], "roles": ["approver"],
        "phones": ["139 1234 5678"], "exclude": {"phones": [left_out.phone]}})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["recipients"] == 2 + 1 + 1  # two farmers, the approver, a listed phone


def test_the_list_is_newest_first_in_pages_and_filtered_by_status(api):
    ids = [api("post", "/broadcasts", json=notice(send_at=later())).get_json()["id"] for _ in range(3)]
    api("post", f"/broadcasts/{ids[0]}/cancel")
    page = api("get", "/broadcasts?per_page=2").get_json()
    assert [one["id"] for one in page["items"]] == [ids[2], ids[1]] and page["total"] == 3
    assert [one["id"] for one in api("get", "/broadcasts?per_page=2&page=2").get_json()["items"]] == [ids[0]]
    cancelled = api("get", "/broadcasts?status=cancelled").get_json()
    assert [one["id"] for one in cancelled["items"]] == [ids[0]] and cancelled["items"][0]["status"] == "cancelled"
    for query, field in (("per_page=0", "per_page"), ("page=abc", "page"), ("status=gone", "status")):
        response = api("get", f"/broadcasts?{query}")
        assert response.status_code == 422 and field in response.get_json()["errors"]


def test_an_urgent_alert_waits_for_a_second_persons_approval(api, bureau):
    made_id = api("post", "/broadcasts", as_="approver", json=notice(urgent=True)).get_json()["id"]
    assert api("get", f"/broadcasts/{made_id}").get_json()["status"] == "pending_approval" and texts() == 0
    own = api("post", f"/broadcasts/{made_id}/approve", as_="approver")
    assert own.status_code == 409 and "Another person" in own.get_json()["errors"]["approver"]
    assert api("post", f"/broadcasts/{made_id}/approve", as_="clerk").status_code == 403  # no approver role
    bureau["clerk"].add_role("approver")
    db.session.commit()
    approved = api("post", f"/broadcasts/{made_id}/approve", as_="clerk")
    assert approved.status_code == 200 and approved.get_json()["status"] == "done" and texts() == 3
    assert approved.get_json()["approved_at"]


def test_pause_resume_cancel_and_no_resuming_a_cancelled_one(api):
    made_id = api("post", "/broadcasts", json=notice(send_at=later())).get_json()["id"]
    steps = [("pause", 200, "paused"), ("pause", 409, "paused"), ("resume", 200, "scheduled"),
             ("cancel", 200, "cancelled"), ("resume", 409, "cancelled"), ("cancel", 409, "cancelled")]
    for step, code, status in steps:
        response = api("post", f"/broadcasts/{made_id}/{step}")
        assert response.status_code == code, (step, response.get_json())
        if code == 409:
            assert "cancelled" in response.get_json()["errors"]["status"] or step == "pause"
        assert db.session.get(Broadcast, made_id).status == status
    assert texts() == 0


def test_what_does_not_exist_is_a_json_404_and_a_wrong_method_a_json_405(api):
    for path in ("/broadcasts/999", "/broadcasts/999/approve", "/broadcasts/0", "/nothing-here"):
        response = api("post", path, as_="approver") if path.endswith("approve") else api("get", path)
        assert response.status_code == 404 and response.mimetype == "application/json", path
    response = api("delete", "/broadcasts")
    assert response.status_code == 405 and response.get_json()["status"] == 405 and "POST" in response.headers["Allow"]


@pytest.mark.parametrize("changes, field, words", [
    ({"body": ""}, "body", "empty"),
    ({"body": "   "}, "body", "Write the notice"),
    ({"body": "霜" * 1000}, "body", "At most 500"),
    ({"regions": ["330282999999"]}, "regions", "No such region: 330282999999"),
    ({"groups": ["茶叶"]}, "groups", "Nobody belongs to the group 茶叶"),
    ({"phones": ["13800138000", "abc", "138", "+8613912345678", "转给老李"]}, "phones", "2: abc; 3: 138; 5: 转给老李"),
    ({"send_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}, "send_at", "passed"),
    ({"send_at": "2030-12-10T08:00:00"}, "send_at", "time zone"),
    ({"send_at": "tomorrow"}, "send_at", "ISO 8601"),
    ({"topic": "horoscopes"}, "topic", "topic"),
    ({"groups": [], "regions": []}, "audience", "whom"),
    ({"exclude": {"regions": ["99"]}}, "exclude.regions", "No such region"),
    ({"points": [2**40]}, "points.0", "At most"),
    ({"urgent": "yes"}, "urgent", "true or false"),
    ({"region": [CHANGXI]}, "region", "Unknown field"),
    ({"roles": ["king"]}, "roles.0", "one of"),
    ({"reply_options": ["报名", "报名"]}, "reply_options", "same"),
    ({"replies_close_at": later()}, "replies_close_at", "answer"),
])
def test_bad_input_gets_422_per_field_and_changes_nothing(api, changes, field, words):
    before = (made(), db.session.scalar(select(func.count(AuditEntry.id))))
    response = api("post", "/broadcasts", json=notice(**changes))
    assert response.status_code == 422, response.get_json()
    answer = response.get_json()
    assert answer["status"] == 422 and answer["message"] and field in answer["errors"], answer
    assert words in answer["errors"][field], answer
    assert (made(), db.session.scalar(select(func.count(AuditEntry.id)))) == before and texts() == 0


def test_what_is_no_json_object_gets_400_or_422(api):
    for data, code in (("{not json", 400), ("", 400), ("[]", 422), ('"text"', 422)):
        response = api("post", "/broadcasts", data=data, headers={"Content-Type": "application/json"})
        assert response.status_code == code and response.get_json()["status"] == code, data
    assert made() == 0


def test_a_broadcast_that_would_take_too_long_is_refused_before_it_is_made(app, api):
    app.config.update(SMS_RATE=1, BROADCAST_MAX_HOURS=0.0001)
    response = api("post", "/broadcasts", json=notice())
    assert response.status_code == 422 and "longer than" in response.get_json()["errors"]["audience"]
    assert made() == 0


def test_messages_follow_accept_language_chinese_first(app, api):
    body = notice(regions=["330282999999"])
    chinese = api("post", "/broadcasts", json=body, language="zh-CN,zh;q=0.9,en;q=0.8").get_json()
    assert "没有这个行政区划" in chinese["errors"]["regions"]
    english = api("post", "/broadcasts", json=body, language="en-US,en;q=0.9").get_json()
    assert "No such region" in english["errors"]["regions"]
    app.config["BABEL_DEFAULT_LOCALE"] = "zh"  # as in production: no preference given is Chinese
    unsaid = api("post", "/broadcasts", json=body, language="").get_json()
    assert "没有这个行政区划" in unsaid["errors"]["regions"]
