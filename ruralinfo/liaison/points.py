"""Every rule about liaison points: creating and editing them, the villages they
serve (one active point per village), suspending them, their liaisons, and the
figures the admin view shows. Each change is written to the audit log in the
same transaction. Called from the admin view, and alike from the CLI or a job."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from ruralinfo import locks
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User, UserRole
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.liaison.models import ACTIVE, SUSPENDED, LiaisonPoint, point_regions
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import TOWNSHIP, Region
from ruralinfo.timeutil import local_zone, now_utc, to_local

PHONE_CHARS = re.compile(r"^[0-9+\-() ]*$")
STATUSES = (ACTIVE, SUSPENDED)
TEXT_LIMITS = {"name": 100, "address": 200, "phone": 30, "opening_hours": 100}


class PointError(FieldErrors):
    """A liaison point cannot be changed as asked."""


@dataclass
class PointData:
    """What a clerk types about a liaison point."""

    name: str = ""
    address: str = ""
    phone: str = ""
    opening_hours: str = ""
    region_codes: list[str] = field(default_factory=list)


# --- reading ---------------------------------------------------------------------------------

def search(*, text: str = "", region_code: str = "", status: str = ""):
    """A select of points, by name, by a region their villages lie inside, by status."""
    stmt = (select(LiaisonPoint).options(selectinload(LiaisonPoint.liaisons))
            .order_by(LiaisonPoint.name, LiaisonPoint.id))
    term = _normalize(text)
    if term:
        stmt = stmt.where(LiaisonPoint.name.contains(term, autoescape=True))
    if region_code:
        inside = select(point_regions.c.point_id).where(regions.within(point_regions.c.region_code, region_code))
        stmt = stmt.where(LiaisonPoint.id.in_(inside))
    if status in STATUSES:
        stmt = stmt.where(LiaisonPoint.status == status)
    return stmt


def _is_farmer():
    return User.role_rows.any(UserRole.role == roles.FARMER)


def _served_by_point_region():
    """Join condition: the user's region lies inside the point_regions row's region
    (an index range, like ``regions.within``, but against a column)."""
    code = point_regions.c.region_code
    return and_(User.region_code >= code, User.region_code <= code.concat("9" * 12))


def _per_point(aggregate, point_ids: list[int], *conditions) -> dict[int, object]:
    if not point_ids:
        return {}
    stmt = (select(point_regions.c.point_id, aggregate).select_from(point_regions)
            .join(User, _served_by_point_region())
            .where(point_regions.c.point_id.in_(point_ids), _is_farmer(), *conditions)
            .group_by(point_regions.c.point_id))
    return dict(db.session.execute(stmt).all())


def farmer_counts(point_ids: list[int]) -> dict[int, int]:
    """Active farmers living in each point's villages."""
    return _per_point(func.count(func.distinct(User.id)), point_ids, User.active.is_(True))


def registration_counts(point_ids: list[int], *, days: int = 30) -> dict[int, int]:
    """Farmers registered in each point's villages in the last ``days`` days."""
    since = now_utc() - timedelta(days=days)
    return _per_point(func.count(func.distinct(User.id)), point_ids, User.registered_at >= since)


@dataclass
class PointRow:
    point: LiaisonPoint
    farmers: int
    recent: int


def rows(points: list[LiaisonPoint], *, days: int = 30) -> list[PointRow]:
    """The list page's rows: each point with its farmers and recent registrations."""
    ids = [p.id for p in points]
    farmers, recent = farmer_counts(ids), registration_counts(ids, days=days)
    return [PointRow(p, farmers.get(p.id, 0), recent.get(p.id, 0)) for p in points]


def last_registrations(point_ids: list[int]) -> dict[int, datetime]:
    """When each point's villages last saw a farmer registered (points without any are left out)."""
    return _per_point(func.max(User.registered_at), point_ids)


def quiet(days: int = 60):
    """A select of the active points where no farmer registered in the last
    ``days`` days, the longest quiet first."""
    last = (select(point_regions.c.point_id.label("point_id"), func.max(User.registered_at).label("last"))
            .select_from(point_regions).join(User, _served_by_point_region())
            .where(_is_farmer()).group_by(point_regions.c.point_id).subquery())
    cutoff = now_utc() - timedelta(days=days)
    return (select(LiaisonPoint).outerjoin(last, last.c.point_id == LiaisonPoint.id)
            .options(selectinload(LiaisonPoint.liaisons))
            .where(LiaisonPoint.status == ACTIVE, or_(last.c.last.is_(None), last.c.last < cutoff))
            .order_by(last.c.last.asc().nulls_first(), LiaisonPoint.name, LiaisonPoint.id))


def farmers(point: LiaisonPoint):
    """A select of the farmers living in the point's villages, newest first."""
    return accounts.farmers(scope=point.region_codes)


