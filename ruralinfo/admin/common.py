"""Small helpers shared by the admin view's modules."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ruralinfo import web
from ruralinfo.extensions import db

PER_PAGE = 25


def home_county() -> str:
    """The bureau's county (``COUNTY_CODE``): where the region tree and the lists start."""
    return current_app.config["COUNTY_CODE"]


def default_township() -> str:
    """The first township of the county that has villages loaded (else the first township)."""
    from ruralinfo.regions import services as regions

    townships = regions.children(home_county())
    for township in townships:
        if regions.has_children(township.code):
            return township.code
    return townships[0].code if townships else home_county()


def page_arg() -> int:
    return web.page_arg()


def paginate(stmt, per_page: int = PER_PAGE):
    """A Flask-SQLAlchemy page of ``stmt`` for the ``page`` query argument."""
    return db.paginate(stmt, page=page_arg(), per_page=per_page, error_out=False)


def get_or_404(model, ident: int):
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def require(*allowed: str, back: str) -> None:
    """Refuse unless the current user holds one of ``allowed``.

    Everyone here has passed the admin view's guard and may see every page, so
    a change they may not make sends them back to ``back`` with a message
    (nothing changed) rather than to an error page."""
    if not current_user.has_role(*allowed):
        flash(_l("Only an administrator can make this change."), "error")
        abort(redirect(back))


def filters_of(form) -> dict:
    """The non-empty values of a GET filter form, for links (pager, export)."""
    return {name: field.data for name, field in form._fields.items()
            if field.data not in (None, "", [])}
