"""Admin view: the region tree, read-only, with the farmers under each region."""
from __future__ import annotations

from flask import abort, render_template, request

from ruralinfo.admin import queries
from ruralinfo.admin.blueprint import bp
from ruralinfo.admin.common import home_county
from ruralinfo.regions import services as regions

ALL = "all"  # ?code=all lists the provinces


@bp.get("/regions/", endpoint="regions")
def regions_tree():
    code = (request.args.get("code") or home_county()).strip()
    region = None
    if code != ALL:
        region = regions.get(code)
        if region is None:
            abort(404)
    return render_template("admin/regions.html", view=queries.region_page(region), all_code=ALL)
