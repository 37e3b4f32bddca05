"""The PayU simulator: Payments and Queries API commands, and signed confirmation pages."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final
from urllib.parse import urlencode

import falcon

from payments.adapters.gateways.payu.params import Merchant
from payments.domain.errors import ConfigurationError, NotFoundError
from payments.domain.money import Money
from payments.sandbox.delivery import Deliver
from payments.sandbox.payu_simulator.app import payu_simulator_app
from payments.sandbox.payu_simulator.objects import (
    PAYU_CONFIRMATIONS,
    SANDBOX_BANKS,
    WEBHOOK_PATH,
    CardToken,
    CommandError,
    SimulatedOrder,
    SimulatedTransaction,
)
from payments.sandbox.payu_simulator.operations import (
    check_charge,
    check_credentials,
    mapping,
    text,
)
from payments.sandbox.provider import SimulatedProvider, require_status

__all__ = ["PayUSimulator"]

_FINISHES: Final[Mapping[str, tuple[str, str, str, str, str]]] = {
    # state_pol, response_code_pol, response_message_pol, transaction state, order status
    "approve": ("4", "1", "APPROVED", "APPROVED", "CAPTURED"),
    "decline": ("6", "5", "ENTITY_DECLINED", "DECLINED", "DECLINED"),
    "expire": ("5", "20", "EXPIRED_TRANSACTION", "EXPIRED", "DECLINED"),
}
"""Each sandbox action as the confirmation page reports it (reference §2.6)."""
_METHOD_TYPES: Final[Mapping[str, str]] = {"PSE": "4", "EFECTY": "7"}
"""``payment_method_type``: 4 PSE, 7 cash, 2 a credit card (reference §2.6)."""
_OPEN: Final = frozenset({"IN_PROGRESS"})
_CASH_DAYS: Final = 7


def _card_brand(number: str) -> str:
    return {"4": "VISA", "5": "MASTERCARD", "3": "AMEX"}.get(number[:1], "VISA")


class PayUSimulator(SimulatedProvider):
    """Plays PayU Latam's sandbox, in memory and thread-safe (``wsgi_app()`` serves it).

    Cards are charged by a ``CREATE_TOKEN`` token: a holder named ``APPROVED`` is approved at
    once, ``REJECTED`` declined, ``PENDING`` (or any other name) left pending; PSE and cash
    orders wait, with the bank's ``BANK_URL`` or the receipt's URL. ``approve``, ``decline``
    and ``expire`` settle a pending order and POST its confirmation, signed with the apiKey,
    to ``deliver`` (outside the lock, never from inside a request to the simulator); an
    outcome known at once is answered, not confirmed. ``VOID`` cancels a pending card order,
    ``REFUND`` gives an approved card order back whole.
    """

    def __init__(
        self,
        merchant: Merchant,
        deliver: Deliver | None = None,
        payer_base: str | None = None,
    ) -> None:
        if not (merchant.merchant_id and merchant.api_key and merchant.api_login):
            raise ConfigurationError("The PayU simulator needs a merchant id, apiKey and apiLogin.")
        super().__init__(PAYU_CONFIRMATIONS, merchant.api_key, deliver, webhook_path=WEBHOOK_PATH)
        self.merchant = merchant
        self._payer_base = payer_base.rstrip("/") if payer_base else None
        self.tokens: dict[str, CardToken] = {}
        self.orders: dict[str, SimulatedOrder] = {}

    # -- the payer's and the network's side ----------------------------------------------------

    def approve(self, order_id: str) -> dict[str, object]:
        """The payer paid: ``state_pol`` 4."""
        return self._finish(order_id, "approve")

    def decline(self, order_id: str) -> dict[str, object]:
        """The bank refused: ``state_pol`` 6, ``ENTITY_DECLINED``."""
        return self._finish(order_id, "decline")

    def expire(self, order_id: str) -> dict[str, object]:
        """The payer never paid: ``state_pol`` 5, ``EXPIRED_TRANSACTION``."""
        return self._finish(order_id, "expire")

    def refunded(self, order_id: str) -> Money:
        """What refunds have given back of an order."""
        with self._lock:
            order = self._order(order_id)
            refunds = sum(child.type == "REFUND" for child in order.children)
            back = order.asked.value * refunds  # PayU refunds the whole order
            return Money(back, order.asked.currency)

    def _finish(self, order_id: str, action: str) -> dict[str, object]:
        state_pol, code_pol, message, state, status = _FINISHES[action]
        with self._lock:
            order = self._order(order_id)
            require_status(
                order.status,
                _OPEN,
                f"The PayU order is {order.status}: it cannot be settled again.",
            )
            order.charge.settle(state, message)
            order.status = status
            event = self._confirmation(order, state_pol, code_pol, message)
        return self._events.send(*event)

    def _confirmation(
        self, order: SimulatedOrder, state_pol: str, code_pol: str, message: str
    ) -> tuple[str, str, bytes]:
        """The confirmation page's form (reference §2.6), ``value`` with two decimals and its
        ``sign`` by the confirmation ``new_value`` rule."""
        value = format(order.asked.value, ".2f")
        method = order.charge.payment_method
        fields = {
            "merchant_id": self.merchant.merchant_id,
            "state_pol": state_pol,
            "response_code_pol": code_pol,
            "response_message_pol": message,
            "reference_sale": order.asked.reference,
            "reference_pol": str(order.id),
            "transaction_id": order.charge.id,
            "value": value,
            "tax": "0.00",
            "additional_value": "0.00",
            "currency": order.asked.currency,
            "payment_method_type": _METHOD_TYPES.get(method, "2"),
            "payment_method_name": method,
            "email_buyer": order.asked.buyer_email,
            "transaction_date": datetime.fromtimestamp(self._clock(), UTC).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "test": "1",
            "attempts": "1",
        }
        fields["sign"] = self.merchant.confirmation_sign(fields)
        body = urlencode(fields).encode("ascii")
        event_id = f"{order.charge.id}:{state_pol}"
        event_type = f"confirmation.{state_pol}"
        self._events.keep(event_id, event_type, body)
        return event_id, event_type, body

    def _order(self, order_id: str) -> SimulatedOrder:
        order = self.orders.get(str(order_id))
        if order is None:
            raise NotFoundError(f"The PayU simulator has no order {order_id!r}.")
        return order

    # -- the API -------------------------------------------------------------------------------

    def wsgi_app(self) -> falcon.App[falcon.Request, falcon.Response]:
        """PayU's two APIs, to mount under any path prefix (the gateway's base URL)."""
        return payu_simulator_app(self)

    def command(self, api: str, body: Mapping[str, object], prefix: str) -> dict[str, object]:
        """One command to the ``payments`` or ``reports`` API; ``CommandError`` refuses it."""
        check_credentials(body, self.merchant.api_key, self.merchant.api_login)
        name = body.get("command")
        if name == "PING":
            return {"code": "SUCCESS", "error": None, "transactionResponse": None}
        handlers: Mapping[tuple[str, object], Callable[[], dict[str, object]]] = {
            ("payments", "SUBMIT_TRANSACTION"): lambda: self._submit(body, prefix),
            ("payments", "GET_BANKS_LIST"): self._banks,
            ("payments", "CREATE_TOKEN"): lambda: self._tokenize(body),
            ("reports", "ORDER_DETAIL"): lambda: self._order_detail(body),
            ("reports", "ORDER_DETAIL_BY_REFERENCE_CODE"): lambda: self._by_reference(body),
        }
        handler = handlers.get((api, name))
        if handler is None:
            raise CommandError(f"Comando {name!r} inválido")
        with self._lock:
            return handler()

    def _submit(self, body: Mapping[str, object], prefix: str) -> dict[str, object]:
        transaction = mapping(body, "transaction")
        kind = transaction.get("type")
        if kind in ("VOID", "REFUND"):
            return self._child(transaction, str(kind))
        charge = check_charge(body, self.merchant, self.tokens)
        order_id = 1400449000 + len(self.orders) + 1
        now = int(self._clock() * 1000)
        first = SimulatedTransaction(
            "AUTHORIZATION_AND_CAPTURE",
            charge.state,
            charge.response_code,
            charge.payment_method,
            now,
            pending_reason="AWAITING_NOTIFICATION" if charge.state == "PENDING" else None,
            extra_parameters=self._payer_links(charge.payment_method, order_id, prefix, now),
        )
        status = {"APPROVED": "CAPTURED", "DECLINED": "DECLINED"}.get(charge.state)
        order = SimulatedOrder(order_id, charge.asked, first, status or "IN_PROGRESS")
        self.orders[str(order_id)] = order
        return {"code": "SUCCESS", "error": None, "transactionResponse": first.response(order_id)}

    def _payer_links(self, method: str, order_id: int, prefix: str, now: int) -> dict[str, object]:
        base = self._payer_base or prefix
        if method == "PSE":
            return {"BANK_URL": f"{base}/pse/{order_id}", "TRANSACTION_CYCLE": "1"}
        if method == "EFECTY":
            return {
                "REFERENCE": order_id,
                "EXPIRATION_DATE": now + _CASH_DAYS * 86_400_000,
                "URL_PAYMENT_RECEIPT_HTML": f"{base}/receipt/{order_id}",
            }
        return {}

    def _child(self, transaction: Mapping[str, object], kind: str) -> dict[str, object]:
        """A ``VOID`` of a pending card order or a ``REFUND`` of an approved one."""
        order = self.orders.get(text(mapping(transaction, "order"), "id", limit=20))
        if order is None or transaction.get("parentTransactionId") != order.charge.id:
            raise CommandError("La orden o la transacción no existe")
        card = order.charge.payment_method not in _METHOD_TYPES
        allowed = order.status == ("IN_PROGRESS" if kind == "VOID" else "CAPTURED")
        if not (card and allowed):
            raise CommandError(f"La orden no admite {kind}")
        child = SimulatedTransaction(
            kind, "APPROVED", "APPROVED", order.charge.payment_method, int(self._clock() * 1000)
        )
        order.children.append(child)
        order.status = "CANCELLED" if kind == "VOID" else "REFUNDED"
        return {"code": "SUCCESS", "error": None, "transactionResponse": child.response(order.id)}

    def _tokenize(self, body: Mapping[str, object]) -> dict[str, object]:
        """``CREATE_TOKEN``: a card stored under a token (any number of 13 to 19 digits)."""
        card = mapping(body, "creditCardToken")
        number = text(card, "number", limit=19)
        if not number.isdigit() or len(number) < 13:
            raise CommandError("El número de la tarjeta es inválido")
        token = CardToken(
            id=f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}",
            name=text(card, "name"),
            number=number,
            payment_method=str(card.get("paymentMethod") or _card_brand(number)),
        )
        self.tokens[token.id] = token
        return {"code": "SUCCESS", "error": None, "creditCardToken": token.to_wire()}

    @staticmethod
    def _banks() -> dict[str, object]:
        banks = [
            {"id": str(index), "description": name, "pseCode": code}
            for index, (code, name) in enumerate(SANDBOX_BANKS, start=1)
        ]
        return {"code": "SUCCESS", "error": None, "banks": banks}

    def _order_detail(self, body: Mapping[str, object]) -> dict[str, object]:
        order = self.orders.get(text(mapping(body, "details"), "orderId", limit=20))
        payload = order.to_wire() if order is not None else None
        return {"code": "SUCCESS", "error": None, "result": {"payload": payload}}

    def _by_reference(self, body: Mapping[str, object]) -> dict[str, object]:
        reference = text(mapping(body, "details"), "referenceCode")
        orders = [o.to_wire() for o in self.orders.values() if o.asked.reference == reference]
        return {"code": "SUCCESS", "error": None, "result": {"payload": orders or None}}

    def payer_page(self, order_id: str) -> tuple[str, Decimal, str, str]:
        """What the bank's or the receipt's page shows: reference, value, currency, status."""
        with self._lock:
            order = self._order(order_id)
            return order.asked.reference, order.asked.value, order.asked.currency, order.status
