"""``flask --app wsgi api-token …``: make a token for an account (shown once), list the
tokens, revoke one."""
from __future__ import annotations

import click
from flask.cli import AppGroup

api_token_cli = AppGroup("api-token", help="Tokens for the JSON API (/api/v1).")


@api_token_cli.command("create")
@click.option("--user", "phone", required=True, help="The mobile number of the account the token acts as.")
@click.option("--name", default="", help="What the token is for, e.g. “weather service”.")
def create(phone: str, name: str) -> None:
    """Make a token and print it: the only time it is shown (only its hash is kept)."""
    from ruralinfo.api import services as tokens
    from ruralinfo.audit import services as audit

    try:
        user = tokens.user_by_phone(phone)
        token, raw = tokens.create(user, name=name, actor=None, channel=audit.CLI)
    except tokens.TokenError as err:
        raise click.ClickException("; ".join(err.errors.values())) from None
    click.echo(f"Token {token.id} for {user.name} ({user.phone}), roles: {', '.join(sorted(user.roles)) or '-'}.",
               err=True)
    click.echo("Keep it secret; it is shown this once:", err=True)
    click.echo(raw)


@api_token_cli.command("list")
def list_tokens() -> None:
    """Every token, newest first: id, beginning, account, name, created, last used,
    revoked (times in UTC)."""
    from ruralinfo.api import services as tokens
    from ruralinfo.extensions import db

    for token in db.session.scalars(tokens.newest_first()):
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        click.echo(f"{token.id}\t{token.prefix}…\t{token.user.phone} {token.user.name}\t{token.name or '-'}\t"
                   f"created {token.created_at:%Y-%m-%d %H:%M}\tused {used}\t{state}")


@api_token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID: it stops working at once."""
    from ruralinfo.api import services as tokens
    from ruralinfo.api.models import ApiToken
    from ruralinfo.audit import services as audit
    from ruralinfo.extensions import db

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"No token {token_id}.")
    try:
        tokens.revoke(token, actor=None, channel=audit.CLI)
    except tokens.TokenError as err:
        raise click.ClickException("; ".join(err.errors.values())) from None
    click.echo(f"Token {token.id} ({token.prefix}…) of {token.user.name} revoked.")
