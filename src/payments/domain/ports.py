"""Ports: what the domain needs from the outside world, in domain types only."""

from __future__ import annotations

import abc
import builtins
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from payments.domain.access import ApiKey
from payments.domain.catalog import Product
from payments.domain.customer import Customer
from payments.domain.events import DomainEvent
from payments.domain.idempotency import IdempotencyRecord
from payments.domain.inbox import InboxMessage
from payments.domain.ledger import LedgerEntry
from payments.domain.money import Money
from payments.domain.purchase import (
    AuditRecord,
    GatewayObservation,
    NextAction,
    Purchase,
    PurchaseStatus,
)
from payments.domain.refund import Refund, RefundObservation, RefundStatus

# -- gateways --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GatewayCapabilities:
    """What a gateway can serve; a request it cannot serve is refused before any I/O.

    ``currencies`` and ``countries`` of ``None`` mean "any". ``authoritative_lookup`` says that
    ``lookup`` finds a payment by our reference alone, without the provider's id, so
    reconciliation can recover a start whose answer was lost. ``amount_steps`` maps a currency
    code to the multiple of minor units the provider can charge in it (Stripe charges the
    three-decimal currencies in multiples of 10 thousandths): an amount off that step is refused
    here, before any I/O, rather than rounded into a price the customer never saw.
    """

    currencies: frozenset[str] | None
    countries: frozenset[str] | None
    payment_methods: frozenset[str]
    refunds: bool = True
    partial_refunds: bool = True
    cancel: bool = True
    authoritative_lookup: bool = True
    minimum_amount: Money | None = None
    amount_steps: Mapping[str, int] = field(default_factory=dict, hash=False, compare=True)

    def refusal(self, country: str, amount: Money, payment_method: str | None) -> str | None:
        """Why this gateway cannot take the payment, or None if it can."""
        if self.currencies is not None and amount.currency.code not in self.currencies:
            return f"does not support {amount.currency.code}"
        if self.countries is not None and country not in self.countries:
            return f"does not serve {country}"
        if payment_method is not None and payment_method not in self.payment_methods:
            return f"does not support {payment_method} payments"
        if (
            self.minimum_amount is not None
            and self.minimum_amount.currency == amount.currency
            and amount < self.minimum_amount
        ):
            return f"the minimum is {self.minimum_amount}"
        step = self.amount_steps.get(amount.currency.code)
        if step is not None and amount.to_minor_units() % step:
            return f"charges {amount.currency.code} only in multiples of {step} minor units"
        return None


@dataclass(frozen=True, slots=True)
class Payer:
    """Who pays, as far as a provider needs to know (e-mail and name may be unknown).

    The Latin American methods need more of the payer: PSE (PayU, Wompi) asks for the
    ``document_type`` and ``document_number`` (CC, CE, NIT, ...), whether the payer is a person
    or a company (``person_type``: ``natural`` or ``juridical``) and the payer's ``ip_address``;
    Nequi asks for a ``phone``; cash vouchers print the name and document.
    """

    customer_id: str
    email: str | None
    name: str | None
    phone: str | None = None
    document_type: str | None = None
    document_number: str | None = None
    person_type: str | None = None
    ip_address: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """Everything a gateway needs to start collecting one purchase's payment.

    ``idempotency_key`` is stable for the purchase and attempt: sending the same request again
    must not create a second payment at the provider.
    """

    purchase_id: str
    reference: str
    amount: Money
    description: str
    payer: Payer
    country: str
    payment_method: str | None
    idempotency_key: str
    return_url: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False, compare=True)
    bank_code: str | None = None
    """The PSE financial institution the payer chose (from ``PaymentGateway.banks``)."""


