"""The audit log page: filters, and no way to change an entry."""
from __future__ import annotations

import re

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.audit import services as audit
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.timeutil import local_today, now_utc


@pytest.fixture
def setup(make_staff, make_point, make_farmer, login):
    admin = make_staff(roles.ADMIN, name="管理员甲")
    clerk = make_staff(roles.STAFF, name="办事员乙")
    point = make_point(name="长溪村联络点")
    farmer = make_farmer(name="李农户")
    audit.record("point.suspend", point, actor=clerk, channel=audit.WEB)
    old = audit.record("point.reactivate", point, actor=clerk, channel=audit.CLI)
    old.at = now_utc() - timedelta(days=40)
    db.session.commit()
    login(admin)
    return admin, clerk, point, farmer


def listed(client, **args) -> list[str]:
    text = client.get("/admin/audit/", query_string=args).get_data(as_text=True)
    body = text.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'data-action="([^"]+)"', body)


def test_filters(client, setup):
    admin, clerk, point, farmer = setup
    everything = listed(client)
    assert everything[0] == "login"  # newest first: the administrator's log-in
    assert {"staff.create", "farmer.register", "point.suspend", "point.reactivate", "login"} <= set(everything)

    assert set(listed(client, action="point.suspend")) == {"point.suspend"}
    assert listed(client, channel="cli").count("point.reactivate") == 1
    assert set(listed(client, channel="cli")) == {"staff.create", "farmer.register", "point.reactivate"}
    assert set(listed(client, actor="办事员")) == {"point.suspend", "point.reactivate"}
    assert set(listed(client, actor=clerk.phone[3:])) == {"point.suspend", "point.reactivate"}
    assert listed(client, actor="nobody-at-all") == []
    assert set(listed(client, target_type="liaison_points", target_id=point.id)) == {"point.suspend",
                                                                                   "point.reactivate"}
    assert listed(client, target_type="users", target_id=farmer.id) == ["farmer.register"]
    today = local_today().isoformat()
    assert "point.reactivate" not in listed(client, since=today)
    assert listed(client, until=(local_today() - timedelta(days=30)).isoformat()) == ["point.reactivate"]
    assert "point.reactivate" in listed(client, since=(local_today() - timedelta(days=41)).isoformat(),
                                        until=today)
    bad = client.get("/admin/audit/?since=not-a-date").get_data(as_text=True)
    assert "Not a valid date value" in bad


def test_paginated(client, setup, app):
    admin = setup[0]
    for i in range(60):
        audit.record("test.bulk", ("thing", i), actor=admin)
    db.session.commit()
    first = client.get("/admin/audit/?action=test.bulk").get_data(as_text=True)
    assert "Page 1 of 2" in first and first.count('data-action="test.bulk"') == 50
    assert "page=2" in first and "action=test.bulk" in first.split('class="pager"')[1]
    second = client.get("/admin/audit/?action=test.bulk&page=2").get_data(as_text=True)
    assert second.count('data-action="test.bulk"') == 10


def test_no_route_can_change_or_delete_audit_entries(app, client, setup):
    rules = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule or "audit" in rule.endpoint]
    assert rules, "the audit page exists"
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    entry_id = db.session.scalar(select(func.max(AuditEntry.id)))
    for method in ("post", "put", "patch", "delete"):
        for url in ("/admin/audit/", f"/admin/audit/{entry_id}", f"/admin/audit/{entry_id}/delete"):
            assert getattr(client, method)(url).status_code in (404, 405), (method, url)
    assert db.session.scalar(select(func.count(AuditEntry.id))) == count


def test_the_channel_filter_offers_only_channels_in_the_log(client, make_staff, login):
    login(make_staff(roles.ADMIN))  # a web log-in; make_staff itself records "cli"
    page = client.get("/admin/audit/").get_data(as_text=True)
    options = page.split('name="channel"')[1].split("</select>")[0]
    assert "command line" in options and ">web<" in options
    assert "voice" not in options and "API" not in options
