"""Recording and reading the audit log. Entries join the caller's transaction,
so a change and its record commit (or roll back) together."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db

WEB, CLI, SMS, VOICE, API, IMPORT, SYSTEM = "web", "cli", "sms", "voice", "api", "import", "system"


class AuditLogIsAppendOnly(RuntimeError):
    pass


def record(action: str, target, *, actor=None, channel: str = WEB, details: dict | None = None,
           before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add an entry for ``action`` on ``target`` (a model instance, or a ``(type, id)`` pair).

    ``before``/``after`` are snapshots of what changed; never put an ID number in them.
    """
    target_type, target_id = _target(target)
    payload = dict(details or {})
    if before is not None or after is not None:
        changed = {key for key in set(before or {}) | set(after or {})
                   if (before or {}).get(key) != (after or {}).get(key)}
        payload["before"] = {k: v for k, v in (before or {}).items() if k in changed}
        payload["after"] = {k: v for k, v in (after or {}).items() if k in changed}
    entry = AuditEntry(action=action, target_type=target_type, target_id=target_id,
                       actor_id=getattr(actor, "id", None), channel=channel, details=payload)
    db.session.add(entry)
    return entry


def _target(target) -> tuple[str, int | None]:
    if isinstance(target, tuple):
        return target
    return type(target).__tablename__, target.id


def query(*, action: str | None = None, target_type: str | None = None, target_id: int | None = None,
          actor_id: int | None = None, channel: str | None = None, since: date | None = None,
          until: date | None = None):
    """A select of entries, newest first, filtered by whatever is given."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if channel:
        stmt = stmt.where(AuditEntry.channel == channel)
    if since:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(since, datetime.min.time()))
    if until:
        stmt = stmt.where(AuditEntry.at < datetime.combine(until + timedelta(days=1), datetime.min.time()))
    return stmt


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


@event.listens_for(Session, "before_flush")
def _guard(session, _context, _instances) -> None:
    """Refuse, in the app, any change to or deletion of an audit entry."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise AuditLogIsAppendOnly("audit entries cannot be changed or deleted")
