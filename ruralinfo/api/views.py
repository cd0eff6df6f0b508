"""The JSON API at ``/api/v1``: broadcasts for programs (a weather service, a price
feed), with bearer tokens instead of a session and no CSRF token. The views read
the request (validated by ``@operation``), call the services and answer JSON; the
OpenAPI document is made from the same declarations."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from ruralinfo.accounts import roles
from ruralinfo.api import broadcasts as api_broadcasts
from ruralinfo.api import errors, schemas
from ruralinfo.api import services as tokens
from ruralinfo.api.errors import ApiError
from ruralinfo.api.openapi import document, operation, reply
from ruralinfo.audit import services as audit
from ruralinfo.broadcasts import services
from ruralinfo.broadcasts.models import Broadcast
from ruralinfo.errors import FieldErrors
from ruralinfo.extensions import db

bp = Blueprint("api", __name__)
errors.on_blueprint(bp)
ID = f"<int(min=1, max={schemas.MAX_ID}):broadcast_id>"
CONFLICTS = ("status", "approver")  # a service's errors about the broadcast's state, not the request: 409


@bp.before_request
def _authenticate():
    """Every call but the document needs a live token; it acts as its account."""
    if request.endpoint == "api.openapi_document":
        return
    scheme, _space, raw = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise ApiError(401, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    token = tokens.verify(raw.strip())
    if token is None:
        raise ApiError(401, _l("This token is not valid: unknown, revoked, or its account is deactivated."),
                       headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
    g.api_user = token.user


@bp.get("/openapi.json")
def openapi_document():
    cached = current_app.extensions.get("api_openapi")
    if cached is None:
        cached = current_app.extensions["api_openapi"] = document(current_app, errors.PREFIX)
    return jsonify(cached)


@bp.post("/broadcasts")
@operation("Send a broadcast", ok=201, answer=schemas.BroadcastCreated, roles=roles.BUREAU,
           body=schemas.BroadcastIn, headers={"Location": "The broadcast's address."},
           description="Made and submitted at once: its recipients are planned, so their number, the segments and "
                       "the cost are known. It waits for a second person's approval when it is urgent or goes to "
                       "more than BROADCAST_APPROVAL_THRESHOLD people, else for its time, else it goes.")
def create(body: schemas.BroadcastIn):
    try:
        broadcast, preview = api_broadcasts.send(body, actor=g.api_user)
    except FieldErrors as err:
        raise ApiError(422, errors=err.errors) from None
    return reply(api_broadcasts.created(broadcast, preview), 201,
                 {"Location": url_for(".show", broadcast_id=broadcast.id)})


@bp.get("/broadcasts")
@operation("List broadcasts, newest first", answer=schemas.BroadcastPage, roles=roles.BUREAU, query=schemas.ListQuery)
def index(query: schemas.ListQuery):
    shown, total = api_broadcasts.newest_first(query.status, page=query.page, per_page=query.per_page)
    return reply(schemas.BroadcastPage(items=[api_broadcasts.summary(one) for one in shown], page=query.page,
                                       per_page=query.per_page, total=total))


@bp.get(f"/broadcasts/{ID}")
@operation("A broadcast: its status, its recipients by delivery status, the sign-up's tally",
           answer=schemas.Broadcast, roles=roles.BUREAU)
def show(broadcast_id: int):
    return reply(api_broadcasts.detail(_get(broadcast_id)))


def _step(name: str, summary: str, allowed: tuple[str, ...], description: str = ""):
    @operation(summary, answer=schemas.Broadcast, roles=allowed, conflicts=True, description=description)
    def move(broadcast_id: int):
        broadcast = _get(broadcast_id)
        try:
            getattr(services, name)(broadcast, actor=g.api_user, channel=audit.API)
        except services.BroadcastError as err:
            conflict = any(key in CONFLICTS for key in err.errors)
            raise ApiError(409 if conflict else 422, errors=err.errors) from None
        return reply(api_broadcasts.detail(broadcast))

    bp.add_url_rule(f"/broadcasts/{ID}/{name}", endpoint=name, view_func=move, methods=["POST"])


_step("approve", "Approve a broadcast", (roles.APPROVER,),
      "By a second person with the approver role: never the one who made it.")
_step("pause", "Pause a broadcast", roles.BUREAU, "Nothing more goes out until it is resumed.")
_step("resume", "Resume a paused broadcast", roles.BUREAU)
_step("cancel", "Cancel a broadcast", roles.BUREAU, "Nothing more goes out; what was sent stays sent.")


def _get(broadcast_id: int) -> Broadcast:
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise ApiError(404, _l("No such broadcast."))
    return broadcast
