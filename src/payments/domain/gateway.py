"""Gateway value types: what a payment gateway is asked, what it answers, and what it can serve."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Final

from payments.domain.errors import FieldError, ValidationError
from payments.domain.money import Money
from payments.domain.next_action import NextAction
from payments.domain.purchase import GatewayObservation
from payments.domain.refund import RefundObservation, RefundStatus

RESEND_WINDOW: Final = timedelta(hours=23)
"""How long after a payment start or a refund was made it may be sent again under its provider
idempotency key. Providers keep a key for 24 hours at least (Stripe prunes keys "after they're
at least 24 hours old", and a pruned key makes a new request), so within this window a payment
or refund the provider did make is answered again, never made twice; past it, it is left to its
provider's notification, expiry or an operator."""


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
    maximum_amount: Money | None = None
    amount_steps: Mapping[str, int] = field(default_factory=dict, hash=False, compare=True)
    refund_methods: frozenset[str] | None = None
    """The payment methods whose payments can be refunded (None: every one it takes); Wompi
    gives money back only by voiding a card payment."""
    payment_window: timedelta | None = None
    """How long a payer may take to pay once the payment started (a cash voucher's validity):
    reconciliation never expires one of this gateway's purchases sooner. None: the service's
    payment window alone."""
    saved_methods: bool = False
    """Whether it keeps a customer's payment method and charges it off-session (renewals of
    subscriptions): ``save_payment_method`` and ``charge_saved_method`` work."""

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
        if (
            self.maximum_amount is not None
            and self.maximum_amount.currency == amount.currency
            and amount > self.maximum_amount
        ):
            return f"the maximum is {self.maximum_amount}"
        step = self.amount_steps.get(amount.currency.code)
        if step is not None and amount.to_minor_units() % step:
            return f"charges {amount.currency.code} only in multiples of {step} minor units"
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class PayerDetails:
    """What some payment methods ask of the payer besides a name and e-mail, passed to the
    gateway and never stored.

    PSE (PayU, Wompi) asks for the ``document_type`` and ``document_number`` (CC, CE, NIT, ...),
    whether the payer is a person or a company (``person_type``: ``natural`` or ``juridical``)
    and the payer's ``ip_address``; Nequi asks for a ``phone``; cash vouchers print the document.
    """

    phone: str | None = None
    document_type: str | None = None
    document_number: str | None = None
    person_type: str | None = None
    ip_address: str | None = None

    def check(self) -> None:
        """``ValidationError`` naming each field that is not a short printable string."""
        errors = [
            FieldError(f"payer.{detail.name}", "must be 1 to 64 printable characters")
            for detail in fields(PayerDetails)
            if (value := getattr(self, detail.name)) is not None
            and not (isinstance(value, str) and 1 <= len(value) <= 64 and value.isprintable())
        ]
        if self.person_type not in (None, "natural", "juridical"):
            errors.append(FieldError("payer.person_type", "must be 'natural' or 'juridical'"))
        if errors:
            raise ValidationError("The payer details are invalid.", errors=errors)


@dataclass(frozen=True, slots=True)
class Payer(PayerDetails):
    """Who pays, as far as a provider needs to know: the customer, its e-mail and name (either
    may be unknown), and the details some methods need (given by keyword)."""

    customer_id: str
    email: str | None
    name: str | None


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
    payment_token: str | None = None
    """A token of the payer's payment details that the payer's browser got from the provider
    itself (Wompi's card token ``tok_...``, made with the public key), for a provider that
    takes the details with the payment; None where the provider collects them after the start."""


@dataclass(frozen=True, slots=True)
class SaveMethodRequest:
    """Keep ``method_token`` (a provider's token of the payer's method, such as Stripe's
    ``pm_...``) for our customer, for charges made without the payer present.

    ``customer_reference`` is the provider's customer a method was saved for before (None:
    make one). Safe to repeat with the same ``idempotency_key``."""

    customer_id: str
    email: str | None
    method_token: str
    idempotency_key: str
    customer_reference: str | None = None


@dataclass(frozen=True, slots=True)
class SavedPaymentMethod:
    """A payment method the provider keeps for a customer, charged without the payer present:
    ``customer_reference`` is the provider's customer (Stripe's ``cus_...``) and
    ``method_reference`` the method kept for it (Stripe's ``pm_...``)."""

    gateway: str
    customer_reference: str
    method_reference: str


@dataclass(frozen=True, slots=True)
class OffSessionCharge:
    """Charge a saved method now, without the payer (a subscription's renewal).

    ``idempotency_key`` names the subscription's period and attempt: the same charge asked
    twice is made once."""

    purchase_id: str
    reference: str
    amount: Money
    method: SavedPaymentMethod
    idempotency_key: str
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False, compare=True)


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
