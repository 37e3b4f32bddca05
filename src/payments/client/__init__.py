"""A typed Python client of the payments HTTP API (``PaymentsClient``), over ``requests``.

Request bodies are the API's own msgspec Structs (re-exported here), answers its response
Structs (``payments.entrypoints.http.representations``).
"""

from __future__ import annotations

from payments.adapters.wire.transport import HttpRetries
from payments.client.client import DEFAULT_RETRIES, DEFAULT_TIMEOUT, PaymentsClient, api_money
from payments.client.problems import error_for_answer
from payments.entrypoints.http.billing_bodies import (
    SubscriptionInput,
    UsageInput,
)
from payments.entrypoints.http.bodies import (
    GuestCustomer,
    ProductInput,
    PurchaseInput,
    RefundInput,
    VoucherConfirmation,
    WebhookEndpointInput,
)

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "GuestCustomer",
    "HttpRetries",
    "PaymentsClient",
    "ProductInput",
    "PurchaseInput",
    "RefundInput",
    "SubscriptionInput",
    "UsageInput",
    "VoucherConfirmation",
    "WebhookEndpointInput",
    "api_money",
    "error_for_answer",
]
