"""API tokens: shown once, only the hash kept; a revoked token, a deactivated account's
token, no token or a malformed header get 401; a farmer's token gets 403; every change
is audited."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.api import services as tokens
from ruralinfo.api.models import ApiToken
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db


def test_a_token_is_given_once_and_only_its_hash_is_kept(app, bureau, db_dump):
    token, raw = tokens.create(bureau["clerk"], name="  价格   行情 ")
    assert raw.startswith(tokens.MARK) and len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest() and token.prefix == raw[:10]
    assert token.name == "价格 行情" and token.user_id == bureau["clerk"].id
    assert raw not in db_dump() and raw[10:] not in db_dump()  # nowhere in the database, audit log included
    again, raw_again = tokens.create(bureau["clerk"])
    assert raw_again != raw and again.id != token.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.create",
                                                       AuditEntry.target_id == token.id))
    assert entry.target_type == "api_tokens" and entry.details["prefix"] == token.prefix


def test_verify_finds_live_tokens_only_and_notes_their_use(app, bureau):
    token, raw = tokens.create(bureau["approver"])
    assert token.last_used_at is None
    assert tokens.verify(raw) == token and token.last_used_at is not None
    for wrong in ("", None, raw + "x", raw[:-1], "Bearer " + raw, tokens.MARK + "x" * 500):
        assert tokens.verify(wrong) is None
    tokens.revoke(token, actor=bureau["approver"])
    assert tokens.verify(raw) is None and token.revoked_by_id == bureau["approver"].id
    with pytest.raises(tokens.TokenError):
        tokens.revoke(token, actor=bureau["approver"])
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "api_tokens",
                                                                 AuditEntry.target_id == token.id)).all()
    assert actions == ["api_token.create", "api_token.revoke"]


def test_last_use_is_written_at_most_once_a_minute(app, bureau):
    token, raw = tokens.create(bureau["clerk"])
    tokens.verify(raw)
    first = token.last_used_at
    tokens.verify(raw)
    assert token.last_used_at == first
    token.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    tokens.verify(raw)
    assert token.last_used_at > first - timedelta(minutes=2)


def test_a_deactivated_account_gets_no_token_and_its_tokens_stop(app, bureau):
    clerk = bureau["clerk"]
    clerk.active = False
    db.session.commit()
    assert tokens.verify(bureau["tokens"]["clerk"]) is None
    with pytest.raises(tokens.TokenError) as refused:
        tokens.create(clerk)
    assert "deactivated" in refused.value.errors["user"]


def test_the_account_is_found_by_its_mobile_number_as_people_write_it(app, bureau):
    assert tokens.user_by_phone("139 1111 0001") == bureau["clerk"]
    for wrong in ("12345", "13900000000"):
        with pytest.raises(tokens.TokenError):
            tokens.user_by_phone(wrong)


def test_no_token_or_a_wrong_one_gets_401_with_the_bearer_challenge(api, bureau):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"},
                    {"Authorization": "Bearer ri_not-a-token"}):
        response = api("get", "/broadcasts", as_=None, headers=headers)
        assert response.status_code == 401 and response.mimetype == "application/json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["status"] == 401 and response.get_json()["message"]
        assert "Set-Cookie" not in response.headers  # no session for the API


def test_a_revoked_token_gets_401(api, bureau):
    assert api("get", "/broadcasts").status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == bureau["clerk"].id))
    tokens.revoke(token, actor=None)
    response = api("get", "/broadcasts")
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "revoked" in response.get_json()["message"]


def test_a_deactivated_accounts_token_gets_401(api, bureau):
    bureau["clerk"].active = False
    db.session.commit()
    assert api("get", "/broadcasts").status_code == 401


def test_tokens_carry_the_accounts_roles_as_they_are_now(api, bureau):
    response = api("get", "/broadcasts", as_="farmer")
    assert response.status_code == 403 and response.get_json()["message"]
    assert api("post", "/broadcasts", as_="farmer", json={"body": "x", "topic": "weather"}).status_code == 403
    farmer = bureau["farmers"][0]
    farmer.add_role(roles.STAFF)
    db.session.commit()
    assert api("get", "/broadcasts", as_="farmer").status_code == 200
