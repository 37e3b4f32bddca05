"""PayUGateway: the PaymentGateway port's calls to PayU Latam's Payments and Queries APIs."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Final, ParamSpec, TypeVar

import requests

from payments.adapters.gateways.payu.amounts import payu_amount_steps
from payments.adapters.gateways.payu.answers import (
    PayUAnswerError,
    banks_from_answer,
    charge_of,
    child_transactions,
    observation_from_order,
    orders_from_answer,
    refund_result,
    start_from_answer,
    start_from_order,
    transaction_response,
)
from payments.adapters.gateways.payu.errors import error_for_answer, error_for_status
from payments.adapters.gateways.payu.events import notification_from_body, verified_notification
from payments.adapters.gateways.payu.params import (
    METHOD_NAMES,
    Merchant,
    bank_list_command,
    encode_command,
    order_detail_command,
    orders_by_reference_command,
    parent_transaction_command,
    submit_transaction_command,
)
from payments.adapters.gateways.payu.settings import (
    ACCEPTED_CURRENCIES,
    EFECTY_MAXIMUM_COP,
    EFECTY_MINIMUM_COP,
    GATEWAY_NAME,
)
from payments.adapters.wire import transport
from payments.domain import gateway
from payments.domain.errors import (
    ConfigurationError,
    CurrencyMismatchError,
    IdempotencyConflictError,
    InvalidTransitionError,
    MalformedNotificationError,
    NotFoundError,
    RefundExceedsCapturedError,
    UnsupportedByGatewayError,
)
from payments.domain.money import Money
from payments.domain.ports import PaymentGateway
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome

__all__ = ["PAYMENTS_PATH", "QUERIES_PATH", "PayUGateway"]

PAYMENTS_PATH: Final = "/payments-api/4.0/service.cgi"
QUERIES_PATH: Final = "/reports-api/4.0/service.cgi"
"""The two APIs under the base URL (reference §2.1)."""

_P = ParamSpec("_P")
_T = TypeVar("_T")
_LABEL = "PayU"
_MALFORMED = (PayUAnswerError, MalformedNotificationError)
_ASYNC_METHODS: Final = frozenset(METHOD_NAMES.values())
"""PSE and cash: PayU cannot void nor refund them (reference §2.3, only the charge is allowed)."""
_EFECTY_LIMITS: Final = (Money(EFECTY_MINIMUM_COP, "COP"), Money(EFECTY_MAXIMUM_COP, "COP"))
_CARD_ONLY: Final = frozenset({"card"})
"""PayU refunds cards; PSE and cash cannot be given back through its API (reference §2.3)."""
_REFUSED_REFUNDS: Final = frozenset({"DECLINED", "ERROR"})


def _read(translation: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """A pure translation of an answer; one it cannot read is an unreadable answer."""
    return transport.translate_answer(_LABEL, _MALFORMED, translation, *args, **kwargs)


def _retry_worthy(status: int) -> bool:
    return status >= 500 or status == 429


def _order_id(gateway_reference: str) -> str:
    """PayU's order id is a number; anything else is not one of its orders."""
    if not gateway_reference.isascii() or not gateway_reference.isdigit():
        raise NotFoundError("PayU has no such order.", details={"order": "not a PayU order id"})
    return gateway_reference


