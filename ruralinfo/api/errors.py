"""Every error of the API as JSON (``schemas.Error``), in the language the client asks
for (Accept-Language), 404 and 405 of unknown paths under ``/api/v1`` included."""
from __future__ import annotations

from flask import Blueprint, Flask, Response, request
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from ruralinfo.api.schemas import Error
from ruralinfo.extensions import db

PREFIX = "/api/v1"
MESSAGES = {
    400: _l("The request body is not valid JSON."),
    401: _l("A valid API token is needed: send it as “Authorization: Bearer <token>”."),
    403: _l("The roles of your account do not allow this."),
    404: _l("There is nothing at this address."),
    405: _l("This method is not allowed here."),
    409: _l("Not possible now."),
    413: _l("The request is too large."),
    422: _l("Some fields are wrong: see errors."),
    500: _l("Something went wrong on our side. Try again later."),
}
# What pydantic's error types mean, for people (from the error's ``ctx``).
REASONS = {
    "missing": lambda ctx: _l("This field is required."),
    "extra_forbidden": lambda ctx: _l("Unknown field."),
    "string_type": lambda ctx: _l("Must be text."),
    "int_type": lambda ctx: _l("Must be a whole number."),
    "int_parsing": lambda ctx: _l("Must be a whole number."),
    "bool_type": lambda ctx: _l("Must be true or false."),
    "list_type": lambda ctx: _l("Must be a list."),
    "model_type": lambda ctx: _l("Must be an object."),
    "dict_type": lambda ctx: _l("Must be an object."),
    "string_too_short": lambda ctx: _l("Must not be empty."),
    "string_too_long": lambda ctx: _l("At most %(n)s characters.", n=ctx["max_length"]),
    "string_pattern_mismatch": lambda ctx: _l("Control characters are not allowed."),
    "too_long": lambda ctx: _l("At most %(n)s items.", n=ctx["max_length"]),
    "greater_than_equal": lambda ctx: _l("At least %(n)s.", n=ctx["ge"]),
    "less_than_equal": lambda ctx: _l("At most %(n)s.", n=ctx["le"]),
    "literal_error": lambda ctx: _l("Must be one of: %(values)s.", values=ctx["expected"].replace(" or ", ", ")),
    "timezone_aware": lambda ctx: _l("Give the time zone too, e.g. 2026-12-10T08:00:00+08:00."),
}
TIME = _l("Give a date and time in ISO 8601 with its zone, e.g. 2026-12-10T08:00:00+08:00.")
INVALID = _l("This value is not valid.")


class ApiError(Exception):
    """An answer other than success: status, a message and per-field errors."""

    def __init__(self, status: int, message=None, errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.message, self.errors, self.headers = status, message, errors or {}, headers or {}


def response(status: int, message=None, errors: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> Response:
    body = Error(status=status, message=str(message or MESSAGES.get(status, MESSAGES[500])),
                 errors={key: str(value) for key, value in (errors or {}).items()})
    return Response(body.model_dump_json(), status=status, headers=headers, mimetype="application/json")


def from_validation(err: ValidationError) -> ApiError:
    """A pydantic error as 400 (not JSON at all) or 422 (one message per field)."""
    if any(item["type"] == "json_invalid" for item in err.errors()):
        return ApiError(400)
    fields: dict[str, str] = {}
    for item in err.errors():
        name = ".".join(str(part) for part in item["loc"]) or "json"
        fields.setdefault(name, reason(item))
    return ApiError(422, errors=fields)


def reason(item: dict) -> str:
    kind = item["type"]
    if kind.startswith("datetime"):
        return str(TIME)
    if kind in ("model_type", "model_attributes_type") and not item["loc"]:
        return str(_l("Send a JSON object."))
    found = REASONS.get(kind)
    try:
        return str(found(item.get("ctx") or {})) if found else str(INVALID)
    except (KeyError, TypeError, ValueError):
        return str(INVALID)


def on_blueprint(bp: Blueprint) -> None:
    """The API blueprint's own errors as JSON (once, where the blueprint is made)."""
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(500, _server_error)


def _api_error(err: ApiError):
    db.session.rollback()
    return response(err.status, err.message, err.errors, err.headers)


def _http_error(err: HTTPException):
    if err.code is None or err.code < 400:
        return err
    return response(err.code, headers=_allow(err))


def _server_error(_err):
    db.session.rollback()
    return response(500)


def init_app(app: Flask) -> None:
    @app.before_request
    def _unknown_api_paths():
        """A path under /api/v1 that matches no route, or not with this method: the JSON
        answer, not the web's error page (the blueprint's handlers never see these)."""
        err = request.routing_exception
        if err is not None and isinstance(err, HTTPException) and (err.code or 0) >= 400 \
                and (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
            return response(err.code, headers=_allow(err))
        return None


def _allow(err: HTTPException) -> dict[str, str]:
    allowed = getattr(err, "valid_methods", None)
    return {"Allow": ", ".join(allowed)} if allowed else {}
