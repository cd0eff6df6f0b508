"""The OpenAPI document is made from the code, and the API keeps to it: schemathesis
generates requests from the document (valid ones, and invalid ones that must be
refused), sends them through the Flask app (WSGI, no server) with an approver's
token, and finds no server error and no answer the document does not describe."""
from __future__ import annotations

import pytest
import schemathesis
from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

from ruralinfo.api import schemas
from tests.conftest import CHANGXI

EXAMPLES = 60  # per operation and mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection]


def test_the_document_describes_every_operation_from_the_code(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()  # public: no token needed
    assert document["openapi"].startswith("3.1")
    operations = {(path, method) for path, methods in document["paths"].items() for method in methods}
    assert operations == {("/api/v1/broadcasts", "get"), ("/api/v1/broadcasts", "post"),
                          ("/api/v1/broadcasts/{broadcast_id}", "get")} | {
        (f"/api/v1/broadcasts/{{broadcast_id}}/{step}", "post") for step in ("approve", "pause", "resume", "cancel")}
    post = document["paths"]["/api/v1/broadcasts"]["post"]
    assert set(post["responses"]) == {"201", "400", "401", "403", "422"}
    assert "Location" in post["responses"]["201"]["headers"]
    declared = document["components"]["schemas"]["BroadcastIn"]  # the model that validates the request
    assert set(declared["properties"]) == set(schemas.BroadcastIn.model_fields) and declared["required"] == [
        "body", "topic"]
    assert declared["properties"]["body"]["maxLength"] == 500 and declared["additionalProperties"] is False
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


@pytest.fixture
def api_schema(app, bureau, api):
    """The document as schemathesis reads it from the app, with broadcasts 1–3 in several
    states for the generated ids to find."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 for the checks to see, not an exception
    for body in ({"body": "明早有大雾，出行注意安全。", "topic": "weather", "groups": ["葡萄"]},
                 {"body": "本周六上午9点在村委会举办葡萄栽培培训。", "topic": "training", "regions": ["330282104201"],
                  "send_at": "2030-05-01T09:00:00+08:00", "reply_options": ["报名", "不参加"]},
                 {"body": "冰雹预警：请做好大棚加固。", "topic": "weather", "groups": ["葡萄"], "urgent": True}):
        assert api("post", "/broadcasts", json=body).status_code == 201
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"bearer": {"bearer": bureau["tokens"]["approver"]}}}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def to_the_grape_growers(case):
    """A generated broadcast (any text, kind, answers …) to people who exist, about a real
    topic, now: random rules and times alone name nobody, and everything would be a 422."""
    for key in ("groups", "points", "roles", "phones", "exclude", "send_at", "replies_close_at"):
        case.body.pop(key, None)
    case.body.update(topic="weather", regions=[CHANGXI])
    return case


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_document(api_schema, mode):
    """Every operation, with data that fits the document and with data that does not
    (which must be refused with a 4xx), with an approver's token where the document asks for
    one. Driven with ``@given`` here rather than with ``schema.parametrize``: schemathesis'
    lazy pytest loader does not run on pytest 9.2."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 7

    for operation in operations:
        cases = operation.as_strategy(generation_mode=mode)
        if mode is GenerationMode.POSITIVE and operation.label == "POST /api/v1/broadcasts":
            cases = st.one_of(cases, cases.map(to_the_grape_growers))  # some get through and are sent

        @given(case=cases)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case):
            for key in list(g):  # each request its own g, as in production (the test holds the app context)
                g.pop(key)
            case.call_and_validate(checks=CHECKS)

        call()
