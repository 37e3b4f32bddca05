"""The app against its own OpenAPI document (schemathesis): no 5xx, every answer conforms, and
requests that break the document are refused (negative mode)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import hypothesis
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from payments.entrypoints.http.auth import ROUTE_POLICIES
from tests.unit.http.conftest import build_api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# A request that breaks the document (a wrong type, a pattern, a missing field) is refused 4xx.
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
MAX_EXAMPLES = 40


def _seeded_api() -> Any:
    """An app with a product, a completed and a pending purchase, so known ids exist."""
    api = build_api(sandbox=True)
    product_id = api.create_premium()["id"]
    completed = api.buy(product_id)
    api.gateway.approve(api.gateway_reference(completed))
    api.deliver_all()
    api.buy(product_id)
    return api


def _as_sent(context: Any, path_parameters: Any) -> Any:
    """Path parameters as a client puts them in a URL: text, percent-encoded by schemathesis.

    In negative mode schemathesis may generate a list or an object for a path parameter (the
    sandbox ``{action}``, a ``{refund_id}``) and formats it with ``str()`` *after* its
    percent-encoding, which only encodes strings: a ``?`` inside (``['?']``) then reaches the
    WSGI test client raw, which refuses the path ("Query string is defined in the path and as
    an argument") before the app sees it; one run in a few drew such a value. Turning the value
    into its JSON text first keeps it just as far outside the document, and lets it through
    encoded, so the app itself is held to answering it 4xx.
    """
    if not isinstance(path_parameters, dict):
        return path_parameters
    return {
        name: json.dumps(value) if isinstance(value, list | dict) else value
        for name, value in path_parameters.items()
    }


def _load(
    parameters: dict[str, str] | None = None, mode: GenerationMode = GenerationMode.POSITIVE
) -> Any:
    api = _seeded_api()
    schema = schemathesis.openapi.from_wsgi("/openapi.json", api.client.app)
    schema.hook("map_path_parameters")(_as_sent)
    schema.config.update(
        headers={"Authorization": f"Bearer {api.keys['admin']}"},
        parameters=parameters,
    )
    schema.config.generation.update(
        modes=[mode],
        max_examples=MAX_EXAMPLES,
        with_security_parameters=False,
    )
    return schema


# Random ids: mostly 404s and validation answers from every operation.
fuzzed = _load()
# Known ids (seeded above): the same operations reach their success answers too.
KNOWN_IDS = {
    "product_id": "prd_000001",
    "purchase_id": "pur_000001",
    "customer_id": "cus_ana",
    "provider": "fake",
}
known = _load(KNOWN_IDS)
# Bodies, queries and headers that break the document, on known resources.
broken = _load(KNOWN_IDS, GenerationMode.NEGATIVE)


@fuzzed.parametrize()  # type: ignore[untyped-decorator]
@hypothesis.settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
def test_random_requests_conform_to_the_document(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@known.parametrize()  # type: ignore[untyped-decorator]
@hypothesis.settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
def test_requests_on_known_resources_conform_to_the_document(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@broken.parametrize()  # type: ignore[untyped-decorator]
@hypothesis.settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
def test_requests_that_break_the_document_are_refused_without_5xx(case: Any) -> None:
    case.call_and_validate(checks=NEGATIVE_CHECKS)


def test_document_lists_exactly_the_routes_of_the_role_table() -> None:
    api = build_api(sandbox=True)
    document = api.get("/openapi.json").json
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }

    assert documented == set(ROUTE_POLICIES)


def test_document_has_a_schema_for_every_body_and_the_problem() -> None:
    document = build_api().get("/openapi.json").json
    schemas = document["components"]["schemas"]

    assert {"Problem", "Money", "Purchase", "PurchaseInput", "Product", "ProductInput"} <= set(
        schemas
    )
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                content = response["content"]
                if int(status) >= 400:
                    assert content == {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    }, (method, path, status)


def test_a_list_or_a_query_in_a_path_parameter_is_refused_4xx() -> None:
    api = _seeded_api()
    for action in ('["?"]', '{"?": 1}', "approve?", "?"):
        encoded = quote(action, safe="")
        result = api.post(f"/v1/sandbox/purchases/pur_000001/{encoded}", {}, role="admin")
        assert result.status_code == 404, (action, result.text)
