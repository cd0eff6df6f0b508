"""The API's operations, declared once: ``@operation`` on a view checks the caller's
roles and validates the query and the JSON body with the pydantic models it names;
``document`` reads the same declarations from the URL map and writes the OpenAPI 3.1
document, with the models' JSON schemas as its components."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import wraps

from flask import Flask, Response, g, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from ruralinfo.api import errors
from ruralinfo.api.schemas import MAX_ID, Error

REF = "#/components/schemas/{model}"
ERROR_TEXT = {400: "The body is not JSON.", 401: "No token, or one that is unknown, revoked or whose account is "
              "deactivated.", 403: "The token's account lacks the role.", 404: "No such broadcast.",
              409: "Not possible in the broadcast's present state.", 422: "Some fields are wrong (per field)."}


@dataclass
class Operation:
    summary: str
    ok: int
    answer: type[BaseModel]
    roles: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    conflicts: bool = False  # may answer 409
    description: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # success headers: name → description


def operation(summary: str, *, ok: int = 200, answer: type[BaseModel], roles: tuple[str, ...] = (),
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              conflicts: bool = False, description: str = "", headers: dict[str, str] | None = None):
    """Declare a view an API operation: it is called with ``body=`` and ``query=``
    (validated models) when it declares them, after the caller's roles are checked."""
    declared = Operation(summary, ok, answer, tuple(roles), body, query, conflicts, description, headers or {})

    def wrap(view):
        @wraps(view)
        def run(**kwargs):
            if declared.roles and not g.api_user.has_role(*declared.roles):
                raise errors.ApiError(403)
            try:
                if declared.query is not None:
                    kwargs["query"] = declared.query.model_validate(request.args.to_dict())
                if declared.body is not None:
                    kwargs["body"] = declared.body.model_validate_json(request.get_data())
            except ValidationError as err:
                raise errors.from_validation(err) from None
            return view(**kwargs)

        run.operation = declared
        return run
    return wrap


def reply(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(), status=status, headers=headers, mimetype="application/json")


def document(app: Flask, prefix: str) -> dict:
    """The OpenAPI document of every ``@operation`` under ``prefix``."""
    found = [(rule, app.view_functions[rule.endpoint].operation) for rule in app.url_map.iter_rules()
             if rule.rule.startswith(prefix) and hasattr(app.view_functions[rule.endpoint], "operation")]
    models = {Error} | {op.answer for _rule, op in found}
    inputs = {op.body for _rule, op in found if op.body is not None}
    refs, definitions = models_json_schema([(model, "serialization") for model in sorted(models, key=_name)]
                                           + [(model, "validation") for model in sorted(inputs, key=_name)],
                                           ref_template=REF)
    paths: dict[str, dict] = {}
    for rule, op in sorted(found, key=lambda pair: pair[0].rule):
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(op, rule, refs, method)
    return {
        "openapi": "3.1.0",
        "info": {"title": "ruralinfo API", "version": "1",
                 "description": "Broadcasts of agricultural notices for weather services, price feeds and other "
                                "programs. Every call but this document needs a token (`flask --app wsgi "
                                "api-token create --user PHONE`), sent as `Authorization: Bearer <token>`; it acts "
                                "with the roles of its account. Messages follow Accept-Language (zh, en)."},
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }


def _name(model: type) -> str:
    return model.__name__


def _operation(op: Operation, rule, refs: dict, method: str) -> dict:
    described = {"summary": op.summary, "operationId": f"{method.lower()}_{rule.endpoint.split('.')[-1]}",
                 "tags": ["broadcasts"]}
    if op.description or op.roles:
        roles = f" Roles: {', '.join(op.roles)}." if op.roles else ""
        described["description"] = (op.description + roles).strip()
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}} for name in sorted(rule.arguments)]
    if op.query is not None:
        parameters += _query_parameters(op.query)
    if parameters:
        described["parameters"] = parameters
    if op.body is not None:
        described["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(op.body, "validation")]}}}
    success = {"description": op.summary,
               "content": {"application/json": {"schema": refs[(op.answer, "serialization")]}}}
    if op.headers:
        success["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                              for name, text in op.headers.items()}
    codes = [401, 403]
    codes += [404] if rule.arguments else []
    codes += [400, 422] if op.body is not None else ([422] if op.query is not None else [])
    codes += [409] if op.conflicts else []
    error = {"content": {"application/json": {"schema": refs[(Error, "serialization")]}}}
    described["responses"] = {str(op.ok): success, **{str(code): {"description": ERROR_TEXT[code], **error}
                                                      for code in sorted(set(codes))}}
    return described


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        prop.pop("title", None)
        options = [one for one in prop.pop("anyOf", []) if one.get("type") != "null"]
        if options:  # optional: absent rather than null, in a query
            prop.update(options[0])
            if prop.get("default", 0) is None:
                prop.pop("default")
        described = {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
        if "description" in prop:
            described["description"] = prop.pop("description")
        parameters.append(described)
    return parameters
