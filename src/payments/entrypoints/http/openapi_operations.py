"""The routes of the OpenAPI document: each operation's statuses, headers and parameters."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from payments.domain.purchase import PurchaseStatus
from payments.entrypoints.http.idempotency import KEY_PATTERN, MAX_KEY_LENGTH

JSON = "application/json"
PROBLEM = "application/problem+json"
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,63}$"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
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
        "content": {PROBLEM: {"schema": ref("Problem")}},
    }


def _ok(
    description: str, schema: Schema, *, status: int = 200, post: bool = False, media: str = JSON
) -> Schema:
    headers = {"X-Request-Id": _header("RequestId")}
    if status == 201:
        headers["Location"] = _header("Location")
    if post:
        headers["Idempotent-Replayed"] = _header("IdempotentReplayed")
    return {"description": description, "headers": headers, "content": {media: {"schema": schema}}}


def path_param(name: str, description: str, schema: Schema | None = None) -> Schema:
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


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented route and method: what it answers on success and which problems."""

    operation_id: str
    summary: str
    tag: str
    ok: tuple[str, str | None]
    """The success answer's description and its body Struct (None: any JSON object)."""
    problems: tuple[int, ...]
    security: list[dict[str, list[str]]] = field(default_factory=lambda: KEY_SECURITY)
    status: int = 200
    parameters: tuple[Schema, ...] = ()
    body: Schema | None = None
    body_required: bool = True
    idempotent: bool = False
    media: str = JSON
    """The success answer's media type; any other than JSON is a binary document."""
    body_media: str = JSON

    def schema(self) -> Schema:
        description, body_name = self.ok
        ok_schema = ref(body_name) if body_name else {"type": "object"}
        if self.media != JSON:
            ok_schema = {"type": "string", "format": "binary"}
        ok = _ok(description, ok_schema, status=self.status, post=self.idempotent, media=self.media)
        responses: dict[str, Schema] = {str(self.status): ok}
        # Any operation may fail unexpectedly; any that reads a body may find it unreadable.
        always = {500} | ({411} if self.body is not None or self.idempotent else set())
        for code in sorted({*self.problems, *always}):
            responses[str(code)] = problem_response(code)
        idempotency = [_IDEMPOTENCY_KEY] if self.idempotent else []
        operation: Schema = {
            "operationId": self.operation_id,
            "summary": self.summary,
            "tags": [self.tag],
            "security": self.security,
            "parameters": [*self.parameters, *idempotency],
            "responses": responses,
        }
        if self.body is not None:
            content = {self.body_media: {"schema": self.body}}
            operation["requestBody"] = {"required": self.body_required, "content": content}
        return operation


