"""The routes of the OpenAPI document: each operation's statuses, headers and parameters."""

from __future__ import annotations

from typing import Any

from payments.domain.purchase import PurchaseStatus
from payments.entrypoints.http.idempotency import KEY_PATTERN, MAX_KEY_LENGTH

JSON = "application/json"
PROBLEM = "application/problem+json"
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,63}$"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


_TITLES = {
    400: "Malformed request, bad header, or a bad notification signature",
    401: "No valid API key (WWW-Authenticate: Bearer)",
    402: "The provider declined",
    403: "The key's role may not do this",
    404: "Not found, or not visible to this key",
    405: "The path does not serve this method (Allow lists those it does)",
    409: "Invalid state transition, conflict, or the same Idempotency-Key still in flight",
    411: "A chunked body the server cannot read to its end: send Content-Length",
    413: "The body is larger than the limit (1 MiB by default)",
    422: "Invalid fields (each named in errors), or an Idempotency-Key reused with another body",
    429: "Rate limited (Retry-After)",
    500: "Unexpected error (stored under an Idempotency-Key like any answer: retrying with "
    "the same key replays it, so an action that may have happened is never repeated)",
    502: "The provider refused our configuration",
    503: "The provider or the storage is unavailable (Retry-After)",
}

HEADERS: dict[str, Schema] = {
    "RequestId": {
        "description": "The request's id: the sane X-Request-Id sent, or a new one.",
        "schema": {"type": "string"},
    },
    "RetryAfter": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
    "WwwAuthenticate": {"schema": {"type": "string"}},
    "Location": {
        "description": "Where the created resource can be read.",
        "schema": {"type": "string"},
    },
    "Allow": {"description": "The methods the path serves.", "schema": {"type": "string"}},
    "IdempotentReplayed": {
        "description": "Present (true) when this is the stored answer to an Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def _header(name: str) -> Schema:
    return {"$ref": f"#/components/headers/{name}"}


def problem_response(status: int) -> Schema:
    headers = {"X-Request-Id": _header("RequestId")}
    if status == 401:
        headers["WWW-Authenticate"] = _header("WwwAuthenticate")
    if status in (429, 503):
        headers["Retry-After"] = _header("RetryAfter")
    if status == 405:
        headers["Allow"] = _header("Allow")
    return {
        "description": _TITLES[status],
        "headers": headers,
        "content": {PROBLEM: {"schema": _ref("Problem")}},
    }


def _ok(description: str, schema: Schema, *, status: int = 200, post: bool = False) -> Schema:
    headers = {"X-Request-Id": _header("RequestId")}
    if status == 201:
        headers["Location"] = _header("Location")
    if post:
        headers["Idempotent-Replayed"] = _header("IdempotentReplayed")
    return {"description": description, "headers": headers, "content": {JSON: {"schema": schema}}}


def _path_param(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string", "pattern": ID_PATTERN},
    }


_IDEMPOTENCY_KEY: Schema = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Replays the first response to the same key and body (Idempotent-Replayed: true); "
        "another body is 422, a request still running 409."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": f"^{KEY_PATTERN.pattern}$",
        "description": "Visible ASCII characters, no spaces.",
    },
}

_ANYONE: list[dict[str, list[str]]] = [{}, {"bearer": []}]
KEY_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def _operation(
    operation_id: str,
    summary: str,
    tag: str,
    ok: tuple[str, Schema],
    problems: tuple[int, ...],
    *,
    security: list[dict[str, list[str]]],
    status: int = 200,
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    body_required: bool = True,
    idempotent: bool = False,
) -> Schema:
    responses: dict[str, Schema] = {str(status): _ok(ok[0], ok[1], status=status, post=idempotent)}
    # Any operation may fail unexpectedly; any that reads a body may find it unreadable.
    always = {500} | ({411} if body is not None or idempotent else set())
    for code in sorted({*problems, *always}):
        responses[str(code)] = problem_response(code)
    operation: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": security,
        "parameters": [*(parameters or []), *([_IDEMPOTENCY_KEY] if idempotent else [])],
        "responses": responses,
    }
    if body is not None:
        operation["requestBody"] = {
            "required": body_required,
            "content": {JSON: {"schema": body}},
        }
    return operation


_MUTATION = (400, 401, 403, 404, 409, 413, 422)
_PURCHASE_ID = _path_param("purchase_id", "The purchase's id.")


