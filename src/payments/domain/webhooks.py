"""Merchant webhooks: endpoints subscribed to outbox events, and the deliveries to them."""

from __future__ import annotations

import enum
import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from payments.domain.errors import FieldError, ValidationError
from payments.domain.events import DomainEvent, StoredEvent

ALL_EVENTS: Final = "*"
"""Subscribes an endpoint to every event type, present and future."""

RETRY_WINDOW: Final = timedelta(days=3)
"""A delivery is retried for this long after its first attempt; then its endpoint is disabled."""

FIRST_RETRY: Final = timedelta(minutes=1)
LONGEST_WAIT: Final = timedelta(hours=6)
ATTEMPT_LEASE: Final = timedelta(minutes=2)
"""How long a worker's claim on a due delivery keeps other workers off it (longer than a send's
timeout): a worker that dies mid-send leaves the delivery to be sent again after it."""

MAX_EVENT_TYPES: Final = 50
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a prefix, not a secret


class EndpointStatus(enum.StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    """Not yet answered 2xx; sent again at ``next_attempt_at``."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Gave up after the retry window (the endpoint was disabled); an operator may retry it."""


def known_event_types() -> frozenset[str]:
    """The wire names of every domain event class loaded (``purchase.completed``, ...)."""
    names: set[str] = set()
    pending: list[type[DomainEvent]] = [DomainEvent]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.name != DomainEvent.name:
            names.add(cls.name)
    return frozenset(names)


def checked_event_types(requested: Sequence[str]) -> tuple[str, ...]:
    """The subscription, deduplicated in the order given; ``ValidationError`` naming ``events``
    for an empty list, an unknown type, or ``*`` beside other types."""
    wanted = tuple(dict.fromkeys(requested))
    if not wanted or len(wanted) > MAX_EVENT_TYPES:
        raise _events_error(f"must list 1 to {MAX_EVENT_TYPES} event types, or ['*']")
    if ALL_EVENTS in wanted:
        if len(wanted) > 1:
            raise _events_error("'*' already names every event type: send it alone")
        return wanted
    known = known_event_types()
    unknown = [name for name in wanted if name not in known]
    if unknown:
        listed = ", ".join(sorted(known))
        raise _events_error(f"unknown event type {unknown[0]!r}; known types: {listed}")
    return wanted


def _events_error(message: str) -> ValidationError:
    problem = FieldError("events", message)
    return ValidationError("The webhook endpoint is invalid.", errors=[problem])


def new_signing_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """A merchant's URL and the event types it receives. ``sealed_secret`` is the signing
    secret as the ``SecretBox`` sealed it: the plain secret is shown once, at creation.
    ``disabled_reason`` says why a disabled endpoint is off (flagged for an operator when the
    retry window ran out)."""

    id: str
    url: str
    events: tuple[str, ...]
    sealed_secret: str
    status: EndpointStatus
    created_at: datetime
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    def wants(self, event: StoredEvent) -> bool:
        """Whether ``event`` goes to this endpoint: enabled, subscribed to its type, and created
        no later than the event happened (an endpoint never receives older history)."""
        return (
            self.status is EndpointStatus.ENABLED
            and (ALL_EVENTS in self.events or event.name in self.events)
            and event.occurred_at >= self.created_at
        )

    def disabled(self, at: datetime, reason: str) -> WebhookEndpoint:
        """This endpoint switched off at ``at`` for ``reason`` (one already off stays as it was)."""
        if self.status is EndpointStatus.DISABLED:
            return self
        return replace(self, status=EndpointStatus.DISABLED, disabled_at=at, disabled_reason=reason)


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event for one endpoint, and how sending it went so far. ``attempts`` counts sends
    started; ``answer_code`` is the HTTP status of the last answer (None: no answer, then
    ``error`` says why)."""

    id: str
    endpoint_id: str
    event: StoredEvent
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    last_attempt_at: datetime | None = None
    answer_code: int | None = None
    error: str | None = None
    delivered_at: datetime | None = None

    def claimed(self, now: datetime) -> WebhookDelivery:
        """One more attempt starts at ``now``, leased for ``ATTEMPT_LEASE``."""
        return replace(
            self,
            attempts=self.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=now + ATTEMPT_LEASE,
        )

    def succeeded(self, now: datetime, answer_code: int | None) -> WebhookDelivery:
        return replace(
            self,
            status=DeliveryStatus.SUCCEEDED,
            answer_code=answer_code,
            error=None,
            delivered_at=now,
        )

    def failed_attempt(
        self, now: datetime, answer_code: int | None, error: str | None, jitter: random.Random
    ) -> WebhookDelivery:
        """The attempt failed: sent again after the backoff, or ``FAILED`` once the next try
        would fall after the retry window (counted from the delivery's creation)."""
        retry_at = now + retry_delay(self.attempts, jitter)
        outcome = replace(self, answer_code=answer_code, error=error)
        if retry_at > self.created_at + RETRY_WINDOW:
            return replace(outcome, status=DeliveryStatus.FAILED, next_attempt_at=now)
        return replace(outcome, next_attempt_at=retry_at)

    def failed_resend(
        self,
        before: DeliveryStatus,
        now: datetime,
        answer_code: int | None,
        error: str | None,
        jitter: random.Random,
    ) -> WebhookDelivery:
        """A send by hand failed: a delivery that was pending goes on with its schedule
        (``failed_attempt``); one delivered or given up keeps that status, with this answer
        recorded."""
        if before is DeliveryStatus.PENDING:
            return self.failed_attempt(now, answer_code, error, jitter)
        return replace(self, status=before, answer_code=answer_code, error=error)

    def resent(self, now: datetime) -> WebhookDelivery:
        """Due again now, on an operator's request, whatever its status."""
        return replace(self, status=DeliveryStatus.PENDING, next_attempt_at=now)


def retry_delay(attempts: int, jitter: random.Random) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: one minute doubled each time up to six
    hours, times a random factor in [0.75, 1.0] so that endpoints that failed together are not
    all retried at once."""
    exponent = max(attempts - 1, 0)
    ceiling: timedelta = min(FIRST_RETRY * (2 ** min(exponent, 30)), LONGEST_WAIT)
    factor: float = jitter.uniform(0.75, 1.0)
    return ceiling * factor


def deliveries_for(
    event: StoredEvent,
    endpoints: Iterable[WebhookEndpoint],
    new_id: Callable[[], str],
    now: datetime,
) -> list[WebhookDelivery]:
    """A pending delivery of ``event`` for each endpoint that wants it, due now."""
    return [
        WebhookDelivery(
            id=new_id(),
            endpoint_id=endpoint.id,
            event=event,
            status=DeliveryStatus.PENDING,
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint in endpoints
        if endpoint.wants(event)
    ]
