"""Figures for the bureau's start page, and the received texts the bureau looks after."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User, UserRole
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.liaison import services as liaison
from ruralinfo.liaison.models import ACTIVE, LiaisonPoint
from ruralinfo.regions.models import Region
from ruralinfo.sms import inbound
from ruralinfo.sms.models import InboundMessage
from ruralinfo.timeutil import now_utc


@dataclass
class Summary:
    farmers: int
    verified: int
    opted_out: int
    points: int
    by_township: list[tuple[str, int]]


def summary() -> Summary:
    farmer = User.role_rows.any(UserRole.role == roles.FARMER)
    base = select(func.count(User.id)).where(farmer, User.active.is_(True))
    township = func.substr(User.region_code, 1, 9)
    rows = db.session.execute(
        select(Region.name, func.count(User.id))
        .join(Region, Region.code == township)
        .where(farmer, User.active.is_(True))
        .group_by(Region.name).order_by(func.count(User.id).desc())
    ).all()
    return Summary(
        farmers=db.session.scalar(base),
        verified=db.session.scalar(base.where(User.verified_at.is_not(None))),
        opted_out=db.session.scalar(base.where(User.sms_opt_out.is_(True))),
        points=db.session.scalar(select(func.count(LiaisonPoint.id)).where(LiaisonPoint.status == ACTIVE)),
        by_township=[(name, n) for name, n in rows],
    )


NO_POINT, POINT_SUSPENDED = "no-point", "point-suspended"


@dataclass
class Unrouted:
    """A farmer's text that reached no liaison point, and why: no point serves the
    village (``NO_POINT``), or the one that does is suspended (``POINT_SUSPENDED``, ``point``)."""

    text: InboundMessage
    why: str
    point: LiaisonPoint | None


def unrouted_texts(limit: int = 100) -> list[Unrouted]:
    """Texts from registered farmers that no active liaison point serves: the bureau answers them."""
    texts = db.session.scalars(select(InboundMessage).where(InboundMessage.command == "unrouted")
                               .order_by(InboundMessage.id.desc()).limit(limit)).all()
    result = []
    for text in texts:
        point = liaison.point_serving(text.user.region_code if text.user else None, active_only=False)
        suspended = point is not None and point.status != ACTIVE
        result.append(Unrouted(text, POINT_SUSPENDED if suspended else NO_POINT, point if suspended else None))
    return result


@dataclass
class Stranger:
    """A number with no account (or a deactivated one) that keeps texting."""

    phone: str
    name: str  # the deactivated account's name, or ""
    texts: list[InboundMessage]


def unknown_senders(days: int = 30, limit: int = 50) -> list[Stranger]:
    """Texts from numbers with no active account in the last ``days``, by number, the
    latest first: after the one "please register" answer nobody else sees them."""
    since = now_utc() - timedelta(days=days)
    rows = db.session.scalars(select(InboundMessage).where(
        InboundMessage.command.in_((inbound.UNKNOWN_SENDER, inbound.INACTIVE_SENDER)),
        InboundMessage.received_at >= since).order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(limit * 10)).all()
    found: dict[str, Stranger] = {}
    for row in rows:
        stranger = found.get(row.from_phone)
        if stranger is None:
            if len(found) == limit:
                continue
            stranger = found[row.from_phone] = Stranger(row.from_phone, row.user.name if row.user else "", [])
        stranger.texts.append(row)
    return list(found.values())


def failed_texts(limit: int = 100) -> list[InboundMessage]:
    """Texts whose handling failed, newest first, with the error: the bureau may handle them again."""
    return list(db.session.scalars(select(InboundMessage).where(InboundMessage.command == inbound.ERROR)
                                   .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
                                   .limit(limit)))


class TextNotFailed(LookupError):
    """No such text, or it is not failed (any more): somebody handled it meanwhile."""


def handle_again(message_id: int, *, actor: User, channel: str = audit.WEB) -> str | None:
    """Handle a failed text once more, through the same once-only path as the first
    time; its reply goes as a text of its own. Returns None when it is handled, or
    the new error when it failed again (it stays listed, the sender is not told
    twice). Raises TextNotFailed when it is not failed."""
    if not inbound.reopen(message_id):
        db.session.rollback()
        raise TextNotFailed(message_id)
    audit.record("sms.handle_again", (InboundMessage.__tablename__, message_id), actor=actor, channel=channel)
    db.session.commit()  # reopened: should this request die now, the sweep takes it
    inbound.handle(message_id)
    command, error = db.session.execute(select(InboundMessage.command, InboundMessage.error)
                                        .where(InboundMessage.id == message_id)).one()
    return error if command == inbound.ERROR else None
