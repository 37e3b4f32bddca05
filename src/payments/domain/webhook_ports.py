"""Ports of merchant webhooks: their repositories, the sender, the box that seals secrets."""

from __future__ import annotations

import abc
import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from payments.domain.events import StoredEvent
from payments.domain.webhooks import WebhookDelivery, WebhookEndpoint


class WebhookEndpointRepository(abc.ABC):
    """Merchant webhook endpoints; their secrets only ever sealed."""

    @abc.abstractmethod
    def add(self, endpoint: WebhookEndpoint) -> None:
        """Store a new endpoint (its secret sealed already); ``ConflictError`` if its id is
        taken."""

    @abc.abstractmethod
    def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        """The endpoint with this id, enabled or disabled; None when there is none."""

    @abc.abstractmethod
    def list(self) -> builtins.list[WebhookEndpoint]:
        """Every endpoint, disabled ones too, oldest first (by creation time, then id): the
        dispatcher picks the enabled ones, admins see all."""

    @abc.abstractmethod
    def save(self, endpoint: WebhookEndpoint) -> None:
        """Store the endpoint's new status and why it is off; ``ConflictError`` for an
        endpoint never added."""


class WebhookDeliveryRepository(abc.ABC):
    """One row per (endpoint, event), with how sending it went so far."""

    @abc.abstractmethod
    def add_all(self, deliveries: Sequence[WebhookDelivery]) -> int:
        """Store new deliveries; one of an (endpoint, event) pair already stored is skipped.
        Returns how many were stored."""

    @abc.abstractmethod
    def get(self, delivery_id: str) -> WebhookDelivery | None:
        """The delivery with this id, whatever its status; None when there is none."""

    @abc.abstractmethod
    def save(self, delivery: WebhookDelivery) -> None:
        """Store the delivery's new state (attempts, lease, answer, status); ``ConflictError``
        for a delivery never added."""

    @abc.abstractmethod
    def claim_due(self, now: datetime, limit: int) -> builtins.list[WebhookDelivery]:
        """Up to ``limit`` pending deliveries due by ``now`` to enabled endpoints, oldest due
        first, locked until this unit of work ends so that no other unit of work claims them
        (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). The caller leases them (``claimed``) before
        committing."""

    @abc.abstractmethod
    def for_endpoint(self, endpoint_id: str, limit: int) -> builtins.list[WebhookDelivery]:
        """The endpoint's deliveries, newest first (by creation time, then id), at most
        ``limit``."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """How the merchant answered one signed POST: its HTTP status, or no answer (``status``
    None, ``error`` says what happened: a timeout, a refused connection)."""

    status: int | None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        """A 2xx answer: the merchant has the event."""
        return self.status is not None and 200 <= self.status < 300


class WebhookSender(abc.ABC):
    """Sends signed events to merchants' URLs."""

    @abc.abstractmethod
    def check_destination(self, url: str) -> None:
        """Raise ``ValidationError`` (field ``url``) for a URL events may not go to: not http(s),
        or, in live mode, a host that resolves to a private, loopback or link-local address."""

    @abc.abstractmethod
    def send(self, url: str, secret: str, event: StoredEvent) -> SendResult:
        """POST the event as JSON to ``url``, signed with ``secret`` (``Payments-Signature``),
        with explicit timeouts. Never raises for what the network or the merchant did: that is
        in the result."""


class SecretBox(abc.ABC):
    """Seals the signing secrets we must keep to sign with (the database never holds them in
    the clear) and opens them again."""

    @abc.abstractmethod
    def seal(self, secret: str) -> str:
        """The secret encrypted and authenticated, as text to store."""

    @abc.abstractmethod
    def open(self, sealed: str) -> str:
        """The secret back; ``ConfigurationError`` when no configured key opens it."""
