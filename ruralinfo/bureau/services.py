"""Figures for the bureau's start page."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User, UserRole
from ruralinfo.extensions import db
from ruralinfo.liaison.models import ACTIVE, LiaisonPoint
from ruralinfo.regions.models import Region
from ruralinfo.sms.models import InboundMessage


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


def unrouted_texts(limit: int = 100) -> list[InboundMessage]:
    """Texts from registered farmers that no liaison point serves: the bureau answers them."""
    return list(db.session.scalars(select(InboundMessage).where(InboundMessage.command == "unrouted")
                                   .order_by(InboundMessage.id.desc()).limit(limit)))
