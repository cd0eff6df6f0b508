"""Interest groups (产业): the administrators' list. Every change is audited in
the same transaction; a group is deactivated, never deleted, because farmers'
sign-ups and past broadcasts refer to it."""
from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ruralinfo.accounts.models import InterestGroup, User, user_groups
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db


class GroupError(ValueError):
    """``errors`` maps a field name → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def all_groups() -> list[tuple[InterestGroup, int]]:
    """Every group with the number of active accounts signed up to it."""
    members = (select(user_groups.c.group_id, func.count().label("n"))
               .join(User, User.id == user_groups.c.user_id).where(User.active.is_(True))
               .group_by(user_groups.c.group_id).subquery())
    stmt = (select(InterestGroup, func.coalesce(members.c.n, 0))
            .outerjoin(members, members.c.group_id == InterestGroup.id)
            .order_by(InterestGroup.active.desc(), InterestGroup.id))
    return [(group, n) for group, n in db.session.execute(stmt).all()]


def snapshot(group: InterestGroup) -> dict:
    return {"name_zh": group.name_zh, "name_en": group.name_en, "active": group.active}


def _clean(name_zh: str, name_en: str, group: InterestGroup | None) -> tuple[str, str]:
    zh = " ".join(unicodedata.normalize("NFKC", name_zh or "").split())
    en = " ".join(unicodedata.normalize("NFKC", name_en or "").split())
    errors = {}
    if not zh or len(zh) > 40:
        errors["name_zh"] = str(_l("Enter the Chinese name (at most 40 characters)."))
    if not en or len(en) > 60:
        errors["name_en"] = str(_l("Enter the English name (at most 60 characters)."))
    others = select(InterestGroup).where(InterestGroup.id != (group.id if group else -1))
    if zh and db.session.scalar(others.where(InterestGroup.name_zh == zh)) is not None:
        errors["name_zh"] = str(_l("There is already a group with this name."))
    if en and db.session.scalar(others.where(func.lower(InterestGroup.name_en) == en.lower())) is not None:
        errors["name_en"] = str(_l("There is already a group with this name."))
    if errors:
        raise GroupError(errors)
    return zh, en


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # someone added the same name at the same moment
        db.session.rollback()
        raise GroupError({"name_zh": str(_l("There is already a group with this name."))}) from None


def create(name_zh: str, name_en: str, *, actor: User | None, channel: str) -> InterestGroup:
    zh, en = _clean(name_zh, name_en, None)
    group = InterestGroup(name_zh=zh, name_en=en, active=True)
    db.session.add(group)
    db.session.flush()
    audit.record("group.create", group, actor=actor, channel=channel, after=snapshot(group))
    _commit()
    return group


def rename(group: InterestGroup, name_zh: str, name_en: str, *, actor: User | None, channel: str) -> None:
    zh, en = _clean(name_zh, name_en, group)
    before = snapshot(group)
    group.name_zh, group.name_en = zh, en
    if snapshot(group) != before:
        audit.record("group.rename", group, actor=actor, channel=channel, before=before, after=snapshot(group))
    _commit()


def set_active(group: InterestGroup, active: bool, *, actor: User | None, channel: str) -> None:
    """Deactivate (farmers can no longer choose it; sign-ups are kept) or reactivate."""
    if group.active == active:
        return
    before = snapshot(group)
    group.active = active
    audit.record("group.reactivate" if active else "group.deactivate", group, actor=actor, channel=channel,
                 before=before, after=snapshot(group))
    db.session.commit()