def monthly_registrations(point: LiaisonPoint, *, months: int = 12) -> list[tuple[str, int]]:
    """``[("2024-07", 3), …]``: registrations per local calendar month, oldest first,
    the current month last, months without any included."""
    today = datetime.now(local_zone()).date()
    keys = []
    year, month = today.year, today.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    keys.reverse()
    since = now_utc() - timedelta(days=31 * months + 1)
    times = db.session.scalars(
        farmers(point).with_only_columns(User.registered_at).order_by(None).where(User.registered_at >= since))
    counted = Counter(to_local(t).strftime("%Y-%m") for t in times)
    return [(key, counted.get(key, 0)) for key in keys]


def audit_entries(point: LiaisonPoint, limit: int = 20):
    return list(db.session.scalars(audit.query(target_type=LiaisonPoint.__tablename__, target_id=point.id)
                                   .limit(limit)))


def liaison_candidates(point: LiaisonPoint | None = None) -> list[User]:
    """Active accounts with the liaison role that are not at ``point`` already."""
    stmt = (select(User).where(User.role_rows.any(UserRole.role == roles.LIAISON), User.active.is_(True))
            .order_by(User.name, User.id))
    if point is not None and point.id is not None:
        stmt = stmt.where(or_(User.liaison_point_id.is_(None), User.liaison_point_id != point.id))
    return list(db.session.scalars(stmt))


def snapshot(point: LiaisonPoint) -> dict:
    """What the audit log keeps of a point."""
    return {
        "name": point.name, "address": point.address, "phone": point.phone,
        "opening_hours": point.opening_hours, "status": point.status,
        "regions": sorted(point.region_codes),
        "liaisons": sorted(_label(u.name, u.phone) for u in point.liaisons),
    }


def _label(name: str, phone: str) -> str:
    return f"{name} {phone}"


# --- checks ----------------------------------------------------------------------------------

