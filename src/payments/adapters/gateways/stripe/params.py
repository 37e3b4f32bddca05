"""What we send Stripe: the parameters of a card PaymentIntent and of a Refund, checked first."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final, cast

from payments.adapters.gateways.stripe.amounts import to_stripe_amount
from payments.adapters.gateways.stripe.settings import METADATA_VALUE_LIMIT, PaymentMethodsParam
from payments.domain.errors import InvalidAmountError, UnsupportedByGatewayError, ValidationError
from payments.domain.gateway import (
    OffSessionCharge,
    PaymentRequest,
    RefundRequest,
    SaveMethodRequest,
)

if TYPE_CHECKING:
    from stripe.params import (
        CustomerCreateParams,
        PaymentIntentCreateParams,
        RefundCreateParams,
    )

__all__ = [
    "customer_params",
    "off_session_intent_params",
    "payment_intent_params",
    "refund_params",
    "refund_reason",
]

_REFUND_REASONS: Final = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


def payment_intent_params(
    request: PaymentRequest, methods_param: PaymentMethodsParam
) -> PaymentIntentCreateParams:
    """The create parameters of a card PaymentIntent for ``request``.

    ``amount``, lowercase ``currency``, ``["card"]`` as ``methods_param``, and metadata (the
    request's own, then ``purchase_reference`` and ``purchase_id``). ``description`` is not sent:
    localstripe, our integration double, refuses it. Refuses a payment method other than card
    and an amount Stripe cannot take exactly, so that nothing is sent for them.
    """
    if request.payment_method not in (None, "card"):
        raise UnsupportedByGatewayError(
            f"Stripe here takes card payments only, not {request.payment_method}."
        )
    return cast("PaymentIntentCreateParams", _card_intent(request, methods_param))


def _card_intent(
    request: PaymentRequest | OffSessionCharge, methods_param: PaymentMethodsParam
) -> dict[str, Any]:
    """A card intent's ``amount``, ``currency``, card-only methods and metadata (the request's
    own, then ``purchase_reference`` and ``purchase_id``); refuses an amount Stripe cannot take."""
    units = to_stripe_amount(request.amount)
    if units <= 0:
        raise InvalidAmountError("A Stripe payment must be of a positive amount.")
    metadata = {key: str(value)[:METADATA_VALUE_LIMIT] for key, value in request.metadata.items()}
    metadata["purchase_reference"] = request.reference
    metadata["purchase_id"] = request.purchase_id
    return {
        "amount": units,
        "currency": request.amount.currency.code.lower(),
        methods_param: ["card"],
        "metadata": metadata,
    }


def refund_params(request: RefundRequest) -> RefundCreateParams:
    """The parameters of ``POST /v1/refunds`` on the request's PaymentIntent.

    ``amount`` is omitted for a full refund (Stripe refunds what remains) and sent in minor
    units otherwise; ``metadata`` carries ``refund_id`` (echoed back by refund webhooks),
    ``purchase_reference`` and our free-text reason; ``reason`` is sent only when ours is one
    of Stripe's (see ``refund_reason``).
    """
    if not request.gateway_reference:
        raise ValidationError("The purchase has no Stripe PaymentIntent to refund.")
    units = to_stripe_amount(request.amount)
    if units <= 0:
        raise InvalidAmountError("A refund must be of a positive amount.")
    metadata = {
        "refund_id": request.refund_id,
        "purchase_reference": request.purchase_reference,
    }
    if request.reason:
        metadata["reason"] = request.reason[:METADATA_VALUE_LIMIT]
    params: RefundCreateParams = {
        "payment_intent": request.gateway_reference,
        "metadata": metadata,
    }
    if not request.full:
        params["amount"] = units
    reason = refund_reason(request.reason)
    if reason is not None:
        params["reason"] = reason
    return params


def refund_reason(reason: str | None) -> str | None:
    """Stripe's refund reason enum value (duplicate, fraudulent, requested_by_customer) for our
    free-text reason, when it is one."""
    if not reason:
        return None
    normalised = re.sub(r"[\s\-]+", "_", reason.strip().lower())
    return normalised if normalised in _REFUND_REASONS else None


def off_session_intent_params(
    request: OffSessionCharge, methods_param: PaymentMethodsParam
) -> PaymentIntentCreateParams:
    """A PaymentIntent confirmed at once on the customer's saved method, without the payer
    (``off_session``): ``customer``, ``payment_method``, ``confirm`` and ``off_session`` on
    top of what ``payment_intent_params`` sends."""
    wire = _card_intent(request, methods_param)
    wire["customer"] = request.method.customer_reference
    wire["payment_method"] = request.method.method_reference
    wire["off_session"] = wire["confirm"] = True
    return cast("PaymentIntentCreateParams", wire)


def customer_params(request: SaveMethodRequest) -> CustomerCreateParams:
    """The Stripe Customer a saved method belongs to: our customer id in its metadata."""
    params: CustomerCreateParams = {"metadata": {"customer_id": request.customer_id}}
    if request.email:
        params["email"] = request.email
    return params
