"""PayU's API answers in our terms: transactions started, orders looked up, refunds, banks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final

from payments.adapters.gateways.payu.events import outcome_from_transaction_state
from payments.adapters.gateways.payu.params import CASH_METHOD, PSE_METHOD
from payments.adapters.gateways.payu.settings import GATEWAY_NAME
from payments.domain.errors import MalformedNotificationError, ValidationError
from payments.domain.gateway import Bank, PaymentStart, RefundResult
from payments.domain.money import Money
from payments.domain.next_action import RedirectAction as Redirect
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome
from payments.domain.refund import RefundStatus

__all__ = [
    "CHARGE",
    "PayUAnswerError",
    "banks_from_answer",
    "charge_of",
    "child_transactions",
    "observation_from_order",
    "orders_from_answer",
    "refund_result",
    "start_from_answer",
    "start_from_order",
    "transaction_response",
]

CHARGE: Final = "AUTHORIZATION_AND_CAPTURE"
_REDIRECT_PARAMETERS: Final[Mapping[str, str]] = {
    PSE_METHOD: "BANK_URL",
    CASH_METHOD: "URL_PAYMENT_RECEIPT_HTML",
}
"""Where the payer goes next, by ``paymentMethod`` (reference §2.7, §4.1)."""
_BANK_LIST_HEADER: Final = "0"
"""The first ``pseCode`` of a bank list is a prompt, not a bank (reference §2.7)."""
_FAILED: Final = frozenset({PaymentOutcome.FAILED, PaymentOutcome.EXPIRED})


class PayUAnswerError(ValueError):
    """A PayU answer that does not have the documented shape (never crosses the port)."""


def _mapping(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise PayUAnswerError(f"The PayU answer has no {what}.")
    return value


def _text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)


def _required_text(data: Mapping[str, object], key: str, what: str) -> str:
    text = _text(data.get(key))
    if text is None:
        raise PayUAnswerError(f"The PayU {what} has no {key}.")
    return text


def transaction_response(answer: Mapping[str, object]) -> Mapping[str, object]:
    """The ``transactionResponse`` of a ``SUBMIT_TRANSACTION`` answer (reference §2.4)."""
    return _mapping(answer.get("transactionResponse"), "transactionResponse")


def _outcome(response: Mapping[str, object]) -> PaymentOutcome:
    try:
        return outcome_from_transaction_state(str(response.get("state")))
    except MalformedNotificationError as error:
        raise PayUAnswerError(str(error)) from error


def _next_action(method: str | None, response: Mapping[str, object]) -> Redirect | None:
    """A ``redirect`` to the bank (PSE) or the cash receipt, while the payment waits."""
    parameter = _REDIRECT_PARAMETERS.get(method or "")
    if parameter is None or _outcome(response) is not PaymentOutcome.PROCESSING:
        return None
    extra = response.get("extraParameters")
    url = extra.get(parameter) if isinstance(extra, Mapping) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise PayUAnswerError(f"The pending PayU {method} transaction has no {parameter}.")
    return Redirect(url)


def _observation(
    response: Mapping[str, object],
    *,
    order_id: str,
    reference: str,
    amount: Money,
    source: ObservationSource,
    outcome: PaymentOutcome | None = None,
) -> GatewayObservation:
    outcome = outcome or _outcome(response)
    code = _text(response.get("responseCode")) if outcome in _FAILED else None
    message = _text(response.get("responseMessage")) or code
    return GatewayObservation(
        gateway=GATEWAY_NAME,
        outcome=outcome,
        source=source,
        gateway_reference=order_id,
        reference=reference,
        amount=amount,
        provider_code=code,
        message=f"PayU: {message}" if code else None,
    )


def start_from_answer(
    answer: Mapping[str, object], *, method: str | None, reference: str, amount: Money
) -> PaymentStart:
    """The port's answer to a ``SUBMIT_TRANSACTION`` PayU took (declines are refused before,
    by ``error_for_answer``): PayU's order id, the payer's redirect, and what it says now."""
    response = transaction_response(answer)
    order_id = _required_text(response, "orderId", "transaction response")
    observation = _observation(
        response,
        order_id=order_id,
        reference=reference,
        amount=amount,
        source=ObservationSource.RESPONSE,
    )
    return PaymentStart(order_id, _next_action(method, response), observation)


# -- orders (the Queries API) ---------------------------------------------------------------------


def orders_from_answer(answer: Mapping[str, object]) -> list[Mapping[str, object]]:
    """The orders of a Queries API answer: ``result.payload`` is one order, a list of them, or
    null when PayU has none."""
    payload = _mapping(answer.get("result"), "result").get("payload")
    if payload is None:
        return []
    orders = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(order, Mapping) for order in orders):
        raise PayUAnswerError("A PayU order is not an object.")
    return list(orders)


def _order_amount(order: Mapping[str, object]) -> Money:
    values = _mapping(order.get("additionalValues"), "order additionalValues")
    value = _mapping(values.get("TX_VALUE"), "TX_VALUE")
    number, currency = value.get("value"), value.get("currency")
    if isinstance(number, bool) or not isinstance(number, int | Decimal | str):
        raise PayUAnswerError("The PayU TX_VALUE has no value.")
    if not isinstance(currency, str):
        raise PayUAnswerError("The PayU TX_VALUE has no currency.")
    try:
        return Money(Decimal(str(number)), currency)
    except (ValidationError, ArithmeticError) as error:
        raise PayUAnswerError("The PayU TX_VALUE is not an amount.") from error


def _transactions(order: Mapping[str, object]) -> list[Mapping[str, object]]:
    transactions = order.get("transactions") or []
    if not isinstance(transactions, list) or not all(
        isinstance(item, Mapping) for item in transactions
    ):
        raise PayUAnswerError("The PayU order's transactions are not a list.")
    return list(transactions)


def charge_of(order: Mapping[str, object]) -> Mapping[str, object] | None:
    """The order's last ``AUTHORIZATION_AND_CAPTURE`` transaction (a payer's retry is a new
    transaction of the same order, reference §2.6), or None."""
    charges = [item for item in _transactions(order) if item.get("type") == CHARGE]
    return charges[-1] if charges else None


def child_transactions(order: Mapping[str, object], kind: str) -> list[Mapping[str, object]]:
    """The order's transactions of ``kind`` (``REFUND``, ``VOID``)."""
    return [item for item in _transactions(order) if item.get("type") == kind]


