"""The sandbox gateway: our own small JSON payments API over real HTTP (see docs/sandbox.md).

Wire format, version 1. Every API call carries ``Authorization: Bearer <sandbox secret>``
(a missing or wrong one is 401). Every amount is Money JSON with a string amount, never a number:
``{"amount": "79.99", "currency": "EUR"}``. ``{base}`` is where the simulator is mounted.

``POST {base}/v1/payments`` with ``Idempotency-Key``, body ``{"reference", "amount",
"description", "payment_method", "country", "return_url", "payer": {"email", "name"},
"metadata"}`` -> 201 payment (402 error when declined at once).
``GET {base}/v1/payments?reference=R`` -> 200 ``{"object": "list", "data": [payment, ...]}``,
newest first. ``POST {base}/v1/payments/{id}/cancel`` with ``Idempotency-Key`` -> 200 payment
(a settled payment is returned unchanged). ``POST {base}/v1/refunds`` with ``Idempotency-Key``,
body ``{"payment", "amount", "reason", "metadata"}`` -> 201 refund.

A payment is ``{"id", "object": "payment", "reference", "status", "amount", "amount_refunded",
"description", "payment_method", "country", "return_url", "payer", "metadata", "checkout_url",
"client_secret", "decline_code", "failure_message", "created"}`` with status ``pending``,
``processing``, ``succeeded``, ``failed``, ``cancelled`` or ``expired``. A refund is ``{"id",
"object": "refund", "payment", "amount", "status", "reason", "metadata", "created"}`` with
status ``pending``, ``succeeded`` or ``failed``. Errors are ``{"error": {"type", "code",
"message"}}``: 400 invalid request, 402 declined (``code`` is the decline code), 401/403
credentials, 404 unknown object, 409 same key still in flight, 422 same key with another body,
429 slow down, 5xx provider failure. A replayed answer carries ``Idempotent-Replayed: true``.

Notifications are POSTed as ``{"id": "evt_...", "type", "created": <unix>, "data": payment or
refund}`` with type ``payment.succeeded``, ``payment.failed``, ``payment.expired``,
``payment.cancelled``, ``refund.succeeded`` or ``refund.failed`` (others are acknowledged and
ignored), signed ``Sandbox-Signature: t=<unix>,v1=<hex>`` where the hex is
HMAC-SHA256(secret, ``"<t>." + raw body``): Stripe's scheme. Only ``v1`` values count, any one may
match, and ``t`` must be within the tolerance (300 s) of now in both directions.
"""

from payments.adapters.gateways.sandbox.gateway import SandboxGateway
from payments.adapters.gateways.sandbox.settings import GATEWAY_NAME
from payments.adapters.gateways.sandbox.signatures import (
    SIGNATURE_HEADER,
    signature_header,
    verify_signature,
)

__all__ = [
    "GATEWAY_NAME",
    "SIGNATURE_HEADER",
    "SandboxGateway",
    "signature_header",
    "verify_signature",
]
