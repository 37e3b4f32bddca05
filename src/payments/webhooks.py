"""For merchants receiving our webhooks: check ``Payments-Signature`` and read the event.

    from payments.webhooks import SIGNATURE_HEADER, verify

    event = verify(raw_body, request.headers[SIGNATURE_HEADER], secret)  # or it raises
    if event.type == "purchase.completed": ...

The signature is Stripe's scheme (``t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>``), checked by
the same module that signs it (``payments.adapters.wire.webhook_signing``): on the raw bytes as
received, in constant time, with the timestamp within ``tolerance`` seconds of now either way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from payments.adapters.webhooks.sender import EVENT_ID_HEADER, SIGNATURE_HEADER
from payments.adapters.wire import webhook_signing
from payments.domain.errors import InvalidSignatureError, MalformedNotificationError

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "InvalidSignatureError",
    "MalformedNotificationError",
    "WebhookEvent",
    "verify",
]


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event as delivered: ``id`` (the same on every retry: key your work on it), ``type``
    (``purchase.completed``), when it happened, the aggregate it is about, and its ``data``
    (amounts as strings, numbers as ``Decimal``)."""

    id: str
    type: str
    occurred_at: datetime
    aggregate_id: str
    data: Mapping[str, Any]


def verify(
    payload: bytes | str,
    header: str | None,
    secret: str,
    tolerance: int = webhook_signing.DEFAULT_TOLERANCE,
) -> WebhookEvent:
    """The event in ``payload`` once ``header`` (the ``Payments-Signature`` value) proves it
    came from us with ``secret``, at most ``tolerance`` seconds ago (or ahead).

    Raises ``InvalidSignatureError`` for a missing, malformed, wrong or stale signature (or an
    empty secret), and ``MalformedNotificationError`` for a signed body that is not one of our
    events. Pass the body exactly as received: parsed and re-encoded JSON no longer matches.
    """
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    webhook_signing.verify(
        header, body, [secret], now=time.time(), tolerance=tolerance, name=SIGNATURE_HEADER
    )
    return parse_event(body)


def parse_event(body: bytes) -> WebhookEvent:
    """The event in a body already verified; ``MalformedNotificationError`` otherwise."""
    try:
        document = json.loads(body, parse_float=Decimal)
        return WebhookEvent(
            id=_text(document, "id"),
            type=_text(document, "type"),
            occurred_at=datetime.fromisoformat(_text(document, "occurred_at")),
            aggregate_id=_text(document, "aggregate_id"),
            data=_object(document, "data"),
        )
    except (ValueError, TypeError, RecursionError) as error:
        raise MalformedNotificationError("The webhook body is not a payments event.") from error


def _text(document: Any, name: str) -> str:
    value = document.get(name) if isinstance(document, dict) else None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value


def _object(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be an object")
    return value
