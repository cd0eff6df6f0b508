"""Read-only look-ups for the admin view's pages: region choices and the region
tree with farmer counts, the account list, the audit log search."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ruralinfo.accounts import phones, roles
from ruralinfo.accounts.models import User, UserRole
from ruralinfo.audit import services as audit
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.liaison.models import ACTIVE, LiaisonPoint, point_regions
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import COUNTY, TOWNSHIP, Region
from ruralinfo.timeutil import local_zone

INDENT = "\u3000"  # an ideographic space: indents option labels without markup


# --- region choices --------------------------------------------------------------------------

def region_label(region: Region) -> str:
    return f"{regions.full_name(region, start_level=TOWNSHIP) or region.name} ({region.code})"


def region_filter_choices(county: str, current: str = "") -> list[tuple[str, str]]:
    """The county, its townships and their loaded villages, indented, for a filter."""
    choices = [("", str(_l("All regions")))]
    top = db.session.get(Region, county)
    if top is not None:
        choices.append((top.code, top.name))
        for township in regions.children(top.code):
            choices.append((township.code, INDENT + township.name))
            choices += [(v.code, INDENT * 2 + v.name) for v in regions.children(township.code)]
    region = regions.get(current) if current else None
    if region is not None and region.code not in {code for code, _ in choices}:
        choices.append((region.code, region_label(region)))
    return choices


def township_choices(county: str, extra: list[str]) -> list[tuple[str, str]]:
    """The county's townships, and the townships of ``extra`` codes elsewhere."""
    choices = [(t.code, t.name) for t in regions.children(county)]
    known = {code for code, _ in choices}
    for code in sorted({c[:9] for c in extra if len(c) >= 9}):
        township = db.session.get(Region, code)
        if township is not None and code not in known:
            choices.append((code, regions.full_name(township, start_level=COUNTY)))
            known.add(code)
    return choices


def village_choices(township: str, selected: list[str]) -> list[tuple[str, str]]:
    """Checkboxes for a point: the township's villages, or the whole township when
    none are loaded; plus whatever is already selected elsewhere."""
    choices: list[tuple[str, str]] = []
    region = db.session.get(Region, township) if township else None
    if region is not None and region.level == TOWNSHIP:
        villages = regions.children(region.code)
        if villages:
            choices = [(v.code, v.name) for v in villages]
        else:
            choices = [(region.code, str(_l("%(township)s as a whole (villages not loaded)",
                                             township=region.name)))]
    shown = {code for code, _ in choices}
    for code in selected:
        other = regions.get(code)
        if other is not None and other.code not in shown:
            choices.append((other.code, region_label(other)))
            shown.add(other.code)
    return choices


# --- the region tree ---------------------------------------------------------------------------

@dataclass
class RegionNode:
    region: Region
    farmers: int = 0
    points: list[LiaisonPoint] = field(default_factory=list)


@dataclass
class RegionPage:
    region: Region | None  # None: the list of provinces
    path: list[Region]
    farmers: int
    children: list[RegionNode]
    points: list[LiaisonPoint]


def _farmer_count_by_prefix(code: str, length: int) -> dict[str, int]:
    prefix = func.substr(User.region_code, 1, length)
    stmt = (select(prefix, func.count(User.id))
            .where(User.role_rows.any(UserRole.role == roles.FARMER), User.active.is_(True),
                   User.region_code.is_not(None), *([regions.within(User.region_code, code)] if code else []))
            .group_by(prefix))
    return dict(db.session.execute(stmt).all())


def _active_points_within(code: str) -> list[tuple[str, LiaisonPoint]]:
    stmt = (select(point_regions.c.region_code, LiaisonPoint)
            .join(LiaisonPoint, LiaisonPoint.id == point_regions.c.point_id)
            .where(LiaisonPoint.status == ACTIVE, *([regions.within(point_regions.c.region_code, code)] if code else []))
            .order_by(LiaisonPoint.name))
    return list(db.session.execute(stmt).all())