@dataclass(frozen=True, slots=True)
class Bank:
    """A financial institution a payer can pick for a bank transfer (PSE in Colombia)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PaymentStart:
    """The gateway's answer to a payment request.

    ``observation`` is set when the answer already tells the outcome (an instant approval or
    decline, or "processing").
    """

    gateway_reference: str
    next_action: NextAction | None
    observation: GatewayObservation | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """Give back ``amount`` of the payment ``gateway_reference``.

    ``full`` is True only when this single refund returns the whole captured amount (no earlier
    partial refunds), for providers that distinguish a void or full refund from a partial one.
    """

    refund_id: str
    purchase_reference: str
    gateway_reference: str
    amount: Money
    full: bool
    reason: str | None
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RefundResult:
    """The provider's answer: ``PENDING`` is normal for asynchronous refunds (a notification or a
    lookup settles it later); ``FAILED`` means it was rejected and nothing was given back."""

    gateway_refund_reference: str
    status: RefundStatus
    failure_message: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """A verified notification, translated: at most one payment and one refund observation.

    Both ``None`` means a notification we recognise as genuine but do not act on.
    """

    provider: str
    event_id: str
    event_type: str
    payment: GatewayObservation | None = None
    refund: RefundObservation | None = None


class PaymentGateway(abc.ABC):
    """One payment provider behind the domain's vocabulary. No provider type crosses this port.

    Errors: ``PaymentDeclinedError`` (with the provider code), ``GatewayUnavailableError``
    (retryable; ``charged_possible`` says whether the provider may have acted),
    ``GatewayConfigurationError`` (credentials or setup: never retry), ``InvalidSignatureError``
    and ``MalformedNotificationError`` for notifications.
    """

    name: str
    capabilities: GatewayCapabilities

    @abc.abstractmethod
    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        """Create the payment at the provider; safe to repeat with the same idempotency key."""

    @abc.abstractmethod
    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """What the provider knows now about our ``reference`` (None: it has never seen it)."""

    @abc.abstractmethod
    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """Cancel an uncaptured payment; returns what the provider says the payment is now."""

    @abc.abstractmethod
    def refund(self, request: RefundRequest) -> RefundResult:
        """Give back ``request.amount`` of a captured payment; safe to repeat with the same key."""

    @abc.abstractmethod
    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, *, verify: bool = True
    ) -> Notification:
        """Verify (unless ``verify`` is False, for a message already verified when it was stored)
        and translate a raw notification. ``headers`` have lower-case names."""

    def banks(self, country: str) -> builtins.list[Bank]:
        """The institutions a payer can choose for a bank transfer in ``country`` (PSE).

        Gateways without bank transfers answer an empty list; those with them override this.
        """
        return []


# -- repositories ----------------------------------------------------------------------------------


class ProductRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, product: Product) -> None:
        """Store a new product; ``ConflictError`` if its id is taken."""

    @abc.abstractmethod
    def get(self, product_id: str) -> Product | None:
        """The product, or None."""

    @abc.abstractmethod
    def list(self, *, active_only: bool = True) -> builtins.list[Product]:
        """Products ordered by creation time."""


class CustomerRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, customer: Customer) -> None:
        """Store a new customer; ``ConflictError`` if its id or e-mail (when set) is taken."""

    @abc.abstractmethod
    def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        """The customer, or None; ``for_update`` locks it (serializing its credit consumption)."""

    @abc.abstractmethod
    def get_by_email(self, email: str) -> Customer | None:
        """The customer with this normalised e-mail, or None."""


@dataclass(frozen=True, slots=True)
class PurchasePage:
    items: list[Purchase]
    next_cursor: str | None


class PurchaseRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, purchase: Purchase) -> None:
        """Store a new purchase with its pending audit records.

        ``ConflictError`` if its id, reference or (gateway, gateway reference) is taken.
        """

    @abc.abstractmethod
    def get(self, purchase_id: str, *, for_update: bool = False) -> Purchase | None:
        """The purchase; ``for_update`` locks it until the unit of work ends."""

    @abc.abstractmethod
    def get_by_reference(self, reference: str, *, for_update: bool = False) -> Purchase | None:
        """The purchase with our reference."""

    @abc.abstractmethod
    def get_by_gateway_reference(
        self, gateway: str, gateway_reference: str, *, for_update: bool = False
    ) -> Purchase | None:
        """The purchase a provider knows by ``gateway_reference``."""

    @abc.abstractmethod
    def save(self, purchase: Purchase) -> None:
        """Persist the purchase's changes and append its pending audit records.

        ``purchase.version`` must be the stored version it was read at; the repository bumps both.
        Raises ``ConflictError`` if the stored version moved since it was read (a lost update).
        """

    @abc.abstractmethod
    def list(
        self,
        *,
        customer_id: str | None = None,
        status: PurchaseStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> PurchasePage:
        """Newest first; ``cursor`` is the opaque ``next_cursor`` of the previous page."""

    @abc.abstractmethod
    def list_open(self, *, updated_before: datetime, limit: int = 100) -> builtins.list[Purchase]:
        """Pending or processing purchases not touched since ``updated_before``, oldest first."""

    @abc.abstractmethod
    def audit_trail(self, purchase_id: str) -> builtins.list[AuditRecord]:
        """Every status change of the purchase, oldest first."""


class RefundRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, refund: Refund) -> None:
        """Store a new refund; ``ConflictError`` if its id or gateway reference is taken."""

    @abc.abstractmethod
    def get(self, refund_id: str) -> Refund | None:
        """The refund, or None."""

    @abc.abstractmethod
    def get_by_gateway_reference(self, gateway: str, reference: str) -> Refund | None:
        """The refund a provider knows by ``reference``."""

    @abc.abstractmethod
    def for_purchase(self, purchase_id: str) -> list[Refund]:
        """The purchase's refunds, oldest first."""

    @abc.abstractmethod
    def save(self, refund: Refund) -> None:
        """Persist the refund's changes."""

    @abc.abstractmethod
    def list_unanswered(
        self, *, created_after: datetime, created_before: datetime, limit: int = 100
    ) -> list[Refund]:
        """Pending refunds without the provider's id (its answer never came), created after
        ``created_after`` and before ``created_before``, oldest first, at most ``limit``."""


