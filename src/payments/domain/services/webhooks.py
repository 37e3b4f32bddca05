"""Merchant webhooks: endpoints managed by admins, and the worker that fans out and sends events."""

from __future__ import annotations

import builtins
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from payments.domain.errors import NotFoundError
from payments.domain.ports import Clock, IdGenerator, UnitOfWork
from payments.domain.services.records import found
from payments.domain.webhook_ports import SecretBox, WebhookSender
from payments.domain.webhooks import (
    RETRY_WINDOW,
    DeliveryStatus,
    EndpointStatus,
    WebhookDelivery,
    WebhookEndpoint,
    checked_event_types,
    deliveries_for,
    new_signing_secret,
)

log = logging.getLogger(__name__)

FAN_OUT_BATCH = 100
SEND_BATCH = 5
"""Deliveries leased at once: all of them must be sent within the lease (2 minutes), so that no
other worker takes one still being sent (5 sends of at most 13 s each)."""
MAX_BATCHES = 20
"""Batches of each kind per round, so that one round ends even while events keep coming."""
DELIVERIES_LISTED = 100
GAVE_UP = f"deliveries kept failing for {RETRY_WINDOW.days} days"
TURNED_OFF = "disabled by an operator"


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    """A new endpoint and its signing secret in the clear: shown once, never stored so."""

    endpoint: WebhookEndpoint
    secret: str


@dataclass
class DispatchReport:
    """What one worker round did: deliveries made from new events, sends answered 2xx, sends
    that failed and are tried again later (``retried``), sends that failed for good (their
    retry window ran out: ``failed``), and endpoints disabled because of that. Each send is
    counted once, as delivered, retried or failed."""

    fanned_out: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    disabled: list[str] = field(default_factory=list)

    def outcomes(self) -> dict[str, int]:
        """The sends by outcome and the endpoints disabled: ``delivered``, ``retried``,
        ``failed``, ``disabled``."""
        return {
            "delivered": self.delivered,
            "retried": self.retried,
            "failed": self.failed,
            "disabled": len(self.disabled),
        }


