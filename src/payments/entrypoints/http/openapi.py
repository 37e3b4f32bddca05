"""The hand-written OpenAPI 3.1 document of the HTTP API (DESIGN §6), as a Python dict."""

from __future__ import annotations

import copy
from typing import Any

from payments.domain.purchase import PurchaseStatus
from payments.domain.routing import PAYMENT_METHODS
from payments.entrypoints.http.idempotency import KEY_PATTERN, MAX_KEY_LENGTH
from payments.entrypoints.http.json_body import UNSIGNED_DECIMAL

JSON = "application/json"
PROBLEM = "application/problem+json"
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,63}$"
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
# What json_body accepts as a money amount: the same expression, anchored.
MONEY_AMOUNT_PATTERN = f"^{UNSIGNED_DECIMAL.pattern}$"
CREDITS_PATTERN = r"^[0-9]+(\.[0-9]{1,2})?$"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    return {"type": "object", "properties": properties, "required": required or []}


_TIME: Schema = {"type": "string", "format": "date-time", "examples": ["2026-01-01T12:00:00Z"]}
_CREDITS: Schema = {"type": "string", "pattern": CREDITS_PATTERN, "examples": ["8.00"]}
_ID: Schema = {"type": "string", "minLength": 1, "maxLength": 200}
_SHORT_TEXT: Schema = {"type": "string", "minLength": 1, "maxLength": 64}