def paths(*, sandbox: bool) -> dict[str, Schema]:
    paths: dict[str, Schema] = {
        "/health": {
            "get": _operation(
                "health",
                "Liveness",
                "system",
                ("The process answers.", _ref("Health")),
                (401,),
                security=_ANYONE,
            )
        },
        "/ready": {
            "get": _operation(
                "ready",
                "Readiness: the database is reachable",
                "system",
                ("Ready.", _ref("Ready")),
                (401, 503),
                security=_ANYONE,
            )
        },
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "This document",
                "system",
                ("The OpenAPI 3.1 document.", {"type": "object"}),
                (401,),
                security=_ANYONE,
            )
        },
        "/docs": {
            "get": {
                "operationId": "docs",
                "summary": "A browsable page of this document (works offline)",
                "tags": ["system"],
                "security": _ANYONE,
                "responses": {
                    "200": {
                        "description": "An HTML page.",
                        "headers": {"X-Request-Id": _header("RequestId")},
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    "401": problem_response(401),
                    "500": problem_response(500),
                },
            }
        },
        "/v1/products": {
            "get": _operation(
                "listProducts",
                "Active products, oldest first",
                "catalog",
                ("The catalog.", _ref("ProductList")),
                (401,),
                security=_ANYONE,
            ),
            "post": _operation(
                "createProduct",
                "Create a product (admin)",
                "catalog",
                ("The new product.", _ref("Product")),
                _MUTATION,
                security=KEY_SECURITY,
                status=201,
                body=_ref("ProductInput"),
                idempotent=True,
            ),
        },
        "/v1/products/{product_id}": {
            "get": _operation(
                "getProduct",
                "One active product",
                "catalog",
                ("The product.", _ref("Product")),
                (401, 404),
                security=_ANYONE,
                parameters=[_path_param("product_id", "The product's id.")],
            )
        },
        "/v1/purchases": {
            "post": _operation(
                "createPurchase",
                "Buy a product at its catalog price (public, customer, merchant, admin)",
                "purchases",
                ("The purchase, with its next_action.", _ref("Purchase")),
                (*_MUTATION, 429, 502, 503),
                security=KEY_SECURITY,
                status=201,
                body=_ref("PurchaseInput"),
                idempotent=True,
            ),
            "get": _operation(
                "listPurchases",
                "Purchases the key may see, newest first (customer keys: their own)",
                "purchases",
                ("A page of purchases.", _ref("PurchaseList")),
                (401, 403, 422),
                security=KEY_SECURITY,
                parameters=[
                    {"name": "customer_id", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"enum": [s.value for s in PurchaseStatus]},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                    },
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
            ),
        },
        "/v1/purchases/{purchase_id}": {
            "get": _operation(
                "getPurchase",
                "One purchase (owner, merchant, admin; others 404)",
                "purchases",
                ("The purchase.", _ref("Purchase")),
                (401, 403, 404),
                security=KEY_SECURITY,
                parameters=[_PURCHASE_ID],
            )
        },
        "/v1/purchases/{purchase_id}/cancel": {
            "post": _operation(
                "cancelPurchase",
                "Cancel a purchase that was not captured (owner, merchant, admin)",
                "purchases",
                ("The purchase.", _ref("Purchase")),
                _MUTATION,
                security=KEY_SECURITY,
                parameters=[_PURCHASE_ID],
                idempotent=True,
            )
        },
        "/v1/purchases/{purchase_id}/refunds": {
            "get": _operation(
                "listRefunds",
                "A purchase's refunds, oldest first (owner, merchant, admin; others 404)",
                "purchases",
                ("The refunds.", _ref("RefundList")),
                (401, 403, 404),
                security=KEY_SECURITY,
                parameters=[_PURCHASE_ID],
            ),
            "post": _operation(
                "refundPurchase",
                "Refund all or part of a captured purchase (admin)",
                "purchases",
                ("The refund.", _ref("Refund")),
                (*_MUTATION, 402, 502, 503),
                security=KEY_SECURITY,
                status=201,
                parameters=[_PURCHASE_ID],
                body=_ref("RefundInput"),
                body_required=False,
                idempotent=True,
            ),
        },
        "/v1/refunds/{refund_id}": {
            "get": _operation(
                "getRefund",
                "One refund (the owner of its purchase, merchant, admin; others 404)",
                "purchases",
                ("The refund.", _ref("Refund")),
                (401, 403, 404),
                security=KEY_SECURITY,
                parameters=[_path_param("refund_id", "The refund's id.")],
            )
        },
        "/v1/purchases/{purchase_id}/sync": {
            "post": _operation(
                "syncPurchase",
                "Reconcile one purchase with its provider now (admin)",
                "purchases",
                ("The purchase and what the lookup did.", _ref("SyncResult")),
                (*_MUTATION, 502, 503),
                security=KEY_SECURITY,
                parameters=[_PURCHASE_ID],
                idempotent=True,
            )
        },
        "/v1/accounts/{customer_id}": {
            "get": _operation(
                "getAccount",
                "A customer's credits and payments (owner, merchant, admin; others 404)",
                "accounts",
                ("The account.", _ref("Account")),
                (401, 403, 404, 422),
                security=KEY_SECURITY,
                parameters=[
                    _path_param("customer_id", "The customer's id."),
                    {
                        "name": "entries",
                        "in": "query",
                        "description": "Include the ledger entries.",
                        "schema": {"type": "boolean"},
                    },
                ],
            )
        },
        "/v1/pse/banks": {
            "get": _operation(
                "listPseBanks",
                "The PSE banks a payer can choose, from the configured gateway (anyone)",
                "purchases",
                ("The banks.", _ref("BankList")),
                (401, 422, 503),
                security=_ANYONE,
                parameters=[
                    {
                        "name": "country",
                        "in": "query",
                        "description": "ISO 3166 alpha-2; CO by default.",
                        "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                    }
                ],
            )
        },
        "/v1/webhooks/{provider}": {
            "post": _operation(
                "receiveNotification",
                "A provider's notification, authenticated by its signature (no API key)",
                "webhooks",
                ("Stored; what it did.", _ref("WebhookReceipt")),
                (400, 404, 413, 503),
                security=[],
                parameters=[
                    _path_param(
                        "provider",
                        "The gateway name (stripe, payu, wompi, ...).",
                        {"type": "string", "pattern": "^[a-z0-9_]{1,32}$"},
                    )
                ],
                body={"type": "object", "description": "The provider's raw payload."},
            ),
        },
    }
    if sandbox:
        paths["/v1/sandbox/purchases/{purchase_id}/{action}"] = {
            "post": _operation(
                "sandboxAction",
                "Sandbox: make the simulator approve, decline or expire the payment",
                "sandbox",
                ("The purchase after the simulated notification.", _ref("SandboxResult")),
                (*_MUTATION, 502, 503),
                security=KEY_SECURITY,
                parameters=[
                    _PURCHASE_ID,
                    _path_param(
                        "action", "What the payer does.", {"enum": ["approve", "decline", "expire"]}
                    ),
                ],
                idempotent=True,
            )
        }
    return paths
