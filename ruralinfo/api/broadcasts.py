"""What the API does with a broadcast: a request's recipients turned into an audience
(each phone that is no number reported), then made and submitted at once through the
broadcast services, which hold every rule; and a broadcast described for an answer."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ruralinfo.accounts import phones as phone_numbers
from ruralinfo.api import schemas
from ruralinfo.audit import services as audit
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import planning, replies, sending, services
from ruralinfo.broadcasts.models import Broadcast
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db

RULES = ("regions", "points", "groups", "roles", "phones")


def send(request: schemas.BroadcastIn, *, actor) -> tuple[Broadcast, planning.Preview]:
    """Make the broadcast and submit it: it waits for approval, or for its time, or goes.
    ``FieldErrors`` name whatever is wrong, and then nothing was made."""
    values = request.model_dump(include={"body", "body_en", "topic", "urgent", "send_at", "reply_options",
                                         "free_reply", "replies_close_at"})
    try:
        audience = audience_of(request)
    except FieldErrors as err:  # the fields' own errors too, all in one answer
        raise FieldErrors({**services.check(**values)[1], **err.errors}) from err
    return services.propose(actor=actor, audience=audience, channel=audit.API, **values)


def audience_of(request: schemas.BroadcastIn) -> audiences.Audience:
    """The request's rules and exclusions, checked against the database."""
    errors: dict[str, str] = {}
    sides = []
    for side, rules in (("", request), ("exclude.", request.exclude)):
        numbers, bad = _phones(rules.phones)
        if bad:
            errors[side + "phones"] = str(_l("These are not phone numbers (line: text): %(lines)s",
                                             lines="; ".join(f"{n}: {item}" for n, item in bad[:20])))
        sides.append(audiences.Rules(regions=list(rules.regions), groups=list(rules.groups),
                                     points=list(rules.points), roles=list(rules.roles), phones=numbers))
    try:
        audience = audiences.clean(*sides)
    except audiences.AudienceError as err:
        errors.update({key.replace("exclude_", "exclude.", 1): message for key, message in err.errors.items()})
    if errors:
        raise FieldErrors(errors)
    return audience


def _phones(items: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """The numbers in E.164, once each, and the items that are none (numbered from 1). One
    item is one number, however written (``139 1234 5678``): not a line to split."""
    found: dict[str, None] = {}
    bad = []
    for number, item in enumerate(items, start=1):
        try:
            found.setdefault(phone_numbers.normalize(item), None)
        except phone_numbers.PhoneError:
            bad.append((number, item[:40]))
    return list(found), bad


def newest_first(status: str | None, *, page: int, per_page: int) -> tuple[list[Broadcast], int]:
    """One page of broadcasts (in ``status``, if given), the newest first, and how many in all."""
    chosen = select(Broadcast).options(selectinload(Broadcast.topic))
    if status:
        chosen = chosen.where(Broadcast.status == status)
    total = db.session.scalar(select(func.count()).select_from(chosen.subquery()))
    shown = db.session.scalars(chosen.order_by(Broadcast.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return list(shown), total


def created(broadcast: Broadcast, preview: planning.Preview) -> schemas.BroadcastCreated:
    return schemas.BroadcastCreated(id=broadcast.id, status=broadcast.status, recipients=broadcast.recipient_count,
                                    segments=preview.segments, cost=str(preview.cost),
                                    currency=current_app.config["SMS_CURRENCY"])


def summary(broadcast: Broadcast) -> dict:
    return {"id": broadcast.id, "status": broadcast.status, "topic": broadcast.topic.key, "urgent": broadcast.urgent,
            "body": broadcast.body, "body_en": broadcast.body_en, "created_at": _aware(broadcast.created_at),
            "send_at": _aware(broadcast.send_at), "recipients": broadcast.recipient_count}


def detail(broadcast: Broadcast) -> schemas.Broadcast:
    return schemas.Broadcast(**summary(broadcast), approved_at=_aware(broadcast.approved_at),
                             counts=sending.progress(broadcast.id), reply_options=list(broadcast.reply_options or []),
                             free_reply=broadcast.free_reply, replies_close_at=_aware(broadcast.replies_close_at),
                             replies=tally(broadcast))


def tally(broadcast: Broadcast) -> dict[str, int]:
    """How many gave each answer (a reminder's answers count for the sign-up it reminds of)."""
    return {str(answer): int(count) for answer, count in replies.tally(broadcast.id).items()}


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None
