"""Every route of the OpenAPI document has its ``PaymentsClient`` method, or a reason why not."""

from __future__ import annotations

import inspect

from payments.client import PaymentsClient
from payments.entrypoints.http.openapi import openapi_document

CLIENT_METHODS: dict[tuple[str, str], str] = {
    ("GET", "/v1/products"): "list_products",
    ("POST", "/v1/products"): "create_product",
    ("GET", "/v1/products/{product_id}"): "get_product",
    ("POST", "/v1/purchases"): "create_purchase",
    ("GET", "/v1/purchases"): "list_purchases",
    ("GET", "/v1/purchases/{purchase_id}"): "get_purchase",
    ("POST", "/v1/purchases/{purchase_id}/cancel"): "cancel_purchase",
    ("GET", "/v1/purchases/{purchase_id}/refunds"): "list_refunds",
    ("POST", "/v1/purchases/{purchase_id}/refunds"): "refund_purchase",
    ("GET", "/v1/refunds/{refund_id}"): "get_refund",
    ("POST", "/v1/purchases/{purchase_id}/sync"): "sync_purchase",
    ("GET", "/v1/accounts/{customer_id}"): "get_account",
    ("GET", "/v1/pse/banks"): "list_pse_banks",
    ("GET", "/v1/invoices"): "list_invoices",
    ("GET", "/v1/invoices/{invoice_id}"): "get_invoice",
    ("GET", "/v1/invoices/{invoice_id}.pdf"): "get_invoice_pdf",
    ("GET", "/v1/stats/revenue"): "get_revenue",
    ("POST", "/v1/efecty/confirmations"): "confirm_efecty_voucher",
    ("POST", "/v1/efecty/settlements"): "import_efecty_settlement",
    ("POST", "/v1/webhook-endpoints"): "create_webhook_endpoint",
    ("GET", "/v1/webhook-endpoints"): "list_webhook_endpoints",
    ("GET", "/v1/webhook-endpoints/{endpoint_id}"): "get_webhook_endpoint",
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): "disable_webhook_endpoint",
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): "list_webhook_deliveries",
    (
        "POST",
        "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
    ): "retry_webhook_delivery",
    ("POST", "/v1/sandbox/purchases/{purchase_id}/{action}"): "sandbox_action",
    ("POST", "/v1/sandbox/clock"): "advance_sandbox_clock",
    ("POST", "/v1/subscriptions"): "create_subscription",
    ("GET", "/v1/subscriptions"): "list_subscriptions",
    ("GET", "/v1/subscriptions/{subscription_id}"): "get_subscription",
    ("POST", "/v1/subscriptions/{subscription_id}/cancel"): "cancel_subscription",
    ("POST", "/v1/subscriptions/{subscription_id}/change"): "change_subscription",
    (
        "POST",
        "/v1/subscriptions/{subscription_id}/payment_method",
    ): "update_subscription_payment_method",
    ("POST", "/v1/subscriptions/{subscription_id}/usage"): "record_usage",
    ("GET", "/v1/subscriptions/{subscription_id}/usage"): "get_usage",
    ("GET", "/v1/stats/subscriptions"): "subscription_stats",
}
"""(method, path template) → the client method that calls it."""

NOT_FOR_THE_CLIENT: dict[tuple[str, str], str] = {
    ("GET", "/health"): "a probe for load balancers",
    ("GET", "/ready"): "a probe for load balancers",
    ("GET", "/openapi.json"): "the document this test reads",
    ("GET", "/docs"): "an HTML page for people",
    ("GET", "/metrics"): "Prometheus scrapes it",
    ("POST", "/v1/webhooks/{provider}"): "the providers' notifications, signed by them",
}
"""Routes the document has that a Python caller of the API never calls, and why."""

_METHODS = {"get", "post", "put", "patch", "delete"}


def _routes() -> set[tuple[str, str]]:
    paths = openapi_document(sandbox=True)["paths"]
    return {(m.upper(), path) for path, ops in paths.items() for m in ops if m in _METHODS}


def test_every_route_of_the_document_has_a_client_method_or_a_reason() -> None:
    routes = _routes()
    unmapped = routes - CLIENT_METHODS.keys() - NOT_FOR_THE_CLIENT.keys()
    assert not unmapped, f"routes without a PaymentsClient method: {sorted(unmapped)}"
    assert not CLIENT_METHODS.keys() & NOT_FOR_THE_CLIENT.keys()


def test_the_table_names_only_routes_of_the_document_and_methods_of_the_client() -> None:
    routes = _routes()
    assert len(CLIENT_METHODS) == len(set(CLIENT_METHODS.values()))  # one route each
    stale = (CLIENT_METHODS.keys() | NOT_FOR_THE_CLIENT.keys()) - routes
    assert not stale, f"routes the document no longer has: {sorted(stale)}"
    missing = {name for name in CLIENT_METHODS.values() if not hasattr(PaymentsClient, name)}
    assert not missing, f"client methods that do not exist: {sorted(missing)}"
    assert all(inspect.isfunction(getattr(PaymentsClient, n)) for n in CLIENT_METHODS.values())


def test_every_public_client_method_is_in_the_table() -> None:
    public = {
        name
        for name, member in vars(PaymentsClient).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }
    assert public == set(CLIENT_METHODS.values())
