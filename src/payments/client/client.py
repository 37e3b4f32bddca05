"""``PaymentsClient``: the HTTP API from Python, typed, idempotent, retrying what is retryable."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TypeVar

import msgspec
import requests

from payments.adapters.wire.transport import HttpRetries, ProviderHttp
from payments.client.problems import error_for_answer
from payments.domain.money import Money
from payments.entrypoints.http import billing_bodies as billing
from payments.entrypoints.http import bodies
from payments.entrypoints.http import representations as rep

Answer = TypeVar("Answer", bound=msgspec.Struct)

DEFAULT_TIMEOUT = (3.05, 30.0)
"""Seconds to connect, and to wait for an answer."""
DEFAULT_RETRIES = HttpRetries(attempts=4, backoff=0.5, longest_retry_after=30.0)
"""Four tries in all; waits double from about half a second, or what Retry-After asks (up to
30 s)."""
RETRYABLE_STATUSES = frozenset({429, 503})
"""What the API answers when the same request may succeed later (with Retry-After)."""

_ENCODER = msgspec.json.Encoder()
_JSON = "application/json"
_PDF = "application/pdf"
_CSV = "text/csv"


def _retryable(status: int) -> bool:
    return status in RETRYABLE_STATUSES


def api_money(value: Money) -> bodies.Money:
    """The wire form of the domain's Money, for request bodies: ``{"amount": "79.99", ...}``."""
    return bodies.Money(value.format_amount(), value.currency.code)