def observation_from_order(
    order: Mapping[str, object], *, source: ObservationSource = ObservationSource.LOOKUP
) -> GatewayObservation:
    """What an order says of its payment: its charge's state (an order ``CANCELLED`` by a void
    is cancelled), PayU's order id, our reference and ``TX_VALUE``."""
    charge = charge_of(order)
    if charge is None:
        raise PayUAnswerError("The PayU order has no charge.")
    response = _mapping(charge.get("transactionResponse"), "transactionResponse")
    voided = order.get("status") == "CANCELLED"
    return _observation(
        response,
        order_id=_required_text(order, "id", "order"),
        reference=_required_text(order, "referenceCode", "order"),
        amount=_order_amount(order),
        source=source,
        outcome=PaymentOutcome.CANCELLED if voided else None,
    )


def start_from_order(order: Mapping[str, object]) -> PaymentStart:
    """A start answered again from the order PayU already holds under our reference."""
    observation = observation_from_order(order, source=ObservationSource.RESPONSE)
    charge = charge_of(order) or {}
    response = _mapping(charge.get("transactionResponse"), "transactionResponse")
    method = _text(charge.get("paymentMethod"))
    return PaymentStart(
        str(observation.gateway_reference), _next_action(method, response), observation
    )


def refund_result(transaction_id: str, response: Mapping[str, object]) -> RefundResult:
    """The port's answer to a ``REFUND``: approved is succeeded, pending or submitted pending
    (PayU reviews refunds, reference §2.3), anything else failed with its response code."""
    state = response.get("state")
    if state == "APPROVED":
        return RefundResult(transaction_id, RefundStatus.SUCCEEDED)
    if state in ("PENDING", "SUBMITTED"):
        return RefundResult(transaction_id, RefundStatus.PENDING)
    code = _text(response.get("responseCode")) or str(state)
    return RefundResult(transaction_id, RefundStatus.FAILED, f"PayU refused the refund: {code}.")


def banks_from_answer(answer: Mapping[str, object]) -> list[Bank]:
    """The PSE banks of a ``GET_BANKS_LIST`` answer, without the prompt ``pseCode "0"``."""
    listed = answer.get("banks")
    if not isinstance(listed, Sequence) or isinstance(listed, str):
        raise PayUAnswerError("The PayU bank list has no banks.")
    banks: list[Bank] = []
    for item in listed:
        bank = _mapping(item, "bank")
        code, name = _text(bank.get("pseCode")), _text(bank.get("description"))
        if code is None or name is None:
            raise PayUAnswerError("A PayU bank has no pseCode or description.")
        if code != _BANK_LIST_HEADER:
            banks.append(Bank(code, name))
    return banks
