"""What the compose form offers to pick from: topics, the county's region tree
(townships, each with its villages), interest groups, liaison points and roles."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.accounts.models import InterestGroup, User
from ruralinfo.broadcasts import catalog
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import Region


@dataclass
class Choices:
    topics: list
    county: Region | None
    townships: list  # (township, [villages])
    groups: list
    points: list
    roles: list  # (role, label)
    farmers: dict  # region code → active accounts inside it (townships and villages)


def choices() -> Choices:
    county = regions.get(current_app.config["COUNTY_CODE"])
    townships = regions.children(county.code) if county else []
    tree = [(township, regions.children(township.code)) for township in townships]
    return Choices(
        topics=catalog.offered_topics(),
        county=county, townships=tree,
        groups=db.session.scalars(select(InterestGroup).where(InterestGroup.active.is_(True))
                                  .order_by(InterestGroup.id)).all(),
        points=db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.name)).all(),
        roles=[(role, roles.LABELS[role]) for role in roles.ALL],
        farmers=_people_by_region(county.code if county else None))


def _people_by_region(county: str | None) -> dict[str, int]:
    """Active accounts per village, and summed per township, so the tree shows who is where."""
    if county is None:
        return {}
    rows = db.session.execute(select(User.region_code, func.count()).where(
        User.active.is_(True), regions.within(User.region_code, county)).group_by(User.region_code)).all()
    counts: dict[str, int] = {}
    for code, number in rows:
        code = str(code)
        counts[code] = counts.get(code, 0) + number
        if len(code) > 9:
            counts[code[:9]] = counts.get(code[:9], 0) + number
    return counts