_MUTATION = (400, 401, 403, 404, 409, 413, 422)
_PURCHASE_ID = path_param("purchase_id", "The purchase's id.")
_LIST_PURCHASES_QUERY: tuple[Schema, ...] = (
    {"name": "customer_id", "in": "query", "schema": {"type": "string"}},
    {"name": "status", "in": "query", "schema": {"enum": [s.value for s in PurchaseStatus]}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
)
_ACCOUNT_PARAMETERS: tuple[Schema, ...] = (
    path_param("customer_id", "The customer's id."),
    {
        "name": "entries",
        "in": "query",
        "description": "Include the ledger entries.",
        "schema": {"type": "boolean"},
    },
)
_COUNTRY_QUERY: Schema = {
    "name": "country",
    "in": "query",
    "description": "ISO 3166 alpha-2; CO by default.",
    "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
}
_PROVIDER = path_param(
    "provider",
    "The gateway name (stripe, payu, wompi, ...).",
    {"type": "string", "pattern": "^[a-z0-9_]{1,32}$"},
)
_ACTION = path_param("action", "What the payer does.", {"enum": ["approve", "decline", "expire"]})

# fmt: off
_INVOICE_ID = path_param("invoice_id", "The invoice's id.")
_LIST_INVOICES_QUERY: tuple[Schema, ...] = (
    {"name": "customer_id", "in": "query", "schema": {"type": "string"},
     "description": "Required for merchant and admin keys; a customer key lists its own."},
    *_LIST_PURCHASES_QUERY[2:],
)
_DATE: Schema = {"type": "string", "format": "date", "examples": ["2026-01-31"]}
_REVENUE_QUERY: tuple[Schema, ...] = (
    {"name": "currency", "in": "query", "required": True,
     "description": "ISO 4217: amounts of different currencies are never added.",
     "schema": {"type": "string", "pattern": "^[A-Za-z]{3}$"}},
    {"name": "from", "in": "query", "description": "First day (UTC), included.", "schema": _DATE},
    {"name": "to", "in": "query", "description": "Last day (UTC), included.", "schema": _DATE},
    {"name": "granularity", "in": "query", "schema": {"enum": ["day", "month"]}},
)
_GET_INVOICE = Operation(
    "getInvoice", "One invoice (owner, merchant, admin; others 404)", "invoices",
    ("The invoice.", "Invoice"), (401, 403, 404), parameters=(_INVOICE_ID,),
)
_GET_INVOICE_PDF = replace(
    _GET_INVOICE, operation_id="getInvoicePdf", media="application/pdf",
    summary="One invoice as a PDF document (owner, merchant, admin; others 404)",
    ok=("The PDF document.", None),
)
_LIST_INVOICES = replace(
    _GET_INVOICE, operation_id="listInvoices", problems=(401, 403, 422),
    summary="One customer's invoices, newest first (customer keys: their own)",
    ok=("A page of invoices.", "InvoiceList"), parameters=_LIST_INVOICES_QUERY,
)
_GET_REVENUE = Operation(
    "getRevenue", "Revenue in one currency per day or month and per gateway (merchant, admin)",
    "statistics", ("The revenue report.", "RevenueReport"), (401, 403, 422),
    parameters=_REVENUE_QUERY,
)
# fmt: on
_ENDPOINT_ID = path_param("endpoint_id", "The webhook endpoint's id.")
_DELIVERY_ID = path_param("delivery_id", "The delivery's id.")
_ENDPOINTS = "/v1/webhook-endpoints"
_ENDPOINT = _ENDPOINTS + "/{endpoint_id}"
_SETTLEMENT_FILE: Schema = {
    "type": "string",
    "description": (
        "UTF-8 CSV with the header code,amount,currency,receipt_number,paid_at and one paid "
        "voucher per row (docs/http-api.md); at most 10000 rows."
    ),
}

OPERATIONS: tuple[tuple[str, str, Operation], ...] = (
    ("/health", "get", Operation(
        "health", "Liveness", "system", ("The process answers.", "Health"), (401,), _ANYONE
    )),
    ("/ready", "get", Operation(
        "ready", "Readiness: the database is reachable", "system", ("Ready.", "Ready"),
        (401, 503), _ANYONE,
    )),
    ("/openapi.json", "get", Operation(
        "openapi", "This document", "system", ("The OpenAPI 3.1 document.", None), (401,), _ANYONE
    )),
    ("/v1/products", "get", Operation(
        "listProducts", "Active products, oldest first", "catalog",
        ("The catalog.", "ProductList"), (401,), _ANYONE,
    )),
    ("/v1/products", "post", Operation(
        "createProduct", "Create a product (admin)", "catalog", ("The new product.", "Product"),
        _MUTATION, status=201, body=ref("ProductInput"), idempotent=True,
    )),
    ("/v1/products/{product_id}", "get", Operation(
        "getProduct", "One active product", "catalog", ("The product.", "Product"), (401, 404),
        _ANYONE, parameters=(path_param("product_id", "The product's id."),),
    )),
    ("/v1/purchases", "post", Operation(
        "createPurchase",
        "Buy a product at its catalog price (public, customer, merchant, admin)",
        "purchases", ("The purchase, with its next_action.", "Purchase"),
        (*_MUTATION, 429, 502, 503), status=201, body=ref("PurchaseInput"), idempotent=True,
    )),
    ("/v1/purchases", "get", Operation(
        "listPurchases", "Purchases the key may see, newest first (customer keys: their own)",
        "purchases", ("A page of purchases.", "PurchaseList"), (401, 403, 422),
        parameters=_LIST_PURCHASES_QUERY,
    )),
    ("/v1/purchases/{purchase_id}", "get", Operation(
        "getPurchase", "One purchase (owner, merchant, admin; others 404)", "purchases",
        ("The purchase.", "Purchase"), (401, 403, 404), parameters=(_PURCHASE_ID,),
    )),
    ("/v1/purchases/{purchase_id}/cancel", "post", Operation(
        "cancelPurchase", "Cancel a purchase that was not captured (owner, merchant, admin)",
        "purchases", ("The purchase.", "Purchase"), _MUTATION, parameters=(_PURCHASE_ID,),
        idempotent=True,
    )),
    ("/v1/purchases/{purchase_id}/refunds", "get", Operation(
        "listRefunds", "A purchase's refunds, oldest first (owner, merchant, admin; others 404)",
        "purchases", ("The refunds.", "RefundList"), (401, 403, 404), parameters=(_PURCHASE_ID,),
    )),
    ("/v1/purchases/{purchase_id}/refunds", "post", Operation(
        "refundPurchase", "Refund all or part of a captured purchase (admin)", "purchases",
        ("The refund.", "Refund"), (*_MUTATION, 402, 502, 503), status=201,
        parameters=(_PURCHASE_ID,), body=ref("RefundInput"), body_required=False,
        idempotent=True,
    )),
    ("/v1/refunds/{refund_id}", "get", Operation(
        "getRefund", "One refund (the owner of its purchase, merchant, admin; others 404)",
        "purchases", ("The refund.", "Refund"), (401, 403, 404),
        parameters=(path_param("refund_id", "The refund's id."),),
    )),
    ("/v1/purchases/{purchase_id}/sync", "post", Operation(
        "syncPurchase", "Reconcile one purchase with its provider now (admin)", "purchases",
        ("The purchase and what the lookup did.", "SyncResult"), (*_MUTATION, 502, 503),
        parameters=(_PURCHASE_ID,), idempotent=True,
    )),
    ("/v1/accounts/{customer_id}", "get", Operation(
        "getAccount", "A customer's credits and payments (owner, merchant, admin; others 404)",
        "accounts", ("The account.", "Account"), (401, 403, 404, 422),
        parameters=_ACCOUNT_PARAMETERS,
    )),
    ("/v1/pse/banks", "get", Operation(
        "listPseBanks", "The PSE banks a payer can choose, from the configured gateway (anyone)",
        "purchases", ("The banks.", "BankList"), (401, 422, 503), _ANYONE,
        parameters=(_COUNTRY_QUERY,),
    )),
    ("/v1/invoices", "get", _LIST_INVOICES),
    ("/v1/invoices/{invoice_id}", "get", _GET_INVOICE),
    ("/v1/invoices/{invoice_id}.pdf", "get", _GET_INVOICE_PDF),
    ("/v1/stats/revenue", "get", _GET_REVENUE),
    ("/v1/efecty/confirmations", "post", Operation(
        "confirmEfectyVoucher",
        "Confirm that a cash voucher was paid, exactly and once (admin)", "efecty",
        ("The purchase, completed.", "Purchase"), _MUTATION,
        body=ref("VoucherConfirmation"), idempotent=True,
    )),
    ("/v1/efecty/settlements", "post", Operation(
        "importEfectySettlement",
        "Apply an Efecty settlement file, each row once (admin)", "efecty",
        ("What each row did.", "SettlementReport"), (400, 401, 403, 413, 422),
        body=_SETTLEMENT_FILE, body_media="text/csv", idempotent=True,
    )),
    ("/v1/webhooks/{provider}", "post", Operation(
        "receiveNotification",
        "A provider's notification, authenticated by its signature (no API key)", "webhooks",
        ("Stored; what it did.", "WebhookReceipt"), (400, 404, 413, 503), [],
        parameters=(_PROVIDER,),
        body={
            "type": "object",
            "description": "The provider's raw payload (JSON; PayU posts a form, "
            "application/x-www-form-urlencoded).",
        },
    )),
    (_ENDPOINTS, "post", Operation(
        "createWebhookEndpoint",
        "Send events to a merchant URL, signed (admin); the answer shows the secret once",
        "webhooks", ("The endpoint and its signing secret.", "CreatedWebhookEndpoint"),
        (400, 401, 403, 413, 422), status=201, body=ref("WebhookEndpointInput"),
    )),
    (_ENDPOINTS, "get", Operation(
        "listWebhookEndpoints", "Every merchant webhook endpoint, oldest first (admin)",
        "webhooks", ("The endpoints.", "WebhookEndpointList"), (401, 403),
    )),
    (_ENDPOINT, "get", Operation(
        "getWebhookEndpoint", "One merchant webhook endpoint (admin)", "webhooks",
        ("The endpoint.", "WebhookEndpoint"), (401, 403, 404), parameters=(_ENDPOINT_ID,),
    )),
    (_ENDPOINT, "delete", Operation(
        "disableWebhookEndpoint", "Stop sending to an endpoint (admin; its deliveries stay)",
        "webhooks", ("The disabled endpoint.", "WebhookEndpoint"), (401, 403, 404),
        parameters=(_ENDPOINT_ID,),
    )),
    (_ENDPOINT + "/deliveries", "get", Operation(
        "listWebhookDeliveries", "An endpoint's deliveries, newest first (admin)", "webhooks",
        ("The deliveries and their last answers.", "WebhookDeliveryList"), (401, 403, 404),
        parameters=(_ENDPOINT_ID,),
    )),
    (_ENDPOINT + "/deliveries/{delivery_id}/retry", "post", Operation(
        "retryWebhookDelivery", "Send one delivery again now (admin)", "webhooks",
        ("The delivery with the new answer.", "WebhookDelivery"), _MUTATION,
        parameters=(_ENDPOINT_ID, _DELIVERY_ID), idempotent=True,
    )),
)  # fmt: skip
SANDBOX_OPERATION = Operation(
    "sandboxAction",
    "Sandbox: make the simulator approve, decline or expire the payment",
    "sandbox",
    ("The purchase after the simulated notification.", "SandboxResult"),
    (*_MUTATION, 502, 503),
    parameters=(_PURCHASE_ID, _ACTION),
    idempotent=True,
)


def _text_page(
    operation_id: str, summary: str, media: str, description: str, refusals: tuple[int, ...]
) -> Schema:
    """An operation answering text that is not JSON (a page, the metrics), open to anyone."""
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["system"],
        "security": _ANYONE,
        "responses": {
            "200": {
                "description": description,
                "headers": {"X-Request-Id": _header("RequestId")},
                "content": {media: {"schema": {"type": "string"}}},
            },
            **{str(status): problem_response(status) for status in (*refusals, 500)},
        },
    }


_DOCS_PAGE = _text_page(
    "docs",
    "A browsable page of this document (works offline)",
    "text/html",
    "An HTML page.",
    (401,),
)
_METRICS = _text_page(
    "metrics",
    "Prometheus metrics (loopback callers; others with PAYMENTS_METRICS_TOKEN as bearer token)",
    "text/plain",
    "The Prometheus text format, version 0.0.4.",
    (401, 403),
)


def paths(*, sandbox: bool) -> dict[str, Schema]:
    """The document's paths; the sandbox route only in sandbox mode."""
    out: dict[str, Schema] = {}
    for path, method, operation in OPERATIONS:
        out.setdefault(path, {})[method] = operation.schema()
        if path == "/openapi.json":
            out["/docs"] = {"get": _DOCS_PAGE}
            out["/metrics"] = {"get": _METRICS}
    if sandbox:
        out["/v1/sandbox/purchases/{purchase_id}/{action}"] = {"post": SANDBOX_OPERATION.schema()}
    return out
