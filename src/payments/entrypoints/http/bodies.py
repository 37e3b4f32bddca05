"""Request bodies as msgspec Structs: one definition decodes, validates and documents each body.

Amounts are decimal strings (``"79.99"``), never JSON numbers: money never passes through float.
A ``message`` in a field's ``Meta.extra`` is what a refusal of that field says.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from payments.domain.catalog import MAX_TRIAL_DAYS, MAX_VALIDITY_DAYS, BillingCycle, ProductKind

PLAIN_DECIMAL = r"^[0-9]+(?:\.[0-9]+)?(?![\s\S])"
"""Digits, then optionally a point and more digits: no sign, exponent, space, "_" or other
Unicode digits (which Decimal would all accept). ASCII only, by construction. It ends with "no
character follows" rather than ``$``, which in Python also matches before a final newline."""
MAX_NUMBER_TEXT = 64
MAX_ID_LENGTH = 200
MAX_URL_LENGTH = 2000

Amount = Annotated[
    str,
    Meta(
        pattern=PLAIN_DECIMAL,
        min_length=1,
        max_length=MAX_NUMBER_TEXT,
        description=(
            "A plain decimal string (digits, optionally a point and digits), never a JSON "
            "number; no sign, exponent or spaces."
        ),
        examples=["79.99"],
        extra={"message": 'must be a decimal string such as "79.99" (no exponent or space)'},
    ),
]


def _code(length: int, standard: str, example: str) -> Meta:
    """A code of ``length`` letters from ``standard`` (checked in the domain)."""
    return Meta(
        min_length=length,
        max_length=length,
        description=f"{standard} code.",
        examples=[example],
        extra={"message": f"must be an {standard} code such as {example}"},
    )


CurrencyCode = Annotated[str, _code(3, "ISO 4217", "EUR")]
CreditsText = Annotated[
    str,
    Meta(
        pattern=PLAIN_DECIMAL,
        min_length=1,
        max_length=MAX_NUMBER_TEXT,
        examples=["8"],
        extra={"message": 'must be a decimal string such as "8" (digits, an optional point)'},
    ),
]


def _text(
    max_length: int, min_length: int = 1, *, description: str | None = None, **schema: object
) -> Meta:
    return Meta(
        min_length=min_length,
        max_length=max_length,
        description=description,
        extra_json_schema=dict(schema) or None,
        extra={"message": f"must be a string of {min_length} to {max_length} characters"},
    )


def _bounded(minimum: int, maximum: int) -> Meta:
    return Meta(
        ge=minimum, le=maximum, extra={"message": f"must be an integer {minimum} to {maximum}"}
    )


HttpUrl = Annotated[
    str,
    Meta(
        pattern="^https?://",
        min_length=1,
        max_length=MAX_URL_LENGTH,
        extra={"message": "must be an http(s) URL"},
    ),
]
EventType = Annotated[
    str,
    Meta(
        pattern=r"^(\*|[a-z_]+(\.[a-z_]+)+)$",
        min_length=1,
        max_length=100,
        description="An outbox event type (purchase.completed, refund.recorded, ...) or *.",
        examples=["purchase.completed"],
        extra={"message": "must be event types such as purchase.completed, or *"},
    ),
]

PaymentMethodName = Literal["bank_transfer", "card", "cash", "nequi", "pse"]
"""The payment methods a checkout may ask for (``routing.PAYMENT_METHODS``, checked by a test)."""


class Money(Struct, frozen=True):
    """``{"amount": "79.99", "currency": "EUR"}``."""

    amount: Amount
    currency: CurrencyCode


class ProductInput(Struct, frozen=True):
    """A new product (admin)."""

    name: Annotated[str, _text(200)]
    kind: ProductKind
    price: Money
    credits: CreditsText
    validity_days: Annotated[int, _bounded(1, MAX_VALIDITY_DAYS)] | None = None
    billing_cycle: BillingCycle | None = None
    trial_days: Annotated[int, _bounded(0, MAX_TRIAL_DAYS)] | None = None


class GuestCustomer(Struct, frozen=True):
    """Who buys as a guest (publishable key)."""

    email: Annotated[str, _text(254)]
    name: Annotated[str, _text(150)] | None = None


class PayerDetails(Struct, frozen=True):
    """What PSE (document, person type) and Nequi (phone) ask of the payer; passed to the
    gateway, never stored. The payer's IP address is taken from the request."""

    phone: Annotated[str, _text(64)] | None = None
    document_type: Annotated[str, _text(64)] | None = None
    document_number: Annotated[str, _text(64)] | None = None
    person_type: Literal["natural", "juridical"] | None = None


class PurchaseInput(Struct, frozen=True):
    """Who buys: customer_id (merchant, admin), customer {email, name} (guest checkout with a
    public key), or neither with a customer key. Any amount or price sent is ignored: the
    catalog sets the price."""

    product_id: Annotated[str, _text(MAX_ID_LENGTH)]
    country: Annotated[str, _code(2, "ISO 3166 alpha-2", "CO")]
    customer_id: Annotated[str, _text(MAX_ID_LENGTH)] | None = None
    customer: GuestCustomer | None = None
    payment_method: PaymentMethodName | None = None
    gateway: Annotated[str, _text(32)] | None = None
    return_url: HttpUrl | None = None
    payer: PayerDetails | None = None
    bank_code: (
        Annotated[
            str,
            _text(32, description="The PSE bank the payer chose (a code of GET /v1/pse/banks)"),
        ]
        | None
    ) = None
    payment_token: (
        Annotated[
            str,
            _text(
                255,
                description="The provider's token of the payer's card, made in the payer's "
                "browser (Wompi tok_..., PayU creditCardTokenId); sent once, never stored",
            ),
        ]
        | None
    ) = None


class RefundInput(Struct, frozen=True):
    """All of what remains captured when ``amount`` is left out."""

    amount: Money | None = None
    reason: Annotated[str, _text(500, 0)] | None = None


class WebhookEndpointInput(Struct, frozen=True):
    """A merchant endpoint (admin): where events go, and which (``["*"]``: all of them)."""

    url: HttpUrl
    events: Annotated[
        list[EventType],
        Meta(min_length=1, max_length=50, extra={"message": "must list 1 to 50 event types"}),
    ]


class VoucherConfirmation(Struct, frozen=True):
    """An admin's confirmation that a cash voucher was paid at an Efecty point: its code, the
    amount paid (exactly the voucher's) and the receipt number printed by the counter."""

    code: Annotated[str, _text(64, description="The voucher's code (EFY-...)")]
    amount: Money
    receipt_number: Annotated[str, _text(64, description="The Efecty receipt's number")]


REQUEST_BODIES: tuple[type[Struct], ...] = (
    ProductInput,
    PurchaseInput,
    RefundInput,
    WebhookEndpointInput,
    VoucherConfirmation,
)
