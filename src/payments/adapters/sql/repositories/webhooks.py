"""The SQL merchant webhooks: endpoints (secrets sealed) and deliveries claimed by workers."""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from payments.adapters.sql.mappers import Row, SameColumns
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.tables import webhook_deliveries, webhook_endpoints
from payments.domain.events import StoredEvent
from payments.domain.webhook_ports import WebhookDeliveryRepository, WebhookEndpointRepository
from payments.domain.webhooks import (
    DeliveryStatus,
    EndpointStatus,
    WebhookDelivery,
    WebhookEndpoint,
)

_ONE_PER_ENDPOINT_AND_EVENT = ("endpoint_id", "event_id")


_ENDPOINT_SAME = SameColumns(
    "id", "url", "sealed_secret", "created_at", "disabled_at", "disabled_reason"
)
_ENDPOINT_STATE = ("status", "disabled_at", "disabled_reason")
_DELIVERY_STATE = SameColumns(
    "attempts", "next_attempt_at", "last_attempt_at", "answer_code", "error", "delivered_at"
)
"""What sending changes on a delivery (with its ``status``)."""
_DELIVERY_SAME = SameColumns("id", "endpoint_id", "created_at", *_DELIVERY_STATE.names)


def endpoint_to_row(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        **_ENDPOINT_SAME.of(endpoint),
        "events": json.dumps(list(endpoint.events)),
        "status": endpoint.status.value,
    }


def endpoint_from_row(row: Row) -> WebhookEndpoint:
    return WebhookEndpoint(
        **_ENDPOINT_SAME.read(row),
        events=tuple(json.loads(row["events"])),
        status=EndpointStatus(row["status"]),
    )


def delivery_to_row(delivery: WebhookDelivery) -> dict[str, Any]:
    event = delivery.event
    return {
        **_DELIVERY_SAME.of(delivery),
        "outbox_id": event.position,
        "event_id": event.event_id,
        "event_type": event.name,
        "aggregate_id": event.aggregate_id,
        "occurred_at": event.occurred_at,
        "data": json.dumps(event.data, separators=(",", ":"), sort_keys=True),
        "status": delivery.status.value,
    }


def delivery_from_row(row: Row) -> WebhookDelivery:
    event = StoredEvent(
        position=row["outbox_id"],
        event_id=row["event_id"],
        name=row["event_type"],
        aggregate_id=row["aggregate_id"],
        occurred_at=row["occurred_at"],
        data=json.loads(row["data"]),
    )
    return WebhookDelivery(
        **_DELIVERY_SAME.read(row), event=event, status=DeliveryStatus(row["status"])
    )


class SqlWebhookEndpointRepository(SqlRepository, WebhookEndpointRepository):
    def add(self, endpoint: WebhookEndpoint) -> None:
        self._insert_new(webhook_endpoints, endpoint_to_row(endpoint), f"Endpoint {endpoint.id}")

    def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        return self._found(webhook_endpoints, {"id": endpoint_id}, endpoint_from_row)

    def list(self) -> builtins.list[WebhookEndpoint]:
        query = select(webhook_endpoints).order_by(
            webhook_endpoints.c.created_at, webhook_endpoints.c.id
        )
        return [endpoint_from_row(row) for row in self._all(query)]

    def save(self, endpoint: WebhookEndpoint) -> None:
        """Store the status (and why it is off); ``ConflictError`` for an endpoint never added."""
        row = endpoint_to_row(endpoint)
        self._update_stored(webhook_endpoints, row, _ENDPOINT_STATE, "Webhook endpoint")


class SqlWebhookDeliveryRepository(SqlRepository, WebhookDeliveryRepository):
    def add_all(self, deliveries: Sequence[WebhookDelivery]) -> int:
        rows = [delivery_to_row(d) for d in deliveries]
        return self._insert_all(webhook_deliveries, rows, _ONE_PER_ENDPOINT_AND_EVENT)

    def get(self, delivery_id: str) -> WebhookDelivery | None:
        return self._found(webhook_deliveries, {"id": delivery_id}, delivery_from_row)

    def save(self, delivery: WebhookDelivery) -> None:
        """Store how sending went; ``ConflictError`` for a delivery never added."""
        row = delivery_to_row(delivery)
        state = ("status", *_DELIVERY_STATE.names)
        self._update_stored(webhook_deliveries, row, state, "Webhook delivery")

    def claim_due(self, now: datetime, limit: int) -> builtins.list[WebhookDelivery]:
        """Pending deliveries due by ``now`` whose endpoint is enabled, oldest due first; on
        PostgreSQL ``FOR UPDATE SKIP LOCKED`` (of the deliveries only), so concurrent workers
        take disjoint ones. The caller's lease (``next_attempt_at``) keeps them after commit."""
        enabled = select(webhook_endpoints.c.id).where(
            webhook_endpoints.c.status == EndpointStatus.ENABLED.value
        )
        query = (
            select(webhook_deliveries)
            .where(
                webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
                webhook_deliveries.c.next_attempt_at <= now,
                webhook_deliveries.c.endpoint_id.in_(enabled),
            )
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
            .limit(limit)
        )
        if self._row_locks:
            query = query.with_for_update(skip_locked=True, of=webhook_deliveries)
        return [delivery_from_row(row) for row in self._all(query)]

    def for_endpoint(self, endpoint_id: str, limit: int) -> builtins.list[WebhookDelivery]:
        query = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.endpoint_id == endpoint_id)
            .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc())
            .limit(limit)
        )
        return [delivery_from_row(row) for row in self._all(query)]
