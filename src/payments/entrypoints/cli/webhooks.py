"""``payments webhooks list`` and ``payments webhooks deliveries ENDPOINT_ID``: the merchant
webhook endpoints and what was sent to them, for an operator (docs/webhooks.md)."""

from __future__ import annotations

import argparse
from typing import Any

from payments.domain.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from payments.entrypoints.cli.common import command_group, open_container, print_table, when

_ENDPOINT_COLUMNS = ("id", "url", "events", "status", "created_at", "disabled_at", "reason")
_DELIVERY_COLUMNS = (
    "id",
    "event_type",
    "event_id",
    "aggregate_id",
    "status",
    "attempts",
    "answer_code",
    "last_attempt_at",
    "next_attempt_at",
    "error",
)


def cmd_webhooks_list(args: argparse.Namespace) -> int:
    """Every endpoint, with its subscription and whether (and why) it is disabled."""
    endpoints = open_container().webhook_endpoints().list()
    print_table(_ENDPOINT_COLUMNS, [_endpoint_row(endpoint) for endpoint in endpoints])
    return 0


def _endpoint_row(endpoint: WebhookEndpoint) -> tuple[str | None, ...]:
    return (
        endpoint.id,
        endpoint.url,
        ",".join(endpoint.events),
        endpoint.status.value,
        when(endpoint.created_at),
        when(endpoint.disabled_at),
        endpoint.disabled_reason,
    )


def cmd_webhooks_deliveries(args: argparse.Namespace) -> int:
    """An endpoint's deliveries, newest first: each attempt's outcome and the next one."""
    deliveries = open_container().webhook_endpoints().deliveries(args.endpoint_id)
    print_table(_DELIVERY_COLUMNS, [_delivery_row(delivery) for delivery in deliveries])
    return 0


def _delivery_row(delivery: WebhookDelivery) -> tuple[str | None, ...]:
    pending = delivery.status is DeliveryStatus.PENDING
    return (
        delivery.id,
        delivery.event.name,
        delivery.event.event_id,
        delivery.event.aggregate_id,
        delivery.status.value,
        str(delivery.attempts),
        None if delivery.answer_code is None else str(delivery.answer_code),
        when(delivery.last_attempt_at),
        when(delivery.next_attempt_at) if pending else None,
        " ".join((delivery.error or "").split()) or None,  # one line per delivery
    )


def register(commands: argparse._SubParsersAction[Any]) -> None:
    webhooks_sub = command_group(commands, "webhooks", "look at merchant webhook endpoints")
    webhooks_sub.add_parser(
        "list", help="the endpoints, their events, and whether they are disabled"
    ).set_defaults(func=cmd_webhooks_list)
    deliveries = webhooks_sub.add_parser(
        "deliveries", help="an endpoint's deliveries, newest first, with each one's last answer"
    )
    deliveries.add_argument("endpoint_id", help="the endpoint's id, as webhooks list shows it")
    deliveries.set_defaults(func=cmd_webhooks_deliveries)
