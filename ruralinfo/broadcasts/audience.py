"""Whom a broadcast is for: any mix of region subtrees, interest groups, liaison
points, roles and a list of phone numbers, less the same kinds excluded.

The rules are kept as chosen (``Audience``, stored with the broadcast as JSON) and
turned into one SQL condition on the accounts (``condition``): whoever matches any
included rule and no excluded one, once — a person in two chosen groups is one
recipient. A phone of the list that has no account is a recipient of its own.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, not_, or_, select

from ruralinfo.accounts import phones as phone_numbers
from ruralinfo.accounts import roles as account_roles
from ruralinfo.accounts.models import InterestGroup, User, UserRole, user_groups
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint, point_regions
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import Region

MAX_PHONES = 100_000  # an uploaded list longer than this is a mistake, not a list


class AudienceError(FieldErrors):
    """The rules name something that does not exist, or nobody."""


@dataclass
class Rules:
    """One side of an audience: who is included, or who is excluded."""

    regions: list[str] = field(default_factory=list)  # region codes: each with everything inside it
    groups: list[str] = field(default_factory=list)  # interest group names (Chinese or English)
    points: list[int] = field(default_factory=list)  # liaison point ids: the farmers of their villages
    roles: list[str] = field(default_factory=list)  # e.g. liaison: every liaison
    phones: list[str] = field(default_factory=list)  # E.164 numbers

    def __bool__(self) -> bool:
        return any((self.regions, self.groups, self.points, self.roles, self.phones))


@dataclass
class Audience:
    include: Rules = field(default_factory=Rules)
    exclude: Rules = field(default_factory=Rules)

    def to_json(self) -> dict:
        return {"include": asdict(self.include), "exclude": asdict(self.exclude)}

    @classmethod
    def from_json(cls, data: dict | None) -> Audience:
        data = data or {}
        return cls(Rules(**data.get("include", {})), Rules(**data.get("exclude", {})))


def parse_phones(text: str) -> tuple[list[str], list[tuple[int, str]]]:
    """The numbers of an uploaded list, one a line (commas and spaces allowed), in
    E.164 and without repeats; and the lines that are no phone number, numbered from 1."""
    found: dict[str, None] = {}
    bad: list[tuple[int, str]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        for item in line.replace(",", " ").replace("，", " ").replace(";", " ").split():
            try:
                found.setdefault(phone_numbers.normalize(item), None)
            except phone_numbers.PhoneError:
                bad.append((number, item[:40]))
    return list(found), bad


def clean(include: Rules, exclude: Rules | None = None) -> Audience:
    """Check every rule against the database; AudienceError names each one that is wrong
    (a region code that does not exist, a group nobody belongs to, an unknown point or
    role, too many phones). Nobody at all is an error too."""
    exclude = exclude or Rules()
    errors: dict[str, str] = {}
    for side, rules in (("", include), ("exclude_", exclude)):
        _check(rules, side, errors)
    if not include:
        errors.setdefault("audience", str(_l("Choose whom the notice is for.")))
    if errors:
        raise AudienceError(errors)
    return Audience(include, exclude)


def _check(rules: Rules, side: str, errors: dict[str, str]) -> None:
    rules.regions = sorted({regions.clean_code(code) if _is_code(code) else str(code) for code in rules.regions})
    known = set(db.session.scalars(select(Region.code).where(Region.code.in_(rules.regions))))
    missing = [code for code in rules.regions if code not in known]
    if missing:
        errors[side + "regions"] = str(_l("No such region: %(codes)s", codes=", ".join(missing[:10])))
    rules.groups = sorted({name.strip() for name in rules.groups if name and name.strip()})
    empty = [name for name in rules.groups if not _group_size(name)]
    if empty:
        errors[side + "groups"] = str(_l("Nobody belongs to the group %(names)s.", names="、".join(empty[:10])))
    rules.points = sorted({int(point) for point in rules.points})
    existing = set(db.session.scalars(select(LiaisonPoint.id).where(LiaisonPoint.id.in_(rules.points))))
    if set(rules.points) - existing:
        errors[side + "points"] = str(_l("No such liaison point: %(ids)s",
                                         ids=", ".join(str(p) for p in sorted(set(rules.points) - existing))))
    rules.roles = sorted(set(rules.roles))
    if set(rules.roles) - set(account_roles.ALL):
        errors[side + "roles"] = str(_l("No such role: %(roles)s",
                                        roles=", ".join(sorted(set(rules.roles) - set(account_roles.ALL)))))
    if len(rules.phones) > MAX_PHONES:
        errors[side + "phones"] = str(_l("At most %(n)s phone numbers.", n=MAX_PHONES))


def _is_code(code) -> bool:
    try:
        regions.clean_code(code)
    except ValueError:
        return False
    return True


def _group_size(name: str) -> int:
    return db.session.scalar(select(func.count()).select_from(user_groups).join(InterestGroup).where(
        or_(InterestGroup.name_zh == name, func.lower(InterestGroup.name_en) == name.lower())))


def rule_conditions(rules: Rules) -> list:
    """One SQL condition on ``User`` for each kind of rule that is used."""
    conditions = []
    if rules.regions:
        conditions.append(regions.within_any(User.region_code, rules.regions))
    if rules.groups:
        lowered = [name.lower() for name in rules.groups]
        conditions.append(User.id.in_(select(user_groups.c.user_id).join(InterestGroup).where(
            or_(InterestGroup.name_zh.in_(rules.groups), func.lower(InterestGroup.name_en).in_(lowered)))))
    if rules.points:
        served = db.session.scalars(select(point_regions.c.region_code)
                                    .where(point_regions.c.point_id.in_(rules.points))).all()
        conditions.append(regions.within_any(User.region_code, served) if served else false())
    if rules.roles:
        conditions.append(User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(rules.roles))))
    if rules.phones:
        conditions.append(User.phone.in_(rules.phones))
    return conditions


def condition(audience: Audience):
    """Active accounts matched by any included rule and by no excluded one."""
    included = rule_conditions(audience.include)
    excluded = rule_conditions(audience.exclude)
    return and_(User.active.is_(True), or_(*included) if included else false(),
                *([not_(or_(*excluded))] if excluded else []))


def loose_phones(audience: Audience) -> list[str]:
    """The listed phones that have no account (each a recipient of its own), less the
    excluded ones."""
    wanted = [phone for phone in audience.include.phones if phone not in set(audience.exclude.phones)]
    if not wanted:
        return []
    registered = set(db.session.scalars(select(User.phone).where(User.phone.in_(wanted))))
    return [phone for phone in wanted if phone not in registered]
