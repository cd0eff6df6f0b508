"""Every rule about accounts: registering farmers, editing, verifying,
deactivating, staff accounts and password log-in. Called alike from the
liaison console, the bulk import, the command line and (later) SMS and the API."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from werkzeug.security import generate_password_hash

from ruralinfo import locks
from ruralinfo.accounts import identity, phones, roles, throttle, welcome
from ruralinfo.accounts.models import InterestGroup, User, UserRole
from ruralinfo.audit import services as audit
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.regions import services as regions
from ruralinfo.sms import services as sms
from ruralinfo.regions.models import TOWNSHIP, Region
from ruralinfo.timeutil import now_utc

LANGUAGES = ("zh", "en")
ALL_REGIONS = None  # a scope that sees every region (bureau, administrators)


class RegistrationError(FieldErrors):
    """An account cannot be registered or changed as asked."""


@dataclass
class FarmerData:
    """What a liaison types (or a spreadsheet row holds) about a farmer."""

    name: str = ""
    id_number: str = ""
    phone: str = ""
    region_code: str = ""
    groups: list[str] = field(default_factory=list)
    language: str = "zh"


@dataclass
class CleanFarmer:
    name: str
    id_number: str | None
    phone: str
    region: Region
    groups: list[InterestGroup]
    language: str


# --- field checks ---------------------------------------------------------------------------

def clean_name(raw: str) -> str:
    name = " ".join(unicodedata.normalize("NFKC", raw or "").split())
    if not name:
        raise ValueError(str(_l("Enter the real name as on the ID card.")))
    if len(name) > 30 or any(ch.isdigit() for ch in name):
        raise ValueError(str(_l("This does not look like a person's name.")))
    return name


def known_county(prefix6: str) -> bool:
    return db.session.get(Region, prefix6) is not None


def clean_id_number(raw: str) -> str:
    try:
        return identity.validate(raw, known_county=known_county)
    except identity.IdNumberError as err:
        raise ValueError(err.message) from None


def clean_phone(raw: str) -> str:
    try:
        return phones.normalize(raw)
    except phones.PhoneError as err:
        raise ValueError(err.message) from None


def clean_region(raw: str, scope: list[str] | None, cache: dict[str, Region | str] | None = None) -> Region:
    """A village, or a township whose villages are not loaded, inside ``scope``.

    ``cache`` (one dict per scope, e.g. for one bulk import) remembers each code's outcome."""
    if cache is not None:
        key = (raw or "").strip()
        if key not in cache:
            try:
                cache[key] = clean_region(raw, scope)
            except ValueError as err:
                cache[key] = str(err)
        if isinstance(cache[key], str):
            raise ValueError(cache[key])
        return cache[key]
    region = regions.get(raw) if (raw or "").strip() else None
    if region is None:
        raise ValueError(str(_l("Unknown region code.")))
    if region.level < TOWNSHIP:
        raise ValueError(str(_l("Choose a village (or a township where villages are not listed).")))
    if region.level == TOWNSHIP and regions.has_children(region.code):
        raise ValueError(str(_l("Choose the village inside %(township)s.", township=region.name)))
    if scope is not ALL_REGIONS and not any(regions.contains(code, region.code) for code in scope):
        raise ValueError(str(_l("This village is not served by your liaison point.")))
    return region


def active_groups() -> list[InterestGroup]:
    return list(db.session.scalars(
        select(InterestGroup).where(InterestGroup.active.is_(True)).order_by(InterestGroup.id)))


def clean_groups(values: list[str], catalogue: list[InterestGroup] | None = None) -> list[InterestGroup]:
    """Interest groups by Chinese name, English name or id."""
    catalogue = catalogue if catalogue is not None else active_groups()
    index: dict[str, InterestGroup] = {}
    for group in catalogue:
        index[group.name_zh] = group
        index[group.name_en.lower()] = group
        index[str(group.id)] = group
    chosen: list[InterestGroup] = []
    for value in values:
        key = unicodedata.normalize("NFKC", value).strip()
        if not key:
            continue
        group = index.get(key) or index.get(key.lower())
        if group is None:
            raise ValueError(str(_l("Unknown interest group: %(name)s", name=key)))
        if group not in chosen:
            chosen.append(group)
    return chosen


def clean_language(raw: str) -> str:
    value = (raw or "zh").strip().lower()[:2] or "zh"
    if value not in LANGUAGES:
        raise ValueError(str(_l("Language must be zh or en.")))
    return value