class _WebhookUseCase:
    """What both webhook use cases work with. ``jitter`` spreads retries (seed it in tests)."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        sender: WebhookSender,
        secrets: SecretBox,
        clock: Clock,
        ids: IdGenerator,
        *,
        jitter: random.Random | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._sender = sender
        self._secrets = secrets
        self._clock = clock
        self._ids = ids
        self._jitter = jitter or random.Random()  # noqa: S311 - spreads retries, not a secret


class WebhookDispatcher(_WebhookUseCase):
    """Turns outbox events into deliveries and sends the due ones, signed.

    ``fan_out`` claims events the webhooks have not seen (their progress is their own: the
    broker relay's does not count) and writes one delivery per endpoint that wants each, in the
    same unit of work that marks them. ``run`` then leases due deliveries (claimed ``FOR UPDATE
    SKIP LOCKED`` and committed with a lease, so two workers never send one at once), sends them
    outside any transaction, and records each answer: 2xx delivered; anything else is retried
    with exponential backoff and jitter until ``RETRY_WINDOW`` ends, when the delivery fails and
    its endpoint is disabled and flagged.
    """

    def run(self) -> DispatchReport:
        """One round: fan out what is new, then send what is due (each in batches, at most
        ``MAX_BATCHES`` of them)."""
        report = DispatchReport(fanned_out=self.fan_out())
        for _ in range(MAX_BATCHES):
            if self._send_batch(report) < SEND_BATCH:
                break
        return report

    def fan_out(self, batch: int = FAN_OUT_BATCH) -> int:
        """Deliveries for new events, ``batch`` events at a time; returns how many deliveries
        were made."""
        made = 0
        for _ in range(MAX_BATCHES):
            written, claimed = self._fan_out_batch(batch)
            made += written
            if claimed < batch:
                break
        return made

    def _fan_out_batch(self, batch: int) -> tuple[int, int]:
        """Deliveries for up to ``batch`` new events: (deliveries made, events claimed)."""
        with self._uow() as uow:
            listed = uow.webhook_endpoints.list()
            endpoints = [e for e in listed if e.status is EndpointStatus.ENABLED]
            now = self._clock.now()
            if not endpoints:  # nobody to deliver to: the events are passed over unread
                passed = uow.outbox.pass_over_for_webhooks(batch, now)
                uow.commit()
                return 0, passed
            events = uow.outbox.claim_for_webhooks(batch)
            if not events:
                return 0, 0
            made = [
                delivery
                for event in events
                for delivery in deliveries_for(event, endpoints, lambda: self._ids.new("whd"), now)
            ]
            written = uow.webhook_deliveries.add_all(made)
            uow.outbox.mark_fanned_out([e.position for e in events], now)
            uow.commit()
            return written, len(events)

    def _send_batch(self, report: DispatchReport) -> int:
        """Lease up to ``SEND_BATCH`` due deliveries and send each once; returns how many."""
        with self._uow() as uow:
            now = self._clock.now()
            due = uow.webhook_deliveries.claim_due(now, SEND_BATCH)
            leased = [d.claimed(now) for d in due]
            endpoints = {d.endpoint_id: uow.webhook_endpoints.get(d.endpoint_id) for d in leased}
            for delivery in leased:
                uow.webhook_deliveries.save(delivery)
            uow.commit()
        for delivery in leased:
            endpoint = endpoints[delivery.endpoint_id]
            if endpoint is not None:
                self._send(endpoint, delivery, report)
        return len(leased)

    def resend(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
        """Send one delivery again now, whatever its status or its endpoint's (an operator
        checks a repaired endpoint this way); returns it with the answer."""
        with self._uow() as uow:
            endpoint = uow.webhook_endpoints.get(endpoint_id)
            delivery = uow.webhook_deliveries.get(delivery_id)
            if endpoint is None or delivery is None or delivery.endpoint_id != endpoint_id:
                raise NotFoundError(f"No delivery {delivery_id!r} of endpoint {endpoint_id!r}.")
            leased = delivery.resent(self._clock.now()).claimed(self._clock.now())
            uow.webhook_deliveries.save(leased)
            uow.commit()
        return self._send(endpoint, leased, DispatchReport(), resent_from=delivery.status)

    def _send(
        self,
        endpoint: WebhookEndpoint,
        delivery: WebhookDelivery,
        report: DispatchReport,
        resent_from: DeliveryStatus = DeliveryStatus.PENDING,
    ) -> WebhookDelivery:
        """Send a leased delivery and record the answer; ``resent_from``: the status a delivery
        sent again by hand had (a failed resend of a delivered one does not undo it)."""
        result = self._sender.send(
            endpoint.url, self._secrets.open(endpoint.sealed_secret), delivery.event
        )
        now = self._clock.now()
        if result.accepted:
            outcome = delivery.succeeded(now, result.status)
            report.delivered += 1
        else:
            outcome = delivery.failed_resend(
                resent_from, now, result.status, result.error, self._jitter
            )
            if outcome.status is DeliveryStatus.FAILED:
                report.failed += 1
            else:
                report.retried += 1
            log.warning(
                "webhooks: delivery %s of %s to endpoint %s failed (attempt %d, answer %s%s)",
                delivery.id,
                delivery.event.event_id,
                endpoint.id,
                delivery.attempts,
                result.status,
                f", {result.error}" if result.error else "",
            )
        with self._uow() as uow:
            uow.webhook_deliveries.save(outcome)
            if outcome.status is DeliveryStatus.FAILED and resent_from is DeliveryStatus.PENDING:
                self._give_up(uow, endpoint.id, report)
            uow.commit()
        return outcome

    def _give_up(self, uow: UnitOfWork, endpoint_id: str, report: DispatchReport) -> None:
        """A delivery ran out of its retry window: its endpoint is disabled and flagged."""
        endpoint = uow.webhook_endpoints.get(endpoint_id)
        if endpoint is None or endpoint.status is EndpointStatus.DISABLED:
            return
        uow.webhook_endpoints.save(endpoint.disabled(self._clock.now(), GAVE_UP))
        report.disabled.append(endpoint_id)
        log.error("webhooks: endpoint %s disabled and flagged: %s", endpoint_id, GAVE_UP)


class WebhookEndpoints(_WebhookUseCase):
    """What admins do with merchant webhook endpoints."""

    def create(self, url: str, events: Sequence[str]) -> CreatedEndpoint:
        """A new enabled endpoint for ``events`` (``["*"]``: all) at ``url``; its secret is
        returned in the clear this once and stored sealed. ``ValidationError`` for an unknown
        event type or a URL events may not go to (in live mode: a private or loopback host)."""
        subscribed = checked_event_types(events)
        self._sender.check_destination(url)
        secret = new_signing_secret()
        endpoint = WebhookEndpoint(
            id=self._ids.new("whe"),
            url=url,
            events=subscribed,
            sealed_secret=self._secrets.seal(secret),
            status=EndpointStatus.ENABLED,
            created_at=self._clock.now(),
        )
        with self._uow() as uow:
            uow.webhook_endpoints.add(endpoint)
            uow.commit()
        return CreatedEndpoint(endpoint, secret)

    def list(self) -> list[WebhookEndpoint]:
        with self._uow() as uow:
            return uow.webhook_endpoints.list()

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        with self._uow() as uow:
            return _found(uow, endpoint_id)

    def disable(self, endpoint_id: str) -> WebhookEndpoint:
        """Stop sending to the endpoint (its deliveries stay listed); idempotent."""
        with self._uow() as uow:
            endpoint = _found(uow, endpoint_id)
            off = endpoint.disabled(self._clock.now(), TURNED_OFF)
            if off is not endpoint:
                uow.webhook_endpoints.save(off)
                uow.commit()
            return off

    def deliveries(self, endpoint_id: str) -> builtins.list[WebhookDelivery]:
        """The endpoint's deliveries, newest first (at most ``DELIVERIES_LISTED``)."""
        with self._uow() as uow:
            _found(uow, endpoint_id)
            return uow.webhook_deliveries.for_endpoint(endpoint_id, DELIVERIES_LISTED)


def _found(uow: UnitOfWork, endpoint_id: str) -> WebhookEndpoint:
    return found(uow.webhook_endpoints.get(endpoint_id), f"No webhook endpoint {endpoint_id!r}.")
