"""The administrator's rules on top of ``accounts.services`` for changing
accounts: nobody locks themselves out, a liaison needs a point, farmers have no
password. The writes (and their audit entries) are the accounts services'."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint


class AccountChangeError(ValueError):
    """``errors`` maps a field name → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _point_errors(role_names: list[str], point_id: int | None) -> dict[str, str]:
    if roles.LIAISON not in role_names:
        return {}
    if point_id is None or db.session.get(LiaisonPoint, point_id) is None:
        return {"liaison_point": str(_l("Choose the liaison point where this village liaison works."))}
    return {}


def create(*, name: str, phone: str, password: str, role_names: list[str], liaison_point_id: int | None,
           actor: User, channel: str) -> User:
    """A staff account; raises ``accounts.RegistrationError`` naming the wrong fields."""
    errors = _point_errors(role_names, liaison_point_id)
    if errors:
        raise accounts.RegistrationError(errors)
    return accounts.create_staff(
        name=name, phone=phone, password=password, role_names=role_names, actor=actor, channel=channel,
        liaison_point_id=liaison_point_id if roles.LIAISON in role_names else None)


def change_roles(user: User, role_names: list[str], *, liaison_point_id: int | None, actor: User,
                 channel: str) -> None:
    """Set the staff roles (a farmer stays a farmer)."""
    wanted = [name for name in roles.STAFF_ROLES if name in role_names]
    if user.has_role(roles.FARMER):
        wanted.append(roles.FARMER)
    errors = _point_errors(wanted, liaison_point_id)
    if not wanted:
        errors["roles"] = str(_l("An account needs at least one role; deactivate it instead."))
    elif user.id == actor.id and user.has_role(roles.ADMIN) and roles.ADMIN not in wanted:
        errors["roles"] = str(_l("You cannot take away your own administrator role."))
    if errors:
        raise AccountChangeError(errors)
    accounts.set_roles(user, wanted, actor=actor, channel=channel, liaison_point_id=liaison_point_id)


def change_active(user: User, active: bool, *, actor: User, channel: str) -> None:
    if not active and user.id == actor.id:
        raise AccountChangeError({"active": str(_l("You cannot deactivate your own account."))})
    accounts.set_active(user, active, actor=actor, channel=channel)


def reset_password(user: User, password: str, *, actor: User, channel: str) -> None:
    if not user.has_role(*roles.STAFF_ROLES):
        raise AccountChangeError({"password": str(_l("Farmers log in with a code sent by SMS; they have no "
                                                     "password."))})
    try:
        accounts.set_password(user, password, actor=actor, channel=channel)
    except ValueError as err:
        raise AccountChangeError({"password": str(err)}) from None
