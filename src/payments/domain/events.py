"""Domain events: frozen, past-tense facts that the aggregates record and the outbox publishes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, TypeVar, dataclass_transform

from payments.domain.money import Money


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Base of every event; ``name`` is the stable wire name (``purchase.completed``)."""

    occurred_at: datetime

    name = "event"
    aggregate_field: ClassVar[str] = "purchase_id"
    """The field naming the aggregate the event is about: its events are published in order."""

    @property
    def aggregate_id(self) -> str:
        """The id of the aggregate the event is about (a purchase's, a customer's)."""
        return str(getattr(self, self.aggregate_field))

    def payload(self) -> dict[str, object]:
        """The event's fields as JSON-ready values (Money as dicts, decimals and times as text)."""
        out: dict[str, object] = {}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, str | bool | int) or value is None:
                out[name] = value
            elif isinstance(value, Money):
                out[name] = value.to_dict()
            elif isinstance(value, datetime):
                out[name] = value.isoformat()
            elif isinstance(value, Decimal):
                out[name] = str(value)
            else:
                out[name] = value
        return out


_FIELD_NAMES: dict[type[DomainEvent], tuple[str, ...]] = {}


def _field_names(cls: type[DomainEvent]) -> tuple[str, ...]:
    """The names of an event class's fields, in order (``fields`` builds them on every call)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


_Event = TypeVar("_Event", bound=DomainEvent)


@dataclass_transform(frozen_default=True)
def domain_event(name: str, *, about: str | None = None) -> Callable[[type[_Event]], type[_Event]]:
    """Declares a domain event: a frozen, slotted dataclass published under the wire ``name``,
    in order among the events of the aggregate its field ``about`` names (by default as its
    base class says: the purchase)."""

    def declare(cls: type[_Event]) -> type[_Event]:
        cls.name = name
        if about is not None:
            cls.aggregate_field = about
        return dataclass(frozen=True, slots=True)(cls)

    return declare


@dataclass(frozen=True, slots=True)
class PurchaseEvent(DomainEvent):
    """An event about one purchase that names the purchase's customer too."""

    purchase_id: str
    customer_id: str


@domain_event("purchase.created")
class PurchaseCreated(PurchaseEvent):
    product_id: str
    amount: Money
    gateway: str | None


@domain_event("purchase.status_changed")
class PurchaseStatusChanged(PurchaseEvent):
    from_status: str
    to_status: str
    cause: str


@domain_event("purchase.completed")
class PurchaseCompleted(PurchaseEvent):
    amount: Money
    credits: Decimal
    needs_review: bool


@domain_event("purchase.flagged_for_review")
class PurchaseFlaggedForReview(DomainEvent):
    purchase_id: str
    reason: str


@domain_event("refund.recorded")
class RefundRecorded(DomainEvent):
    purchase_id: str
    refund_id: str
    amount: Money
    status: str


@domain_event("credits.consumed", about="customer_id")
class CreditsConsumed(DomainEvent):
    customer_id: str
    credits: Decimal
    reference: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the outbox keeps it, for a relay to publish: ``event_id`` is stable (a
    re-publish carries the same one), ``position`` its place in the outbox's order, ``data`` the
    event's JSON-ready payload (Money as ``{amount, currency}`` strings)."""

    position: int
    event_id: str
    name: str
    aggregate_id: str
    occurred_at: datetime
    data: Mapping[str, object]
    published_at: datetime | None = None


__all__ = [
    "CreditsConsumed",
    "DomainEvent",
    "PurchaseCompleted",
    "PurchaseCreated",
    "PurchaseEvent",
    "PurchaseFlaggedForReview",
    "PurchaseStatusChanged",
    "RefundRecorded",
    "StoredEvent",
    "domain_event",
]
