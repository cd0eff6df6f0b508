"""The admin view's token page: every token with its account, name, beginning and
times; an administrator revokes one (a POST with a CSRF token, audited) and it stops
working at once; staff may look but not revoke."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.api.models import ApiToken
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}  # as in production


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def log_in(client, user) -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"phone": user.phone, "password": "correct-horse-42",
                                           "csrf_token": csrf_of(page)})
    assert response.status_code == 302


def clerks_token() -> ApiToken:
    return db.session.scalar(select(ApiToken).where(ApiToken.name == "天气服务"))


def test_the_page_lists_tokens_and_an_administrator_revokes_one(client, api, bureau, make_staff):
    admin = make_staff(roles.ADMIN, name="陈立新")
    token = clerks_token()
    assert api("get", "/broadcasts").status_code == 200  # used once: the page shows when
    log_in(client, admin)
    page = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert "API tokens" in page and 'aria-current="page"' in page
    for shown in ("王晓", "天气服务", token.prefix, "刘敏", "审批脚本", "赵春生"):
        assert shown in page
    assert bureau["tokens"]["clerk"][len(token.prefix):] not in page  # the token itself is never shown

    assert client.post(f"/admin/api-tokens/{token.id}/revoke").status_code == 400  # no CSRF token
    assert api("get", "/broadcasts").status_code == 200

    response = client.post(f"/admin/api-tokens/{token.id}/revoke", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert token.revoked_at is not None and token.revoked_by_id == admin.id
    assert api("get", "/broadcasts").status_code == 401
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.revoke"))
    assert entry.actor_id == admin.id and entry.target_id == token.id and entry.channel == "web"
    after = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert "revoked: it no longer works" in after
    assert f"/admin/api-tokens/{token.id}/revoke" not in after  # nothing left to revoke
    audit_page = client.get("/admin/audit/").get_data(as_text=True)
    assert "API token revoked" in audit_page and "API token created" in audit_page


def test_staff_may_look_but_not_revoke_and_farmers_see_nothing(client, app, bureau):
    token = clerks_token()
    log_in(client, bureau["clerk"])
    page = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert token.prefix in page and "/revoke" not in page
    response = client.post(f"/admin/api-tokens/{token.id}/revoke", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert token.revoked_at is None

    anonymous = app.test_client()
    assert anonymous.get("/admin/api-tokens/").status_code == 302  # to the log-in page