def clean_farmer(data: FarmerData, *, scope: list[str] | None, user: User | None = None,
                 catalogue: list[InterestGroup] | None = None, check_duplicates: bool = True,
                 region_cache: dict[str, Region | str] | None = None) -> CleanFarmer:
    """Check every field; raise ``RegistrationError`` with all the problems at once.

    When editing (``user`` given) an empty ID number keeps the one on record.
    """
    errors: dict[str, str] = {}
    values: dict = {}
    checks = {
        "name": lambda: clean_name(data.name),
        "phone": lambda: clean_phone(data.phone),
        "region_code": lambda: clean_region(data.region_code, scope, region_cache),
        "groups": lambda: clean_groups(data.groups, catalogue),
        "language": lambda: clean_language(data.language),
    }
    if user is None or (data.id_number or "").strip():
        checks["id_number"] = lambda: clean_id_number(data.id_number)
    for name, check in checks.items():
        try:
            values[name] = check()
        except ValueError as err:
            errors[name] = str(err)
    if check_duplicates:
        errors.update(duplicate_errors(values.get("phone"), values.get("id_number"), user))
    if errors:
        raise RegistrationError(errors)
    return CleanFarmer(name=values["name"], id_number=values.get("id_number"), phone=values["phone"],
                       region=values["region_code"], groups=values["groups"], language=values["language"])


def duplicate_errors(phone: str | None, id_number: str | None, user: User | None = None) -> dict[str, str]:
    """Messages for a phone number or ID number that already belongs to someone else."""
    errors = {}
    other = user.id if user else None
    if phone:
        owner = db.session.scalar(select(User.id).where(User.phone == phone))
        if owner is not None and owner != other:
            errors["phone"] = str(_l("This mobile number already belongs to a registered account."))
    if id_number:
        owner = db.session.scalar(select(User.id).where(User.id_digest == identity.vault().digest(id_number)))
        if owner is not None and owner != other:
            errors["id_number"] = str(_l("A person with this ID number is already registered."))
    return errors


# --- writes -------------------------------------------------------------------------------

def snapshot(user: User) -> dict:
    """What the audit log keeps of an account: never the ID number itself."""
    return {
        "name": user.name, "phone": user.phone, "region": user.region_code, "id": user.id_masked,
        "groups": [g.name_zh for g in user.groups], "language": user.language,
        "active": user.active, "verified": user.verified_at is not None,
        "roles": sorted(user.roles), "liaison_point": user.liaison_point_id,
    }


def set_id_number(user: User, number: str) -> None:
    vault = identity.vault()
    user.id_cipher = vault.encrypt(number)
    user.id_digest = vault.digest(number)
    user.id_masked = identity.mask(number)


def new_farmer(clean: CleanFarmer, *, actor: User | None, channel: str, consent_method: str) -> User:
    """Build (not commit) a farmer account with the consent to ID processing recorded."""
    now = now_utc()
    user = User(name=clean.name, phone=clean.phone, region_code=clean.region.code, language=clean.language,
                registered_at=now, registered_by_id=getattr(actor, "id", None), registration_channel=channel,
                consent_at=now, consent_by_id=getattr(actor, "id", None), consent_method=consent_method,
                active=True, sms_opt_out=False)
    user.groups = list(clean.groups)
    user.role_rows = [UserRole(role=roles.FARMER)]
    set_id_number(user, clean.id_number)
    return user


def register_farmer(data: FarmerData, *, actor: User | None, channel: str, scope: list[str] | None,
                    consent: bool) -> User:
    """Register one farmer. The liaison must have taken the separate consent to
    processing the ID number (``consent``)."""
    rules.check_may_write(actor)
    errors = {}
    if not consent:
        errors["consent"] = str(_l("The farmer must consent to the processing of their ID number."))
    try:
        clean = clean_farmer(data, scope=scope)
    except RegistrationError as err:
        errors = {**err.errors, **errors}
    if errors:
        raise RegistrationError(errors)
    user = new_farmer(clean, actor=actor, channel=channel, consent_method="form")
    db.session.add(user)
    db.session.flush()
    audit.record("farmer.register", user, actor=actor, channel=channel, after=snapshot(user))
    welcome.queue(user)
    db.session.commit()
    sms.dispatch_pending()
    return user


def update_farmer(user: User, data: FarmerData, *, actor: User, channel: str, scope: list[str] | None) -> User:
    rules.check_may_write(actor)
    clean = clean_farmer(data, scope=scope, user=user)
    before = snapshot(user)
    user.name, user.phone, user.region_code = clean.name, clean.phone, clean.region.code
    user.language, user.groups = clean.language, list(clean.groups)
    if clean.id_number:
        set_id_number(user, clean.id_number)
        user.verified_at = user.verified_by_id = None  # a new number must be seen again
    audit.record("farmer.update", user, actor=actor, channel=channel, before=before, after=snapshot(user))
    db.session.commit()
    return user


def mark_verified(user: User, *, actor: User, channel: str) -> None:
    """The liaison has seen the ID card."""
    rules.check_may_write(actor)
    if user.verified_at is None:
        user.verified_at, user.verified_by_id = now_utc(), actor.id
        audit.record("farmer.verify", user, actor=actor, channel=channel)
        db.session.commit()


def set_active(user: User, active: bool, *, actor: User, channel: str) -> None:
    """Deactivate (kept for the record, not deleted) or reactivate an account."""
    rules.check_may_write(actor)
    if user.active == active:
        return
    user.active = active
    user.deactivated_at = None if active else now_utc()
    if not active:
        end_sessions(user)
    audit.record("account.reactivate" if active else "account.deactivate", user, actor=actor, channel=channel)
    db.session.commit()


