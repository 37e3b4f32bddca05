"""The repository contract of merchant webhooks: endpoints, deliveries, and the webhooks' outbox
progress, apart from the broker relay's."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from payments.domain.events import CreditsConsumed, StoredEvent
from payments.domain.ports import UnitOfWork
from payments.domain.webhooks import (
    DeliveryStatus,
    EndpointStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from payments.testing.contracts.repositories.base import UnitOfWorkFixtures
from payments.testing.contracts.repositories.builders import T0
from payments.testing.expect import expect_equal, present


def an_endpoint(endpoint_id: str = "whe_1", *events: str) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id,
        f"https://shop.example.com/{endpoint_id}",
        events or ("*",),
        "sealed-secret",
        EndpointStatus.ENABLED,
        T0,
    )


def a_delivery(delivery_id: str, event: StoredEvent, endpoint_id: str = "whe_1") -> WebhookDelivery:
    return WebhookDelivery(delivery_id, endpoint_id, event, DeliveryStatus.PENDING, T0, T0)


def _events(uow: UnitOfWork, count: int) -> list[StoredEvent]:
    """``count`` committed events, as the webhooks claim them."""
    with uow:
        uow.outbox.add(
            [CreditsConsumed(T0, f"cus_{n}", Decimal(n + 1), f"ref_{n}") for n in range(count)]
        )
        uow.commit()
    with uow:
        return uow.outbox.claim_for_webhooks(count)


class WebhooksContract(UnitOfWorkFixtures):
    """Endpoints and deliveries come back as stored; an (endpoint, event) pair is delivered
    once; due deliveries of enabled endpoints are claimed oldest due first; the webhooks' outbox
    progress is their own."""

    def test_an_endpoint_comes_back_and_its_status_is_saved(self, uow: UnitOfWork) -> None:
        endpoint = an_endpoint("whe_1", "purchase.completed", "refund.recorded")
        with uow:
            uow.webhook_endpoints.add(endpoint)
            uow.webhook_endpoints.add(an_endpoint("whe_2"))
            uow.commit()
        off = endpoint.disabled(T0 + timedelta(days=3), "failing")
        with uow:
            expect_equal(uow.webhook_endpoints.get("whe_1"), endpoint)
            uow.webhook_endpoints.save(off)
            uow.commit()
        with uow:
            expect_equal(uow.webhook_endpoints.get("whe_1"), off)
            expect_equal([e.id for e in uow.webhook_endpoints.list()], ["whe_1", "whe_2"])
            expect_equal(uow.webhook_endpoints.get("whe_nope"), None)

    def test_a_delivery_comes_back_and_a_pair_is_stored_once(self, uow: UnitOfWork) -> None:
        first, second = _events(uow, 2)
        with uow:
            uow.webhook_endpoints.add(an_endpoint())
            stored = uow.webhook_deliveries.add_all(
                [a_delivery("whd_1", first), a_delivery("whd_2", second)]
            )
            again = uow.webhook_deliveries.add_all([a_delivery("whd_3", first)])
            uow.commit()
        expect_equal((stored, again), (2, 0))
        sent = replace(
            a_delivery("whd_1", first).claimed(T0),
            answer_code=500,
            error="answered 500",
        )
        with uow:
            expect_equal(present(uow.webhook_deliveries.get("whd_1")).event, first)
            uow.webhook_deliveries.save(sent)
            uow.commit()
        with uow:
            expect_equal(uow.webhook_deliveries.get("whd_1"), sent)
            expect_equal(uow.webhook_deliveries.get("whd_3"), None)
            listed = uow.webhook_deliveries.for_endpoint("whe_1", 10)
            expect_equal({d.id for d in listed}, {"whd_1", "whd_2"})

    def test_due_deliveries_of_enabled_endpoints_are_claimed_oldest_due_first(
        self, uow: UnitOfWork
    ) -> None:
        events = _events(uow, 4)
        later = T0 + timedelta(minutes=5)
        with uow:
            uow.webhook_endpoints.add(an_endpoint("whe_1"))
            uow.webhook_endpoints.add(an_endpoint("whe_2").disabled(T0, "off"))
            uow.webhook_deliveries.add_all(
                [
                    replace(a_delivery("whd_a", events[0]), next_attempt_at=later),
                    a_delivery("whd_b", events[1]),
                    a_delivery("whd_c", events[2], "whe_2"),
                    replace(a_delivery("whd_d", events[3]), status=DeliveryStatus.SUCCEEDED),
                ]
            )
            uow.commit()
        with uow:
            expect_equal([d.id for d in uow.webhook_deliveries.claim_due(T0, 10)], ["whd_b"])
            due = uow.webhook_deliveries.claim_due(later, 10)
            expect_equal([d.id for d in due], ["whd_b", "whd_a"])

    def test_events_passed_over_are_the_oldest_not_fanned_out(self, uow: UnitOfWork) -> None:
        _, second, _, fourth = _events(uow, 4)
        with uow:
            uow.outbox.mark_fanned_out([second.position], T0)
            uow.commit()
        with uow:
            expect_equal(uow.outbox.pass_over_for_webhooks(2, T0), 2)
            uow.commit()
        with uow:
            expect_equal([e.event_id for e in uow.outbox.claim_for_webhooks(10)], [fourth.event_id])
            expect_equal(uow.outbox.pass_over_for_webhooks(10, T0), 1)
            expect_equal(uow.outbox.pass_over_for_webhooks(10, T0), 0)
            expect_equal(uow.outbox.count_unpublished(), 4)
            uow.commit()
        with uow:
            expect_equal(uow.outbox.claim_for_webhooks(10), [])

    def test_the_webhooks_progress_is_apart_from_publishing(self, uow: UnitOfWork) -> None:
        first, second = _events(uow, 2)
        with uow:
            uow.outbox.mark_published([first.position], T0)
            uow.outbox.mark_fanned_out([first.position], T0)
            uow.commit()
        with uow:
            expect_equal([e.event_id for e in uow.outbox.claim_for_webhooks(10)], [second.event_id])
            expect_equal(uow.outbox.count_unpublished(), 1)
