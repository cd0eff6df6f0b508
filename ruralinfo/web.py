"""Web plumbing shared by every area: log-in loading, role guards, error pages,
template filters, the home page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, current_app, flash, redirect, render_template, request,
                   send_from_directory, url_for)
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.routing import IntegerConverter

from ruralinfo.accounts import phones, roles
from ruralinfo.extensions import db, login_manager
from ruralinfo.liaison import rules
from ruralinfo.timeutil import to_local

bp = Blueprint("home", __name__)
DB_INT_MAX = 2**31 - 1  # the largest id the database holds: a larger number names nothing
MAX_PAGE = 10_000  # a larger page is no page anyone reads (and its offset too large for the database)


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a number too large for the database's ids is no match
    (a 404), not an overflow deep in a query."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(url_map, *args, **kwargs)


def int_arg(values, name: str, default: int | None = None) -> int | None:
    """An id from the query or a form (``request.args``/``request.form``): ``default`` when
    it is missing, not a number, or too large for the database."""
    value = values.get(name, type=int)
    return value if value is not None and 0 <= value <= DB_INT_MAX else default


def page_arg() -> int:
    """The ``page`` query argument, from 1 to ``MAX_PAGE``."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return render_template("home.html")


def home_for(user) -> str:
    """Where a user lands after logging in."""
    if user.has_role(roles.ADMIN):
        return url_for("admin.index")
    if user.has_role(roles.STAFF, roles.APPROVER):
        return url_for("bureau.index")
    if user.has_role(roles.LIAISON):
        return url_for("liaison.index")
    if user.has_role(roles.EXPERT) and "hotline.index" in current_app.view_functions:
        return url_for("hotline.index")
    if user.has_role(roles.FARMER) and "mailbox.inbox" in current_app.view_functions:
        return url_for("mailbox.inbox")
    return url_for("home.index_public")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it on every page; the SVG icon serves them all."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)


@bp.get("/welcome")
def index_public():
    return render_template("home.html")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site that is safe to redirect to, else None:
    no other host (``//x``, ``/\\x``, a scheme), no control characters (a line
    break in a Location header is a 500 or worse)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def add_errors(form, errors: dict[str, str], aliases: dict[str, str] | None = None) -> list[str]:
    """Put a service's field errors on the form; return those that fit no field."""
    leftover = []
    for name, message in errors.items():
        field = getattr(form, (aliases or {}).get(name, name), None)
        if field is None or not hasattr(field, "errors"):
            leftover.append(message)
            continue
        field.errors = [*field.errors, message]
    return leftover


def flash_errors(messages) -> None:
    for message in messages:
        flash(message, "error")


def guard_area(blueprint: Blueprint, allowed: tuple[str, ...]) -> None:
    """Every view of ``blueprint`` needs a logged-in user with one of ``allowed``."""

    @blueprint.before_request
    def _check():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.has_role(*allowed):
            abort(403)


def _load_user(session_id: str):
    """The user of a session id ``id.version`` (``User.get_id``), if the version is
    still current: an older one means the session was ended."""
    from ruralinfo.accounts.models import User

    user_id, _dot, version = (session_id or "").partition(".")
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or version != str(user.session_version or 0):
        return None
    return user


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    login_manager.user_loader(_load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @app.errorhandler(403)
    def forbidden(_err):
        return render_template("error.html", code=403,
                               message=_l("You do not have access to this page.")), 403

    @app.errorhandler(404)
    def not_found(_err):
        return render_template("error.html", code=404, message=_l("This page does not exist.")), 404

    @app.errorhandler(413)
    def too_large(_err):
        return render_template("error.html", code=413, message=_l("The file is too large: 10 MB at most. Split it into smaller files.")), 413

    @app.errorhandler(429)
    def too_many(_err):
        return render_template("error.html", code=429,
                               message=_l("Too many attempts. Wait a minute and try again.")), 429

    @app.errorhandler(rules.PointSuspended)
    def point_suspended(err):
        """A service refused a write for a suspended point: say why, change nothing."""
        db.session.rollback()
        return render_template("error.html", code=403, message=str(err)), 403

    @app.errorhandler(CSRFError)
    def csrf_failed(_err):
        return render_template("error.html", code=400,
                               message=_l("The form expired. Go back, reload the page and try again.")), 400

    @app.template_filter("localtime")
    def localtime(value, fmt="yyyy-MM-dd HH:mm"):
        return format_datetime(to_local(value), fmt) if value else ""

    @app.template_filter("phone")
    def phone_filter(value):
        return phones.display(value) if value else ""

    @app.context_processor
    def inject_roles():
        return {"roles": roles, "request_path": request.full_path.rstrip("?"),
                "has_endpoint": lambda name: name in current_app.view_functions}
