"""Subscription, usage, statistics and test clock bodies: requests and responses as Structs."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from payments.domain.catalog import BillingCycle
from payments.domain.subscription import SubscriptionStatus
from payments.entrypoints.http.bodies import MAX_ID_LENGTH, Money
from payments.entrypoints.http.representations import Time


def _text(max_length: int, example: str) -> Meta:
    return Meta(
        min_length=1,
        max_length=max_length,
        examples=[example],
        extra={"message": f"must be a string of 1 to {max_length} characters"},
    )


def _shaped(pattern: str, example: str, message: str, description: str | None = None) -> Meta:
    """A string matching ``pattern``; a refusal says ``message``."""
    return Meta(
        pattern=pattern,
        max_length=255,
        description=description,
        examples=[example],
        extra={"message": message},
    )


Token = Annotated[
    str,
    _shaped(
        r"^[A-Za-z0-9_]{3,255}(?![\s\S])",
        "pm_card_visa",
        "must be a provider's token such as pm_card_visa",
        "The provider's token of a saved payment method (Stripe: pm_...).",
    ),
]


class SubscriptionInput(Struct, frozen=True):
    """Subscribe a customer to a plan (merchant, admin), paying with a saved method."""

    customer_id: Annotated[str, _text(MAX_ID_LENGTH, "cus_ana")]
    plan_id: Annotated[str, _text(MAX_ID_LENGTH, "prd_01J")]
    country: Annotated[
        str, _shaped(r"^[A-Za-z]{2}(?![\s\S])", "PT", "must be an ISO 3166 alpha-2 code such as PT")
    ]
    payment_method_token: Token
    payment_method: Literal["card"] = "card"


class SubscriptionCancelInput(Struct, frozen=True):
    """Cancel now (the default) or at the end of the current period."""

    at_period_end: bool = False


class SubscriptionChangeInput(Struct, frozen=True):
    """Another plan of the same billing cycle and currency."""

    plan_id: Annotated[str, _text(MAX_ID_LENGTH, "prd_01J")]


class PaymentMethodInput(Struct, frozen=True):
    """Charge another saved method from now on (a past-due period's retry included)."""

    payment_method_token: Token


class UsageInput(Struct, frozen=True):
    """Usage to count in the current period; ``reference`` makes it idempotent."""

    metric: Annotated[
        str,
        _shaped(
            r"^[a-z][a-z0-9_.]{0,63}(?![\s\S])",
            "api_calls",
            "lower-case letters, digits, '_' or '.' (1-64)",
        ),
    ]
    quantity: Annotated[
        str,
        _shaped(r"^[0-9]{1,12}(\.[0-9]{1,6})?(?![\s\S])", "100", 'a decimal string such as "100"'),
    ]
    reference: Annotated[
        str,
        _shaped(
            r"^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,127}(?![\s\S])",
            "req_123",
            "1 to 128 letters, digits or _.:@-",
        ),
    ]


class ClockInput(Struct, frozen=True):
    """How far to move the sandbox clock: an ISO 8601 duration of W, D, H, M, S."""

    advance: Annotated[
        str,
        _shaped(
            r"^P[0-9WDTHMS]{1,39}(?![\s\S])", "P15D", "must be an ISO 8601 duration such as P15D"
        ),
    ]


class Subscription(Struct, frozen=True):
    id: str
    status: SubscriptionStatus
    plan_id: str
    customer_id: str
    current_period_start: Time
    current_period_end: Time
    trial_end: Time | None
    cancel_at_period_end: bool
    latest_purchase_id: str | None
    price: Money
    billing_cycle: BillingCycle
    country: str
    gateway: str
    next_charge_at: Annotated[
        Time | None, Meta(description="When the next charge (or retry) is due")
    ]
    failed_attempts: int
    cancelled_at: Time | None
    scheduled_plan_id: Annotated[
        str | None, Meta(description="A cheaper plan taking effect at the next renewal")
    ]
    created_at: Time


class SubscriptionList(Struct, frozen=True):
    data: list[Subscription]


Quantity = Annotated[str, Meta(pattern=r"^[0-9]+(\.[0-9]+)?(?![\s\S])", examples=["100"])]


class UsageRecord(Struct, frozen=True):
    id: str
    subscription_id: str
    metric: str
    quantity: Quantity
    reference: str
    period_start: Time
    recorded_at: Time


class UsageTotal(Struct, frozen=True):
    metric: str
    quantity: Quantity


class UsageSummary(Struct, frozen=True):
    subscription_id: str
    period_start: Time
    period_end: Annotated[Time | None, Meta(description="Known for the current period")]
    totals: list[UsageTotal]


class SubscriptionStats(Struct, frozen=True):
    counts: Annotated[dict[str, int], Meta(description="Subscriptions in each status")]
    window_start: Time
    window_end: Time
    cancelled_in_window: int
    churn: Annotated[
        str,
        Meta(
            pattern=r"^[0-9]+(\.[0-9]+)?(?![\s\S])",
            description="Cancelled in the window / (billed now + cancelled in the window)",
        ),
    ]
    mrr: Annotated[
        list[Money],
        Meta(description="Monthly recurring revenue per currency (quarterly / 3, yearly / 12)"),
    ]


class ClockNow(Struct, frozen=True):
    now: Time


BILLING_REQUEST_BODIES: tuple[type[Struct], ...] = (
    SubscriptionInput,
    SubscriptionCancelInput,
    SubscriptionChangeInput,
    PaymentMethodInput,
    UsageInput,
    ClockInput,
)
BILLING_RESPONSE_BODIES: tuple[type[Struct], ...] = (
    Subscription,
    SubscriptionList,
    UsageRecord,
    UsageSummary,
    SubscriptionStats,
    ClockNow,
)