class PayUGateway(PaymentGateway):
    """PayU Latam over HTTP: JSON commands to its Payments API (``SUBMIT_TRANSACTION``,
    ``GET_BANKS_LIST``) and Queries API (``ORDER_DETAIL_BY_REFERENCE_CODE``, ``ORDER_DETAIL``).

    Cards are charged at once (``AUTHORIZATION_AND_CAPTURE``) by the PayU token the payer's
    card was stored under (``PaymentRequest.payment_token`` as ``creditCardTokenId``); PSE
    sends the payer to the bank's ``BANK_URL``, cash (Efecty) to PayU's receipt. PayU has no
    idempotency key, so a start first asks for the orders under our reference: one already
    there is answered again (the same amount and currency) or is an
    ``IdempotencyConflictError``. A card payment still pending can be voided; an approved card
    payment refunded whole. Confirmations (form-encoded POSTs) are checked by their ``sign``.
    Commands are repeated only when they provably never left, queries after any outage.
    """

    name = GATEWAY_NAME

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        *,
        merchant: Merchant,
        notify_url: str | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (merchant.api_key and merchant.api_login and merchant.merchant_id):
            raise ConfigurationError("PayU needs its merchant id, API key and API login.")
        if not merchant.accounts or not all(merchant.accounts.values()):
            raise ConfigurationError("PayU needs an account id for each country it serves.")
        if timeout <= 0 or attempts < 1 or backoff < 0:
            raise ConfigurationError("Timeouts, attempts and backoff must be positive.")
        self._merchant = merchant
        self._notify_url = notify_url
        self._http = transport.ProviderHttp(
            session,
            base_url,
            provider=GATEWAY_NAME,
            timeout=timeout,
            retries=transport.HttpRetries(attempts, backoff, sleep),
            retry_status=_retry_worthy,
        )
        countries = frozenset(merchant.accounts)
        methods = {"card", "pse", "cash"} if "CO" in countries else {"card"}
        # Refunds, cancels (voids) and lookups by our reference are the defaults: PayU has them.
        served = gateway.GatewayCapabilities(
            ACCEPTED_CURRENCIES, countries, frozenset(methods), partial_refunds=False
        )
        self.capabilities = replace(
            served, amount_steps=payu_amount_steps(), refund_methods=_CARD_ONLY
        )

    # -- the port ------------------------------------------------------------------------------

    def start_payment(self, request: gateway.PaymentRequest) -> gateway.PaymentStart:
        """Charge, after checking no order is already under our reference."""
        self._check_market(request)
        command = submit_transaction_command(request, self._merchant, notify_url=self._notify_url)
        existing = self._orders(request.reference)
        if existing:
            return self._start_again(existing, request)
        answer = self._command(PAYMENTS_PATH, command, repeatable=False)
        refusal = error_for_answer(answer)
        if refusal is not None:
            raise refusal
        return _read(
            start_from_answer,
            answer,
            method=METHOD_NAMES.get(request.payment_method or "card"),
            reference=request.reference,
            amount=request.amount,
        )

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """The order under our reference as PayU sees it now: the one we know, else one that
        was paid, else the last; None when PayU has none."""
        orders = self._orders(reference)
        if not orders:
            return None
        seen = [_read(observation_from_order, o) for o in orders]
        for observation in seen:
            if gateway_reference is not None and observation.gateway_reference == gateway_reference:
                return observation
        paid = [o for o in seen if o.outcome is PaymentOutcome.SUCCEEDED]
        return (paid or seen)[-1]

    def banks(self, country: str) -> list[gateway.Bank]:
        """PSE's banks from ``GET_BANKS_LIST`` (Colombia only)."""
        if "pse" not in self.capabilities.payment_methods or country != "CO":
            return []
        command = bank_list_command(self._merchant, country)
        answer = self._command(PAYMENTS_PATH, command, repeatable=True)
        return _read(banks_from_answer, answer)

    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """``VOID`` a card payment still pending; a settled one is reported as it is, a pending
        PSE or cash payment refused (``UnsupportedByGatewayError``): the payer may still pay."""
        order = self._order(gateway_reference)
        seen = _read(observation_from_order, order)
        if seen.outcome is not PaymentOutcome.PROCESSING:
            return replace(seen, source=ObservationSource.RESPONSE)
        charge = charge_of(order) or {}
        if charge.get("paymentMethod") in _ASYNC_METHODS:
            raise UnsupportedByGatewayError("PayU cannot void a pending PSE or cash payment.")
        self._parent_command("VOID", order, charge, "Purchase cancelled")
        voided = self._order(gateway_reference)
        return _read(observation_from_order, voided, source=ObservationSource.RESPONSE)

    def refund(self, request: gateway.RefundRequest) -> gateway.RefundResult:
        """``REFUND`` an approved card payment, whole; a refund PayU already holds for the order
        is answered again. Anything else is refused before it is sent: part of the amount or a
        PSE or cash payment (``UnsupportedByGatewayError``), an unpaid order
        (``InvalidTransitionError``), another currency or more than was paid."""
        if not request.full:
            raise UnsupportedByGatewayError("PayU refunds only the whole amount.")
        order = self._order(request.gateway_reference)
        for earlier in child_transactions(order, "REFUND"):
            response = _read(transaction_response, earlier)
            if response.get("state") not in _REFUSED_REFUNDS:
                return refund_result(str(earlier.get("id")), response)
        seen = _read(observation_from_order, order)
        if seen.outcome is not PaymentOutcome.SUCCEEDED:
            raise InvalidTransitionError("PayU refunds approved payments only.")
        _check_refund_amount(request.amount, seen.amount)
        charge = charge_of(order) or {}
        if charge.get("paymentMethod") in _ASYNC_METHODS:
            raise UnsupportedByGatewayError("PayU refunds card payments only.")
        answer = self._parent_command("REFUND", order, charge, request.reason or "Refund")
        response = _read(transaction_response, answer)
        return refund_result(str(response.get("transactionId")), response)

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> gateway.Notification:
        """Check a confirmation's ``sign`` (the confirmation page's ``new_value`` rule, our
        apiKey and merchant id, constant time), then translate it."""
        return verified_notification(
            body,
            api_key=self._merchant.api_key,
            merchant_id=self._merchant.merchant_id,
            algorithm=self._merchant.algorithm,
        )

    def parse_stored_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> gateway.Notification:
        """Translate a confirmation verified when it was stored."""
        return notification_from_body(body)

    # -- the steps -----------------------------------------------------------------------------

    def _check_market(self, request: gateway.PaymentRequest) -> None:
        """Refuse before any I/O what PayU cannot take: the capabilities, PSE and cash outside
        Colombia, and Efecty outside its COP limits (reference §4.1)."""
        refusal = self.capabilities.refusal(request.country, request.amount, request.payment_method)
        if refusal is not None:
            raise UnsupportedByGatewayError(f"PayU {refusal}.")
        method = request.payment_method or "card"
        if method != "card" and request.country != "CO":
            raise UnsupportedByGatewayError(f"PayU takes {method} in Colombia only.")
        lowest, highest = _EFECTY_LIMITS
        within = request.amount.currency == lowest.currency and lowest <= request.amount <= highest
        if method == "cash" and not within:
            raise UnsupportedByGatewayError(
                f"PayU's Efecty takes COP {EFECTY_MINIMUM_COP} to {EFECTY_MAXIMUM_COP} only."
            )

    def _start_again(
        self, orders: list[Mapping[str, object]], request: gateway.PaymentRequest
    ) -> gateway.PaymentStart:
        """The order PayU already holds under our reference, for the same amount and method;
        ``IdempotencyConflictError`` for another."""
        wanted = METHOD_NAMES.get(request.payment_method or "card")
        for order in orders:
            start = _read(start_from_order, order)
            method = (charge_of(order) or {}).get("paymentMethod")
            same_method = method == wanted if wanted else method not in _ASYNC_METHODS
            if start.observation and start.observation.amount == request.amount and same_method:
                return start
        raise IdempotencyConflictError(
            "PayU holds another order under this reference.",
            details={"reference": request.reference},
        )

    def _parent_command(
        self,
        kind: str,
        order: Mapping[str, object],
        charge: Mapping[str, object],
        reason: str,
    ) -> Mapping[str, object]:
        """Send a ``VOID`` or ``REFUND`` of the order's charge; a refused request is raised."""
        command = parent_transaction_command(
            self._merchant,
            kind,
            order_id=str(order.get("id")),
            transaction_id=str(charge.get("id")),
            reason=reason[:255],
        )
        answer = self._command(PAYMENTS_PATH, command, repeatable=False)
        if answer.get("code") != "SUCCESS":
            refusal = error_for_answer(answer)
            if refusal is not None:
                raise refusal
        return answer

    def _orders(self, reference: str) -> list[Mapping[str, object]]:
        command = orders_by_reference_command(self._merchant, reference)
        answer = self._query(command)
        return _read(orders_from_answer, answer)

    def _order(self, gateway_reference: str) -> Mapping[str, object]:
        """One order by PayU's id; ``NotFoundError`` when PayU has none."""
        command = order_detail_command(self._merchant, _order_id(gateway_reference))
        orders = _read(orders_from_answer, self._query(command))
        if not orders:
            raise NotFoundError("PayU has no such order.")
        return orders[0]

    # -- I/O -----------------------------------------------------------------------------------

    def _query(self, command: Mapping[str, object]) -> Mapping[str, object]:
        answer = self._command(QUERIES_PATH, command, repeatable=True)
        refusal = error_for_answer(answer)
        if refusal is not None:
            raise refusal
        return answer

    def _command(
        self, path: str, command: Mapping[str, object], *, repeatable: bool
    ) -> Mapping[str, object]:
        """POST one JSON command; its decoded answer (numbers with fractions as Decimal)."""
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        response = self._http.send(
            "POST", path, repeatable=repeatable, headers=headers, data=encode_command(command)
        )
        return transport.decode_json_answer(
            response, label=_LABEL, error_for_status=error_for_status, exact_numbers=True
        )


def _check_refund_amount(amount: Money, paid: Money | None) -> None:
    if paid is None or paid.currency != amount.currency:
        raise CurrencyMismatchError("A PayU refund is in the payment's currency.")
    if amount != paid:
        raise RefundExceedsCapturedError(f"PayU refunds exactly {paid}, not {amount}.")
