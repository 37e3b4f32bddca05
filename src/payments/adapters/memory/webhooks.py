"""In-memory merchant webhooks: endpoints and deliveries on a unit of work's working tables."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from payments.domain.errors import ConflictError
from payments.domain.webhook_ports import WebhookDeliveryRepository, WebhookEndpointRepository
from payments.domain.webhooks import (
    DeliveryStatus,
    EndpointStatus,
    WebhookDelivery,
    WebhookEndpoint,
)


class WebhookTables(Protocol):
    """The part of a store's tables merchant webhooks work on."""

    webhook_endpoints: dict[str, WebhookEndpoint]
    webhook_deliveries: dict[str, WebhookDelivery]


class InMemoryWebhookEndpoints(WebhookEndpointRepository):
    def __init__(self, t: WebhookTables) -> None:
        self._t = t

    def add(self, endpoint: WebhookEndpoint) -> None:
        kept = self._t.webhook_endpoints.setdefault(endpoint.id, endpoint)
        if kept is not endpoint:
            raise ConflictError(f"Webhook endpoint {endpoint.id!r} already exists.")

    def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        return self._t.webhook_endpoints.get(endpoint_id)

    def list(self) -> builtins.list[WebhookEndpoint]:
        return sorted(self._t.webhook_endpoints.values(), key=lambda e: (e.created_at, e.id))

    def save(self, endpoint: WebhookEndpoint) -> None:
        if endpoint.id not in self._t.webhook_endpoints:
            raise ConflictError(f"Webhook endpoint {endpoint.id!r} was never added.")
        self._t.webhook_endpoints[endpoint.id] = endpoint


class InMemoryWebhookDeliveries(WebhookDeliveryRepository):
    def __init__(self, t: WebhookTables) -> None:
        self._t = t

    def add_all(self, deliveries: Sequence[WebhookDelivery]) -> int:
        known = {(d.endpoint_id, d.event.event_id) for d in self._t.webhook_deliveries.values()}
        written = 0
        for delivery in deliveries:
            pair = (delivery.endpoint_id, delivery.event.event_id)
            if pair not in known:
                known.add(pair)
                self._t.webhook_deliveries[delivery.id] = delivery
                written += 1
        return written

    def get(self, delivery_id: str) -> WebhookDelivery | None:
        return self._t.webhook_deliveries.get(delivery_id)

    def save(self, delivery: WebhookDelivery) -> None:
        if delivery.id not in self._t.webhook_deliveries:
            raise ConflictError(f"Webhook delivery {delivery.id!r} was never added.")
        self._t.webhook_deliveries[delivery.id] = delivery

    def claim_due(self, now: datetime, limit: int) -> builtins.list[WebhookDelivery]:
        endpoints = self._t.webhook_endpoints
        due = [
            d
            for d in self._t.webhook_deliveries.values()
            if d.status is DeliveryStatus.PENDING
            and d.next_attempt_at <= now
            and endpoints[d.endpoint_id].status is EndpointStatus.ENABLED
        ]
        return sorted(due, key=lambda d: (d.next_attempt_at, d.id))[:limit]

    def for_endpoint(self, endpoint_id: str, limit: int) -> builtins.list[WebhookDelivery]:
        mine = [d for d in self._t.webhook_deliveries.values() if d.endpoint_id == endpoint_id]
        return sorted(mine, key=lambda d: (d.created_at, d.id), reverse=True)[:limit]
