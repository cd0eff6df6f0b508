"""``flask --app wsgi api-token create|list|revoke``."""
from __future__ import annotations

from sqlalchemy import select

from ruralinfo.api import services as tokens
from ruralinfo.api.models import ApiToken
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db


def test_create_prints_the_token_once_and_it_works(app, bureau, api):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-token", "create", "--user", "139 1111 0001", "--name", "价格行情推送"])
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip().splitlines()[-1]
    token = tokens.verify(raw)
    assert token is not None and token.user == bureau["clerk"] and token.name == "价格行情推送"
    assert "王晓" in result.output and "shown this once" in result.output
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.create",
                                                       AuditEntry.target_id == token.id))
    assert entry.channel == "cli"

    listed = runner.invoke(args=["api-token", "list"])
    assert listed.exit_code == 0 and token.prefix in listed.output and raw not in listed.output
    assert "价格行情推送" in listed.output

    revoked = runner.invoke(args=["api-token", "revoke", str(token.id)])
    assert revoked.exit_code == 0, revoked.output
    assert tokens.verify(raw) is None
    again = runner.invoke(args=["api-token", "revoke", str(token.id)])
    assert again.exit_code == 1 and "revoked already" in again.output


def test_create_explains_a_wrong_number_and_makes_nothing(app, bureau):
    before = db.session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()).limit(1))
    for phone in ("12345", "13900000000"):
        result = app.test_cli_runner().invoke(args=["api-token", "create", "--user", phone])
        assert result.exit_code == 1 and "Error" in result.output
    assert app.test_cli_runner().invoke(args=["api-token", "revoke", "999"]).exit_code == 1
    assert db.session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()).limit(1)) == before
