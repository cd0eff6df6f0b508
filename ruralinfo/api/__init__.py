"""The JSON API at ``/api/v1``: bearer tokens, broadcasts, an OpenAPI document."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The API's blueprint (no CSRF: a token, not a cookie, says who calls), its JSON
    errors and the admin view's token page."""
    from ruralinfo.api import admin_views, errors, views
    from ruralinfo.extensions import csrf

    csrf.exempt(views.bp)
    errors.init_app(app)
    app.register_blueprint(views.bp, url_prefix=errors.PREFIX)
    app.register_blueprint(admin_views.bp, url_prefix="/admin/api-tokens")