def set_sms_opt_out(user: User, opted_out: bool, *, actor: User | None, channel: str, commit: bool = True) -> bool:
    """Stop (or restart) broadcasts and other non-essential SMS to ``user``; holds
    from the moment it is stored. Returns True when something changed."""
    if user.sms_opt_out == opted_out:
        return False
    user.sms_opt_out = opted_out
    user.sms_opt_out_at = now_utc()
    audit.record("sms.opt_out" if opted_out else "sms.opt_in", user, actor=actor, channel=channel)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return True


# --- queries --------------------------------------------------------------------------------

def farmers(scope: list[str] | None, *, search: str = "", region_code: str = "", include_inactive: bool = True):
    """A select of farmer accounts inside ``scope`` (None = everywhere)."""
    stmt = select(User).where(User.role_rows.any(UserRole.role == roles.FARMER)).order_by(User.id.desc())
    if scope is not ALL_REGIONS:
        stmt = stmt.where(regions.within_any(User.region_code, scope))
    if region_code:
        stmt = stmt.where(regions.within(User.region_code, region_code))
    if not include_inactive:
        stmt = stmt.where(User.active.is_(True))
    term = unicodedata.normalize("NFKC", search or "").strip()
    if term:
        digits = "".join(ch for ch in term if ch.isdigit())
        conditions = [User.name.contains(term)]
        if len(digits) >= 4:
            conditions.append(User.phone.contains(digits))
        stmt = stmt.where(or_(*conditions))
    return stmt


def farmer_in_scope(user_id: int, scope: list[str] | None) -> User | None:
    """The farmer with this id if ``scope`` may see them, else None (never a hint which)."""
    return db.session.scalar(farmers(scope).where(User.id == user_id))


def count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def find_by_phone(raw: str) -> User | None:
    try:
        phone = phones.normalize(raw, mobile=False)
    except phones.PhoneError:
        return None
    return db.session.scalar(select(User).where(User.phone == phone))


# --- staff ----------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_strength(password: str) -> None:
    if len(password or "") < 8:
        raise ValueError(str(_l("A password needs at least 8 characters.")))


def create_staff(*, name: str, phone: str, password: str, role_names: list[str], actor: User | None,
                 channel: str, liaison_point_id: int | None = None, region_code: str | None = None) -> User:
    """A staff account (liaison, expert, bureau, administrator) with a password."""
    errors = {}
    values = {}
    for key, check in (("name", lambda: clean_name(name)), ("phone", lambda: clean_phone(phone)),
                       ("password", lambda: check_password_strength(password))):
        try:
            values[key] = check()
        except ValueError as err:
            errors[key] = str(err)
    unknown = [r for r in role_names if r not in roles.STAFF_ROLES]
    if unknown or not role_names:
        errors["roles"] = str(_l("Choose at least one staff role."))
    if "phone" in values:
        errors.update(duplicate_errors(values["phone"], None))
    if errors:
        raise RegistrationError(errors)
    user = User(name=values["name"], phone=values["phone"], password_hash=hash_password(password),
                liaison_point_id=liaison_point_id, region_code=region_code, registration_channel=channel,
                registered_by_id=getattr(actor, "id", None), active=True, language="zh",
                sms_opt_out=False)
    user.role_rows = [UserRole(role=r) for r in dict.fromkeys(role_names)]
    db.session.add(user)
    db.session.flush()
    audit.record("staff.create", user, actor=actor, channel=channel, after=snapshot(user))
    db.session.commit()
    return user


def set_roles(user: User, role_names: list[str], *, actor: User, channel: str,
              liaison_point_id: int | None = None) -> None:
    before = snapshot(user)
    wanted = [r for r in roles.ALL if r in role_names]
    user.role_rows = [row for row in user.role_rows if row.role in wanted]
    for name in wanted:
        user.add_role(name)
    user.liaison_point_id = liaison_point_id if roles.LIAISON in wanted else None
    if snapshot(user) != before:
        end_sessions(user)
    audit.record("account.roles", user, actor=actor, channel=channel, before=before, after=snapshot(user))
    db.session.commit()


def set_password(user: User, password: str, *, actor: User | None, channel: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    throttle.clear(user.phone, commit=False)
    end_sessions(user)
    audit.record("account.password", user, actor=actor, channel=channel)
    db.session.commit()


def lock_account(user_id: int) -> None:
    """Hold the account's row until the transaction ends, on every engine, so that a
    count made next (texts today, requests today) cannot be made by two at once
    (``ruralinfo.locks``). Not committed."""
    locks.lock_rows(User.id, [user_id])


def end_sessions(user: User) -> None:
    """Every session of ``user`` (every browser, every device) ends at its next
    request: the session version is part of the id each session holds. Not
    committed: the caller's change and this one go together."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_version=User.session_version + 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(user, ["session_version"])
