"""The OpenAPI 3.1 document: schemas generated from the body Structs, routes from the table."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import msgspec

from payments.entrypoints.http.billing_bodies import (
    BILLING_REQUEST_BODIES,
    BILLING_RESPONSE_BODIES,
)
from payments.entrypoints.http.bodies import REQUEST_BODIES
from payments.entrypoints.http.openapi_billing import billing_paths
from payments.entrypoints.http.openapi_operations import (
    HEADERS,
    KEY_SECURITY,
    Schema,
    paths,
    problem_response,
)
from payments.entrypoints.http.representations import RESPONSE_BODIES


@cache
def schema_components() -> dict[str, Schema]:
    """The JSON Schemas of every request and response body, from the Structs that decode and
    encode them."""
    _, components = msgspec.json.schema_components(
        (*REQUEST_BODIES, *RESPONSE_BODIES, *BILLING_REQUEST_BODIES, *BILLING_RESPONSE_BODIES),
        ref_template="#/components/schemas/{name}",
    )
    return components


def openapi_document(*, sandbox: bool = False) -> dict[str, Any]:
    """The document served at ``/openapi.json``; the sandbox route only in sandbox mode."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "payments",
                "version": "1",
                "description": (
                    "Purchases, credits and refunds over Stripe, PayU Latam, Wompi and Efecty. "
                    'Money is {"amount": "79.99", "currency": "EUR"} with the amount always a '
                    "string; times are RFC 3339 UTC; errors are RFC 9457 problem documents. "
                    "A method a path does not serve is answered 405 with Allow "
                    "(components.responses.MethodNotAllowed). HEAD is answered wherever GET is, "
                    "with the GET's status and headers and no body (not listed per path). Text "
                    "holding NUL or a lone surrogate is refused: 404 in a path, 422 naming the "
                    "query parameter or body field."
                ),
            },
            "servers": [{"url": "/"}],
            "security": KEY_SECURITY,
            "tags": [
                {"name": name}
                for name in (
                    "system",
                    "catalog",
                    "purchases",
                    "subscriptions",
                    "accounts",
                    "efecty",
                    "webhooks",
                    "sandbox",
                )
            ],
            "paths": {**paths(sandbox=sandbox), **billing_paths(sandbox=sandbox)},
            "components": {
                "schemas": schema_components(),
                "headers": HEADERS,
                "responses": {"MethodNotAllowed": problem_response(405)},
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An API key from `payments api-keys create`.",
                    }
                },
            },
        }
    )
