"""Response bodies as msgspec Structs: what the presenters fill and the OpenAPI document shows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from payments.domain.catalog import BillingCycle, ProductKind
from payments.domain.invoice import InvoiceStatus
from payments.domain.purchase import PurchaseStatus
from payments.domain.refund import RefundStatus
from payments.entrypoints.http.bodies import Money

Time = Annotated[
    str, Meta(extra_json_schema={"format": "date-time"}, examples=["2026-01-01T12:00:00Z"])
]
Credits = Annotated[str, Meta(pattern=r"^[0-9]+(\.[0-9]{1,2})?(?![\s\S])", examples=["8.00"])]
SignedAmount = Annotated[str, Meta(pattern=r"^-?[0-9]+(\.[0-9]+)?(?![\s\S])")]


SyncAnswer = Literal["processed", "duplicate", "ignored", "conflict"]
WebhookAnswer = Literal["processed", "duplicate", "ignored", "conflict", "queued", "received"]


class Health(Struct, frozen=True):
    status: Literal["ok"]


class Ready(Struct, frozen=True):
    status: Literal["ready"]


class Product(Struct, frozen=True):
    id: str
    name: str
    kind: ProductKind
    price: Money
    credits: Credits
    validity_days: int | None
    billing_cycle: BillingCycle | None
    trial_days: int
    active: bool
    created_at: Time


class ProductList(Struct, frozen=True):
    data: list[Product]


class ClientSecretAction(Struct, frozen=True, tag_field="type", tag="client_secret"):
    client_secret: str
    publishable_key: str | UnsetType = UNSET


class RedirectAction(Struct, frozen=True, tag_field="type", tag="redirect"):
    url: str


class CashVoucherAction(Struct, frozen=True, tag_field="type", tag="cash_voucher"):
    code: str
    barcode: str
    amount: Money
    expires_at: Time
    instructions: str


NextAction = ClientSecretAction | RedirectAction | CashVoucherAction


class Routing(Struct, frozen=True):
    chain: list[str]
    reason: str


class Purchase(Struct, frozen=True):
    id: str
    reference: str
    status: PurchaseStatus
    customer_id: str
    product_id: str
    amount: Money
    credits: Credits
    gateway: str | None
    gateway_reference: str | None
    routing: Routing
    next_action: NextAction | None
    created_at: Time
    updated_at: Time
    needs_review: bool
    refunded: Money
    failure_code: (
        Annotated[
            str, Meta(description="The provider's decline or failure code of a failed purchase")
        ]
        | None
    )
    invoice_id: (
        Annotated[str, Meta(description="The invoice issued when it was paid; null before")] | None
    )


class PurchaseList(Struct, frozen=True):
    data: list[Purchase]
    next_cursor: str | None


class Refund(Struct, frozen=True):
    id: str
    purchase_id: str
    amount: Money
    status: RefundStatus
    reason: str | None
    gateway_reference: str | None
    created_at: Time


class RefundList(Struct, frozen=True):
    data: list[Refund]


class SyncResult(Struct, frozen=True):
    purchase: Purchase
    result: SyncAnswer | None


class LedgerEntry(Struct, frozen=True):
    id: str
    kind: str
    asset: Annotated[str, Meta(description="credits, or a currency code")]
    amount: SignedAmount
    purchase_id: str | None
    reference: str | None
    expires_at: Time | None
    created_at: Time


class Account(Struct, frozen=True, omit_defaults=True):
    customer_id: str
    credits: Annotated[str, Meta(pattern=r"^-?[0-9]+(\.[0-9]+)?(?![\s\S])", examples=["8.00"])]
    expired_credits: SignedAmount
    total_paid: list[Money]
    entries: (
        Annotated[list[LedgerEntry], Meta(description="Only with ?entries=true.")] | UnsetType
    ) = UNSET


class WebhookReceipt(Struct, frozen=True):
    status: WebhookAnswer


class SandboxResult(Struct, frozen=True):
    purchase: Purchase
    result: Annotated[dict[str, Any], Meta(description="What the simulator did.")]


class Bank(Struct, frozen=True):
    code: str
    name: str


class BankList(Struct, frozen=True):
    country: str
    gateway: Annotated[str | None, Meta(description="None when no gateway takes PSE there")]
    banks: list[Bank]
    fetched_at: Time
    stale: Annotated[
        bool, Meta(description="The gateway could not be asked just now: its last list")
    ]


class InvoiceLine(Struct, frozen=True):
    description: str
    quantity: int
    unit_price: Annotated[Money, Meta(description="Tax included")]
    total: Money


class Invoice(Struct, frozen=True):
    id: str
    number: Annotated[
        str | None,
        Meta(
            description="Null until the invoice is numbered, just after its purchase completes;"
            " every read numbers the pending invoices first",
            examples=["INV-2026-000001"],
        ),
    ]
    status: InvoiceStatus
    purchase_id: str
    customer_id: str
    country: str
    lines: list[InvoiceLine]
    subtotal: Annotated[Money, Meta(description="The total without its tax")]
    tax: Annotated[Money, Meta(description="The tax included in the total")]
    tax_rate: Annotated[str, Meta(description="Percent", examples=["19"])]
    total: Money
    issued_at: Time
    updated_at: Time


class InvoiceList(Struct, frozen=True):
    data: list[Invoice]
    next_cursor: str | None


class RevenueFigures(Struct, frozen=True):
    gross: Annotated[Money, Meta(description="Paid by purchases completed in the period")]
    refunds: Annotated[Money, Meta(description="Refunds booked in the period (not failed)")]
    net: Money
    count: Annotated[int, Meta(description="Purchases completed in the period")]


class RevenueBucket(Struct, frozen=True):
    period: Annotated[str, Meta(examples=["2026-03-07", "2026-03"])]
    gross: Money
    refunds: Money
    net: Money
    count: int


class GatewayRevenue(Struct, frozen=True):
    gateway: str
    gross: Money
    refunds: Money
    net: Money
    count: int


class RevenueReport(Struct, frozen=True):
    currency: str
    buckets: Annotated[list[RevenueBucket], Meta(description="Periods with activity, oldest first")]
    totals: RevenueFigures
    by_gateway: list[GatewayRevenue]


class ProblemFieldError(Struct, frozen=True):
    field: str
    message: str


PurchaseLeftBehind = Annotated[
    str,
    Meta(
        description=(
            "The purchase this failure left behind: on a 503 whose outcome is unknown (the "
            "provider may have charged; read it or retry with the same Idempotency-Key), or on "
            "a 422 that failed it"
        )
    ),
]
RefundLeftBehind = Annotated[
    str,
    Meta(
        description=(
            "On a refund's 503 whose outcome is unknown: the refund, booked and pending until "
            "the provider's answer is recorded (GET /v1/refunds/{id})"
        )
    ),
]
Refundable = Annotated[
    Money, Meta(description="On refund_exceeds_captured: what can still be refunded")
]
DeclineCode = Annotated[
    str, Meta(max_length=64, description="On payment_declined: the provider's decline code")
]
AvailableCredits = Annotated[
    str, Meta(description="On insufficient_credits: the credits available")
]
RefusedPayment = Annotated[
    str, Meta(description="The provider's id of the payment a refusal is about")
]
VoucherCode = Annotated[str, Meta(description="On a refused voucher confirmation: the voucher")]
VoucherRefusal = Annotated[
    str,
    Meta(
        description=(
            "On a refused voucher confirmation: amount_mismatch, duplicate, already_paid, "
            "expired or cancelled"
        )
    ),
]
VoucherAmount = Annotated[Money, Meta(description="On amount_mismatch: the voucher's amount")]


class WebhookEndpoint(Struct, frozen=True):
    """A merchant webhook endpoint; ``disabled_reason`` flags one the retry window disabled."""

    id: str
    url: str
    events: list[str]
    status: Literal["enabled", "disabled"]
    created_at: Time
    disabled_at: Time | None
    disabled_reason: str | None


class CreatedWebhookEndpoint(WebhookEndpoint, frozen=True):
    """The new endpoint with its signing secret: the only answer that ever shows it."""

    secret: Annotated[str, Meta(description="Verify Payments-Signature with it; shown once.")]


class WebhookEndpointList(Struct, frozen=True):
    data: list[WebhookEndpoint]


class WebhookDelivery(Struct, frozen=True):
    """One event for one endpoint: its status, attempts so far, and the last answer's HTTP
    status (``answer_code``; null with ``error`` when no answer came)."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    answer_code: int | None
    error: str | None
    created_at: Time
    next_attempt_at: Time | None
    last_attempt_at: Time | None
    delivered_at: Time | None


