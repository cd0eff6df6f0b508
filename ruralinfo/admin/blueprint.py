"""The admin blueprint, who may see it, and who may change what inside it."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from ruralinfo.accounts import roles
from ruralinfo.web import guard_area

bp = Blueprint("admin", __name__)
guard_area(bp, roles.ADMIN_VIEW)

# Bureau staff run the liaison network; only administrators change accounts and
# the interest-group list. Everyone in the admin view may look at everything.
MANAGE_POINTS = roles.ADMIN_VIEW
MANAGE_ACCOUNTS = (roles.ADMIN,)
MANAGE_GROUPS = (roles.ADMIN,)

NAV_SECTIONS = {"points": "point", "accounts": "account", "groups": "group", "regions": "region",
                "audit": "audit", "topics": "topic", "templates": "template"}


@bp.context_processor
def _inject():
    endpoint = (request.endpoint or "").split(".", 1)[-1]
    section = next((name for name, prefix in NAV_SECTIONS.items() if endpoint.startswith(prefix)), "")
    return {
        "admin_section": section,
        "can_manage_points": current_user.has_role(*MANAGE_POINTS),
        "can_manage_accounts": current_user.has_role(*MANAGE_ACCOUNTS),
        "can_manage_groups": current_user.has_role(*MANAGE_GROUPS),
    }