class LedgerRepository(abc.ABC):
    @abc.abstractmethod
    def append(self, entry: LedgerEntry) -> bool:
        """Append an entry; False (and nothing written) when its source is already in the ledger."""

    def append_all(self, entries: Sequence[LedgerEntry]) -> int:
        """Append several entries at once, each as ``append`` would; returns how many were new.

        Repositories that can write them in one statement override this.
        """
        return sum(self.append(entry) for entry in entries)

    @abc.abstractmethod
    def for_customer(self, customer_id: str) -> list[LedgerEntry]:
        """The customer's entries, oldest first."""

    @abc.abstractmethod
    def by_source(self, source: str) -> LedgerEntry | None:
        """The entry with this unique source, or None."""

    @abc.abstractmethod
    def for_purchase(self, purchase_id: str) -> list[LedgerEntry]:
        """Entries about one purchase (its credits, payment and refunds), oldest first."""


class InboxRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, message: InboxMessage) -> bool:
        """Store a notification; False (nothing written) when (provider, event id) is already in."""

    @abc.abstractmethod
    def get(self, message_id: str) -> InboxMessage | None:
        """The message, or None."""

    @abc.abstractmethod
    def save(self, message: InboxMessage) -> None:
        """Persist the message's status, attempts and errors."""

    @abc.abstractmethod
    def claim_due(self, now: datetime, limit: int) -> builtins.list[InboxMessage]:
        """Failed messages whose retry time has come, locked so no other worker takes them."""

    @abc.abstractmethod
    def list(self, *, status: str | None = None, limit: int = 50) -> builtins.list[InboxMessage]:
        """Recent messages, newest first, optionally of one status."""


class IdempotencyRepository(abc.ABC):
    @abc.abstractmethod
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Claim ``(scope, key)``: None when claimed now; the existing live record otherwise."""

    @abc.abstractmethod
    def finish(self, record: IdempotencyRecord) -> None:
        """Store the response of a claimed key."""

    @abc.abstractmethod
    def release(self, scope: str, key: str) -> None:
        """Drop an unfinished claim (the request failed before producing a response)."""

    @abc.abstractmethod
    def purge_expired(self, now: datetime) -> int:
        """Forget keys past their lifetime; returns how many."""


class ApiKeyRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, key: ApiKey) -> None:
        """Store a new key; ``ConflictError`` if its id or hash is taken."""

    @abc.abstractmethod
    def get_by_hash(self, secret_hash: str) -> ApiKey | None:
        """The key whose secret hashes to ``secret_hash``, or None."""

    @abc.abstractmethod
    def get(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""

    @abc.abstractmethod
    def list(self) -> builtins.list[ApiKey]:
        """Every key, revoked ones too, oldest first."""

    @abc.abstractmethod
    def revoke(self, key_id: str, at: datetime) -> None:
        """Mark the key revoked at ``at``; one already revoked keeps its first time."""


class Outbox(abc.ABC):
    @abc.abstractmethod
    def add(self, events: Sequence[DomainEvent]) -> None:
        """Store events in the same transaction as the change that caused them."""


class UnitOfWork(abc.ABC):
    """One transaction over every repository. Leaving the block without ``commit()`` rolls back."""

    products: ProductRepository
    customers: CustomerRepository
    purchases: PurchaseRepository
    refunds: RefundRepository
    ledger: LedgerRepository
    inbox: InboxRepository
    idempotency: IdempotencyRepository
    api_keys: ApiKeyRepository
    outbox: Outbox

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Make every change of this unit durable at once."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Forget every uncommitted change; harmless after a commit."""


# -- small services ----------------------------------------------------------------------------


class Clock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class IdGenerator(abc.ABC):
    @abc.abstractmethod
    def new(self, prefix: str) -> str:
        """A new unique id such as ``pur_01J...``; ids of one prefix sort by creation time."""

    def many(self, prefix: str, count: int) -> list[str]:
        """``count`` new ids."""
        return [self.new(prefix) for _ in range(count)]


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0


class RateLimiter(abc.ABC):
    @abc.abstractmethod
    def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        """Count one hit on ``key``; refused once ``limit`` hits fall in the window."""


class EventPublisher(abc.ABC):
    @abc.abstractmethod
    def publish(self, events: Iterable[DomainEvent]) -> None:
        """Deliver events to whoever listens (after they were committed to the outbox)."""