class PaymentsClient:
    """The payments API at ``base_url`` with one API key.

    Every ``POST`` carries an ``Idempotency-Key`` (a new UUID per call unless one is given),
    kept when the call is retried: a request refused before it was sent (connection refused),
    a lost answer, and 429 or 503 answers are tried again (``retries``), so a retried checkout
    or refund happens at most once. A problem answer raises the matching class of
    ``payments.domain.errors`` (``NotFoundError``, ``ValidationError`` with its ``errors``,
    ``PaymentDeclinedError``...), its members in ``error.details``; an API that cannot be
    reached raises ``GatewayUnavailableError``. Answers are the API's own msgspec Structs
    (``payments.entrypoints.http.representations``).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: HttpRetries = DEFAULT_RETRIES,
    ) -> None:
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._http = ProviderHttp(
            session or requests.Session(),
            base_url,
            provider="payments API",
            timeout=timeout,
            retries=retries,
            retry_status=_retryable,
        )

    # -- the catalog ---------------------------------------------------------------------

    def create_product(
        self, product: bodies.ProductInput, *, idempotency_key: str | None = None
    ) -> rep.Product:
        """A package (``validity_days``) or plan (``billing_cycle``) at its price (admin)."""
        return self._post("/v1/products", product, rep.Product, idempotency_key)

    def list_products(self) -> rep.ProductList:
        return self._get("/v1/products", rep.ProductList)

    def get_product(self, product_id: str) -> rep.Product:
        return self._get(f"/v1/products/{product_id}", rep.Product)

    # -- purchases and refunds -----------------------------------------------------------

    def create_purchase(
        self, purchase: bodies.PurchaseInput, *, idempotency_key: str | None = None
    ) -> rep.Purchase:
        """Buy a product at its catalog price, for ``customer_id`` (merchant and admin keys), a
        guest (``customer``; public key) or the key's own customer."""
        return self._post("/v1/purchases", purchase, rep.Purchase, idempotency_key)

    def get_purchase(self, purchase_id: str) -> rep.Purchase:
        return self._get(f"/v1/purchases/{purchase_id}", rep.Purchase)

    def list_purchases(
        self,
        *,
        customer_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> rep.PurchaseList:
        """A page of purchases, newest first; pass its ``next_cursor`` as ``cursor`` for the
        next one."""
        query = {"customer_id": customer_id, "status": status, "limit": limit, "cursor": cursor}
        return self._get("/v1/purchases", rep.PurchaseList, query)

    def cancel_purchase(
        self, purchase_id: str, *, idempotency_key: str | None = None
    ) -> rep.Purchase:
        return self._post(
            f"/v1/purchases/{purchase_id}/cancel", None, rep.Purchase, idempotency_key
        )

    def sync_purchase(
        self, purchase_id: str, *, idempotency_key: str | None = None
    ) -> rep.SyncResult:
        """Reconcile one purchase with its provider now (admin)."""
        path = f"/v1/purchases/{purchase_id}/sync"
        return self._post(path, None, rep.SyncResult, idempotency_key)

    def refund_purchase(
        self,
        purchase_id: str,
        refund: bodies.RefundInput | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> rep.Refund:
        """Refund ``refund.amount`` of a captured purchase (all that remains when None; admin)."""
        path = f"/v1/purchases/{purchase_id}/refunds"
        return self._post(path, refund or bodies.RefundInput(), rep.Refund, idempotency_key)

    def list_refunds(self, purchase_id: str) -> rep.RefundList:
        return self._get(f"/v1/purchases/{purchase_id}/refunds", rep.RefundList)

    def get_refund(self, refund_id: str) -> rep.Refund:
        return self._get(f"/v1/refunds/{refund_id}", rep.Refund)

    # -- accounts ------------------------------------------------------------------------

    def get_account(self, customer_id: str, *, entries: bool = False) -> rep.Account:
        """A customer's credits and payments; ``entries`` adds the ledger entries."""
        query = {"entries": "true"} if entries else None
        return self._get(f"/v1/accounts/{customer_id}", rep.Account, query)

    # -- PSE banks and Efecty cash vouchers --------------------------------------------

    def list_pse_banks(self, *, country: str | None = None) -> rep.BankList:
        """The banks a PSE payer may choose (``country`` defaults to CO on the service)."""
        return self._get("/v1/pse/banks", rep.BankList, {"country": country})

    def confirm_efecty_voucher(
        self, confirmation: bodies.VoucherConfirmation, *, idempotency_key: str | None = None
    ) -> rep.Purchase:
        """One cash voucher paid at an Efecty point, for exactly its amount (admin)."""
        path = "/v1/efecty/confirmations"
        return self._post(path, confirmation, rep.Purchase, idempotency_key)

    def import_efecty_settlement(
        self, settlement_csv: bytes, *, idempotency_key: str | None = None
    ) -> rep.SettlementReport:
        """Efecty's settlement file (the CSV's bytes, sent as ``text/csv``), each row applied
        once (admin)."""
        path, answer = "/v1/efecty/settlements", rep.SettlementReport
        return self._post(path, settlement_csv, answer, idempotency_key, media=_CSV)

    # -- subscriptions -------------------------------------------------------------------

    def create_subscription(
        self, subscription: billing.SubscriptionInput, *, idempotency_key: str | None = None
    ) -> billing.Subscription:
        """Subscribe a customer to a plan, paying with a saved method (merchant, admin)."""
        path = "/v1/subscriptions"
        return self._post(path, subscription, billing.Subscription, idempotency_key)

    def list_subscriptions(self, *, customer_id: str | None = None) -> billing.SubscriptionList:
        query = {"customer_id": customer_id}
        return self._get("/v1/subscriptions", billing.SubscriptionList, query)

    def get_subscription(self, subscription_id: str) -> billing.Subscription:
        return self._get(f"/v1/subscriptions/{subscription_id}", billing.Subscription)

    def cancel_subscription(
        self,
        subscription_id: str,
        *,
        at_period_end: bool = False,
        idempotency_key: str | None = None,
    ) -> billing.Subscription:
        """Cancel now, or (``at_period_end``) let the paid period run out first."""
        body = billing.SubscriptionCancelInput(at_period_end)
        return self._subscription_action(subscription_id, "cancel", body, idempotency_key)

    def change_subscription(
        self, subscription_id: str, plan_id: str, *, idempotency_key: str | None = None
    ) -> billing.Subscription:
        """Move to the plan ``plan_id``: a dearer one now, with a prorated charge; a cheaper one
        at the renewal (merchant, admin)."""
        body = billing.SubscriptionChangeInput(plan_id)
        return self._subscription_action(subscription_id, "change", body, idempotency_key)

    def update_subscription_payment_method(
        self, subscription_id: str, payment_method_token: str, *, idempotency_key: str | None = None
    ) -> billing.Subscription:
        """Charge another saved method from now on."""
        body = billing.PaymentMethodInput(payment_method_token)
        return self._subscription_action(subscription_id, "payment_method", body, idempotency_key)

    def record_usage(
        self, subscription_id: str, usage: billing.UsageInput, *, idempotency_key: str | None = None
    ) -> billing.UsageRecord:
        """Usage in the current period, counted once per ``reference``."""
        answer = billing.UsageRecord
        return self._on_subscription(subscription_id, "usage", usage, answer, idempotency_key)

    def get_usage(
        self, subscription_id: str, *, period_start: str | None = None
    ) -> billing.UsageSummary:
        """Usage per metric in the current period, or the one starting at ``period_start``
        (RFC 3339)."""
        path = f"/v1/subscriptions/{subscription_id}/usage"
        return self._get(path, billing.UsageSummary, {"period_start": period_start})

    def subscription_stats(self, *, window: str | None = None) -> billing.SubscriptionStats:
        """Counts by status, churn over ``window`` (ISO 8601, ``P30D`` by default), MRR."""
        return self._get("/v1/stats/subscriptions", billing.SubscriptionStats, {"window": window})

    # -- invoices and revenue ------------------------------------------------------------

    def list_invoices(
        self,
        *,
        customer_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> rep.InvoiceList:
        query = {"customer_id": customer_id, "limit": limit, "cursor": cursor}
        return self._get("/v1/invoices", rep.InvoiceList, query)

    def get_invoice(self, invoice_id: str) -> rep.Invoice:
        return self._get(f"/v1/invoices/{invoice_id}", rep.Invoice)

    def get_invoice_pdf(self, invoice_id: str) -> bytes:
        """The same invoice as a PDF document's bytes."""
        headers = {**self._headers, "Accept": f"{_PDF}, application/problem+json"}
        return self._send("GET", f"/v1/invoices/{invoice_id}.pdf", headers=headers).content

    def get_revenue(
        self,
        currency: str,
        *,
        first: str | None = None,
        last: str | None = None,
        granularity: str | None = None,
    ) -> rep.RevenueReport:
        """Revenue in ``currency`` per ``granularity`` (day, month) and gateway, from the date
        ``first`` to ``last`` (the API's ``from`` and ``to``; by default the last 30 days).
        Merchant and admin keys."""
        query = {"currency": currency, "from": first, "to": last, "granularity": granularity}
        return self._get("/v1/stats/revenue", rep.RevenueReport, query)

    # -- merchant webhooks ---------------------------------------------------------------

    def create_webhook_endpoint(
        self, url: str, events: Sequence[str]
    ) -> rep.CreatedWebhookEndpoint:
        """A new endpoint; its ``secret`` is in this answer only. (The API keeps no answer of
        this call under an Idempotency-Key: a retry may create a second endpoint.)"""
        body = bodies.WebhookEndpointInput(url, list(events))
        answer = rep.CreatedWebhookEndpoint
        return self._post("/v1/webhook-endpoints", body, answer, None, repeatable=False)

    def list_webhook_endpoints(self) -> rep.WebhookEndpointList:
        return self._get("/v1/webhook-endpoints", rep.WebhookEndpointList)

    def get_webhook_endpoint(self, endpoint_id: str) -> rep.WebhookEndpoint:
        return self._get(f"/v1/webhook-endpoints/{endpoint_id}", rep.WebhookEndpoint)

    def disable_webhook_endpoint(self, endpoint_id: str) -> rep.WebhookEndpoint:
        path = f"/v1/webhook-endpoints/{endpoint_id}"
        return self._call("DELETE", path, rep.WebhookEndpoint, headers=self._headers)

    def list_webhook_deliveries(self, endpoint_id: str) -> rep.WebhookDeliveryList:
        path = f"/v1/webhook-endpoints/{endpoint_id}/deliveries"
        return self._get(path, rep.WebhookDeliveryList)

    def retry_webhook_delivery(
        self, endpoint_id: str, delivery_id: str, *, idempotency_key: str | None = None
    ) -> rep.WebhookDelivery:
        path = f"/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry"
        return self._post(path, None, rep.WebhookDelivery, idempotency_key)

    # -- the sandbox (a sandbox service only) -------------------------------------------

    def sandbox_action(
        self, purchase_id: str, action: str, *, idempotency_key: str | None = None
    ) -> rep.SandboxResult:
        """Have the simulated provider ``approve``, ``decline``... a purchase."""
        path = f"/v1/sandbox/purchases/{purchase_id}/{action}"
        return self._post(path, None, rep.SandboxResult, idempotency_key)

    def advance_sandbox_clock(
        self, advance: str, *, idempotency_key: str | None = None
    ) -> billing.ClockNow:
        """Move the test clock the service and the worker read by ``advance`` (``P15D``)."""
        body = billing.ClockInput(advance)
        return self._post("/v1/sandbox/clock", body, billing.ClockNow, idempotency_key)

    # -- the wire ------------------------------------------------------------------------

    def _get(
        self,
        path: str,
        answer: type[Answer],
        query: Mapping[str, object] | None = None,
    ) -> Answer:
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        return self._call("GET", path, answer, headers=self._headers, params=params)

    def _subscription_action(
        self, subscription_id: str, action: str, body: msgspec.Struct, idempotency_key: str | None
    ) -> billing.Subscription:
        answer = billing.Subscription
        return self._on_subscription(subscription_id, action, body, answer, idempotency_key)

    def _on_subscription(
        self,
        subscription_id: str,
        action: str,
        body: msgspec.Struct,
        answer: type[Answer],
        idempotency_key: str | None,
    ) -> Answer:
        """POST ``body`` to one of a subscription's action routes."""
        path = f"/v1/subscriptions/{subscription_id}/{action}"
        return self._post(path, body, answer, idempotency_key)

    def _post(
        self,
        path: str,
        body: msgspec.Struct | bytes | None,
        answer: type[Answer],
        idempotency_key: str | None,
        *,
        repeatable: bool = True,
        media: str = _JSON,
    ) -> Answer:
        """POST under an Idempotency-Key: retried after any outage or a 429/503 unless not
        ``repeatable`` (then only when it provably never left). A Struct is sent as JSON, bytes
        as they are (of type ``media``)."""
        headers = {
            **self._headers,
            "Idempotency-Key": idempotency_key or str(uuid.uuid4()),
            "Content-Type": media,
        }
        if isinstance(body, msgspec.Struct):
            body = _ENCODER.encode(body)
        data = body if body is not None else b""
        return self._call("POST", path, answer, headers=headers, data=data, repeatable=repeatable)

    def _call(
        self,
        method: str,
        path: str,
        answer: type[Answer],
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        repeatable: bool = True,
    ) -> Answer:
        response = self._send(
            method, path, headers=headers, params=params, data=data, repeatable=repeatable
        )
        return msgspec.json.decode(response.content, type=answer)

    def _send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        repeatable: bool = True,
    ) -> requests.Response:
        """The answer of one call, retried as ``retries`` says; a problem raises its error."""
        response = self._http.send(
            method, path, repeatable=repeatable, headers=headers, params=params, data=data
        )
        if not 200 <= response.status_code < 300:
            raise error_for_answer(
                response.status_code, response.content, response.headers.get("Retry-After")
            )
        return response


__all__ = ["DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "PaymentsClient", "api_money"]