SCHEMAS: dict[str, Schema] = {
    "Money": _object(
        {
            "amount": {
                "type": "string",
                "pattern": MONEY_AMOUNT_PATTERN,
                "maxLength": 64,
                "description": (
                    "A plain decimal string (digits, optionally a point and digits), never a "
                    "JSON number; no sign, exponent or spaces."
                ),
                "examples": ["79.99"],
            },
            "currency": {
                "type": "string",
                "pattern": "^[A-Z]{3}$",
                "description": "ISO 4217 code.",
                "examples": ["EUR"],
            },
        },
        ["amount", "currency"],
    ),
    "Problem": {
        **_object(
            {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "code": {"type": "string", "description": "Stable machine-readable code."},
                "request_id": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": _object(
                        {"field": {"type": "string"}, "message": {"type": "string"}},
                        ["field", "message"],
                    ),
                },
                "purchase_id": {
                    "type": "string",
                    "description": (
                        "The purchase this failure left behind: on a 503 whose outcome is "
                        "unknown (the provider may have charged; read it or retry with the same "
                        "Idempotency-Key), or on a 422 that failed it"
                    ),
                },
                "refund_id": {
                    "type": "string",
                    "description": (
                        "On a refund's 503 whose outcome is unknown: the refund, booked and "
                        "pending until the provider's answer is recorded (GET /v1/refunds/{id})"
                    ),
                },
                "refundable": {
                    **_ref("Money"),
                    "description": "On refund_exceeds_captured: what can still be refunded",
                },
                "decline_code": {
                    "type": "string",
                    "maxLength": 64,
                    "description": "On payment_declined: the provider's decline code",
                },
                "available": {
                    "type": "string",
                    "description": "On insufficient_credits: the credits available",
                },
                "gateway_reference": {
                    "type": "string",
                    "description": "The provider's id of the payment a refusal is about",
                },
            },
            ["type", "title", "status", "detail", "code", "request_id"],
        ),
        "description": (
            "RFC 9457 problem details. A replayed problem (Idempotent-Replayed) carries the "
            "request_id of the request that replayed it. Other members may appear."
        ),
    },
    "Health": _object({"status": {"const": "ok"}}, ["status"]),
    "Ready": _object({"status": {"const": "ready"}}, ["status"]),
    "ProductInput": _object(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "kind": {"enum": ["package", "plan"]},
            "price": _ref("Money"),
            "credits": {"type": "string", "pattern": CREDITS_PATTERN, "examples": ["8"]},
            "validity_days": _nullable({"type": "integer", "minimum": 1, "maximum": 3650}),
            "billing_cycle": _nullable({"enum": ["monthly", "quarterly", "yearly"]}),
            "trial_days": {"type": "integer", "minimum": 0, "maximum": 365},
        },
        ["name", "kind", "price", "credits"],
    ),
    "Product": _object(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"enum": ["package", "plan"]},
            "price": _ref("Money"),
            "credits": _CREDITS,
            "validity_days": _nullable({"type": "integer"}),
            "billing_cycle": _nullable({"enum": ["monthly", "quarterly", "yearly"]}),
            "trial_days": {"type": "integer"},
            "active": {"type": "boolean"},
            "created_at": _TIME,
        },
        [
            "id",
            "name",
            "kind",
            "price",
            "credits",
            "validity_days",
            "billing_cycle",
            "trial_days",
            "active",
            "created_at",
        ],
    ),
    "ProductList": _object({"data": {"type": "array", "items": _ref("Product")}}, ["data"]),
    "GuestCustomer": _object(
        {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "name": {"type": "string", "minLength": 1, "maxLength": 150},
        },
        ["email"],
    ),
    "PurchaseInput": {
        **_object(
            {
                "product_id": _ID,
                "customer_id": {"type": "string", "pattern": ID_PATTERN},
                "customer": _ref("GuestCustomer"),
                "country": {"type": "string", "pattern": "^[A-Z]{2}$", "examples": ["CO"]},
                "payment_method": {"enum": sorted(PAYMENT_METHODS)},
                "gateway": {"type": "string", "minLength": 1, "maxLength": 32},
                "return_url": {"type": "string", "format": "uri", "maxLength": 2000},
                "payer": _ref("PayerDetails"),
                "bank_code": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 32,
                    "description": "The PSE bank the payer chose (a code of GET /v1/pse/banks)",
                },
            },
            ["product_id", "country"],
        ),
        "description": (
            "Who buys: customer_id (merchant, admin), customer {email, name} (guest checkout "
            "with a public key), or neither with a customer key. Any amount or price sent is "
            "ignored: the catalog sets the price."
        ),
    },
    "PayerDetails": {
        **_object(
            {
                "phone": _SHORT_TEXT,
                "document_type": _SHORT_TEXT,
                "document_number": _SHORT_TEXT,
                "person_type": {"enum": ["natural", "juridical"]},
            },
            [],
        ),
        "description": (
            "What PSE (document, person type) and Nequi (phone) ask of the payer; passed to the "
            "gateway, never stored. The payer's IP address is taken from the request."
        ),
    },
    "Bank": _object({"code": {"type": "string"}, "name": {"type": "string"}}, ["code", "name"]),
    "BankList": _object(
        {
            "country": {"type": "string"},
            "gateway": {"type": "string"},
            "banks": {"type": "array", "items": _ref("Bank")},
            "fetched_at": _TIME,
            "stale": {
                "type": "boolean",
                "description": "The gateway could not be asked just now: its last list",
            },
        },
        ["country", "gateway", "banks", "fetched_at", "stale"],
    ),
    "ClientSecretAction": _object(
        {
            "type": {"const": "client_secret"},
            "client_secret": {"type": "string"},
            "publishable_key": {"type": "string"},
        },
        ["type", "client_secret"],
    ),
    "RedirectAction": _object(
        {"type": {"const": "redirect"}, "url": {"type": "string"}}, ["type", "url"]
    ),
    "CashVoucherAction": _object(
        {
            "type": {"const": "cash_voucher"},
            "code": {"type": "string"},
            "barcode": {"type": "string"},
            "amount": _ref("Money"),
            "expires_at": _TIME,
            "instructions": {"type": "string"},
        },
        ["type", "code", "barcode", "amount", "expires_at", "instructions"],
    ),
    "Purchase": _object(
        {
            "id": {"type": "string"},
            "reference": {"type": "string"},
            "status": {"enum": [s.value for s in PurchaseStatus]},
            "customer_id": {"type": "string"},
            "product_id": {"type": "string"},
            "amount": _ref("Money"),
            "credits": _CREDITS,
            "gateway": _nullable({"type": "string"}),
            "gateway_reference": _nullable({"type": "string"}),
            "routing": _object(
                {
                    "chain": {"type": "array", "items": {"type": "string"}},
                    "reason": {"type": "string"},
                },
                ["chain", "reason"],
            ),
            "next_action": {
                "oneOf": [
                    _ref("ClientSecretAction"),
                    _ref("RedirectAction"),
                    _ref("CashVoucherAction"),
                    {"type": "null"},
                ]
            },
            "created_at": _TIME,
            "updated_at": _TIME,
            "needs_review": {"type": "boolean"},
            "refunded": _ref("Money"),
            "failure_code": {
                "type": ["string", "null"],
                "description": "The provider's decline or failure code of a failed purchase",
            },
        },
        [
            "id",
            "reference",
            "status",
            "customer_id",
            "product_id",
            "amount",
            "credits",
            "gateway",
            "gateway_reference",
            "routing",
            "next_action",
            "created_at",
            "updated_at",
            "needs_review",
            "refunded",
            "failure_code",
        ],
    ),
    "PurchaseList": _object(
        {
            "data": {"type": "array", "items": _ref("Purchase")},
            "next_cursor": _nullable({"type": "string"}),
        },
        ["data", "next_cursor"],
    ),
    "RefundList": _object({"data": {"type": "array", "items": _ref("Refund")}}, ["data"]),
    "SyncResult": _object(
        {
            "purchase": _ref("Purchase"),
            "result": _nullable({"enum": ["processed", "duplicate", "ignored", "conflict"]}),
        },
        ["purchase", "result"],
    ),
    "RefundInput": _object(
        {"amount": _ref("Money"), "reason": {"type": "string", "maxLength": 500}},
    ),
    "Refund": _object(
        {
            "id": {"type": "string"},
            "purchase_id": {"type": "string"},
            "amount": _ref("Money"),
            "status": {"enum": ["pending", "succeeded", "failed"]},
            "reason": _nullable({"type": "string"}),
            "gateway_reference": _nullable({"type": "string"}),
            "created_at": _TIME,
        },
        ["id", "purchase_id", "amount", "status", "reason", "gateway_reference", "created_at"],
    ),
    "LedgerEntry": _object(
        {
            "id": {"type": "string"},
            "kind": {"type": "string"},
            "asset": {"type": "string", "description": "credits, or a currency code"},
            "amount": {"type": "string", "pattern": AMOUNT_PATTERN},
            "purchase_id": _nullable({"type": "string"}),
            "reference": _nullable({"type": "string"}),
            "expires_at": _nullable(_TIME),
            "created_at": _TIME,
        },
        ["id", "kind", "asset", "amount", "purchase_id", "reference", "expires_at", "created_at"],
    ),
    "Account": _object(
        {
            "customer_id": {"type": "string"},
            "credits": {"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["8.00"]},
            "expired_credits": {"type": "string", "pattern": AMOUNT_PATTERN},
            "total_paid": {"type": "array", "items": _ref("Money")},
            "entries": {
                "type": "array",
                "items": _ref("LedgerEntry"),
                "description": "Only with ?entries=true.",
            },
        },
        ["customer_id", "credits", "expired_credits", "total_paid"],
    ),
    "WebhookReceipt": _object(
        {"status": {"enum": ["processed", "duplicate", "ignored", "conflict", "queued"]}},
        ["status"],
    ),
    "SandboxResult": _object(
        {
            "purchase": _ref("Purchase"),
            "result": {"type": "object", "description": "What the simulator did."},
        },
        ["purchase", "result"],
    ),
}

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