def region_page(region: Region | None) -> RegionPage:
    """A region (None: the whole country), the way down to it, its children with
    their active farmers and the active liaison points serving them."""
    code = region.code if region is not None else ""
    kids = regions.children(region.code if region is not None else None)
    length = len(kids[0].code) if kids else len(code)
    counts = _farmer_count_by_prefix(code, length) if length else {}
    served = _active_points_within(code)
    nodes = []
    for kid in kids:
        node_points = [p for point_code, p in served if regions.contains(kid.code, point_code)]
        nodes.append(RegionNode(kid, counts.get(kid.code, 0), list(dict.fromkeys(node_points))))
    points = list(dict.fromkeys(p for _, p in served))
    if region is not None and region.level >= TOWNSHIP:
        points += [p for p in _active_points_covering(region.code) if p not in points]
    return RegionPage(region, regions.path(region), sum(counts.values()), nodes, points)


def _active_points_covering(code: str) -> list[LiaisonPoint]:
    ancestors = [code[:n] for n in (9,) if n < len(code)]
    if not ancestors:
        return []
    stmt = (select(LiaisonPoint).join(point_regions, LiaisonPoint.id == point_regions.c.point_id)
            .where(LiaisonPoint.status == ACTIVE, point_regions.c.region_code.in_(ancestors)))
    return list(db.session.scalars(stmt))


# --- accounts ----------------------------------------------------------------------------------

def accounts(*, text: str = "", role: str = "", active: str = ""):
    """A select of accounts (staff and farmers) by name or phone, role and status."""
    stmt = select(User).order_by(User.name, User.id)
    if role in roles.ALL:
        stmt = stmt.where(User.role_rows.any(UserRole.role == role))
    if active in ("0", "1"):
        stmt = stmt.where(User.active.is_(active == "1"))
    term = unicodedata.normalize("NFKC", text or "").strip()
    if term:
        digits = "".join(ch for ch in term if ch.isdigit())
        conditions = [User.name.contains(term, autoescape=True)]
        if len(digits) >= 4:
            conditions.append(User.phone.contains(digits))
        stmt = stmt.where(or_(*conditions))
    return stmt


def liaison_points() -> list[LiaisonPoint]:
    return list(db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.name, LiaisonPoint.id)))


def account_audit(user: User, limit: int = 20) -> list[AuditEntry]:
    return list(db.session.scalars(audit.query(target_type=User.__tablename__, target_id=user.id).limit(limit)))


# --- audit log ---------------------------------------------------------------------------------

def target_types() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.target_type).distinct().order_by(AuditEntry.target_type)))


def actor_ids(term: str) -> list[int]:
    """Accounts an "actor" filter means: the one with this phone number, else
    those whose name contains the text."""
    term = unicodedata.normalize("NFKC", term or "").strip()
    if not term:
        return []
    try:
        phone = phones.normalize(term, mobile=False)
    except phones.PhoneError:
        phone = None
    if phone:
        found = db.session.scalar(select(User.id).where(User.phone == phone))
        if found is not None:
            return [found]
    return list(db.session.scalars(select(User.id).where(User.name.contains(term, autoescape=True))))


def _local_midnight_utc(day: date) -> datetime:
    local = datetime.combine(day, time.min, tzinfo=local_zone())
    return local.astimezone(UTC).replace(tzinfo=None)


def audit_log(*, action: str = "", channel: str = "", actor: str = "", target_type: str = "",
              target_id: int | None = None, since: date | None = None, until: date | None = None):
    """A select of audit entries, newest first; dates are local calendar days."""
    stmt = audit.query(action=action or None, channel=channel or None, target_type=target_type or None,
                       target_id=target_id)
    if (actor or "").strip():
        stmt = stmt.where(AuditEntry.actor_id.in_(actor_ids(actor)))
    if since:
        stmt = stmt.where(AuditEntry.at >= _local_midnight_utc(since))
    if until:
        stmt = stmt.where(AuditEntry.at < _local_midnight_utc(until + timedelta(days=1)))
    return stmt


CHANNELS = (audit.WEB, audit.CLI, audit.SMS, audit.VOICE, audit.API, audit.IMPORT, audit.SYSTEM)


def channels_in_use() -> list[str]:
    """The channels the audit log holds entries from, in the usual order: the filter
    offers only what exists (no voice before the hotline, no API before tokens)."""
    found = set(db.session.scalars(select(AuditEntry.channel).distinct()))
    return [channel for channel in CHANNELS if channel in found] + sorted(found - set(CHANNELS))
