"""The API tokens in the admin view (``/admin/api-tokens``): whose each one is, what for,
when it was made and last used; administrators revoke them (a token is made on the
command line, ``flask --app wsgi api-token create``, where it can be shown once)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ruralinfo.accounts import roles
from ruralinfo.admin.blueprint import MANAGE_ACCOUNTS
from ruralinfo.admin.common import get_or_404, paginate, require
from ruralinfo.api import services as tokens
from ruralinfo.api.models import ApiToken
from ruralinfo.audit.services import WEB
from ruralinfo.web import flash_errors, guard_area

bp = Blueprint("api_admin", __name__)
guard_area(bp, roles.ADMIN_VIEW)


@bp.context_processor
def _inject():
    return {"admin_section": "api_tokens", "can_manage_accounts": current_user.has_role(*MANAGE_ACCOUNTS)}


@bp.get("/", endpoint="tokens")
def tokens_list():
    page = paginate(tokens.newest_first().options(selectinload(ApiToken.user)))
    return render_template("admin/api_tokens.html", page=page)


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int):
    require(*MANAGE_ACCOUNTS, back=url_for("api_admin.tokens"))
    token = get_or_404(ApiToken, token_id)
    try:
        tokens.revoke(token, actor=current_user, channel=WEB)
    except tokens.TokenError as err:
        flash_errors(err.errors.values())
    else:
        flash(_l("Token %(prefix)s… of %(name)s revoked: it no longer works.", prefix=token.prefix,
                 name=token.user.name), "info")
    return redirect(url_for("api_admin.tokens"))
