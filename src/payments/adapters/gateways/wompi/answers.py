"""Wompi's API answers in our terms: acceptance tokens, transactions, voids and PSE banks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from payments.adapters.gateways.wompi.events import observation_from_transaction
from payments.adapters.gateways.wompi.settings import GATEWAY_NAME
from payments.domain.gateway import Bank, PaymentStart, RefundResult
from payments.domain.next_action import NextAction, RedirectAction
from payments.domain.purchase import ObservationSource, PaymentOutcome
from payments.domain.refund import RefundStatus

__all__ = [
    "ASYNC_REDIRECT_TYPES",
    "WompiAnswerError",
    "acceptance_tokens",
    "answer_data",
    "async_payment_url",
    "banks_from_list",
    "choose_transaction",
    "needs_redirect",
    "start_from_transaction",
    "transactions_from_list",
    "void_result",
]

ASYNC_REDIRECT_TYPES = frozenset({"PSE", "BANCOLOMBIA_TRANSFER"})
"""The payment methods whose payer is sent to ``extra.async_payment_url`` (reference §3.3)."""


class WompiAnswerError(ValueError):
    """A 2xx Wompi answer that does not have the documented shape (never crosses the port)."""


def answer_data(answer: Mapping[str, object]) -> Mapping[str, object]:
    """The ``data`` object of an answer envelope ``{"data": {...}, "meta": {}}``."""
    data = answer.get("data")
    if not isinstance(data, Mapping):
        raise WompiAnswerError("The Wompi answer has no data object.")
    return data


def _token(data: Mapping[str, object], key: str) -> str | None:
    presigned = data.get(key)
    token = presigned.get("acceptance_token") if isinstance(presigned, Mapping) else None
    return token if isinstance(token, str) and token else None


def acceptance_tokens(answer: Mapping[str, object]) -> tuple[str, str | None]:
    """The end-user policy's and the personal-data authorization's acceptance tokens of a
    ``GET /merchants/{public_key}`` answer (reference §3.2); the first is required."""
    data = answer_data(answer)
    policy = _token(data, "presigned_acceptance")
    if policy is None:
        raise WompiAnswerError("The Wompi merchant has no presigned acceptance token.")
    return policy, _token(data, "presigned_personal_data_auth")


def async_payment_url(transaction: Mapping[str, object]) -> str | None:
    """Where the payer of a PSE or Bancolombia transfer goes: ``payment_method.extra.
    async_payment_url``, or None while Wompi has not made it yet."""
    method = transaction.get("payment_method")
    extra = method.get("extra") if isinstance(method, Mapping) else None
    url = extra.get("async_payment_url") if isinstance(extra, Mapping) else None
    return url if isinstance(url, str) and url else None


def needs_redirect(transaction: Mapping[str, object]) -> bool:
    """Whether a still pending transaction waits for its payer at an ``async_payment_url``."""
    return (
        transaction.get("payment_method_type") in ASYNC_REDIRECT_TYPES
        and transaction.get("status") == "PENDING"
    )


def start_from_transaction(
    transaction: Mapping[str, object], *, gateway: str = GATEWAY_NAME
) -> PaymentStart:
    """The port's answer to a created (or found again) transaction: its id, a ``redirect`` to
    the ``async_payment_url`` for a pending PSE or Bancolombia transfer (cards and Nequi need
    none: the card is charged, the Nequi payer confirms in the app), and what it says now."""
    observation = observation_from_transaction(
        transaction, source=ObservationSource.RESPONSE, gateway=gateway
    )
    action: NextAction | None = None
    if needs_redirect(transaction):
        url = async_payment_url(transaction)
        if url is None:
            raise WompiAnswerError("The pending Wompi transaction has no async_payment_url.")
        action = RedirectAction(url)
    if observation.gateway_reference is None:
        raise WompiAnswerError("The Wompi transaction has no id.")
    return PaymentStart(observation.gateway_reference, action, observation)


def transactions_from_list(answer: Mapping[str, object]) -> list[Mapping[str, object]]:
    """The transactions of a ``GET /transactions?reference=`` answer (``data`` is a list)."""
    data = answer.get("data")
    if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
        raise WompiAnswerError("The Wompi transaction list has no data list.")
    return list(data)


def choose_transaction(
    transactions: Sequence[Mapping[str, object]], gateway_reference: str | None
) -> Mapping[str, object] | None:
    """The transaction a lookup is about: the one we know, else an approved one (money moved
    under our reference even if it is not the one we started), else the newest (by
    ``created_at``, ISO 8601 text that sorts by time)."""
    if not transactions:
        return None
    if gateway_reference is not None:
        for transaction in transactions:
            if transaction.get("id") == gateway_reference:
                return transaction
    for transaction in transactions:
        if transaction.get("status") == "APPROVED":
            return transaction
    return max(transactions, key=lambda item: str(item.get("created_at") or ""))


def void_result(transaction: Mapping[str, object]) -> RefundResult:
    """The port's answer to a void: the transaction as ``VOIDED`` is a succeeded refund under
    ``<transaction id>:void``; anything else means it was not voided."""
    observation = observation_from_transaction(transaction, source=ObservationSource.RESPONSE)
    reference = f"{observation.gateway_reference}:void"
    if observation.outcome is PaymentOutcome.CANCELLED:
        return RefundResult(reference, RefundStatus.SUCCEEDED)
    return RefundResult(reference, RefundStatus.FAILED, "Wompi did not void the transaction.")


def banks_from_list(answer: Mapping[str, object]) -> list[Bank]:
    """The institutions of ``GET /pse/financial_institutions`` (reference §3.6)."""
    data = answer.get("data")
    if not isinstance(data, list):
        raise WompiAnswerError("The Wompi bank list has no data list.")
    banks: list[Bank] = []
    for item in data:
        code = item.get("financial_institution_code") if isinstance(item, Mapping) else None
        name = item.get("financial_institution_name") if isinstance(item, Mapping) else None
        if not isinstance(code, str) or not code or not isinstance(name, str) or not name:
            raise WompiAnswerError("A Wompi bank has no code or name.")
        banks.append(Bank(code, name))
    return banks
