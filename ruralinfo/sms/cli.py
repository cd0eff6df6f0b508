"""Command line of the SMS channel: ``outbox`` (what was sent) and ``sms sweep``."""
from __future__ import annotations

import json
from datetime import UTC

import click
from flask.cli import AppGroup, with_appcontext

sms_cli = AppGroup("sms", help="The SMS channel: sending, reconciliation and texts left unhandled.")


@click.command("outbox")
@click.option("--to", "phone", help="Only messages to this number (any way of writing it).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of objects instead of lines.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1), help="At most this many.")
@with_appcontext
def outbox_command(phone: str | None, as_json: bool, limit: int) -> None:
    """List outgoing messages, newest first."""
    from sqlalchemy import select

    from ruralinfo.accounts import phones
    from ruralinfo.extensions import db
    from ruralinfo.sms.models import OutboundMessage

    query = select(OutboundMessage).order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc())
    if phone:
        try:
            query = query.where(OutboundMessage.to == phones.normalize(phone, mobile=False))
        except phones.PhoneError as err:
            raise click.BadParameter(err.message, param_hint="--to") from None
    messages = db.session.scalars(query.limit(limit)).all()
    if as_json:
        click.echo(json.dumps([_as_dict(m) for m in messages], ensure_ascii=False, indent=2))
        return
    for message in messages:
        click.echo(_as_line(message))
    if not messages:
        click.echo("No messages.", err=True)


def _as_dict(message) -> dict:
    return {
        "id": message.id, "to": message.to, "body": message.body, "status": message.status,
        "created_at": _iso(message.created_at), "kind": message.kind, "segments": message.segments,
        "encoding": message.encoding, "gateway": message.gateway, "provider_id": message.provider_id,
        "attempts": message.attempts, "last_error": message.last_error,
        "next_attempt_at": _iso(message.next_attempt_at),
    }


def _iso(value) -> str | None:
    return value.replace(tzinfo=UTC).isoformat(timespec="seconds") if value else None


def _as_line(message) -> str:
    from ruralinfo.timeutil import to_local

    when = to_local(message.created_at).strftime("%Y-%m-%d %H:%M")
    body = message.body.replace("\n", " ")
    body = body if len(body) <= 60 else body[:59] + "…"
    error = f"  ({message.last_error})" if message.last_error else ""
    return (f"#{message.id} {when} {message.to} {message.status} "
            f"{message.segments}×{message.encoding} {body}{error}")


@sms_cli.command("sweep")
def sweep_command() -> None:
    """Send due queued messages, look up those whose sending timed out, and handle
    received texts left unhandled for more than a minute."""
    from ruralinfo.sms import tasks

    report = tasks.sweep()
    failed = f" ({report.inbound_failed} failed: see /bureau/texts)" if report.inbound_failed else ""
    click.echo(f"{report.queued} queued message(s) sent (or handed to the workers), "
               f"{report.unknown} with an unknown outcome looked up, "
               f"{report.stale} abandoned send(s) marked unknown, "
               f"{report.inbound} received text(s) left unhandled now handled{failed}.")