class WebhookDeliveryList(Struct, frozen=True):
    data: list[WebhookDelivery]


class Problem(Struct, frozen=True):
    """RFC 9457 problem details. A replayed problem (Idempotent-Replayed) carries the request_id
    of the request that replayed it. Other members may appear."""

    type: Annotated[str, Meta(extra_json_schema={"format": "uri"})]
    title: str
    status: Annotated[int, Meta(ge=400, le=599)]
    detail: str
    code: Annotated[str, Meta(description="Stable machine-readable code.")]
    request_id: str
    errors: list[ProblemFieldError] | UnsetType = UNSET
    purchase_id: PurchaseLeftBehind | UnsetType = UNSET
    refund_id: RefundLeftBehind | UnsetType = UNSET
    refundable: Refundable | UnsetType = UNSET
    decline_code: DeclineCode | UnsetType = UNSET
    available: AvailableCredits | UnsetType = UNSET
    gateway_reference: RefusedPayment | UnsetType = UNSET
    voucher_code: VoucherCode | UnsetType = UNSET
    reason: VoucherRefusal | UnsetType = UNSET
    expected: VoucherAmount | UnsetType = UNSET


class SettlementLine(Struct, frozen=True):
    """A settlement row that was not applied: its line, voucher code and why."""

    line: int
    code: str
    reason: str


class SettlementReport(Struct, frozen=True):
    """What a settlement file did: the lines ``applied``; those ``duplicate`` (taken before),
    ``unknown`` (no such voucher) and ``mismatched`` (amount, expiry, cancellation, or paid
    under another receipt)."""

    applied: list[int]
    duplicate: list[SettlementLine]
    unknown: list[SettlementLine]
    mismatched: list[SettlementLine]


RESPONSE_BODIES: tuple[type[Struct], ...] = (
    Problem,
    Health,
    Ready,
    Product,
    ProductList,
    Purchase,
    PurchaseList,
    Refund,
    RefundList,
    SyncResult,
    Account,
    WebhookReceipt,
    SandboxResult,
    BankList,
    Invoice,
    InvoiceList,
    RevenueReport,
    WebhookEndpoint,
    CreatedWebhookEndpoint,
    WebhookEndpointList,
    WebhookDelivery,
    WebhookDeliveryList,
    SettlementReport,
)
