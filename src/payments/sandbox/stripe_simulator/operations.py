"""The Stripe simulator's API operations on its account: create, retrieve, cancel, refund."""

from __future__ import annotations

import secrets
from typing import Any, Final

from payments.sandbox.stripe_simulator import params as p
from payments.sandbox.stripe_simulator.customers import confirm_off_session
from payments.sandbox.stripe_simulator.errors import ApiError, no_such
from payments.sandbox.stripe_simulator.objects import (
    API_VERSION,
    CANCELABLE,
    Account,
    SimulatedIntent,
    SimulatedRefund,
    new_id,
)

__all__ = [
    "cancel_payment_intent",
    "create_payment_intent",
    "create_refund",
    "retrieve_payment_intent",
]

_CANCELLATION_REASONS: Final = frozenset(
    {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
)
_REFUND_REASONS: Final = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


def create_payment_intent(
    account: Account, params: dict[str, Any], now: int, api_version: str = API_VERSION
) -> dict[str, object]:
    """``POST /v1/payment_intents``: a new intent waiting for the payer's card.

    Cards are chosen with ``allowed_payment_method_types`` or, on API versions before
    2026-09-30 (the ``Stripe-Version`` header), ``payment_method_types``; later versions
    refuse the latter with 400 ``payment_method_types_no_longer_supported``, as Stripe does.
    """
    p.only(
        params,
        {
            "amount",
            "currency",
            "metadata",
            "allowed_payment_method_types",
            "payment_method_types",
            "description",
            "customer",
            "payment_method",
            "confirm",
            "off_session",
        },
    )
    amount = p.required_amount(params)
    currency = params.get("currency")
    if currency is None:
        raise ApiError(
            400, "Missing required param: currency.", code="parameter_missing", param="currency"
        )
    if not isinstance(currency, str) or not p.known_currency(currency):
        raise ApiError(400, f"Invalid currency: {str(currency)[:10]}.", param="currency")
    types = p.payment_method_types(params, api_version)
    description = params.get("description")
    if description is not None and not isinstance(description, str):
        raise ApiError(400, "Invalid string: description.", param="description")
    intent_id = new_id("pi")
    intent = SimulatedIntent(
        id=intent_id,
        amount=amount,
        currency=currency,
        metadata=p.metadata(params),
        payment_method_types=list(types),
        description=description or None,
        client_secret=f"{intent_id}_secret_{secrets.token_urlsafe(18)}",
        created=now,
    )
    account.intents[intent_id] = intent
    if params.get("confirm") in ("true", True):
        confirm_off_session(account, intent, params)
    return intent.to_wire()


def retrieve_payment_intent(account: Account, intent_id: str) -> dict[str, object]:
    """``GET /v1/payment_intents/{id}``."""
    return _intent(account, intent_id).to_wire()


def cancel_payment_intent(
    account: Account, intent_id: str, params: dict[str, Any], now: int
) -> dict[str, object]:
    """``POST /v1/payment_intents/{id}/cancel``: only before the payment settled."""
    p.only(params, {"cancellation_reason"})
    reason = params.get("cancellation_reason")
    if reason is not None and reason not in _CANCELLATION_REASONS:
        raise ApiError(
            400,
            "Invalid cancellation_reason: must be one of "
            + ", ".join(sorted(_CANCELLATION_REASONS)),
            code="parameter_invalid",
            param="cancellation_reason",
        )
    intent = _intent(account, intent_id)
    if intent.status not in CANCELABLE:
        raise ApiError(
            400,
            f"You cannot cancel this PaymentIntent because it has a status of "
            f"{intent.status}. Only a PaymentIntent with one of the following statuses may "
            "be canceled: requires_payment_method, requires_capture, requires_confirmation, "
            "requires_action, processing.",
            code="payment_intent_unexpected_state",
            executed=True,
            extra={"payment_intent": intent.to_wire()},
        )
    intent.status = "canceled"
    intent.canceled_at = now
    intent.cancellation_reason = reason
    return intent.to_wire()


def create_refund(account: Account, params: dict[str, Any], now: int) -> dict[str, object]:
    """``POST /v1/refunds`` on a PaymentIntent (or its charge); the whole remainder when no
    ``amount`` is given. Refunds succeed at once and send no event (see ``notify_refund``)."""
    p.only(params, {"payment_intent", "charge", "amount", "reason", "metadata"})
    intent = _refunded_intent(account, params)
    amount = p.amount(params)
    reason = params.get("reason")
    if reason is not None and reason not in _REFUND_REASONS:
        raise ApiError(
            400,
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            code="parameter_invalid",
            param="reason",
        )
    metadata = p.metadata(params)
    charge = intent.latest_charge
    if intent.status != "succeeded" or charge is None:
        raise ApiError(
            400,
            "This PaymentIntent does not have a successful charge to refund.",
            code="payment_intent_unexpected_state",
            executed=True,
        )
    remaining = intent.amount - intent.amount_refunded
    if remaining <= 0:
        raise ApiError(
            400,
            f"Charge {charge} has already been refunded.",
            code="charge_already_refunded",
            executed=True,
        )
    if amount is None:
        amount = remaining
    if amount > remaining:
        raise ApiError(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
            param="amount",
            executed=True,
        )
    refund = SimulatedRefund(
        id=new_id("re"),
        payment_intent=intent.id,
        charge=charge,
        amount=amount,
        currency=intent.currency,
        metadata=metadata,
        reason=reason,
        created=now,
    )
    intent.amount_refunded += amount
    account.refunds[refund.id] = refund
    return refund.to_wire()


def _refunded_intent(account: Account, params: dict[str, Any]) -> SimulatedIntent:
    """The intent a refund names, by ``payment_intent`` or by its settled ``charge``."""
    intent_id, charge_id = params.get("payment_intent"), params.get("charge")
    if intent_id is not None:
        return _intent(account, str(intent_id))
    if charge_id is None:
        raise ApiError(
            400,
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
        )
    found = [i for i in account.intents.values() if i.latest_charge == charge_id]
    if not found or found[0].status != "succeeded":
        raise ApiError(
            404,
            f"No such charge: '{str(charge_id)[:40]}'",
            code="resource_missing",
            param="charge",
        )
    return found[0]


def _intent(account: Account, intent_id: str) -> SimulatedIntent:
    intent = account.intents.get(intent_id)
    if intent is None:
        raise no_such("payment_intent", intent_id, "intent")
    return intent
