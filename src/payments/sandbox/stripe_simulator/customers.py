"""The Stripe simulator's customers, saved cards and off-session charges.

Stripe's test tokens work as on a test account: ``pm_card_visa`` attaches a card that charges,
``pm_card_chargeCustomerFail`` attaches a card every charge of which is declined
(``card_declined``); attaching a token makes a new ``pm_...`` of the customer's.
"""

from __future__ import annotations

from typing import Any, Final

from payments.sandbox.stripe_simulator import params as p
from payments.sandbox.stripe_simulator.errors import ApiError, no_such
from payments.sandbox.stripe_simulator.objects import (
    Account,
    SimulatedIntent,
    SimulatedPaymentMethod,
    doc_url,
    new_id,
)

__all__ = ["TEST_TOKENS", "attach_payment_method", "confirm_off_session", "create_customer"]

TEST_TOKENS: Final = {"pm_card_visa": ("4242", False), "pm_card_chargeCustomerFail": ("0341", True)}
"""Stripe's test PaymentMethod tokens this simulator knows: (last4, every charge declined)."""


def create_customer(account: Account, params: dict[str, Any], now: int) -> dict[str, object]:
    """``POST /v1/customers``."""
    p.only(params, {"email", "metadata", "name", "description"})
    customer: dict[str, object] = {
        "id": new_id("cus"),
        "object": "customer",
        "created": now,
        "email": params.get("email"),
        "livemode": False,
        "metadata": p.metadata(params),
    }
    account.customers[str(customer["id"])] = customer
    return dict(customer)


def attach_payment_method(
    account: Account, token: str, params: dict[str, Any], now: int
) -> dict[str, object]:
    """``POST /v1/payment_methods/{id}/attach``: a test token becomes a new PaymentMethod of
    the customer; a PaymentMethod of another customer is refused."""
    p.only(params, {"customer"})
    customer = params.get("customer")
    if not customer:
        raise ApiError(400, "Missing required param: customer.", code="parameter_missing")
    if not isinstance(customer, str) or customer not in account.customers:
        raise no_such("customer", str(customer), "customer")
    if token in TEST_TOKENS:
        last4, fails = TEST_TOKENS[token]
        method = SimulatedPaymentMethod(new_id("pm"), last4, now, fails=fails)
        account.payment_methods[method.id] = method
    else:
        found = account.payment_methods.get(token)
        if found is None:
            raise no_such("PaymentMethod", token, "payment_method")
        method = found
    if method.customer not in (None, customer):
        raise ApiError(
            400,
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state",
            executed=True,
        )
    method.customer = customer
    return method.to_wire()


def confirm_off_session(account: Account, intent: SimulatedIntent, params: dict[str, Any]) -> None:
    """Confirm a new intent at once on the customer's saved card (``confirm``,
    ``off_session``): it succeeds, or is declined with 402 ``card_error`` (the answer carries
    the intent, left ``requires_payment_method`` with its ``last_payment_error``)."""
    customer, method_id = params.get("customer"), params.get("payment_method")
    method = account.payment_methods.get(str(method_id))
    if method is None or method.customer != customer or customer is None:
        raise ApiError(
            400,
            "The provided PaymentMethod was previously used with another Customer or was "
            "detached from a Customer. Attach it to the customer before using it.",
            code="payment_method_not_available",
            param="payment_method",
            executed=True,
        )
    intent.customer = str(customer)
    intent.payment_method = method.id
    intent.latest_charge = new_id("ch")
    if not method.fails:
        intent.status = "succeeded"
        return
    error: dict[str, object] = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
        "charge": intent.latest_charge,
        "doc_url": doc_url("card_declined"),
    }
    intent.status = "requires_payment_method"
    intent.payment_method = None
    intent.last_payment_error = error
    raise ApiError(
        402,
        "Your card was declined.",
        code="card_declined",
        kind="card_error",
        executed=True,
        extra={
            "decline_code": "generic_decline",
            "charge": intent.latest_charge,
            "payment_intent": intent.to_wire(),
        },
    )
