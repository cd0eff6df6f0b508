"""The separate admin view. The routes live in one module per section, all on
the same blueprint; importing them here registers them."""
from __future__ import annotations

from flask import redirect, url_for

from ruralinfo.admin.blueprint import bp

from ruralinfo.admin import (account_views, audit_views, group_views,  # noqa: E402,F401  (routes)
                             point_views, region_views, topic_views)

__all__ = ["bp"]


@bp.get("/")
def index():
    return redirect(url_for("admin.points"))