def _normalize(raw: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", raw or "").split())


def split_codes(raw: str) -> list[str]:
    """Codes typed in a box, separated by spaces, commas, semicolons or new lines."""
    return [part for part in re.split(r"[\s,;，；、]+", unicodedata.normalize("NFKC", raw or "")) if part]


def clean_regions(codes: list[str]) -> list[Region]:
    """Villages (or townships whose villages are not loaded), each once, in code order."""
    chosen: dict[str, Region] = {}
    problems = []
    for raw in codes:
        try:
            region = accounts.clean_region(raw, accounts.ALL_REGIONS)
        except ValueError as err:
            problems.append(f"{raw}: {err}")
            continue
        chosen[region.code] = region
    if problems:
        raise ValueError(" ".join(problems))
    if not chosen:
        raise ValueError(str(_l("Choose at least one village.")))
    return [chosen[code] for code in sorted(chosen)]


def clean(data: PointData) -> tuple[dict, list[Region]]:
    """Check every field; raise ``PointError`` with all the problems at once."""
    errors: dict[str, str] = {}
    values = {key: _normalize(getattr(data, key)) for key in TEXT_LIMITS}
    if not values["name"]:
        errors["name"] = str(_l("Enter the name of the liaison point."))
    for key, limit in TEXT_LIMITS.items():
        if len(values[key]) > limit:
            errors[key] = str(_l("At most %(n)s characters.", n=limit))
    if values["phone"] and not PHONE_CHARS.match(values["phone"]):
        errors["phone"] = str(_l("A telephone number has only digits, spaces, +, - and brackets."))
    chosen: list[Region] = []
    try:
        chosen = clean_regions(data.region_codes)
    except ValueError as err:
        errors["region_codes"] = str(err)
    if errors:
        raise PointError(errors)
    return values, chosen


def _lock_townships(chosen: list[Region]) -> None:
    """Serialise concurrent changes that touch the same township, so two clerks cannot
    give one village to two points at the same moment: the townships' rows are held
    (``ruralinfo.locks``: on SQLite too) before the free villages are read."""
    locks.lock_rows(Region.code, {region.code[:9] for region in chosen})


def overlaps(chosen: list[Region], *, exclude_point_id: int | None = None) -> list[tuple[Region, LiaisonPoint]]:
    """(region, point) pairs where another active point already serves the region,
    a village inside it, or the township around it."""
    codes = [region.code for region in chosen]
    ancestors = {code[:n] for code in codes for n in (2, 4, 6, 9) if n < len(code)}
    stmt = (select(point_regions.c.region_code, LiaisonPoint)
            .join(LiaisonPoint, LiaisonPoint.id == point_regions.c.point_id)
            .where(LiaisonPoint.status == ACTIVE,
                   or_(regions.within_any(point_regions.c.region_code, codes),
                       point_regions.c.region_code.in_(ancestors)))
            .order_by(point_regions.c.region_code))
    if exclude_point_id is not None:
        stmt = stmt.where(LiaisonPoint.id != exclude_point_id)
    found = []
    for code, point in db.session.execute(stmt).all():
        mine = next(r for r in chosen if regions.contains(r.code, code) or regions.contains(code, r.code))
        found.append((mine, point))
    return found


def _check_free(chosen: list[Region], *, exclude_point_id: int | None, field_name: str) -> None:
    _lock_townships(chosen)
    clashes = overlaps(chosen, exclude_point_id=exclude_point_id)
    if clashes:
        message = " ".join(
            str(_l("%(village)s is already served by the active liaison point “%(point)s”.",
                   village=regions.full_name(region, start_level=TOWNSHIP), point=point.name))
            for region, point in clashes)
        raise PointError({field_name: message + " " + str(
            _l("A village can belong to only one active liaison point."))})


# --- writes ----------------------------------------------------------------------------------

def create(data: PointData, *, actor: User | None, channel: str) -> LiaisonPoint:
    """A new, active point serving the chosen villages."""
    values, chosen = clean(data)
    _check_free(chosen, exclude_point_id=None, field_name="region_codes")
    point = LiaisonPoint(status=ACTIVE, created_at=now_utc(), **values)
    point.regions = chosen
    db.session.add(point)
    db.session.flush()
    audit.record("point.create", point, actor=actor, channel=channel, after=snapshot(point))
    db.session.commit()
    return point


def update(point: LiaisonPoint, data: PointData, *, actor: User | None, channel: str) -> LiaisonPoint:
    """Change the details and villages of a point (a suspended point's villages
    are checked again when it is re-activated)."""
    values, chosen = clean(data)
    if point.status == ACTIVE:
        _check_free(chosen, exclude_point_id=point.id, field_name="region_codes")
    before = snapshot(point)
    for key, value in values.items():
        setattr(point, key, value)
    point.regions = chosen
    after = snapshot(point)
    if after != before:
        audit.record("point.update", point, actor=actor, channel=channel, before=before, after=after)
    db.session.commit()
    return point


def suspend(point: LiaisonPoint, *, actor: User | None, channel: str) -> None:
    """Stop a point (its liaisons stay assigned; its villages become free)."""
    _set_status(point, SUSPENDED, "point.suspend", actor=actor, channel=channel)


def reactivate(point: LiaisonPoint, *, actor: User | None, channel: str) -> None:
    """Start a suspended point again, unless another point took one of its villages meanwhile."""
    if point.status == ACTIVE:
        return
    _check_free(list(point.regions), exclude_point_id=point.id, field_name="status")
    _set_status(point, ACTIVE, "point.reactivate", actor=actor, channel=channel)


def _set_status(point: LiaisonPoint, status: str, action: str, *, actor, channel: str) -> None:
    if point.status == status:
        return
    before = snapshot(point)
    point.status = status
    audit.record(action, point, actor=actor, channel=channel, before=before, after=snapshot(point))
    db.session.commit()


def assign_liaison(point: LiaisonPoint, user: User, *, actor: User | None, channel: str) -> None:
    """Make an existing liaison account work at ``point`` (moving it from another point)."""
    if not user.has_role(roles.LIAISON) or not user.active:
        raise PointError({"user_id": str(_l("Only an active account with the liaison role can be assigned."))})
    if user.liaison_point_id == point.id:
        return
    old = user.liaison_point
    before, old_before = snapshot(point), snapshot(old) if old is not None else None
    user.liaison_point = point
    details = {"user_id": user.id, "from_point": old.id if old is not None else None}
    audit.record("point.liaison_assign", point, actor=actor, channel=channel, details=details,
                 before=before, after=snapshot(point))
    if old is not None:
        audit.record("point.liaison_remove", old, actor=actor, channel=channel,
                     details={"user_id": user.id, "to_point": point.id}, before=old_before, after=snapshot(old))
    db.session.commit()


def remove_liaison(point: LiaisonPoint, user: User, *, actor: User | None, channel: str) -> None:
    """The liaison no longer works at ``point`` (the account itself is kept)."""
    if user.liaison_point_id != point.id:
        raise PointError({"user_id": str(_l("This liaison does not work at this point."))})
    before = snapshot(point)
    user.liaison_point = None
    audit.record("point.liaison_remove", point, actor=actor, channel=channel, details={"user_id": user.id},
                 before=before, after=snapshot(point))
    db.session.commit()


def create_liaison(point: LiaisonPoint, *, name: str, phone: str, password: str, actor: User | None,
                   channel: str) -> User:
    """A new liaison account working at ``point``. The point's audit entry is added
    before ``accounts.create_staff`` commits, so the account, its own entry and the
    point's entry are stored together (or not at all).

    Raises ``accounts.RegistrationError`` when a field is wrong."""
    before = snapshot(point)
    try:
        label = _label(accounts.clean_name(name), accounts.clean_phone(phone))
    except ValueError:
        label = _label(_normalize(name), _normalize(phone))  # create_staff refuses it below
    after = {**before, "liaisons": sorted([*before["liaisons"], label])}
    audit.record("point.liaison_create", point, actor=actor, channel=channel, before=before, after=after)
    try:
        return accounts.create_staff(name=name, phone=phone, password=password, role_names=[roles.LIAISON],
                                     actor=actor, channel=channel, liaison_point_id=point.id)
    except accounts.RegistrationError:
        db.session.rollback()
        raise