def _problem_response(status: int) -> Schema:
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
_KEY: list[dict[str, list[str]]] = [{"bearer": []}]


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
        responses[str(code)] = _problem_response(code)
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


def _paths(*, sandbox: bool) -> dict[str, Schema]:
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
                    "401": _problem_response(401),
                    "500": _problem_response(500),
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
                security=_KEY,
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
                security=_KEY,
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
                security=_KEY,
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
                security=_KEY,
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
                security=_KEY,
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
                security=_KEY,
                parameters=[_PURCHASE_ID],
            ),
            "post": _operation(
                "refundPurchase",
                "Refund all or part of a captured purchase (admin)",
                "purchases",
                ("The refund.", _ref("Refund")),
                (*_MUTATION, 402, 502, 503),
                security=_KEY,
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
                security=_KEY,
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
                security=_KEY,
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
                security=_KEY,
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
                security=_KEY,
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
                    "(components.responses.MethodNotAllowed)."
                ),
            },
            "servers": [{"url": "/"}],
            "security": _KEY,
            "tags": [
                {"name": name}
                for name in ("system", "catalog", "purchases", "accounts", "webhooks", "sandbox")
            ],
            "paths": _paths(sandbox=sandbox),
            "components": {
                "schemas": SCHEMAS,
                "headers": HEADERS,
                "responses": {"MethodNotAllowed": _problem_response(405)},
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
