"""An outbox event as a broker message: its subject, its JSON body and its headers (pure)."""

from __future__ import annotations

import json

from payments.domain.events import StoredEvent

MESSAGE_ID_HEADER = "Nats-Msg-Id"
"""JetStream drops a message whose id it stored within the stream's duplicate window."""


def event_subject(prefix: str, event: StoredEvent) -> str:
    """``<prefix>.<event type>``: ``payments.purchase.completed``."""
    return f"{prefix}.{event.name}"


def event_body(event: StoredEvent) -> bytes:
    """The event as a JSON object: ``id``, ``type``, ``occurred_at`` (RFC 3339), ``aggregate_id``
    and ``data`` (the event's fields; Money as ``{amount, currency}`` strings, never a float)."""
    document = {
        "id": event.event_id,
        "type": event.name,
        "occurred_at": event.occurred_at.isoformat(),
        "aggregate_id": event.aggregate_id,
        "data": event.data,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def event_headers(event: StoredEvent) -> dict[str, str]:
    """``Nats-Msg-Id`` = the event id, so a re-publish of the event is dropped as a duplicate."""
    return {MESSAGE_ID_HEADER: event.event_id}
