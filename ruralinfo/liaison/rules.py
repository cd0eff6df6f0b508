"""The one rule every channel goes through before a liaison changes anything:
a suspended liaison point can look but not write — not on the web, not by SMS,
not through the phone simulator, not by import.

Services call ``check_may_write(actor)`` with whoever is acting; it imports
nothing from the services, so every package can use it.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from ruralinfo.liaison.models import SUSPENDED, LiaisonPoint

SUSPENDED_MESSAGE = _l("Your liaison point is suspended: you can look, but not change anything. Ask the bureau.")


class PointSuspended(PermissionError):
    """The actor acts for a suspended liaison point."""

    def __str__(self) -> str:
        return str(SUSPENDED_MESSAGE)


def acts_for_suspended_point(actor) -> bool:
    """True for a liaison (without bureau or admin roles) whose point is suspended."""
    if actor is None or not getattr(actor, "liaison_point_id", None) or not actor.has_role(roles.LIAISON):
        return False
    if actor.has_role(roles.ADMIN, roles.STAFF):
        return False
    status = db.session.scalar(select(LiaisonPoint.status).where(LiaisonPoint.id == actor.liaison_point_id))
    return status == SUSPENDED


def check_may_write(actor) -> None:
    """Raise ``PointSuspended`` when ``actor`` may not change anything."""
    if acts_for_suspended_point(actor):
        raise PointSuspended()
