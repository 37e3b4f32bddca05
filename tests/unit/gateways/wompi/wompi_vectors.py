"""Wompi's documented test values (reference §3.4, §3.5, §6) and an event builder."""

from __future__ import annotations

import copy
import json
from typing import Any

from payments.adapters.gateways.wompi import event_checksum

INTEGRITY_SECRET = "prod_integrity_Z5mMke9x0k8gpErbDqwrJXMqsI6SFli6"
EVENTS_SECRET = "prod_events_OcHnIzeBl5socpwByQ4hA52Em3USQ93Z"
DOCS_CHECKSUM = "5a18ec5e8fdb7df463e9f94774cba8f583ba21bd04a09ceff2ea68a4bc0aefbe"
"""SHA-256 of the string the events page tells us to hash (verified, §0 trap 1)."""
PRINTED_CHECKSUM = "3476DDA50F64CD7CBD160689640506FEBEA93239BC524FC0469B2C68A3CC8BD0"
"""The digest the old events page prints: wrong, must never verify (§0 trap 1)."""
PROPERTIES = ["transaction.id", "transaction.status", "transaction.amount_in_cents"]

DOCS_EVENT: dict[str, Any] = {
    "event": "transaction.updated",
    "data": {
        "transaction": {
            "id": "1234-1610641025-49201",
            "amount_in_cents": 4490000,
            "reference": "MZQ3X2DE2SMX",
            "customer_email": "juan.perez@gmail.com",
            "currency": "COP",
            "payment_method_type": "NEQUI",
            "redirect_url": "https://mitienda.com.co/pagos/redireccion",
            "status": "APPROVED",
            "shipping_address": None,
            "payment_link_id": None,
            "payment_source_id": None,
        }
    },
    "environment": "prod",
    "signature": {"properties": PROPERTIES, "checksum": DOCS_CHECKSUM},
    "timestamp": 1530291411,
    "sent_at": "2018-07-20T16:45:05.000Z",
}
"""The envelope of the events page (§3.5) with the checksum its algorithm really gives."""


def docs_event() -> dict[str, Any]:
    """A fresh copy of the docs' event, safe to change."""
    return copy.deepcopy(DOCS_EVENT)


def signed_event(**transaction: object) -> dict[str, Any]:
    """The docs' event with some transaction fields changed, signed again with the secret."""
    event = docs_event()
    event["data"]["transaction"].update(transaction)
    event["signature"]["checksum"] = event_checksum(
        event["data"], event["signature"]["properties"], event["timestamp"], EVENTS_SECRET
    )
    return event


def body(event: dict[str, Any]) -> bytes:
    """The JSON body Wompi posts."""
    return json.dumps(event).encode()
