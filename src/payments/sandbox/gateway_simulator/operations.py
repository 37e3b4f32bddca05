"""The sandbox provider's API operations on its ledger: create and cancel payments, refund."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from payments.domain.money import Money
from payments.sandbox.gateway_simulator.objects import (
    CANCELLABLE,
    PAYMENT_METHODS,
    SANDBOX_BANKS,
    Ledger,
    SimulatedPayment,
    SimulatedRefund,
)
from payments.sandbox.gateway_simulator.wire import ApiError, money, optional_text, required_text

__all__ = ["cancel_payment", "create_payment", "create_refund"]


def create_payment(
    ledger: Ledger, body: Mapping[str, object], checkout_base: str, now: int
) -> dict[str, object]:
    """``POST /v1/payments``: a pending payment, its checkout page under ``checkout_base``.

    Test triggers: a payer e-mail whose local part is ``approve`` is captured at once;
    ``decline`` (or ``decline+<code>``) is declined at once, answered 402 with the payment.
    """
    reference = required_text(body, "reference", limit=255)
    amount = money(body.get("amount"), "amount")
    method = optional_text(body, "payment_method") or "card"
    if method not in PAYMENT_METHODS:
        raise ApiError(400, "unsupported_payment_method", f"Unknown method {method!r}.")
    country = required_text(body, "country", limit=2)
    payer = body.get("payer") or {}
    if not isinstance(payer, Mapping):
        raise ApiError(400, "invalid_payer", "'payer' must be an object.")
    bank = optional_text(body, "bank")
    if method == "pse" and bank is not None and bank not in SANDBOX_BANKS.get(country, {}):
        raise ApiError(400, "unknown_bank", f"No PSE bank {bank!r} in {country}.")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, Mapping) or not all(isinstance(v, str) for v in metadata.values()):
        raise ApiError(400, "invalid_metadata", "'metadata' must map names to strings.")
    payment_id = f"pay_{secrets.token_hex(12)}"
    payment = SimulatedPayment(
        id=payment_id,
        reference=reference,
        amount=amount,
        description=optional_text(body, "description"),
        payment_method=method,
        country=country,
        return_url=optional_text(body, "return_url"),
        payer_email=optional_text(payer, "email"),
        payer_name=optional_text(payer, "name"),
        metadata={str(k): str(v) for k, v in metadata.items()},
        client_secret=f"{payment_id}_secret_{secrets.token_hex(12)}",
        checkout_url=f"{checkout_base}/checkout/{payment_id}",
        created=now,
        bank=bank,
    )
    ledger.payments[payment_id] = payment
    _apply_trigger(payment)
    return payment.to_wire()


def _apply_trigger(payment: SimulatedPayment) -> None:
    trigger, _, code = (payment.payer_email or "").partition("@")[0].partition("+")
    if trigger == "approve":
        payment.status = "succeeded"
    elif trigger == "decline":
        payment.status = "failed"
        payment.decline_code = code or "card_declined"
        payment.failure_message = f"Declined by the sandbox ({payment.decline_code})."
        raise ApiError(
            402,
            payment.decline_code,
            "The payment was declined.",
            kind="payment_declined",
            extra={"payment": payment.to_wire()},
        )


def cancel_payment(ledger: Ledger, payment_id: str) -> dict[str, object]:
    """``POST /v1/payments/{id}/cancel``: an open or failed payment is cancelled; any other is
    answered as it is (a captured one shows its capture)."""
    payment = ledger.payments.get(payment_id)
    if payment is None:
        raise ApiError(404, "resource_missing", f"No payment {payment_id!r}.")
    if payment.status in CANCELLABLE:
        payment.status = "cancelled"
    return payment.to_wire()


def create_refund(ledger: Ledger, body: Mapping[str, object], now: int) -> dict[str, object]:
    """``POST /v1/refunds`` of a captured payment; the whole remainder when no ``amount``."""
    payment_id = required_text(body, "payment", limit=255)
    payment = ledger.payments.get(payment_id)
    if payment is None:
        raise ApiError(404, "resource_missing", f"No payment {payment_id!r}.")
    if payment.status != "succeeded":
        raise ApiError(400, "payment_not_captured", "Only a captured payment is refunded.")
    refunded = payment.amount_refunded or Money.zero(payment.amount.currency)
    remaining = payment.amount - refunded
    amount = remaining if body.get("amount") is None else money(body["amount"], "amount")
    if amount.currency != payment.amount.currency:
        raise ApiError(400, "currency_mismatch", "The refund is in another currency.")
    if amount > remaining:
        raise ApiError(400, "amount_too_large", f"At most {remaining} can be refunded.")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ApiError(400, "invalid_metadata", "'metadata' must be an object.")
    refund = SimulatedRefund(
        id=f"re_{secrets.token_hex(12)}",
        payment_id=payment.id,
        amount=amount,
        reason=optional_text(body, "reason"),
        metadata={str(k): str(v) for k, v in metadata.items()},
        created=now,
    )
    payment.amount_refunded = refunded + amount
    ledger.refunds[refund.id] = refund
    return refund.to_wire()
