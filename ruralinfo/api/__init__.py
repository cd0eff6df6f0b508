"""The JSON API at ``/api/v1``: bearer tokens, broadcasts, an OpenAPI document."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The API's blueprint (no CSRF: a token, not a cookie, says who calls), its JSON
    errors, the admin view's token page and what the audit log calls token changes."""
    from flask_babel import lazy_gettext as _l

    from ruralinfo.api import admin_views, errors, views
    from ruralinfo.audit import labels
    from ruralinfo.extensions import csrf

    csrf.exempt(views.bp)
    errors.init_app(app)
    app.register_blueprint(views.bp, url_prefix=errors.PREFIX)
    app.register_blueprint(admin_views.bp, url_prefix="/admin/api-tokens")
    labels.ACTIONS.setdefault("api_token.create", _l("API token created"))
    labels.ACTIONS.setdefault("api_token.revoke", _l("API token revoked"))
    labels.TARGETS.setdefault("api_tokens", _l("API token"))
    labels.FIELDS.setdefault("prefix", _l("beginning"))
